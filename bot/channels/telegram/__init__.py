"""The Telegram channel: application factory, handlers, admin commands, texts, rendering,
delivery with retries, per-chat ordering and the webhook server."""
