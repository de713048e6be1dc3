"""Who may read what: admins and staff from settings or from the account that linked their
Telegram or WeCom id, staff registered with an invite code, and everyone else a learner. Group
chats are read by learners, so answers there are a learner's."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Literal

from bot.engine.results import Role
from bot.store.invite_codes import branch_for

if TYPE_CHECKING:
    from alliance.settings import Settings
    from bot.store.accounts import Account
    from bot.store.database import Store

log = logging.getLogger(__name__)

MAX_FAILURES = 5  # wrong codes per user per window, then no more tries until it ends
FAILURE_WINDOW = timedelta(hours=1)

Registration = Literal["registered", "wrong", "throttled", "closed"]


class Roles:
    def __init__(self, settings: Settings, store: Store) -> None:
        self._admins = frozenset(settings.admin_user_ids)
        self._staff = frozenset(settings.staff_user_ids)
        self._codes = settings.staff_invite_codes
        self._store = store

    async def is_admin(self, user_id: int) -> bool:
        """Whether this Telegram user is an admin (in settings, or through a linked account)."""
        if user_id in self._admins:
            return True
        account = await self._store.accounts.with_telegram_id(user_id)
        return account is not None and account.role == "admin"

    async def role(self, user_id: int, private_chat: bool) -> Role:
        """The role answers are filtered by: staff only in private chats."""
        if not private_chat:
            return "learner"
        if user_id in self._admins or user_id in self._staff:
            return "staff"
        if await self._store.accounts.with_telegram_id(user_id) is not None:
            return "staff"
        return "staff" if await self._store.staff_branch(user_id) else "learner"

    async def wecom_staff(self, userid: str, user_id: int) -> tuple[Account | None, bool]:
        """A WeCom user (`user_id`: their id in the store) as staff: the account that linked
        their user id, and whether they are staff at all (by that account, or registered with
        an invite code)."""
        account = await self._store.accounts.with_wecom_id(userid)
        return account, account is not None or bool(await self._store.staff_branch(user_id))

    def on_the_web(
        self, account: Account | None, code_branch: str | None
    ) -> tuple[Role, str | None]:
        """The role of a web visitor and the branch they read for: staff while signed in with
        an (enabled) account, of its branch (None: an admin, the alliance's), or with a
        branch's invite code that is still in the settings; anyone else a learner."""
        if account is not None:
            return "staff", account.branch
        if code_branch is not None and code_branch in self._codes:
            return "staff", code_branch
        return "learner", None

    async def register(self, user_id: int, code: str) -> tuple[Registration, str | None]:
        """Check an invite code and register the user as its branch's staff."""
        outcome, branch = await self.check_code(user_id, code)
        if branch is not None:
            await self._store.register_staff(user_id, branch)
            await self._store.guesses.forgive(_invite_key(user_id))
            log.info("user %s registered as staff of %s", user_id, branch)
        return outcome, branch

    async def check_code(self, user_id: int, code: str) -> tuple[Registration, str | None]:
        """Which branch an invite code is for; wrong ones are counted against `user_id` (a
        Telegram user, or a web client), and too many lock it out for a while."""
        if not self._codes:
            return "closed", None
        if await self._store.guesses.count(_invite_key(user_id), FAILURE_WINDOW) >= MAX_FAILURES:
            log.warning("user %s: invite code refused, too many wrong codes", user_id)
            return "throttled", None
        branch = branch_for(code, self._codes)
        if branch is None:
            failures = await self._store.guesses.record(_invite_key(user_id), FAILURE_WINDOW)
            log.warning("user %s: wrong invite code (%d in this window)", user_id, failures)
            return "wrong", None
        return "registered", branch


def _invite_key(user_id: int) -> str:
    return f"invite:{user_id}"
