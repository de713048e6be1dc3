"""Sign-ins to the web channel: /weblogin's one-time links, browser sessions (admins in the
console, staff in the chat) with their CSRF tokens, and the log of what admins did.

Tokens are 32 random bytes; only their SHA-256 is stored, so a copy of the database signs no
one in. A link is spent in the same statement that checks it, so two clicks cannot both win."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.records import Action, Person, Session, record, records
from bot.store.tables import AdminAction, WebLogin, WebSession, utc_now

KINDS = ("account", "admin", "staff")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class WebAccess:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def issue_login(self, admin_id: int, valid_for: timedelta) -> str:
        """A one-time sign-in token for the admin (the link's last part)."""
        token = secrets.token_urlsafe(32)
        statement = insert(WebLogin).values(
            token_hash=_hash(token), admin_id=admin_id, expires_at=utc_now() + valid_for
        )
        async with self._engine.begin() as connection:
            await connection.execute(statement)
        return token

    async def redeem_login(self, token: str) -> int | None:
        """Spend a sign-in token: the admin's id, None when it is unknown, used or expired."""
        now = utc_now()
        statement = (
            update(WebLogin)
            .where(
                WebLogin.token_hash == _hash(token),
                WebLogin.used_at.is_(None),
                WebLogin.expires_at > now,
            )
            .values(used_at=now)
            .returning(WebLogin.admin_id)
        )
        async with self._engine.begin() as connection:
            return (await connection.execute(statement)).scalar()

    async def open_session(
        self, kind: str, user_id: int, lasts: timedelta, branch: str | None = None
    ) -> str:
        """A new session's token (for the cookie)."""
        if kind not in KINDS:
            raise ValueError(f"unknown session kind {kind!r}")
        token = secrets.token_urlsafe(32)
        now = utc_now()
        async with self._engine.begin() as connection:
            await connection.execute(delete(WebSession).where(WebSession.expires_at <= now))
            await connection.execute(
                insert(WebSession).values(
                    token_hash=_hash(token),
                    kind=kind,
                    user_id=user_id,
                    branch=branch,
                    csrf=secrets.token_urlsafe(32),
                    expires_at=now + lasts,
                )
            )
        return token

    async def session(self, token: str) -> Session | None:
        """The live session of a cookie's token (kind, user_id, branch, csrf, expires_at)."""
        statement = select(WebSession).where(
            WebSession.token_hash == _hash(token), WebSession.expires_at > utc_now()
        )
        async with self._engine.connect() as connection:
            row = (await connection.execute(statement)).first()
        return None if row is None else record(Session, row)

    async def close_session(self, token: str) -> None:
        statement = delete(WebSession).where(WebSession.token_hash == _hash(token))
        async with self._engine.begin() as connection:
            await connection.execute(statement)

    # What admins did
    async def record(self, by: Person, action: str, detail: str) -> None:
        """Log what someone did (an admin, or staff in their account)."""
        statement = insert(AdminAction).values(
            at=utc_now(),
            admin_id=by.telegram_id,
            account_id=by.account_id,
            action=action[:32],
            detail=detail,
        )
        async with self._engine.begin() as connection:
            await connection.execute(statement)

    async def actions(self, limit: int = 100) -> list[Action]:
        """The latest admin actions, newest first."""
        statement = select(AdminAction).order_by(AdminAction.id.desc()).limit(limit)
        async with self._engine.connect() as connection:
            return records(Action, await connection.execute(statement))
