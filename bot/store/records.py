"""What the store's repositories hand up: frozen records, not database rows, so services,
channels and templates never depend on SQLAlchemy. Times are UTC-aware (SQLite hands back
naive ones)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any, TypeVar

R = TypeVar("R")


def record(kind: type[R], row: Any) -> R:
    """A row (of a table or a query) as `kind`, a dataclass whose fields it has by name."""
    mapping = row._mapping
    values = {}
    for field in dataclasses.fields(kind):  # type: ignore[arg-type]
        value = mapping[field.name]
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        values[field.name] = value
    return kind(**values)


def records(kind: type[R], rows: Any) -> list[R]:
    return [record(kind, row) for row in rows]


@dataclasses.dataclass(frozen=True)
class Person:
    """Who acted (answered, kept, changed, reviewed): their id in the app they acted in (a
    Telegram id, or the store's id of a WeCom user), 0 when none is known (on the web, with an
    account that linked none), and their account, None when they have none (an admin known only
    by their Telegram id, a learner, staff registered with an invite code)."""

    telegram_id: int = 0
    account_id: int | None = None


@dataclasses.dataclass(frozen=True)
class Logged:
    """A question the assistant answered, with what it answered and cited."""

    id: int
    asked_at: datetime
    user_id: int
    chat_id: int
    language: str
    abstained: bool
    latency_ms: float
    question: str
    answer: str
    sources: list[dict[str, Any]]


@dataclasses.dataclass(frozen=True)
class Ticket:
    """A learner's question for a person, where it went and its state."""

    id: int
    question_id: int
    state: str  # open, answered, closed or expired
    opened_at: datetime
    learner_id: int
    learner_chat_id: int
    learner_name: str
    language: str
    question: str
    answer: str
    branch: str | None
    staff_chat_id: int | None  # None: answered in the web workspace only
    announced_at: datetime | None
    reminded_at: datetime | None
    answered_at: datetime | None
    closed_at: datetime | None
    learner_unreachable: bool
    learner_contact: str | None = None  # an email or phone number a web learner left


@dataclasses.dataclass(frozen=True)
class Reply:
    """A staff answer (or addition, or correction) to a ticket, or a learner's follow-up."""

    id: int
    ticket_id: int
    author_id: int
    author_account_id: int | None
    from_staff: bool
    kind: str  # "answer", "addition" or "correction"
    text: str
    sent_at: datetime
    delivered_at: datetime | None

    @property
    def author(self) -> Person:
        return Person(self.author_id, self.author_account_id)


@dataclasses.dataclass(frozen=True)
class StaffAnswer:
    """A staff answer with what its learner's channel needs to show it."""

    id: int
    ticket_id: int
    kind: str  # "answer", "addition", or "correction": the right answer to a question voted 👎
    text: str
    sent_at: datetime
    question: str
    language: str
    branch: str | None
    learner_chat_id: int


@dataclasses.dataclass(frozen=True)
class Vote:
    """A 👎 (or 👍) with a copy of what was asked and answered, and its review so far."""

    id: int
    question_id: int
    user_id: int
    vote: int
    voted_at: datetime
    question: str
    answer: str
    sources: list[dict[str, Any]]
    outcome: str | None  # the review's: None (never reviewed), skipped, right or corrected


@dataclasses.dataclass(frozen=True)
class CuratedItem:
    """A curated answer as the console and /curated show it."""

    id: int
    origin: str | None
    question: str
    answer: str
    language: str
    audience: str
    approved_by: int
    approved_by_account_id: int | None
    approved_at: datetime
    changed_by: int
    changed_by_account_id: int | None
    changed_at: datetime
    retired_at: datetime | None

    @property
    def approver(self) -> Person:
        return Person(self.approved_by, self.approved_by_account_id)

    @property
    def changer(self) -> Person:
        """Who last changed it (its approver until someone edits or retires it)."""
        return Person(self.changed_by, self.changed_by_account_id)


@dataclasses.dataclass(frozen=True)
class Upload:
    """A document an admin sent in Telegram, waiting for its audience, language and title."""

    id: int
    admin_id: int
    file_id: str
    name: str
    audience: str | None
    language: str | None
    sent_at: datetime


@dataclasses.dataclass(frozen=True)
class Session:
    """A signed-in browser."""

    kind: str  # "account", "admin" or "staff"
    user_id: int
    branch: str | None
    csrf: str
    expires_at: datetime


@dataclasses.dataclass(frozen=True)
class Action:
    """Something an admin did."""

    id: int
    at: datetime
    admin_id: int
    account_id: int | None
    action: str
    detail: str
