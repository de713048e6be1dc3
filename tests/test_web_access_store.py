"""Sign-ins to the web channel in the store (SQLite and PostgreSQL): one-time links spent once,
even by two clicks at the same moment; sessions that expire and end at sign-out; the log of
admin actions."""

import asyncio
from datetime import timedelta

import pytest

from bot.store.records import Person

MINUTES = timedelta(minutes=5)


async def test_a_sign_in_link_is_spent_by_its_first_use(store):
    token = await store.web.issue_login(7, MINUTES)
    assert len(token) >= 40
    assert await store.web.redeem_login(token) == 7
    assert await store.web.redeem_login(token) is None


async def test_two_clicks_at_once_sign_in_once(store):
    token = await store.web.issue_login(7, MINUTES)
    results = await asyncio.gather(*(store.web.redeem_login(token) for _ in range(8)))
    assert sorted(results, key=str) == [7] + [None] * 7


async def test_an_expired_or_unknown_link_signs_in_no_one(store):
    expired = await store.web.issue_login(7, timedelta(seconds=-1))
    assert await store.web.redeem_login(expired) is None
    assert await store.web.redeem_login("not-a-token") is None
    assert await store.web.redeem_login("") is None


async def test_only_hashes_of_tokens_are_stored(store, database_url):
    token = await store.web.issue_login(7, MINUTES)
    session = await store.web.open_session("admin", 7, MINUTES)
    from sqlalchemy import text

    async with store._engine.connect() as connection:
        rows = (await connection.execute(text("SELECT token_hash FROM web_logins"))).all()
        rows += (await connection.execute(text("SELECT token_hash FROM web_sessions"))).all()
    stored = " ".join(row[0] for row in rows)
    assert token not in stored and session not in stored


async def test_sessions_expire_and_end_at_sign_out(store):
    live = await store.web.open_session("staff", 0, MINUTES, branch="Chengdu-Jinniu")
    found = await store.web.session(live)
    assert found.kind == "staff" and found.branch == "Chengdu-Jinniu" and len(found.csrf) >= 40
    expired = await store.web.open_session("admin", 7, timedelta(seconds=-1))
    assert await store.web.session(expired) is None
    await store.web.close_session(live)
    assert await store.web.session(live) is None
    with pytest.raises(ValueError, match="kind"):
        await store.web.open_session("root", 7, MINUTES)


async def test_admin_actions_are_logged_newest_first(store):
    await store.web.record(Person(7), "upload", "uploads/a.md")
    await store.web.record(Person(8, 3), "reindex", "version x")
    actions = await store.web.actions()
    assert [(a.admin_id, a.account_id, a.action) for a in actions] == [
        (8, 3, "reindex"),
        (7, None, "upload"),
    ]
