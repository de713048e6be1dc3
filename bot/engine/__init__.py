"""The answer engine: `Engine.answer()` over the published index (retrieval, evidence,
extractive or generative composition, follow-ups, course listings, small talk). It knows
nothing of Telegram, the web, SQL or the store."""
