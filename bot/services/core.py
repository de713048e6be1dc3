"""The application core: what every command opens once (the engine, the store, roles and
re-index), the only holder of the settings the channels act on, and the decisions every
channel takes the same way."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from alliance.settings import Settings
from bot.engine.answering import Engine
from bot.engine.results import Answer, Role
from bot.services import curation, metrics, staff_loop
from bot.services.asking import Asked, Asker, SlowDown, TooLong, cited_passages
from bot.services.people import People
from bot.services.reindex import Reindexer
from bot.services.rounds import Notifier, Rounds
from bot.services.staff_loop import Answered, Corrected, Opened
from bot.store.accounts import Account
from bot.store.database import Store
from bot.store.records import Logged, Person
from bot.store.roles import Roles

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Health:
    """Whether this process can answer: an index is published and the database answers."""

    index_version: str | None
    database: bool

    @property
    def ready(self) -> bool:
        return self.index_version is not None and self.database

    def to_json_dict(self) -> dict[str, object]:
        return {"ok": self.ready, "index_version": self.index_version, "database": self.database}


@dataclass(frozen=True, kw_only=True)
class Core:
    settings: Settings
    engine: Engine
    store: Store
    roles: Roles
    people: People
    reindexer: Reindexer

    @classmethod
    def around(cls, settings: Settings, engine: Engine, store: Store) -> Core:
        """The core around an open store: the engine serves the store's curated answers."""
        engine.use_curated(store.curated)
        return cls(
            settings=settings,
            engine=engine,
            store=store,
            roles=Roles(settings, store),
            people=People(store.accounts, store.guesses),
            reindexer=Reindexer(settings, engine),
        )

    async def staff_loop_on(self) -> bool:
        """Whether learners can ask a person: a staff chat (Telegram, WeCom) receives the
        tickets, or someone can sign in to the web workspace to answer them."""
        if staff_loop.staff_chat(self.settings, None) is not None:
            return True
        anyone, _ = await self.store.accounts.who_answers()
        return anyone

    async def branches(self) -> list[str]:
        """The branches a learner may address: those with a staff chat (Telegram, WeCom) or
        with staff who sign in to the workspace."""
        _, staffed = await self.store.accounts.who_answers()
        settings = self.settings
        chats = set(settings.branch_staff_chats) | set(settings.wecom_branch_staff_chats)
        return sorted(chats | staffed)

    async def claim(self, bot_id: int, update_id: int, started: datetime | None = None) -> bool:
        """Whether this process handles a bot's update (a Telegram update, a WeCom message):
        never handled, or its handling cut short by a crash: claimed over UPDATE_CLAIM_STALE_S
        ago, or before `started` (this process), and never finished."""
        stale_after = timedelta(seconds=self.settings.update_claim_stale_s)
        abandoned_before = datetime.now(UTC) - stale_after
        if started is not None:
            abandoned_before = max(abandoned_before, started)
        return await self.store.claim_update(bot_id, update_id, abandoned_before)

    def too_long(self, question: str) -> TooLong | None:
        """Questions over MAX_QUESTION_CHARS are refused whole, never cut."""
        limit = self.settings.max_question_chars
        return TooLong(len(question), limit) if len(question) > limit else None

    async def ask(self, asker: Asker, question: str) -> Asked | TooLong | SlowDown:
        """Answer `question` in the asker's conversation and log it; refused when over the
        length limit or the asker's pace."""
        settings, store = self.settings, self.store
        channel, started = staff_loop.channel_of(asker.chat_id), time.perf_counter()
        metrics.QUESTIONS.labels(channel).inc()
        refused = self.too_long(question)
        if refused is not None:
            metrics.REFUSED.labels(channel, "too_long").inc()
            return refused
        wait = await store.take_question(asker.pace_id, asker.per_minute)
        if wait:
            metrics.REFUSED.labels(channel, "too_fast").inc()
            return SlowDown(max(1, round(wait)))
        max_age = timedelta(seconds=settings.history_max_age_s)
        history = await store.history(asker.chat_id, asker.user_id, settings.history_turns, max_age)
        try:
            answer = await self.engine.answer(question, asker.role, history)
        except Exception:
            metrics.FAILED.labels(channel).inc()
            raise
        question_id = await store.log_question(
            user_id=asker.user_id,
            chat_id=asker.chat_id,
            question=question,
            answer=answer.answer,
            language=answer.language,
            abstained=answer.abstained,
            latency_ms=answer.latency_ms,
            sources=cited_passages(answer),
        )
        log.info(
            "answered user %s in chat %s in %.0f ms (role=%s, abstained=%s, sources=%d)",
            asker.user_id,
            asker.chat_id,
            answer.latency_ms,
            asker.role,
            answer.abstained,
            len(answer.cited),
        )
        if settings.log_message_text:
            log.debug("user %s asked %r", asker.user_id, question)
        metrics.answered(channel, answer, time.perf_counter() - started)
        return Asked(answer, question_id)

    async def open_ticket(
        self,
        logged: Logged,
        learner_chat_id: int,
        name: str,
        branch: str | None = None,
        contact: str | None = None,
    ) -> Opened | SlowDown | None:
        """Pass a logged question to a person, of the branch asked for (else the one the
        learner chose before; one nobody staffs counts as none), with the contact the learner
        left if any; None when the staff loop is off."""
        if not await self.staff_loop_on():
            return None
        if branch is not None:
            await self.store.tickets.choose_branch(logged.user_id, branch)
        else:
            branch = await self.store.tickets.branch_of(logged.user_id)
        known = branch if branch in await self.branches() else None
        return await staff_loop.open_ticket(
            self.store, self.settings, logged, learner_chat_id, name, known, contact
        )

    async def person(self, telegram_id: int) -> Person:
        """Who a Telegram user is in the store's records: their id, with the account that
        linked it if there is one."""
        if not telegram_id:
            return Person()
        account = await self.store.accounts.with_telegram_id(telegram_id)
        return Person(telegram_id, account.id if account is not None else None)

    async def _author(self, telegram_id: int, account: Account | None) -> Person:
        """Who is acting: the signed-in account, else whoever's account linked the id."""
        if account is None:
            return await self.person(telegram_id)
        return Person(telegram_id, account.id)

    async def answer_ticket(
        self, ticket_id: int, text: str, telegram_id: int, account: Account | None, keep: str = ""
    ) -> Answered | None:
        """A staff answer written on the web (the workspace, the console), delivered in the
        learner's channel and kept as a curated answer for `keep` ("public" or "staff") if
        given; None when there is no such ticket or it is another branch's. `account` None is
        an admin known by their Telegram id; `telegram_id` is 0 for an account that linked
        none."""
        ticket = await self.store.tickets.get(ticket_id)
        if ticket is None or (account is not None and not may_answer(account, ticket.branch)):
            return None
        author = await self._author(telegram_id, account)
        answered = await staff_loop.answer_ticket(self.store, ticket, text, author)
        if not keep:
            return answered
        curated_id = await curation.save_reply(self.store, answered.reply_id, keep, author)
        return dataclasses.replace(answered, curated_id=curated_id)

    async def close_ticket(self, ticket_id: int, account: Account) -> bool:
        """Close a ticket without answering it; False when there is no such ticket or it is
        another branch's (as for answers: `may_answer`)."""
        ticket = await self.store.tickets.get(ticket_id)
        if ticket is None or not may_answer(account, ticket.branch):
            return False
        await self.store.tickets.close(ticket_id)
        return True

    async def correct_vote(
        self, feedback_id: int, answer: str, telegram_id: int, account: Account | None
    ) -> Corrected | None:
        """The right answer to a 👎'd question (staff: of their branch's learners; admins, and
        `account` None, an admin known by their Telegram id: any): kept as a curated answer,
        the vote settled, and the answer on its way to the voter in their channel. None when
        the vote is gone, settled or another branch's."""
        store = self.store
        vote = await store.curated.vote(feedback_id)
        if vote is None:
            return None
        if account is not None and account.role != "admin":
            branch = await store.tickets.branch_of(vote.user_id)
            if branch is None or branch != account.branch:
                return None
        author = await self._author(telegram_id, account)
        corrected = await curation.correct(store, feedback_id, answer, author)
        if corrected is None:
            return None
        curated_id, vote = corrected
        ticket_id, reply_id = await staff_loop.tell_voter(store, vote, answer, author)
        return Corrected(curated_id, vote, ticket_id, reply_id)

    def rounds(self, notifier: Notifier | None) -> Rounds:
        """The staff loop's rounds for this process's channel (None: the core's own)."""
        settings = self.settings
        return Rounds(
            self.store,
            notifier,
            settings.ticket_retry_s,
            timedelta(hours=settings.ticket_remind_hours),
        )

    async def answer_once(
        self, question: str, role: Role, history: Sequence[tuple[str, str]] = ()
    ) -> Answer | TooLong:
        """An answer outside any channel's conversation (the command line): not logged, not
        paced; the same length limit."""
        return self.too_long(question) or await self.engine.answer(question, role, history)

    async def metrics(self) -> bytes:
        """This process's metrics, in Prometheus's text format."""
        return await metrics.exposition(self.store, self.engine.index_version)

    async def health(self) -> Health:
        return Health(
            index_version=self.engine.index_version, database=await self.store.reachable()
        )


def branches_matching(names: Sequence[str], search: str) -> list[str]:
    """The branches whose name holds `search` (any case); all of them for an empty search."""
    search = search.strip().casefold()
    return [name for name in names if search in name.casefold()]


def may_answer(account: Account, branch: str | None) -> bool:
    """Admins answer every ticket, staff their branch's and those of no branch."""
    return account.role == "admin" or branch is None or branch == account.branch


@contextlib.asynccontextmanager
async def open_core(settings: Settings, engine: Engine) -> AsyncIterator[Core]:
    """The core on the running event loop: the store opens (waiting for a database server that
    starts late), the engine serves its curated answers, and all closes on the way out."""
    store = await Store.open(settings.database_url, settings.question_log_days)
    try:
        yield Core.around(settings, engine, store)
    finally:
        await store.close()
