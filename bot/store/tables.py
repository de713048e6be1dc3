"""The store's tables: staff registrations, wrong invite codes, the question log (which is
also each conversation's memory), feedback, handled updates, each user's question pace, the
staff loop's tickets with their messages and replies, curated answers, the review of 👎 votes
what an admin's next message is for, and
the web channel's sign-ins and the admins' action log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Telegram ids need 64 bits; SQLite numbers a row by itself only in an INTEGER primary key.
_ROW_ID = BigInteger().with_variant(Integer, "sqlite")


def utc_now() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar = {datetime: DateTime(timezone=True), int: BigInteger}


def dialect_insert(engine: AsyncEngine, table: type[Base]) -> Any:  # with on_conflict_*
    """The database's own INSERT statement for `table`, which can upsert."""
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


class StaffUser(Base):
    __tablename__ = "staff_users"
    user_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    branch: Mapped[str] = mapped_column(String(100))
    registered_at: Mapped[datetime]


class LoggedQuestion(Base):
    """Every question answered. The recent ones of a (chat, user) are its conversation memory,
    so a follow-up has its context on whichever replica receives it."""

    __tablename__ = "question_log"
    __table_args__ = (Index("ix_question_log_conversation", "chat_id", "user_id", "asked_at"),)
    id: Mapped[int] = mapped_column(_ROW_ID, primary_key=True, autoincrement=True)
    asked_at: Mapped[datetime] = mapped_column(index=True)
    user_id: Mapped[int]
    chat_id: Mapped[int]
    language: Mapped[str] = mapped_column(String(8))
    abstained: Mapped[bool]
    latency_ms: Mapped[float] = mapped_column(Float)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    # The cited passages: source fields plus the passage text, for the "Sources" button.
    sources: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class Feedback(Base):
    """A vote on an answer, with a copy of what was asked and answered: the question log is
    pruned after its retention period, feedback is not."""

    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("question_id", "user_id"),)
    id: Mapped[int] = mapped_column(_ROW_ID, primary_key=True, autoincrement=True)
    question_id: Mapped[int]
    user_id: Mapped[int]
    vote: Mapped[int]  # +1 or -1; voting again replaces the vote
    voted_at: Mapped[datetime]
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    sources: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class HandledUpdate(Base):
    """Telegram re-delivers updates whose receipt it never heard of (a bot killed mid-batch, a
    second replica behind a webhook): each is handled once. Update ids are counted per bot (and
    a bot's may start again from a low number), so a claim is one bot's."""

    __tablename__ = "update_claims"
    bot_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    update_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    claimed_at: Mapped[datetime] = mapped_column(index=True)
    done: Mapped[bool]


class ConversationStart(Base):
    """When a (chat, user) last sent /new: earlier questions are no longer its memory."""

    __tablename__ = "conversation_starts"
    chat_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    started_at: Mapped[datetime]


class QuestionPace(Base):
    """Each user's question allowance as one number (the generic cell rate algorithm): the
    moment, in seconds since the epoch, at which it is whole again. Shared by replicas."""

    __tablename__ = "question_pace"
    user_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    full_at: Mapped[float] = mapped_column(Float)


class Ticket(Base):
    """A question a learner asked a person about (the staff loop): what was asked and answered,
    where it went, and its state (open, answered, closed, expired) with the times it changed.
    One per logged question, so a second press of the button finds the same ticket."""

    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_state_opened", "state", "opened_at"),)
    id: Mapped[int] = mapped_column(_ROW_ID, primary_key=True, autoincrement=True)
    question_id: Mapped[int] = mapped_column(unique=True)
    state: Mapped[str] = mapped_column(String(16))
    opened_at: Mapped[datetime]
    learner_id: Mapped[int] = mapped_column(index=True)
    learner_chat_id: Mapped[int]
    learner_name: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8))
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    branch: Mapped[str | None] = mapped_column(String(100))
    staff_chat_id: Mapped[int | None]  # None: answered in the web workspace only
    announced_at: Mapped[datetime | None]  # None: not yet posted to the staff chat
    reminded_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    learner_unreachable: Mapped[bool]  # the learner blocked the bot before an answer came
    # An email or phone number a web learner left for staff (None: none)
    learner_contact: Mapped[str | None] = mapped_column(String(100))


class TicketMessage(Base):
    """A message that stands for a ticket: its announcement in a staff chat (staff answer by
    replying to it) or a relayed answer in the learner's chat (the learner follows up by
    replying to it)."""

    __tablename__ = "ticket_messages"
    chat_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    message_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    ticket_id: Mapped[int] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "announcement" or "relay"


class TicketReply(Base):
    """A staff answer (or addition) to a ticket, or a learner's follow-up on it."""

    __tablename__ = "ticket_replies"
    id: Mapped[int] = mapped_column(_ROW_ID, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(index=True)
    author_id: Mapped[int]  # a Telegram id (0: none)
    author_account_id: Mapped[int | None]  # None: someone without an account
    from_staff: Mapped[bool]
    # "answer" (the first staff answer), "addition" (a later one), or "correction": the right
    # answer to a question its learner voted 👎 on
    kind: Mapped[str] = mapped_column(String(16), server_default="answer")
    text: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime]
    # None: a staff answer still to be delivered in the learner's channel by that channel's
    # rounds (a web page fetches its own, so those are delivered when written)
    delivered_at: Mapped[datetime | None] = mapped_column(index=True)


class Lease(Base):
    """A job that one process at a time runs (the staff loop's rounds): who holds it, until
    when. A holder that dies lets it lapse; another takes it over."""

    __tablename__ = "leases"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]


class WeComConversation(Base):
    """A WeCom user or group under its id in the store: where the staff loop delivers an
    answer to a learner who asked in WeCom (WeCom's ids are strings, the store's numbers)."""

    __tablename__ = "wecom_conversations"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(256))


class LearnerBranch(Base):
    """The branch a learner chose with /branch: its staff group gets their questions."""

    __tablename__ = "learner_branches"
    user_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    branch: Mapped[str] = mapped_column(String(100))
    chosen_at: Mapped[datetime]


class CuratedAnswer(Base):
    """An answer staff wrote by hand, served to the next learner who asks the same question.
    `origin` names what it was saved from (a staff reply, a reviewed vote), so saving the same
    reply twice changes one answer; a retired answer is kept but never served."""

    __tablename__ = "curated_answers"
    id: Mapped[int] = mapped_column(_ROW_ID, primary_key=True, autoincrement=True)
    origin: Mapped[str | None] = mapped_column(String(40), unique=True)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    audience: Mapped[str] = mapped_column(String(16))
    # Who approved and last changed it: a Telegram id (0: none) and an account (None: none)
    approved_by: Mapped[int]
    approved_by_account_id: Mapped[int | None]
    approved_at: Mapped[datetime]
    changed_by: Mapped[int]
    changed_by_account_id: Mapped[int | None]
    changed_at: Mapped[datetime] = mapped_column(index=True)
    retired_at: Mapped[datetime | None]


class VoteReview(Base):
    """What an admin made of a 👎: corrected (a curated answer now answers it), right (the
    answer stands) or skipped (back of the queue)."""

    __tablename__ = "vote_reviews"
    feedback_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    outcome: Mapped[str] = mapped_column(String(16))
    reviewed_by: Mapped[int]  # a Telegram id (0: none)
    reviewed_by_account_id: Mapped[int | None]
    reviewed_at: Mapped[datetime]


class AwaitedText(Base):
    """An admin pressed a button whose next message is text for it (a curated answer's new
    wording, a correction): what it is for, shared by replicas."""

    __tablename__ = "awaited_texts"
    user_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    purpose: Mapped[str] = mapped_column(String(16))  # "edit" or "correct"
    target: Mapped[int]  # the curated answer or the feedback row
    since: Mapped[datetime]


class WebLogin(Base):
    """A one-time link to the admin console, sent by /weblogin: only its hash is kept, and it
    is spent by its first use."""

    __tablename__ = "web_logins"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    admin_id: Mapped[int]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class WebSession(Base):
    """A signed-in browser: a person with an account, an admin through /weblogin, or branch
    staff in the web chat (signed in with an invite code). The cookie holds the token; the table
    its hash and CSRF token."""

    __tablename__ = "web_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # "account", "admin" or "staff"
    user_id: Mapped[int]  # the account; the admin's Telegram id; 0 for invite-code staff
    branch: Mapped[str | None] = mapped_column(String(100))
    csrf: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(index=True)


class AdminAction(Base):
    """What an admin did in the console or chat (uploaded, re-indexed, corrected…), and when:
    `admin_id` is the Telegram id of one signed in through Telegram, `account_id` the account
    of one signed in with a password."""

    __tablename__ = "admin_actions"
    id: Mapped[int] = mapped_column(_ROW_ID, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    admin_id: Mapped[int]
    account_id: Mapped[int | None]
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text)


class AccountRecord(Base):
    """A person who works on the assistant: an admin or a branch's staff member, who signs in to
    the web with a name and password (and, if they chose, a one-time code), and may link the
    ids they have in a messaging channel. Never deleted, only disabled: the action log and
    curated answers name them."""

    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(_ROW_ID, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)  # case-folded sign-in name
    role: Mapped[str] = mapped_column(String(8))  # "admin" or "staff"
    branch: Mapped[str | None] = mapped_column(String(100))
    password_hash: Mapped[str | None] = mapped_column(String(200))  # None until the link is used
    totp_secret: Mapped[str | None] = mapped_column(String(64))  # the second factor, if chosen
    totp_last_step: Mapped[int | None]  # a code is accepted once
    telegram_id: Mapped[int | None] = mapped_column(unique=True)
    wecom_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime]
    created_by: Mapped[int | None]  # the inviting account; None for `bot admin add`
    disabled_at: Mapped[datetime | None]


class AccountLink(Base):
    """A one-time link or code for an account: to choose a password (a new account, or a
    forgotten password) or to link a Telegram id. Only its hash is kept."""

    __tablename__ = "account_links"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(index=True)
    purpose: Mapped[str] = mapped_column(String(16))  # "password", "channel" or "device"
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class WrongGuesses(Base):
    """Wrong invite codes, passwords and one-time codes counted per key (a Telegram user, an
    account, an address, a trusted browser) within a window, so guessing stops without one
    guesser locking everyone out."""

    __tablename__ = "wrong_guesses"
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    failures: Mapped[int]
    window_start: Mapped[datetime]


class PendingUpload(Base):
    """A document an admin sent the bot, waiting for its audience, language and title."""

    __tablename__ = "pending_uploads"
    id: Mapped[int] = mapped_column(_ROW_ID, primary_key=True, autoincrement=True)
    admin_id: Mapped[int]
    file_id: Mapped[str] = mapped_column(String(300))
    name: Mapped[str] = mapped_column(String(120))
    audience: Mapped[str | None] = mapped_column(String(8))
    language: Mapped[str | None] = mapped_column(String(8))
    sent_at: Mapped[datetime]


@dataclass(frozen=True)
class Unanswered:
    """A question the documents did not answer well, and why it counts: abstained, escalated
    (a learner asked a person) or voted (👎)."""

    question: str
    language: str
    at: datetime
    reason: str


@dataclass(frozen=True, kw_only=True)
class DayStats:
    """One UTC day: questions asked (some abstained), tickets opened, votes cast."""

    day: date
    questions: int
    abstained: int
    escalated: int  # tickets opened that day: learners who asked a person
    helpful: int
    unhelpful: int

    @property
    def answered(self) -> int:
        return self.questions - self.abstained

    @property
    def votes(self) -> int:
        return self.helpful + self.unhelpful


@dataclass(frozen=True, kw_only=True)
class Stats:
    days: list[DayStats]  # newest first; days without questions, tickets or votes left out
    helpful: int  # every vote ever kept (feedback outlives the question log)
    unhelpful: int
    staff_users: int
