"""The staff loop on the web alone (no Telegram token, no staff chat): an admin signs in from
the command line's link and invites branch staff; a web learner's "Ask a person" reaches that
branch's workspace; the staff answer reaches the learner's page and, kept, answers the next
learner's paraphrase. In-process: the web app through httpx's ASGI transport, the real engine
on the shipped index."""

import asyncio
import re

import pytest
from in_process import on_a_thread
from pydantic import SecretStr
from web_app import web_clients

from bench.wecom_emulator import WeComEmulator
from bot.channels.wecom.app import connect, serve
from bot.engine.answering import Engine
from bot.engine.factory import build_engine
from bot.engine.retrieval import PublishedIndex, Retriever

PASSWORD = "river-of-credits-42"
JINNIU, YUBEI = "Chengdu-Jinniu", "Chongqing-Yubei"
CHILD = "Can I bring my child along to the weekend tutorial sessions?"
CHILD_ANSWER = "Yes, children may sit in if they stay quiet; tell the tutor when you arrive."
PARAPHRASE = "can I bring my child along to weekend tutorial sessions"


@pytest.fixture
def web_settings(shipped_index, tmp_path):
    return shipped_index.model_copy(
        update={
            "database_url": f"sqlite+aiosqlite:///{tmp_path / 'assistant.db'}",
            "telegram_bot_token": None,
            "staff_chat_id": None,
            "branch_staff_chats": {},
            "user_questions_per_minute": 100,
            "web_questions_per_minute": 100,
        }
    )


@pytest.fixture
async def browsers(web_settings, real_embeddings):
    index = PublishedIndex.load(web_settings)
    engine = Engine(web_settings, Retriever(index, real_embeddings))
    async with web_clients(web_settings, engine) as browser:
        yield browser


def _found(pattern, page):
    match = re.search(pattern, page)
    assert match is not None, page[:3000]
    return match.group(1)


def _csrf(page):
    return _found(r'name="csrf" value="([^"]+)"', page)


async def _password_and_sign_in(http, token, name):
    chosen = await http.post(
        "/account/password", data={"token": token, "password": PASSWORD, "repeated": PASSWORD}
    )
    assert chosen.status_code == 303
    return await http.post("/signin", data={"name": name, "password": PASSWORD, "code": ""})


async def _invite(admin, name, branch):
    console = await admin.get("/admin/people")
    invited = await admin.post(
        "/admin/people",
        data={"csrf": _csrf(console.text), "name": name, "role": "staff", "branch": branch},
    )
    assert invited.status_code == 200
    return _found(r"/account/password/([A-Za-z0-9_-]+)", invited.text)


async def _ask(learner, question):
    asked = await learner.post("/api/ask", json={"question": question})
    assert asked.status_code == 200, asked.text
    return asked.json()


async def test_a_web_only_deployment_runs_the_whole_loop(browsers, command_line):
    learner, admin, staff, other_staff, next_learner = (browsers() for _ in range(5))
    assert (await learner.get("/api/branches")).json() == []  # nobody answers yet
    first = await _ask(learner, CHILD)
    off = await learner.post("/api/person", json={"answer_id": first["answer_id"]})
    assert off.status_code == 503

    _, token = await command_line.add("li.na", "admin")
    assert (await _password_and_sign_in(admin, token, "li.na")).headers["location"] == "/admin"
    for name, branch, browser in [("zhou.min", JINNIU, staff), ("he.yu", YUBEI, other_staff)]:
        signed = await _password_and_sign_in(browser, await _invite(admin, name, branch), name)
        assert signed.headers["location"] == "/workspace"

    # The learner sees the staffed branches, picks one and asks for a person.
    page = await learner.get("/")
    assert f"<option>{JINNIU}</option>" in page.text and f"<option>{YUBEI}</option>" in page.text
    assert (await learner.get("/api/branches")).json() == [JINNIU, YUBEI]
    forged = await learner.post(
        "/api/person", json={"answer_id": first["answer_id"], "branch": "Nowhere"}
    )
    assert forged.status_code == 422
    ticket = (
        await learner.post("/api/person", json={"answer_id": first["answer_id"], "branch": JINNIU})
    ).json()
    assert ticket["created"] and ticket["state"] == "open"

    # It reaches Jinniu's workspace (the page's poll sees it), not Yubei's.
    assert (await staff.get("/workspace/latest")).json() == {"latest": ticket["ticket"], "open": 1}
    assert (await other_staff.get("/workspace/latest")).json() == {"latest": 0, "open": 0}
    workspace = await staff.get("/workspace")
    assert f'id="ticket-{ticket["ticket"]}"' in workspace.text and CHILD in workspace.text
    assert CHILD not in (await other_staff.get("/workspace")).text
    refused = await other_staff.post(
        f"/workspace/tickets/{ticket['ticket']}",
        data={"csrf": _csrf((await other_staff.get("/workspace")).text), "answer": "no"},
    )
    assert refused.status_code == 404  # another branch's ticket

    answered = await staff.post(
        f"/workspace/tickets/{ticket['ticket']}",
        data={"csrf": _csrf(workspace.text), "answer": CHILD_ANSWER, "keep": "public"},
    )
    assert answered.status_code == 200
    assert f"Ticket #{ticket['ticket']}: your answer is on its way" in answered.text
    assert "curated answer #" in answered.text

    # The learner's page fetches it; the admin's action log names who answered.
    replies = await learner.get(
        "/api/replies", params={"conversation_id": first["conversation_id"]}
    )
    [reply] = replies.json()
    assert reply["text"] == CHILD_ANSWER and reply["branch"] == JINNIU
    assert "ticket answer" in (await admin.get("/admin/actions")).text
    # The console's curated answers name who last changed each: the account that kept it, then
    # the admin who edits it there.
    curated = await admin.get("/admin/curated")
    assert '<span class="changed-by">zhou.min</span>' in curated.text
    curated_id = _found(r'id="curated-(\d+)"', curated.text)
    edited = await admin.post(
        f"/admin/curated/{curated_id}",
        data={"csrf": _csrf(curated.text), "action": "edit", "answer": CHILD_ANSWER},
    )
    assert edited.status_code == 303
    assert '<span class="changed-by">li.na</span>' in (await admin.get("/admin/curated")).text

    # The next learner's paraphrase gets the kept answer; the ticket shows as answered.
    again = await _ask(next_learner, PARAPHRASE)
    assert CHILD_ANSWER in again["answer"] and not again["abstained"]
    assert (await staff.get("/workspace/latest")).json()["open"] == 0


async def test_staff_put_right_their_branchs_thumbs_down(browsers, command_line):
    learner, staff, other_staff = browsers(), browsers(), browsers()
    for name, branch, browser in [("zhou.min", JINNIU, staff), ("he.yu", YUBEI, other_staff)]:
        _, token = await command_line.add(name, "staff", branch)
        await _password_and_sign_in(browser, token, name)
    asked = await _ask(learner, CHILD)
    ticket = await learner.post(
        "/api/person", json={"answer_id": asked["answer_id"], "branch": JINNIU}
    )
    assert ticket.status_code == 200  # the learner chose Jinniu
    voted = await learner.post("/api/feedback", json={"answer_id": asked["answer_id"], "vote": -1})
    assert voted.status_code == 200

    page = (await staff.get("/workspace")).text
    vote_id = int(_found(r'id="vote-(\d+)"', page))
    assert 'id="vote-' not in (await other_staff.get("/workspace")).text
    other_csrf = _csrf((await other_staff.get("/workspace")).text)
    foreign = await other_staff.post(
        f"/workspace/votes/{vote_id}", data={"csrf": other_csrf, "answer": "x"}
    )
    assert foreign.status_code == 404
    corrected = await staff.post(
        f"/workspace/votes/{vote_id}", data={"csrf": _csrf(page), "answer": CHILD_ANSWER}
    )
    assert corrected.status_code == 200 and "Saved as curated answer #" in corrected.text
    assert 'id="vote-' not in corrected.text  # settled
    # The learner who voted finds the right answer on their page, marked as a correction.
    replies = await learner.get(
        "/api/replies", params={"conversation_id": asked["conversation_id"]}
    )
    [correction] = [r for r in replies.json() if r["kind"] == "correction"]
    assert correction["text"] == CHILD_ANSWER and correction["question"] == CHILD
    again = await _ask(browsers(), PARAPHRASE)
    assert CHILD_ANSWER in again["answer"]


async def test_the_workspace_refuses_what_it_should(browsers, command_line):
    anonymous, staff, learner = browsers(), browsers(), browsers()
    assert (await anonymous.get("/workspace")).headers["location"] == "/signin"
    assert (await anonymous.get("/workspace/latest")).status_code == 401
    assert (await anonymous.post("/workspace/tickets/1", data={"csrf": "x"})).status_code == 401
    _, token = await command_line.add("zhou.min", "staff", JINNIU)
    await _password_and_sign_in(staff, token, "zhou.min")
    page = (await staff.get("/workspace")).text
    assert "No tickets" in page
    csrf = _csrf(page)
    asked = await _ask(learner, CHILD)
    ticket = (await learner.post("/api/person", json={"answer_id": asked["answer_id"]})).json()
    path = f"/workspace/tickets/{ticket['ticket']}"
    assert (await staff.post(path, data={"csrf": "forged", "answer": "x"})).status_code == 403
    assert (await staff.post(path, data={"csrf": csrf, "answer": "  "})).status_code == 422
    long = {"csrf": csrf, "answer": "x" * 4001}
    assert (await staff.post(path, data=long)).status_code == 422
    bad_keep = {"csrf": csrf, "answer": "x", "keep": "everyone"}
    assert (await staff.post(path, data=bad_keep)).status_code == 422
    for forged in ("/workspace/tickets/999999", "/workspace/votes/999999"):
        assert (await staff.post(forged, data={"csrf": csrf, "answer": "x"})).status_code == 404
    for hostile in ("/workspace/tickets/0", f"/workspace/tickets/{2**63}", "/workspace/tickets/x"):
        assert (await staff.post(hostile, data={"csrf": csrf, "answer": "x"})).status_code == 422
    # A ticket of no branch is every branch's; closing it tells the page.
    closed = await staff.post(path, data={"csrf": csrf, "action": "close"})
    assert closed.status_code == 200 and f"Ticket #{ticket['ticket']} closed." in closed.text
    assert (await staff.get("/workspace/latest")).json()["open"] == 0


async def test_the_workspace_follows_the_browsers_language(browsers, command_line):
    staff = browsers()
    _, token = await command_line.add("zhou.min", "staff", JINNIU)
    await _password_and_sign_in(staff, token, "zhou.min")
    chinese = await staff.get("/workspace", headers={"accept-language": "zh-CN,zh;q=0.9"})
    assert "工作人员工作台" in chinese.text and 'lang="zh-CN"' in chinese.text
    english = await staff.get("/workspace", headers={"accept-language": "en-GB"})
    assert "Staff workspace" in english.text


async def test_a_wecom_learner_is_answered_from_the_workspace_in_wecom(
    web_settings, browsers, command_line, real_embeddings
):
    """WeCom learner → "Ask a person" on the answer's card → the branch workspace → the staff
    answer in the learner's WeCom chat; kept, it answers the next WeCom learner's paraphrase."""
    admin, staff = browsers(), browsers()
    _, token = await command_line.add("li.na", "admin")
    await _password_and_sign_in(admin, token, "li.na")
    await _password_and_sign_in(staff, await _invite(admin, "zhou.min", JINNIU), "zhou.min")
    with WeComEmulator() as wecom:
        settings = web_settings.model_copy(
            update={
                "wecom_bot_id": wecom.bot_id,
                "wecom_bot_secret": SecretStr(wecom.secret),
                "wecom_ws_url": wecom.url,
                "ticket_retry_s": 0.3,
            }
        )
        engine = build_engine(settings, without_index=True, embeddings=real_embeddings)
        connection = connect(settings)
        with on_a_thread(lambda: serve(settings, engine, connection), connection.stop):

            def seen(chat, kind):
                return [s for s in wecom.seen_by(chat) if s.kind == kind]

            async def until(condition):
                assert await asyncio.to_thread(wecom.wait_for, condition, 60)

            await until(lambda: wecom.subscriptions == 1)
            wecom.user_message(CHILD, userid="wang.fang")
            await until(lambda: seen("wang.fang", "card"))
            [card] = seen("wang.fang", "card")
            assert card.card is not None
            keys = {b["text"]: b["key"] for b in card.card["button_list"]}
            wecom.click("wang.fang", card.card["task_id"], keys["Ask a person"])
            await until(lambda: seen("wang.fang", "markdown"))
            number = int(_found(r"#(\d+)", seen("wang.fang", "markdown")[0].content))

            workspace = await staff.get("/workspace")
            assert f'id="ticket-{number}"' in workspace.text and CHILD in workspace.text
            answered = await staff.post(
                f"/workspace/tickets/{number}",
                data={"csrf": _csrf(workspace.text), "answer": CHILD_ANSWER, "keep": "public"},
            )
            assert answered.status_code == 200

            def delivered():
                return [m for m in seen("wang.fang", "markdown") if f"#{number}:" in m.content]

            await until(delivered)  # the WeCom bot's rounds send it
            [message] = delivered()
            assert "Answer from your branch staff" in message.content
            assert "children may sit in" in message.content

            wecom.user_message(PARAPHRASE, userid="li.lei")
            await until(lambda: any(s.finished for s in seen("li.lei", "stream")))
            [next_answer] = seen("li.lei", "stream")
            assert "children may sit in" in next_answer.content
