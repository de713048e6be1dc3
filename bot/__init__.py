"""Alliance Assistant: the answer engine and its adapters (console, command line, Telegram)."""
