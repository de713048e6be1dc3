"""What the staff loop learns from, below the channels: curated answers served by the engine
(first, cited as staff's, never staff-only to learners), the review queue's order, and content
gaps grouped by what they ask, with the real model, a real index and a real store."""

import csv
import io

import pytest

from bot.engine.answering import Engine
from bot.engine.retrieval import PublishedIndex, Retriever
from bot.services.asking import Asked, Asker
from bot.services.core import Core
from bot.services.curation import content_gaps, gaps_csv, review_queue, save_reply
from bot.store.curated import NewCurated
from bot.store.records import Person
from bot.store.tickets import NewTicket

pytestmark = pytest.mark.model

PARKING = "Is there free parking for learners at the Chengdu branch?"
CHILD = "Can I bring my child along to the weekend tutorial sessions?"


@pytest.fixture
def database_url(tmp_path):
    """SQLite only: the store's own tests run these statements on PostgreSQL too."""
    return f"sqlite+aiosqlite:///{tmp_path / 'assistant.db'}"


@pytest.fixture
async def engine(shipped_index, real_embeddings, store):
    engine = Engine(shipped_index, Retriever(PublishedIndex.load(shipped_index), real_embeddings))
    engine.use_curated(store.curated)
    return engine


async def _curate(store, question, answer, audience="public", language="en", origin=None):
    return await store.curated.save(
        NewCurated(
            question=question,
            answer=answer,
            language=language,
            audience=audience,
            approved_by=Person(7),
            origin=origin,
        )
    )


async def test_a_curated_answer_comes_first_cited_as_staff_and_only_to_those_who_may_read_it(
    engine, store
):
    before = await engine.answer("Can learners park for free at the Chengdu branch?")
    assert not any(p.metadata.get("status") == "curated" for p in before.cited)
    answer_id = await _curate(store, PARKING, "Yes, behind building A, free for learners.")
    served = await engine.answer("Can learners park for free at the Chengdu branch?")
    assert not served.abstained and "behind building A" in served.answer
    [source] = served.sources
    assert source.status == "curated" and source.label.startswith("Answer from branch staff, 20")
    await _curate(store, CHILD, "Yes, if they stay quiet.")
    chinese = await engine.answer("周末辅导课我可以带孩子一起去吗？")
    assert "if they stay quiet" in chinese.answer and "以英文作答" in chinese.answer
    assert chinese.sources[0].label.startswith("分校工作人员的答复")
    unrelated = await engine.answer("How many credits can be transferred into a diploma?")
    assert "behind building A" not in unrelated.answer

    await store.curated.edit(answer_id, "Only after 6 pm, behind building B.", by=Person(7))
    assert "building B" in (await engine.answer(PARKING)).answer
    await store.curated.retire(answer_id, by=Person(7))
    assert "building B" not in (await engine.answer(PARKING)).answer

    await _curate(store, PARKING, "Staff park in lot C with the code 4411.", audience="staff")
    assert "4411" not in (await engine.answer(PARKING, "learner")).answer
    assert "4411" in (await engine.answer(PARKING, "staff")).answer


async def test_a_reply_is_kept_once_whichever_button_is_pressed(store):
    ticket, _ = await store.tickets.open(
        NewTicket(
            question_id=1,
            learner_id=5,
            learner_chat_id=5,
            learner_name="L",
            language="en",
            question=PARKING,
            answer="not covered",
            branch=None,
            staff_chat_id=-1,
        )
    )
    staff = Person(99)
    reply_id, _ = await store.tickets.add_reply(ticket.id, staff, True, "Yes, behind building A.")
    learner_reply, _ = await store.tickets.add_reply(ticket.id, Person(5), False, "thanks")
    first = await save_reply(store, reply_id, "public", by=staff)
    again = await save_reply(store, reply_id, "staff", by=staff)
    assert first == again
    [entry] = await store.curated.active()
    assert entry.audience == "staff" and entry.question == PARKING
    assert await save_reply(store, learner_reply, "public", by=staff) is None  # not a staff reply
    assert await save_reply(store, 10**9, "public", by=staff) is None


async def _down_vote(store, user, question):
    question_id = await store.log_question(
        user_id=user,
        chat_id=user,
        question=question,
        answer="some answer",
        language="zh" if any("\u4e00" <= c <= "\u9fff" for c in question) else "en",
        abstained=True,
        latency_ms=1.0,
        sources=[],
    )
    await store.record_feedback(question_id, user, -1)


async def test_the_most_repeated_complaint_is_reviewed_first_and_skipped_ones_last(engine, store):
    await _down_vote(store, 1, "Is the canteen open on Sundays?")
    for user, wording in enumerate(
        [PARKING, "Can learners park for free at the Chengdu branch?", "成都分校可以免费停车吗？"],
        start=2,
    ):
        await _down_vote(store, user, wording)
    queue = await review_queue(store, engine)
    assert [q.similar for q in queue][:3] == [3, 3, 3] and queue[3].similar == 1
    assert "canteen" in queue[3].vote.question
    await store.curated.review(queue[0].vote.id, "skipped", by=Person(7))
    queue = await review_queue(store, engine)
    assert queue[-1].skipped and queue[-1].vote.question == PARKING
    assert "canteen" not in queue[0].vote.question


async def test_gaps_group_paraphrases_largest_first_and_say_what_is_covered(engine, store):
    for user, wording in enumerate(
        [
            PARKING,
            "Can learners park for free at the Chengdu branch?",
            "成都分校可以免费停车吗？",
            '=HYPERLINK("http://x") is the canteen open on Sundays?',
        ]
    ):
        await _down_vote(store, 10 + user, wording)
    found = await content_gaps(store, engine, days=30)
    assert len(found) == 2, [(g.count, g.example) for g in found]
    [parking, canteen] = found
    # Each question was abstained and then voted down: it counts for both.
    assert parking.count == 6 and parking.languages == {"en": 4, "zh": 2}
    assert parking.reasons == {"voted": 3, "abstained": 3} and parking.covered_by is None
    assert canteen.count == 2 and "canteen" in canteen.example
    answer_id = await _curate(store, PARKING, "Yes, behind building A.")
    [parking, _] = await content_gaps(store, engine, days=30)
    assert parking.covered_by == answer_id
    rows = list(csv.reader(io.StringIO(gaps_csv([parking, canteen]).decode("utf-8-sig"))))
    assert rows[0][:4] == ["count", "abstained", "escalated", "voted"]
    assert rows[1][:4] == ["6", "3", "0", "3"] and rows[1][-1] == str(answer_id)
    assert rows[2][5].startswith("'=")  # a formula is quoted, never run by a spreadsheet


async def test_no_gaps_without_questions(engine, store):
    assert await content_gaps(store, engine, days=30) == []
    assert await review_queue(store, engine) == []


async def test_thanks_and_greetings_with_emoji_are_never_a_gap(engine, store, shipped_index):
    core = Core.around(shipped_index, engine, store)
    asker = Asker(user_id=5, chat_id=5, role="learner", pace_id=5, per_minute=100)
    small_talk = ["Thank you 🙏", "谢谢！🙏", "ok thanks!!", "👍", "您好呀～", "bye 👋"]
    for message in [*small_talk, "Is the canteen open on Sundays?"]:
        asked = await core.ask(asker, message)
        assert isinstance(asked, Asked)
        assert asked.answer.abstained is (message not in small_talk), message
    [gap] = await content_gaps(store, engine, days=30)
    assert "canteen" in gap.example and gap.count == 1
