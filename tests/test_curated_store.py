"""Curated answers and 👎 reviews in the store, on SQLite and PostgreSQL: one answer per origin,
edits and retirement seen by the engine's source, reviews settled once, and two replicas on
one database agreeing (what one saves, the other's engine serves at its next question)."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from bot.engine.curated import CuratedAnswers
from bot.engine.question_space import comparable
from bot.store.curated import NewCurated
from bot.store.database import Store
from bot.store.records import Person
from bot.store.tables import AwaitedText

WECHAT = NewCurated(
    question="Can I pay the fee by WeChat?",
    answer="Yes, at the branch's front desk.",
    language="en",
    audience="public",
    approved_by=Person(7),
    origin="reply:1",
)


async def test_saving_the_same_reply_twice_changes_one_answer(store):
    ids = await asyncio.gather(*(store.curated.save(WECHAT) for _ in range(6)))
    assert len(set(ids)) == 1
    staff_only = NewCurated(**{**WECHAT.__dict__, "audience": "staff"})
    assert await store.curated.save(staff_only) == ids[0]
    [entry] = await store.curated.active()
    assert entry.audience == "staff" and entry.answer == WECHAT.answer


async def test_every_change_moves_the_revision_and_a_retired_answer_is_not_served(store):
    empty = await store.curated.revision()
    answer_id = await store.curated.save(WECHAT)
    saved = await store.curated.revision()
    assert saved != empty
    assert await store.curated.edit(answer_id, "Yes, and by Alipay too.", by=Person(8)) is True
    edited = await store.curated.revision()
    assert edited != saved
    assert [e.answer for e in await store.curated.active()] == ["Yes, and by Alipay too."]
    assert await store.curated.retire(answer_id, by=Person(8)) is True
    assert await store.curated.revision() != edited
    assert await store.curated.active() == []
    assert await store.curated.retire(answer_id, by=Person(8)) is False
    assert await store.curated.edit(answer_id, "back?", by=Person(8)) is False
    rows, total = await store.curated.page(0, 10)
    assert rows == [] and total == 0


@pytest.mark.parametrize(
    "bad",
    [{"audience": "everyone"}, {"question": "  "}, {"answer": ""}],
)
async def test_a_curated_answer_needs_a_question_an_answer_and_a_known_audience(store, bad):
    with pytest.raises(ValueError):
        await store.curated.save(NewCurated(**{**WECHAT.__dict__, **bad}))
    assert await store.curated.active() == []


async def test_pages_newest_first_with_the_total(store):
    for n in range(5):
        await store.curated.save(NewCurated(**{**WECHAT.__dict__, "origin": f"reply:{n}"}))
    first, total = await store.curated.page(0, 2)
    last, _ = await store.curated.page(4, 2)
    assert total == 5 and len(first) == 2 and len(last) == 1
    assert first[0].id > first[1].id > last[0].id


async def _vote(store: Store, user: int, question: str) -> int:
    question_id = await store.log_question(
        user_id=user,
        chat_id=user,
        question=question,
        answer="a wrong answer",
        language="en",
        abstained=False,
        latency_ms=1.0,
        sources=[],
    )
    assert await store.record_feedback(question_id, user, -1)
    [row] = [r for r in await store.curated.unreviewed_votes() if r.question_id == question_id]
    return row.id


async def test_a_vote_is_settled_once_and_a_skipped_one_comes_back(store):
    first = await _vote(store, 1, "How many credits can I transfer?")
    second = await _vote(store, 2, "Where is the exam room?")
    results = await asyncio.gather(
        *(store.curated.review(first, "right", by=Person(7)) for _ in range(4))
    )
    assert results.count(True) == 1
    assert await store.curated.review(second, "skipped", by=Person(7)) is True
    queue = await store.curated.unreviewed_votes()
    assert [(row.id, row.outcome) for row in queue] == [(second, "skipped")]
    assert await store.curated.review(second, "corrected", by=Person(7)) is True
    assert await store.curated.unreviewed_votes() == []
    with pytest.raises(ValueError):
        await store.curated.review(second, "deleted", by=Person(7))


async def test_only_a_thumbs_down_that_exists_can_be_reviewed(store):
    assert await store.curated.review(123456, "right", by=Person(7)) is False
    question_id = await store.log_question(
        user_id=3,
        chat_id=3,
        question="Is it good?",
        answer="Yes.",
        language="en",
        abstained=False,
        latency_ms=1.0,
        sources=[],
    )
    await store.record_feedback(question_id, 3, 1)
    [liked] = await _feedback_ids(store, question_id)
    assert await store.curated.review(liked, "right", by=Person(7)) is False  # a 👍 is not reviewed
    assert await store.curated.unreviewed_votes() == []


async def test_an_awaited_text_is_taken_once_and_forgotten_when_old(store):
    await store.curated.await_text(7, "edit", 12)
    assert await store.curated.take_awaited(7) == ("edit", 12)
    assert await store.curated.take_awaited(7) is None
    await store.curated.await_text(7, "correct", 3)
    async with store._engine.begin() as connection:
        old = datetime.now(UTC) - timedelta(minutes=16)
        await connection.execute(update(AwaitedText).values(since=old))
    assert await store.curated.take_awaited(7) is None


@pytest.mark.model
async def test_a_replica_serves_what_another_saved_at_its_next_question(
    database_url, real_embeddings
):
    first, second = await Store.open(database_url), await Store.open(database_url)
    try:
        served = CuratedAnswers(second.curated, real_embeddings.embed_query)
        await served.refresh()
        assert served.entries == []
        answer_id = await first.curated.save(WECHAT)
        await served.refresh()
        query = real_embeddings.embed_query("Is paying the fee with WeChat possible?")
        match = served.match(query, "en", "learner")
        assert match is not None and match.entry.id == answer_id
        await first.curated.retire(answer_id, by=Person(7))
        await served.refresh()
        assert served.match(query, "en", "learner") is None
    finally:
        await first.close()
        await second.close()


@pytest.mark.model
async def test_learners_never_match_a_staff_only_answer(store, real_embeddings):
    await store.curated.save(NewCurated(**{**WECHAT.__dict__, "audience": "staff"}))
    served = CuratedAnswers(store.curated, real_embeddings.embed_query)
    await served.refresh()
    query = real_embeddings.embed_query(comparable(WECHAT.question))  # as the engine asks
    assert served.match(query, "en", "learner") is None
    staff = served.match(query, "en", "staff")
    assert staff is not None and staff.similarity > 0.99


async def _feedback_ids(store, question_id):
    from sqlalchemy import text

    async with store._engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT id FROM feedback WHERE question_id = :q"), {"q": question_id}
        )
        return [row[0] for row in rows]
