"""People's accounts (admins and branch staff): who they are, their password hash and second
factor, the ids they linked in each channel, and their one-time links and trusted browsers.
Rows come back as frozen dataclasses.

Link tokens are random; only their SHA-256 is kept, and a link is spent in the same statement
that checks it, so two clicks cannot both win."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.tables import AccountLink, AccountRecord, aware, utc_now

AccountRole = Literal["admin", "staff"]
# A link to choose a password, a code to link a Telegram or WeCom id, a browser that signed in
# before.
LinkPurpose = Literal["password", "channel", "device"]


@dataclass(frozen=True, kw_only=True)
class Account:
    id: int
    name: str
    role: AccountRole
    branch: str | None
    password_hash: str | None
    totp_secret: str | None
    totp_last_step: int | None
    telegram_id: int | None
    wecom_id: str | None
    created_at: datetime
    disabled_at: datetime | None

    @property
    def described(self) -> str:
        """Its role, with its branch if it has one: "staff, Chengdu-Jinniu"."""
        return self.role if self.branch is None else f"{self.role}, {self.branch}"

    @property
    def active(self) -> bool:
        """Can sign in: not disabled, and a password has been chosen."""
        return self.disabled_at is None and self.password_hash is not None

    @classmethod
    def of(cls, row: Any) -> Account:
        return cls(
            id=row.id,
            name=row.name,
            role="admin" if row.role == "admin" else "staff",
            branch=row.branch,
            password_hash=row.password_hash,
            totp_secret=row.totp_secret,
            totp_last_step=row.totp_last_step,
            telegram_id=row.telegram_id,
            wecom_id=row.wecom_id,
            created_at=aware(row.created_at),
            disabled_at=aware(row.disabled_at) if row.disabled_at else None,
        )


class NameTakenError(ValueError):
    """Another account has this name (or this channel id)."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def add(
        self, name: str, role: AccountRole, branch: str | None, created_by: int | None
    ) -> Account:
        """A new account without a password (its first link sets one)."""
        statement = (
            insert(AccountRecord)
            .values(
                name=name,
                role=role,
                branch=branch,
                created_at=utc_now(),
                created_by=created_by,
            )
            .returning(*AccountRecord.__table__.c)
        )
        try:
            async with self._engine.begin() as connection:
                return Account.of((await connection.execute(statement)).one())
        except IntegrityError as exc:
            raise NameTakenError(f"an account named {name!r} exists already") from exc

    async def get(self, account_id: int) -> Account | None:
        return await self._one(AccountRecord.id == account_id)

    async def named(self, name: str) -> Account | None:
        return await self._one(AccountRecord.name == name)

    async def with_telegram_id(self, telegram_id: int) -> Account | None:
        """The live account that linked this Telegram id."""
        found = await self._one(AccountRecord.telegram_id == telegram_id)
        return found if found is not None and found.disabled_at is None else None

    async def with_wecom_id(self, userid: str) -> Account | None:
        """The live account that linked this WeCom user id."""
        found = await self._one(AccountRecord.wecom_id == userid)
        return found if found is not None and found.disabled_at is None else None

    async def all(self) -> list[Account]:
        statement = select(AccountRecord).order_by(AccountRecord.role, AccountRecord.name)
        async with self._engine.connect() as connection:
            return [Account.of(row) for row in await connection.execute(statement)]

    async def who_answers(self) -> tuple[bool, set[str]]:
        """Whether anyone can sign in to answer tickets (an enabled account with a password),
        and the branches such staff belong to."""
        statement = select(AccountRecord.branch).where(
            AccountRecord.disabled_at.is_(None), AccountRecord.password_hash.is_not(None)
        )
        async with self._engine.connect() as connection:
            branches = list((await connection.execute(statement)).scalars())
        return bool(branches), {branch for branch in branches if branch}

    async def count(self) -> int:
        async with self._engine.connect() as connection:
            found = await connection.scalar(select(func.count()).select_from(AccountRecord))
        return int(found or 0)

    async def _one(self, where: Any) -> Account | None:
        async with self._engine.connect() as connection:
            row = (await connection.execute(select(AccountRecord).where(where))).first()
        return Account.of(row) if row is not None else None

    async def _change(self, account_id: int, **values: Any) -> bool:
        statement = update(AccountRecord).where(AccountRecord.id == account_id).values(**values)
        try:
            async with self._engine.begin() as connection:
                return (await connection.execute(statement)).rowcount == 1
        except IntegrityError as exc:
            raise NameTakenError("another account has linked this id") from exc

    async def set_password(self, account_id: int, password_hash: str) -> None:
        await self._change(account_id, password_hash=password_hash)

    async def set_totp(self, account_id: int, secret: str | None) -> None:
        await self._change(account_id, totp_secret=secret, totp_last_step=None)

    async def spend_totp_step(self, account_id: int, step: int) -> bool:
        """Record the time step of an accepted code; False when it (or a later one) was used."""
        column = AccountRecord.totp_last_step
        statement = (
            update(AccountRecord)
            .where(AccountRecord.id == account_id, column.is_(None) | (column < step))
            .values(totp_last_step=step)
        )
        async with self._engine.begin() as connection:
            return (await connection.execute(statement)).rowcount == 1

    async def link_telegram(self, account_id: int, telegram_id: int) -> None:
        """Link a Telegram id to this account, and away from any other account that had it."""
        await self._link(account_id, "telegram_id", telegram_id)

    async def link_wecom(self, account_id: int, userid: str) -> None:
        """Link a WeCom user id to this account, and away from any other account that had it."""
        await self._link(account_id, "wecom_id", userid)

    async def _link(self, account_id: int, column: str, value: int | str) -> None:
        linked = getattr(AccountRecord, column)
        async with self._engine.begin() as connection:
            await connection.execute(
                update(AccountRecord).where(linked == value).values({column: None})
            )
            await connection.execute(
                update(AccountRecord).where(AccountRecord.id == account_id).values({column: value})
            )

    async def disable(self, account_id: int) -> bool:
        return await self._change(account_id, disabled_at=utc_now())

    async def enable(self, account_id: int) -> bool:
        return await self._change(account_id, disabled_at=None)

    # One-time links
    async def issue_link(self, account_id: int, purpose: LinkPurpose, valid_for: timedelta) -> str:
        """A token for the account; earlier unused ones for the same purpose lapse, except a
        browser's (a person may use several)."""
        token = secrets.token_urlsafe(32)
        now = utc_now()
        lapsed = delete(AccountLink).where(
            AccountLink.account_id == account_id,
            AccountLink.purpose == purpose,
            AccountLink.used_at.is_(None),
        )
        issued = insert(AccountLink).values(
            token_hash=_hash(token),
            account_id=account_id,
            purpose=purpose,
            expires_at=now + valid_for,
        )
        async with self._engine.begin() as connection:
            await connection.execute(delete(AccountLink).where(AccountLink.expires_at < now))
            if purpose != "device":
                await connection.execute(lapsed)
            await connection.execute(issued)
        return token

    async def link_holder(self, token: str, purpose: LinkPurpose) -> Account | None:
        """The account a live, unused token is for, without spending it (the page that asks
        for a password shows the name)."""
        statement = select(AccountLink.account_id).where(
            AccountLink.token_hash == _hash(token),
            AccountLink.purpose == purpose,
            AccountLink.used_at.is_(None),
            AccountLink.expires_at > utc_now(),
        )
        async with self._engine.connect() as connection:
            account_id = await connection.scalar(statement)
        return await self.get(account_id) if account_id is not None else None

    async def redeem_link(self, token: str, purpose: LinkPurpose) -> Account | None:
        """Spend a token: its account, None when it is unknown, used, expired or disabled."""
        now = utc_now()
        statement = (
            update(AccountLink)
            .where(
                AccountLink.token_hash == _hash(token),
                AccountLink.purpose == purpose,
                AccountLink.used_at.is_(None),
                AccountLink.expires_at > now,
            )
            .values(used_at=now)
            .returning(AccountLink.account_id)
        )
        async with self._engine.begin() as connection:
            account_id = (await connection.execute(statement)).scalar()
        found = await self.get(account_id) if account_id is not None else None
        return found if found is not None and found.disabled_at is None else None
