"""What channels share beneath them: work that spans the engine, the store and ingest (a
re-index from inside the running bot)."""
