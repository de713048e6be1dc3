"""Shared foundations: settings, the index format, text analysis and embeddings."""
