"""People who work on the assistant, for every channel: accounts for admins and branch staff,
their one-time links, signing in with a password (argon2id) and an optional second factor
(TOTP), and linking the ids they have in a messaging channel.

Wrong guesses are counted per account and per address, and a browser that signed in to an
account before counts its own: a guesser at a school, behind the same address as its staff,
stops only the guessing, not the staff who signed in on their own browsers before."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bot.store.accounts import Account, AccountRole, Accounts, NameTakenError
from bot.store.guesses import Guesses
from bot.store.invite_codes import valid_branch

log = logging.getLogger(__name__)

PASSWORD_LINK = timedelta(hours=72)  # a new account's (or a reset's) link to choose a password
LINK_CODE = timedelta(minutes=15)  # a code to send the bot with /link (Telegram, WeCom)
TRUSTED_BROWSER = timedelta(days=90)
GUESS_WINDOW = timedelta(minutes=15)
# Wrong guesses per window before a key is refused until the window ends.
ACCOUNT_GUESSES = 10  # at one account, from browsers it has not signed in from
ADDRESS_GUESSES = 30  # from one address, at any accounts (a school's shared address)
BROWSER_GUESSES = 5  # from a browser that signed in to the account before
MIN_PASSWORD, MAX_PASSWORD = 10, 200
NAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,39}")

_hasher = PasswordHasher()  # argon2id with the library's recommended cost
# Checked when the name is unknown, so the time taken does not tell which names exist.
_UNKNOWN = _hasher.hash("no such account")


# Why what someone asked for cannot be done, in English, by code: `str()` of a PeopleError. A
# channel that speaks another language phrases the code and its parameters itself
# (bot/channels/web/texts.py).
PEOPLE_REFUSALS: dict[str, str] = {
    "name": "a name is 2-40 lower-case letters, digits, '.', '_' or '-', starting with a letter "
    "or digit",
    "name_taken": "an account named {name!r} exists already",
    "no_branch": "branch staff need a branch",
    "branch": "a branch is 1-100 characters without spaces, commas or '='",
    "password_length": "a password has {least} to {most} characters",
    "password_weak": "choose a password that is not your name and not one repeated key",
    "passwords_differ": "the two passwords differ",
    "link": "this link was used, has expired or is not valid",
    "secret": "the secret is not valid: start again",
    "new_code": "the code does not match: check the app's clock and try again",
    "code": "the code does not match",
}


class PeopleError(ValueError):
    """What someone asked for cannot be done: `code` (a key of PEOPLE_REFUSALS) and its
    `params` say why, and the message says it in English, for them to read."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(PEOPLE_REFUSALS[code].format(**params))
        self.code = code
        self.params = params


@dataclass(frozen=True)
class SignedIn:
    account: Account
    browser: str | None  # a new trusted-browser token for the cookie; None: it has one


@dataclass(frozen=True)
class Refused:
    reason: Literal["wrong", "locked", "code"]  # "code": the password was right, a code is due


def account_name(text: str) -> str:
    """The sign-in name as stored: case-folded; 2-40 letters, digits, '.', '_' or '-'."""
    name = unicodedata.normalize("NFKC", text).strip().casefold()
    if not NAME.fullmatch(name):
        raise PeopleError("name")
    return name


def check_password(password: str, name: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise PeopleError("password_length", least=MIN_PASSWORD, most=MAX_PASSWORD)
    if password.casefold() == name or len(set(password)) < 4:
        raise PeopleError("password_weak")


def _key(kind: str, value: str) -> str:
    return f"{kind}:{hashlib.sha256(value.encode()).hexdigest()[:40]}"


class People:
    def __init__(self, accounts: Accounts, guesses: Guesses) -> None:
        self._accounts = accounts
        self._guesses = guesses

    @property
    def accounts(self) -> Accounts:
        return self._accounts

    async def add(
        self,
        name: str,
        role: AccountRole,
        branch: str | None = None,
        created_by: int | None = None,
    ) -> tuple[Account, str]:
        """A new account and its one-time token to choose a password. Staff need a branch."""
        name = account_name(name)
        branch = (branch or "").strip() or None
        if role == "staff" and branch is None:
            raise PeopleError("no_branch")
        if branch is not None and not valid_branch(branch):
            raise PeopleError("branch")
        try:
            account = await self._accounts.add(name, role, branch, created_by)
        except NameTakenError as exc:
            raise PeopleError("name_taken", name=name) from exc
        log.info("account %s added (%s, branch %s)", account.id, role, branch)
        return account, await self.password_link(account.id)

    async def password_link(self, account_id: int) -> str:
        """A one-time token to choose a (new) password; earlier ones lapse."""
        return await self._accounts.issue_link(account_id, "password", PASSWORD_LINK)

    async def choose_password(self, token: str, password: str, repeated: str) -> Account:
        """Spend a password link: the account, now with this password."""
        holder = await self._accounts.link_holder(token, "password")
        if holder is None or holder.disabled_at is not None:
            raise PeopleError("link")
        if password != repeated:
            raise PeopleError("passwords_differ")
        check_password(password, holder.name)
        hashed = await asyncio.to_thread(_hasher.hash, password)
        account = await self._accounts.redeem_link(token, "password")
        if account is None:  # spent by another click meanwhile
            raise PeopleError("link")
        await self._accounts.set_password(account.id, hashed)
        log.info("account %s chose a password", account.id)
        return account

    async def sign_in(
        self, name: str, password: str, code: str, address: str, browser: str | None
    ) -> SignedIn | Refused:
        """Check a name, password and (when the account has one) second-factor code."""
        try:
            folded = account_name(name)
        except PeopleError:
            folded = ""
        account = await self._accounts.named(folded) if folded else None
        trusted = None
        if browser and account is not None:
            holder = await self._accounts.link_holder(browser, "device")
            trusted = browser if holder is not None and holder.id == account.id else None
        keys = self._keys(folded, address, trusted)
        for key, limit in keys:
            if await self._guesses.count(key, GUESS_WINDOW) >= limit:
                log.warning("sign-in refused: too many wrong guesses (%s)", key.split(":")[0])
                return Refused("locked")
        stored = account.password_hash if account is not None and account.active else None
        if not await asyncio.to_thread(_verified, stored or _UNKNOWN, password) or not stored:
            return await self._wrong(keys)
        assert account is not None  # a stored hash is an account's
        if account.totp_secret is not None:
            if not code.strip():
                return Refused("code")
            step = _totp_step(account.totp_secret, code)
            if step is None or not await self._accounts.spend_totp_step(account.id, step):
                return await self._wrong(keys)
        await self._guesses.forgive(*(key for key, _ in keys if not key.startswith("address:")))
        if _hasher.check_needs_rehash(stored):
            await self._accounts.set_password(account.id, _hasher.hash(password))
        new_browser = None
        if trusted is None:
            new_browser = await self._accounts.issue_link(account.id, "device", TRUSTED_BROWSER)
        log.info("account %s signed in", account.id)
        return SignedIn(account, new_browser)

    def _keys(self, name: str, address: str, browser: str | None) -> list[tuple[str, int]]:
        if browser is not None:
            return [(_key("device", browser), BROWSER_GUESSES)]
        return [
            (_key("account", name), ACCOUNT_GUESSES),
            (_key("address", address), ADDRESS_GUESSES),
        ]

    async def _wrong(self, keys: list[tuple[str, int]]) -> Refused:
        for key, _ in keys:
            await self._guesses.record(key, GUESS_WINDOW)
        log.warning("sign-in refused: wrong name, password or code")
        return Refused("wrong")

    # The second factor
    @staticmethod
    def new_totp_secret() -> str:
        return pyotp.random_base32()

    @staticmethod
    def totp_uri(secret: str, name: str) -> str:
        return pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name="Alliance Assistant")

    async def enable_totp(self, account: Account, secret: str, code: str) -> None:
        """Turn the second factor on, once a code from the new secret shows the app has it."""
        if not re.fullmatch(r"[A-Z2-7]{32}", secret):
            raise PeopleError("secret")
        step = _totp_step(secret, code)
        if step is None:
            raise PeopleError("new_code")
        await self._accounts.set_totp(account.id, secret)
        await self._accounts.spend_totp_step(account.id, step)  # it cannot sign in after
        log.info("account %s turned on a second factor", account.id)

    async def disable_totp(self, account: Account, code: str) -> None:
        if account.totp_secret is None:
            return
        step = _totp_step(account.totp_secret, code)
        if step is None or not await self._accounts.spend_totp_step(account.id, step):
            raise PeopleError("code")
        await self._accounts.set_totp(account.id, None)
        log.info("account %s turned off its second factor", account.id)

    # Channels
    async def link_code(self, account: Account) -> str:
        """A code the person sends the bot (`/link CODE`, in Telegram or WeCom) to link their
        id in that app."""
        return await self._accounts.issue_link(account.id, "channel", LINK_CODE)

    async def link_telegram(self, code: str, telegram_id: int) -> Account | None:
        """Spend a /link code: the account now linked to `telegram_id`; None for a bad code."""
        account = await self._accounts.redeem_link(code.strip(), "channel")
        if account is None:
            return None
        await self._accounts.link_telegram(account.id, telegram_id)
        log.info("account %s linked Telegram user %s", account.id, telegram_id)
        return account

    async def link_wecom(self, code: str, userid: str) -> Account | None:
        """Spend a /link code sent in WeCom: the account now linked to that WeCom user id;
        None for a bad code."""
        account = await self._accounts.redeem_link(code.strip(), "channel")
        if account is None:
            return None
        await self._accounts.link_wecom(account.id, userid)
        log.info("account %s linked a WeCom user", account.id)
        return account


def _verified(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _totp_step(secret: str, code: str) -> int | None:
    """The time step whose code this is (the current one or a neighbour, for clock drift)."""
    code = code.strip().replace(" ", "")
    if not re.fullmatch(r"\d{6}", code):
        return None
    totp = pyotp.TOTP(secret)
    now = datetime.now(UTC)
    for offset in (0, -1, 1):
        moment = now + timedelta(seconds=30 * offset)
        if totp.verify(code, for_time=moment, valid_window=0):
            return int(totp.timecode(moment))
    return None
