"""Channels: what people talk to (Telegram, the console). Each parses input, asks the engine,
renders and replies; none touches Chroma or the embedding model."""
