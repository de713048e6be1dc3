"""Who did what is recorded by account as well as by Telegram id, through the core on SQLite
and PostgreSQL: a web account that answers a ticket and keeps the answer is its author and the
curated answer's approver; a Telegram user whose id an account linked is recorded with that
account (answering in a staff chat, keeping, editing, reviewing, putting a 👎 right); an admin
known only by their Telegram id stays a Telegram id."""

import pytest
from sqlalchemy import select

from bot.engine.factory import build_engine
from bot.services import curation, staff_loop
from bot.services.core import Core
from bot.store.records import Person
from bot.store.tables import VoteReview
from bot.store.tickets import NewTicket

JINNIU = "Chengdu-Jinniu"
LEARNER, LINKED_STAFF, LINKED_ADMIN, TELEGRAM_ADMIN = 42, 555, 777, 7


@pytest.fixture
def core(settings, store):
    return Core.around(settings, build_engine(settings, without_index=True), store)


async def _ticket(store, question_id=1):
    ticket, _ = await store.tickets.open(
        NewTicket(
            question_id=question_id,
            learner_id=LEARNER,
            learner_chat_id=LEARNER,
            learner_name="Li",
            language="en",
            question="Can I bring my child to the weekend tutorial?",
            answer="The documents do not cover this.",
            branch=JINNIU,
            staff_chat_id=None,
        )
    )
    return ticket


async def _thumbs_down(store):
    question_id = await store.log_question(
        user_id=LEARNER,
        chat_id=LEARNER,
        question="Is the canteen open on Sundays?",
        answer="The documents do not cover this.",
        language="en",
        abstained=True,
        latency_ms=1.0,
        sources=[],
    )
    await store.record_feedback(question_id, LEARNER, -1)
    [vote] = await store.curated.unreviewed_votes()
    return vote.id


async def _reviewer(store, feedback_id):
    statement = select(VoteReview.reviewed_by, VoteReview.reviewed_by_account_id).where(
        VoteReview.feedback_id == feedback_id
    )
    async with store._engine.connect() as connection:
        telegram_id, account_id = (await connection.execute(statement)).one()
    return Person(telegram_id, account_id)


async def test_a_web_account_that_answers_and_keeps_is_author_and_approver(core, store):
    staff = await store.accounts.add("zhou.min", "staff", JINNIU, None)
    ticket = await _ticket(store)
    answered = await core.answer_ticket(ticket.id, "Yes, if they stay quiet.", 0, staff, "public")
    assert answered is not None and answered.curated_id is not None
    [reply] = await store.tickets.replies_to([ticket.id])
    assert reply.author == Person(0, staff.id)
    kept = await store.curated.get(answered.curated_id)
    assert kept.approver == Person(0, staff.id) and kept.changer == kept.approver

    # An admin known only by their Telegram id edits it: the change is theirs, the approval not.
    assert await store.curated.edit(kept.id, "Yes, quietly.", await core.person(TELEGRAM_ADMIN))
    edited = await store.curated.get(kept.id)
    assert edited.changer == Person(TELEGRAM_ADMIN) and edited.approver == Person(0, staff.id)


async def test_a_telegram_user_whose_id_an_account_linked_is_recorded_with_it(core, store):
    staff = await store.accounts.add("he.yu", "staff", JINNIU, None)
    await store.accounts.link_telegram(staff.id, LINKED_STAFF)
    assert await core.person(LINKED_STAFF) == Person(LINKED_STAFF, staff.id)
    assert await core.person(TELEGRAM_ADMIN) == Person(TELEGRAM_ADMIN)
    assert await core.person(0) == Person()

    # What the staff chat's handler and the keep button do
    ticket = await _ticket(store)
    answered = await staff_loop.answer_ticket(
        store, ticket, "Yes.", await core.person(LINKED_STAFF)
    )
    [reply] = await store.tickets.replies_to([ticket.id])
    assert reply.author == Person(LINKED_STAFF, staff.id)
    curated_id = await curation.save_reply(
        store, answered.reply_id, "public", await core.person(LINKED_STAFF)
    )
    kept = await store.curated.get(curated_id)
    assert kept.approver == Person(LINKED_STAFF, staff.id)
    assert await store.curated.retire(curated_id, await core.person(LINKED_STAFF))
    assert (await store.curated.get(curated_id)).changer == Person(LINKED_STAFF, staff.id)


async def test_a_thumbs_down_put_right_or_reviewed_from_telegram_names_the_linked_account(
    core, store
):
    admin = await store.accounts.add("li.na", "admin", None, None)
    await store.accounts.link_telegram(admin.id, LINKED_ADMIN)
    feedback_id = await _thumbs_down(store)
    assert await store.curated.review(feedback_id, "skipped", await core.person(TELEGRAM_ADMIN))
    assert await _reviewer(store, feedback_id) == Person(TELEGRAM_ADMIN)

    # The Telegram handler passes the admin's id and no account: the core finds the account.
    corrected = await core.correct_vote(feedback_id, "Yes, 8 am to 2 pm.", LINKED_ADMIN, None)
    assert corrected is not None
    by = Person(LINKED_ADMIN, admin.id)
    assert await _reviewer(store, feedback_id) == by
    assert (await store.curated.get(corrected.curated_id)).approver == by
    [correction] = await store.tickets.replies_to([corrected.ticket_id])
    assert correction.kind == "correction" and correction.author == by
