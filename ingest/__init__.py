"""Ingest: turn the documents in knowledge/ into a published, searchable index version."""
