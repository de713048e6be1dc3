"""/healthz and /metrics on a small tornado server. The webhook server mounts these two routes
beside its update route; the processes whose channel has no server of their own (Telegram long
polling, WeCom's long connection) listen on HEALTH_PORT with them alone, so that a container's
health check and Prometheus ask the process itself rather than trust that it is running."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import tornado.web
from tornado.httpserver import HTTPServer

from bot.services.metrics import CONTENT_TYPE

if TYPE_CHECKING:
    from alliance.settings import Settings
    from bot.services.core import Core

# Whether the process can answer now, with what the check shows beside (index, database).
Status = Callable[[], Awaitable[tuple[bool, dict[str, object]]]]
# The process's core, once it is open (None before).
CoreFinder = Callable[[], "Core | None"]


class _Health(tornado.web.RequestHandler):
    def initialize(self, status: Status) -> None:
        self._status = status

    async def get(self) -> None:
        ready, shown = await self._status()
        self.set_status(200 if ready else 503)
        self.write({"ready": ready, **shown})


class _Metrics(tornado.web.RequestHandler):
    def initialize(self, core: CoreFinder) -> None:
        self._core = core

    async def get(self) -> None:
        core = self._core()
        if core is None:  # not open yet
            self.set_status(503)
            return
        self.set_header("Content-Type", CONTENT_TYPE)
        self.write(await core.metrics())


def routes(status: Status, core: CoreFinder) -> list[tuple[str, type, dict[str, object]]]:
    return [
        ("/healthz", _Health, {"status": status}),
        ("/metrics", _Metrics, {"core": core}),
    ]


async def core_status(core: Core | None, *, running: bool) -> tuple[bool, dict[str, object]]:
    """Ready when the channel runs, the core is open, an index is published and the database
    answers."""
    health = await core.health() if core is not None else None
    return running and health is not None and health.ready, {
        "index_version": health.index_version if health is not None else None,
        "database": health is not None and health.database,
    }


def listen(settings: Settings, status: Status, core: CoreFinder) -> HTTPServer | None:
    """The two routes alone on HEALTH_PORT, on the running event loop (stop() the server on the
    way out); None when no port is set."""
    if settings.health_port is None:
        return None
    application = tornado.web.Application(routes(status, core))
    return application.listen(settings.health_port, settings.health_listen)
