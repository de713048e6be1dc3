"""Every request to Telegram goes through here: its flood limits are kept (a 429 is waited out
and retried), and a reply lost to a server error or a dropped connection is sent again."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram.error import BadRequest, NetworkError
from telegram.ext import AIORateLimiter

log = logging.getLogger(__name__)

# Back-off between attempts, in seconds: about 30 s in all before the error reaches the handler.
# The soak (a fault every 0.5 s, 429 pauses included) lost answers with an 8-second budget.
RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0)
# Long polling has its own retry loop in python-telegram-bot.
_NOT_RETRIED = frozenset({"getUpdates"})


class DeliveringRateLimiter(AIORateLimiter):
    """AIORateLimiter that also retries requests failing with a 5xx or a network error.

    A request that failed that way may, rarely, have reached Telegram before the connection
    dropped; sending it again risks a duplicate, where giving up would lose the answer."""

    async def process_request(
        self,
        callback: Any,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        request = (callback, args, kwargs, endpoint, data, rate_limit_args)
        for delay in () if endpoint in _NOT_RETRIED else RETRY_DELAYS:
            try:
                return await super().process_request(*request)
            except BadRequest:
                raise  # a NetworkError in python-telegram-bot, but sending it again cannot help
            except NetworkError as exc:
                log.warning("%s failed (%s); retrying in %.1f s", endpoint, exc, delay)
                await asyncio.sleep(delay)
        return await super().process_request(*request)
