"""Alliance Assistant: the answer engine, the store, the services and the channels (console,
command line, Telegram) that serve it. Layers, top to bottom: cli → channels | eval → services
→ store → engine (enforced by the import contracts in pyproject.toml)."""
