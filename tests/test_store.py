"""The adapter's database, on a real SQLite file and on a real PostgreSQL server: roles,
throttling, conversation memory, the question log and feedback, with concurrent writers."""

import asyncio
from datetime import UTC, datetime, time, timedelta

import pytest
from postgres_server import PostgresServer
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine

from bot.store.database import Store
from bot.store.tables import DayStats, Feedback, HandledUpdate, LoggedQuestion, QuestionPace, Ticket
from bot.store.tickets import NewTicket


async def _log(
    store: Store,
    user_id: int = 1,
    abstained: bool = False,
    chat_id: int | None = None,
    question: str = "What is the credit bank?",
    answer: str = "An account of credits [1].",
) -> int:
    return await store.log_question(
        user_id=user_id,
        chat_id=user_id if chat_id is None else chat_id,
        question=question,
        answer=answer,
        language="en",
        abstained=abstained,
        latency_ms=12.5,
        sources=[{"title": "Rules", "section": "Art. 1", "audience": "public", "text": "…"}],
    )


async def test_registrations_survive_a_reopen(database_url):
    first = await Store.open(database_url)
    await first.register_staff(5, "chengdu-jinniu")
    await first.close()
    second = await Store.open(database_url)
    assert await second.staff_branch(5) == "chengdu-jinniu"
    assert await second.staff_branch(6) is None
    await second.close()


async def test_wrong_guesses_are_counted_per_key_within_a_window(store):
    window, guesses = timedelta(hours=1), store.guesses
    counts = [await guesses.record("invite:7", window) for _ in range(3)]
    assert counts == [1, 2, 3] and await guesses.count("invite:7", window) == 3
    assert await guesses.count("invite:8", window) == 0  # another key counts apart
    assert await guesses.count("invite:7", timedelta(0)) == 0  # an expired window counts nothing
    assert await guesses.record("invite:7", timedelta(0)) == 1  # and starts a new one
    await guesses.forgive("invite:7")
    assert await guesses.count("invite:7", window) == 0


async def test_concurrent_wrong_guesses_are_all_counted(store):
    window = timedelta(hours=1)
    await asyncio.gather(*(store.guesses.record("invite:8", window) for _ in range(20)))
    assert await store.guesses.count("invite:8", window) == 20


async def test_feedback_keeps_one_vote_per_user_and_answer(store):
    question_id = await _log(store)
    assert await store.record_feedback(question_id, 1, 1)
    assert await store.record_feedback(question_id, 1, -1)
    assert await store.record_feedback(question_id, 2, 1)
    assert not await store.record_feedback(question_id + 100, 1, 1)  # no such answer
    stats = await store.stats()
    assert (stats.helpful, stats.unhelpful) == (1, 1)


async def test_concurrent_votes_do_not_duplicate(store):
    question_id = await _log(store)
    await asyncio.gather(*(store.record_feedback(question_id, 3, v) for v in (1, -1) * 10))
    stats = await store.stats()
    assert stats.helpful + stats.unhelpful == 1


async def test_stats_count_questions_and_abstentions_per_day(store):
    for abstained in (False, False, True):
        await _log(store, abstained=abstained)
    await store.register_staff(9, "b")
    stats = await store.stats()
    [today] = stats.days
    assert (today.questions, today.abstained, stats.staff_users) == (3, 1, 1)


async def _in_time_zone(database_url: str, zone: str) -> None:
    """Make every new connection to this PostgreSQL database use `zone`."""
    engine = create_async_engine(database_url)
    async with engine.begin() as connection:
        name = await connection.scalar(text("SELECT current_database()"))
        await connection.execute(text(f"ALTER DATABASE {name} SET timezone TO '{zone}'"))
    await engine.dispose()


async def _moved(store: Store, table, row, column: str, moment: datetime) -> None:
    """Set a row's timestamp: no API records the past."""
    async with store._engine.begin() as connection:
        await connection.execute(update(table).where(row).values({column: moment}))


async def test_stats_count_questions_tickets_and_votes_per_utc_day(database_url):
    if database_url.startswith("postgresql"):
        await _in_time_zone(database_url, "Asia/Shanghai")  # a server in Chengdu's time zone
    store = await Store.open(database_url)
    if database_url.startswith("postgresql"):
        async with store._engine.connect() as connection:
            assert await connection.scalar(text("SHOW timezone")) == "Asia/Shanghai"
    today = datetime.now(UTC).date()

    def at(days_ago: int, hour: int, minute: int = 0) -> datetime:
        day = today - timedelta(days=days_ago)
        return datetime.combine(day, time(hour, minute), tzinfo=UTC)

    plan = [  # when asked, abstained, escalated, vote: each on its question's own moment
        (at(1, 23, 30), False, False, 1),  # late in a UTC day: the next day in Chengdu
        (at(1, 23, 45), True, True, None),
        (at(1, 23, 59), False, False, -1),
        (at(2, 0, 15), True, True, 1),
        (at(2, 0, 20), True, False, None),
        (at(29, 0, 0), False, False, -1),  # the first of the 30 days
        (at(30, 23, 59), True, True, 1),  # the day before them: left out
    ]
    for user, (moment, abstained, escalated, vote) in enumerate(plan, start=1):
        question_id = await _log(store, user_id=user, abstained=abstained)
        await _moved(store, LoggedQuestion, LoggedQuestion.id == question_id, "asked_at", moment)
        if escalated:
            await store.tickets.open(_ticket(question_id, user))
            await _moved(store, Ticket, Ticket.question_id == question_id, "opened_at", moment)
        if vote is not None:
            assert await store.record_feedback(question_id, user, vote)
            await _moved(store, Feedback, Feedback.question_id == question_id, "voted_at", moment)
    oldest = await _log(store, user_id=50)  # asked long ago, voted on today: a vote-only day
    await _moved(store, LoggedQuestion, LoggedQuestion.id == oldest, "asked_at", at(60, 12))
    assert await store.record_feedback(oldest, 50, 1)

    stats = await store.stats(days=30)

    def day(days_ago: int, *counts: int) -> DayStats:
        names = ("questions", "abstained", "escalated", "helpful", "unhelpful")
        return DayStats(
            day=today - timedelta(days=days_ago), **dict(zip(names, counts, strict=True))
        )

    assert stats.days == [
        day(0, 0, 0, 0, 1, 0),
        day(1, 3, 1, 1, 1, 1),
        day(2, 2, 2, 1, 1, 0),
        day(29, 1, 0, 0, 0, 1),
    ]
    assert [d.answered for d in stats.days] == [0, 2, 0, 1]
    assert (stats.helpful, stats.unhelpful) == (4, 2)  # every vote kept, the window's or not
    assert (await store.stats(days=30, today=today - timedelta(days=1))).days[-1] == day(
        30, 1, 1, 1, 1, 0
    )
    await store.close()


def _ticket(question_id: int, learner: int) -> NewTicket:
    return NewTicket(
        question_id=question_id,
        learner_id=learner,
        learner_chat_id=learner,
        learner_name="Learner",
        language="en",
        question="Is there a dormitory?",
        answer="The documents do not cover it.",
        branch=None,
        staff_chat_id=-100,
    )


async def test_old_questions_are_pruned_but_feedback_stays(database_url):
    store = await Store.open(database_url, retention_days=1)
    question_id = await _log(store)
    await store.record_feedback(question_id, 1, 1)
    store._retention = timedelta(0)  # as if a day had passed
    assert await store.prune() == 1
    assert await store.logged(question_id) is None
    assert (await store.stats()).helpful == 1
    await store.close()


BOT, OTHER_BOT = 777, 778


async def test_an_update_is_claimed_once_unless_its_claim_went_stale(store):
    minute = timedelta(minutes=1)
    assert await store.claim_update(BOT, 100, datetime.now(UTC) - minute)
    assert not await store.claim_update(BOT, 100, datetime.now(UTC) - minute)  # being handled
    assert await store.claim_update(BOT, 100, datetime.now(UTC))  # its handler died: take over
    await store.finish_update(BOT, 100)
    assert not await store.claim_update(BOT, 100, datetime.now(UTC))  # done is done


async def test_update_ids_are_counted_per_bot(store):
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    assert await store.claim_update(BOT, 1, an_hour_ago)
    await store.finish_update(BOT, 1)
    assert await store.claim_update(OTHER_BOT, 1, an_hour_ago)  # another bot's first update
    await store.finish_update(OTHER_BOT, 1)
    assert not await store.claim_update(BOT, 1, an_hour_ago)
    assert not await store.claim_update(OTHER_BOT, 1, an_hour_ago)


async def test_a_claim_older_than_a_redelivery_can_be_is_no_duplicate(store):
    """Telegram keeps updates for a day, and numbers them afresh after a quiet week."""
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    assert await store.claim_update(BOT, 5, an_hour_ago)
    await store.finish_update(BOT, 5)
    async with store._engine.begin() as connection:
        await connection.execute(
            update(HandledUpdate).values(claimed_at=datetime.now(UTC) - timedelta(days=8))
        )
    assert await store.claim_update(BOT, 5, an_hour_ago)  # a new update with an old number
    assert not await store.claim_update(BOT, 5, an_hour_ago)  # and now claimed


async def test_concurrent_claims_of_one_update_have_one_winner(store):
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    wins = await asyncio.gather(*(store.claim_update(BOT, 200, an_hour_ago) for _ in range(10)))
    assert wins.count(True) == 1


async def test_a_question_allowance_is_a_burst_then_a_steady_pace(store):
    start = 1_000_000.0
    taken = [await store.take_question(1, per_minute=3, now=start) for _ in range(4)]
    assert taken[:3] == [0, 0, 0]
    assert taken[3] == pytest.approx(20.0)  # one question's worth comes back every 20 s
    assert await store.take_question(2, per_minute=3, now=start) == 0  # per user
    assert await store.take_question(1, per_minute=3, now=start + 5) == pytest.approx(15.0)
    assert await store.take_question(1, per_minute=3, now=start + 20) == 0
    assert await store.take_question(1, per_minute=3, now=start + 21) == pytest.approx(19.0)
    assert [await store.take_question(1, 3, now=start + 200) for _ in range(4)][-1] > 0  # whole


async def test_concurrent_questions_share_one_allowance(store):
    waits = await asyncio.gather(*(store.take_question(3, per_minute=5) for _ in range(20)))
    assert sum(wait == 0 for wait in waits) == 5


async def test_whole_allowances_are_pruned(store):
    await store.take_question(4, per_minute=2, now=0.0)  # whole again long ago
    await store.take_question(5, per_minute=2)
    await store.prune()
    async with store._engine.connect() as connection:
        kept = (await connection.execute(select(QuestionPace.user_id))).scalars().all()
    assert kept == [5]  # 4's allowance was whole again: its row is gone
    assert await store.take_question(5, per_minute=2) == 0
    assert await store.take_question(5, per_minute=2) > 0  # 5's row survived the prune


async def test_conversation_memory_is_the_recent_log_of_one_user_in_one_chat(store):
    hour = timedelta(hours=1)
    for n in range(4):
        await _log(store, user_id=1, chat_id=-50, question=f"q{n}", answer=f"a{n}")
    await _log(store, user_id=2, chat_id=-50, question="other user", answer="x")
    await _log(store, user_id=1, chat_id=1, question="private", answer="y")
    assert await store.history(-50, 1, turns=2, max_age=hour) == [("q2", "a2"), ("q3", "a3")]
    assert await store.history(-50, 2, turns=5, max_age=hour) == [("other user", "x")]
    assert await store.history(1, 1, turns=5, max_age=hour) == [("private", "y")]
    assert await store.history(-50, 1, turns=0, max_age=hour) == []
    assert await store.history(-50, 1, turns=5, max_age=timedelta(0)) == []  # too old


async def test_new_conversation_forgets_earlier_turns_in_that_chat_only(store):
    hour = timedelta(hours=1)
    await _log(store, user_id=1, chat_id=-50, question="before", answer="a")
    await _log(store, user_id=1, chat_id=1, question="private", answer="b")
    await store.new_conversation(-50, 1)
    await store.new_conversation(-50, 1)  # twice is fine
    assert await store.history(-50, 1, turns=5, max_age=hour) == []
    assert await store.history(1, 1, turns=5, max_age=hour) == [("private", "b")]
    await _log(store, user_id=1, chat_id=-50, question="after", answer="c")
    assert await store.history(-50, 1, turns=5, max_age=hour) == [("after", "c")]


async def test_a_database_server_restart_between_two_uses_goes_unnoticed():
    server = PostgresServer().start()  # its own server: this test restarts it
    try:
        store = await Store.open(server.new_database())
        await store.register_staff(5, "b")
        server.stop(keep_data=True)  # blocks the event loop: the pool cannot see the close
        server.start()
        assert await store.staff_branch(5) == "b"  # a stale pooled connection is not used
        await store.close()
    finally:
        server.stop()


async def test_a_failing_statement_does_not_carry_what_users_wrote(store):
    # The error reaches the log as a traceback; users' words stay out of it.
    with pytest.raises(IntegrityError) as failure:
        await _log(store, question=None, answer="A private answer about my credits")  # type: ignore[arg-type]
    assert "private answer" not in str(failure.value)
