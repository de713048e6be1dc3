"""The web channel through the real server (`python -m bot web`) over HTTP: the chat API and
its form, staff sign-in, the staff loop across channels (the Telegram bot announces a web
learner's ticket, staff answer in their group, the web page fetches it), /weblogin and the
console's sessions, CSRF, limits and hostile input."""

import contextlib
import json
import re
import sqlite3
import threading
from collections.abc import Iterator

import httpx
import pytest
from telegram_app import telegram_bot
from web_process import staff_answer, web_server

from bench.bot_api_emulator import BotAPIEmulator, buttons
from bot.store.invite_codes import hash_code, new_code

TOKEN = "123456789:TEST-token-for-the-web-channel_abcdef"
STAFF_CHAT, STAFF_ID, ADMIN_ID = -1001, 99, 7
CODE = new_code()
UNCOVERED = "Can the branch arrange a dormitory room for weekend sessions?"
STAFF_ONLY = "What is the teaching allowance for visiting teachers?"
_client_numbers = iter(range(10, 250))


def found(pattern: str, text: str) -> re.Match[str]:
    match = re.search(pattern, text)
    assert match is not None, f"{pattern!r} not in {text[:500]!r}"
    return match


@pytest.fixture(scope="module")
def site(shipped_index, real_embeddings, tmp_path_factory):
    """The web server and the Telegram bot on one database, the bot on the Bot API emulator."""
    folder = tmp_path_factory.mktemp("web")
    database = folder / "assistant.db"
    shared = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "ADMIN_USER_IDS": str(ADMIN_ID),
        "STAFF_USER_IDS": str(STAFF_ID),
        "STAFF_CHAT_ID": str(STAFF_CHAT),
        "STAFF_INVITE_CODES": f"Chengdu-Jinniu={hash_code(CODE)}",
        "WEB_SECRET_KEY": "test-key-not-a-secret",
    }
    with BotAPIEmulator(TOKEN) as emulator:
        emulator.add_group(STAFF_CHAT)
        with (
            web_server(
                shipped_index,
                folder / "web.log",
                WEB_QUESTIONS_PER_MINUTE="3",
                WEB_EMBED_ORIGINS="https://branch.example.org",
                **shared,
            ) as base,
            telegram_bot(
                shipped_index,
                real_embeddings,
                folder / "bot.log",
                emulator,
                TICKET_RETRY_S="0.5",
                TELEGRAM_MESSAGES_PER_SECOND="0",
                WEB_PUBLIC_URL=base,
                **shared,
            ),
        ):
            yield base, emulator, database, folder


def client(site, **kwargs) -> httpx.Client:
    """A client with an address of its own (X-Forwarded-For, which the server trusts from
    127.0.0.1): each test spends its own allowance of questions."""
    address = f"203.0.113.{next(_client_numbers)}"
    headers = {"X-Forwarded-For": address, **kwargs.pop("headers", {})}
    return httpx.Client(base_url=site[0], headers=headers, timeout=120, **kwargs)


def ask(http, question, conversation_id=None):
    response = http.post(
        "/api/ask", json={"question": question, "conversation_id": conversation_id}
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_health_names_the_index_version(site):
    found = httpx.get(f"{site[0]}/healthz").json()
    assert found["ok"] is True and re.fullmatch(r"\d{8}T\d{6}Z-\w+", found["index_version"])


def test_an_english_question_gets_a_cited_answer(site):
    with client(site) as http:
        found = ask(http, "How do I transfer credits between Sichuan and Chongqing?")
    assert found["abstained"] is False and found["language"] == "en"
    assert "[1]" in found["answer"] and found["sources"]
    assert set(found["sources"][0]) == {"title", "section", "path", "audience", "status"}
    assert all(source["audience"] == "public" for source in found["sources"])
    assert re.fullmatch(r"\d+\.[0-9a-f]{24}", found["answer_id"])
    assert re.fullmatch(r"[A-Za-z0-9_-]{24}", found["conversation_id"])
    assert found["latency_ms"] > 0


def _events(http, question, conversation_id=None) -> list[tuple[str, dict]]:
    """The server-sent events of /api/ask/stream, in order."""
    body = {"question": question, "conversation_id": conversation_id}
    events: list[tuple[str, dict]] = []
    name = ""
    with http.stream("POST", "/api/ask/stream", json=body) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                events.append((name, json.loads(line.removeprefix("data: "))))
    return events


def test_answers_stream_as_server_sent_events(site):
    with client(site) as http:
        events = _events(http, "How do I transfer credits between Sichuan and Chongqing?")
        names = [name for name, _ in events]
        assert names[0] == "thinking" and names[-1] == "answer"
        assert set(names[1:-1]) == {"delta"} and len(names) >= 3
        answer = events[-1][1]
        deltas = [data["text"] for name, data in events if name == "delta"]
        assert "\n\n".join(deltas) == answer["answer"] and answer["sources"]
        assert answer["answer_id"] and answer["conversation_id"]
        follow_up = _events(http, "And how long does it take?", answer["conversation_id"])
        assert follow_up[-1][1]["conversation_id"] == answer["conversation_id"]
        [(name, refused)] = _events(http, "x" * 1001)[1:]
        assert name == "error" and refused["status"] == 413 and "1001" in refused["detail"]


def test_an_empty_chat_suggests_questions_from_the_faq_in_its_language(site):
    with client(site) as http:
        english = http.get("/?lang=en").text
        assert 'id="suggestions"' in english
        assert 'value="Who founded the alliance, and when was it founded?"' in english
        chinese = http.get("/?lang=zh").text
        found_zh = re.findall(r'class="suggestion">([^<]+)</button>', chinese)
        assert len(found_zh) == 4 and all(q.endswith("？") for q in found_zh)
        asked = http.post("/?lang=en", data={"question": "What is the credit bank?"}).text
        assert 'id="suggestions"' not in asked  # a chat with a turn


def test_a_chinese_question_is_answered_in_chinese(site):
    with client(site) as http:
        found = ask(http, "学分银行怎样认定和转换学分？")
    assert found["language"] == "zh" and found["abstained"] is False and found["sources"]


def test_follow_ups_stay_in_their_conversation(site):
    with client(site) as http:
        first = ask(http, "Which shared courses does Sichuan RTVU offer?")
        second = ask(http, "How many credits is it?", first["conversation_id"])
    assert second["conversation_id"] == first["conversation_id"]
    assert second["answer_id"] != first["answer_id"]


def test_what_the_documents_do_not_cover_is_said_plainly(site):
    with client(site) as http:
        found = ask(http, UNCOVERED)
    assert found["abstained"] is True and found["sources"] == []


def test_web_learners_never_get_staff_only_text(site):
    with client(site) as http:
        learner = ask(http, STAFF_ONLY)
        assert all(source["audience"] == "public" for source in learner["sources"])
        passages = http.get("/api/passages", params={"answer_id": learner["answer_id"]}).json()
        assert "allowance" not in " ".join(p["text"] for p in passages).lower()


def test_staff_signed_in_with_their_invite_code_get_staff_answers(site):
    with client(site) as http:
        wrong = http.post("/staff/signin", data={"code": "not-the-code"})
        assert wrong.status_code == 403 and "not right" in wrong.text
        assert "aa_staff" not in http.cookies
        signed = http.post("/staff/signin", data={"code": CODE})
        assert signed.status_code == 303
        cookie = signed.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        assert "Chengdu-Jinniu" in http.get("/").text
        staff = ask(http, STAFF_ONLY)
        assert any(source["audience"] == "staff" for source in staff["sources"])
        passages = http.get("/api/passages", params={"answer_id": staff["answer_id"]}).json()
        assert passages and len(passages) == len(staff["sources"])
        http.post("/staff/signout")
        # Signed out, the same answer's staff passages are no longer readable
        after = http.get("/api/passages", params={"answer_id": staff["answer_id"]}).json()
        assert len(after) < len(passages)


def test_votes_count_once_per_answer_and_forged_ids_are_refused(site):
    with client(site) as http:
        found = ask(http, "What is the credit bank?")
        for vote in (1, -1):
            response = http.post(
                "/api/feedback", json={"answer_id": found["answer_id"], "vote": vote}
            )
            assert response.status_code == 200 and response.json() == {"recorded": True}
        number = found["answer_id"].split(".")[0]
        for forged in (
            number,
            f"{number}.{'0' * 24}",
            f"{int(number) + 1}.{found['answer_id'][-24:]}",
        ):
            response = http.post("/api/feedback", json={"answer_id": forged, "vote": 1})
            assert response.status_code == 404
        for bad in (
            {"answer_id": found["answer_id"], "vote": 2},
            {"vote": 1},
            {"answer_id": 5, "vote": 1},
        ):
            assert http.post("/api/feedback", json=bad).status_code == 422
    with sqlite3.connect(site[2]) as db:
        votes = db.execute(
            "SELECT vote FROM feedback WHERE question_id = ?", (int(number),)
        ).fetchall()
    assert votes == [(-1,)]


def test_a_web_learner_asks_a_person_and_the_staff_answer_comes_back(site):
    emulator = site[1]
    with client(site) as http:
        found = ask(http, UNCOVERED)
        conversation = found["conversation_id"]
        for contact in ("not-an-address", "<b>@x.org", "12", "x" * 101):
            refused = http.post(
                "/api/person", json={"answer_id": found["answer_id"], "contact": contact}
            )
            assert refused.status_code == 422, contact
        ticket = http.post(
            "/api/person",
            json={
                "answer_id": found["answer_id"],
                "name": "Li Wei",
                "contact": "li.wei@example.cn",
            },
        )
        assert ticket.status_code == 200 and ticket.json()["created"] is True
        number = ticket.json()["ticket"]
        [mine] = http.get("/api/tickets", params={"conversation_id": conversation}).json()
        assert mine == {"ticket": number, "state": "open", "question": UNCOVERED}
        again = http.post("/api/person", json={"answer_id": found["answer_id"]}).json()
        assert again == {"ticket": number, "state": "open", "created": False}

        # The bot posts it to the staff chat on its next round, and a staff member replies there
        posted = staff_answer(
            emulator,
            STAFF_CHAT,
            STAFF_ID,
            number,
            "Weekend rooms are arranged by the branch office; ask at reception.",
        )
        assert "Li Wei" in posted["text"]
        assert emulator.wait_for(
            lambda: any(
                "learner asked on the web" in m["text"]
                for m in emulator.sent
                if m["chat"]["id"] == STAFF_CHAT
            )
        )
        replies = http.get("/api/replies", params={"conversation_id": conversation}).json()
        assert [r["ticket"] for r in replies] == [number]
        [mine] = http.get("/api/tickets", params={"conversation_id": conversation}).json()
        assert mine["state"] == "answered"
        assert replies[0]["text"].startswith("Weekend rooms")
        later = http.get(
            "/api/replies", params={"conversation_id": conversation, "after": replies[0]["id"]}
        )
        assert later.json() == []
    # Another conversation sees none of it
    with client(site) as other:
        stranger = ask(other, "What is the credit bank?")
        for path in ("/api/replies", "/api/tickets"):
            seen = other.get(path, params={"conversation_id": stranger["conversation_id"]})
            assert seen.json() == []


def test_the_form_works_without_javascript_and_escapes_what_it_shows(site):
    with client(site) as http:
        page = http.post(
            "/", data={"question": "What is the credit bank? <script>alert(1)</script>"}
        )
        assert page.status_code == 200
        assert "<script>alert(1)</script>" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
        assert 'class="cite" href="#source-1"' in page.text and "<blockquote>" in page.text
        conversation = found(r'name="conversation_id" value="([^"]+)"', page.text).group(1)
        follow = http.post(
            "/", data={"question": "And how long does it take?", "conversation_id": conversation}
        )
        assert follow.status_code == 200 and f'value="{conversation}"' in follow.text
        empty = http.post("/", data={"question": "   "})
        assert empty.status_code == 200 and "Type a question first" in empty.text


def test_the_page_follows_the_browsers_language_and_the_switch(site):
    with client(site) as http:
        assert (
            "联盟助手" in http.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}).text
        )
        assert (
            "Alliance Assistant"
            in http.get("/", headers={"Accept-Language": "en-GB,zh;q=0.5"}).text
        )
        switched = http.get("/?lang=zh", headers={"Accept-Language": "en"})
        assert "联盟助手" in switched.text and "lang=zh" in switched.headers["set-cookie"]
        assert "联盟助手" in http.get("/", headers={"Accept-Language": "en"}).text  # remembered


def test_every_response_carries_strict_security_headers(site):
    with client(site) as http:
        for path in ("/", "/healthz", "/admin", "/static/chat.js"):
            headers = http.get(path).headers
            policy = headers["content-security-policy"]
            assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy
            assert "frame-ancestors 'none'" in policy and headers["x-frame-options"] == "DENY"
            assert headers["x-content-type-options"] == "nosniff"
        embed = http.get("/embed").headers
        assert (
            "frame-ancestors 'self' https://branch.example.org" in embed["content-security-policy"]
        )
        assert "x-frame-options" not in embed
        widget = http.get("/static/widget.js")
        assert widget.status_code == 200 and "/embed?lang=" in widget.text


def test_the_api_is_documented_in_openapi(site):
    schema = httpx.get(f"{site[0]}/openapi.json").json()
    for path in (
        "/api/ask",
        "/api/feedback",
        "/api/person",
        "/api/replies",
        "/api/passages",
        "/healthz",
    ):
        assert path in schema["paths"]
    assert "/admin" not in schema["paths"]
    assert httpx.get(f"{site[0]}/docs").status_code == 404  # its page would load a CDN's script


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"question": "x" * 1001}, 413),
        ({"question": ""}, 422),
        ({"question": 5}, 422),
        ({"question": "credits?", "conversation_id": "../../etc"}, 422),
        ({"question": "credits?", "extra": 1}, 422),
        ({}, 422),
    ],
)
def test_hostile_questions_get_clear_errors(site, body, status):
    with client(site) as http:
        response = http.post("/api/ask", json=body)
    assert response.status_code == status, response.text
    assert response.json()["detail"]


def test_bodies_over_the_limit_and_cross_site_posts_are_refused(site):
    with client(site) as http:
        huge = http.post(
            "/api/ask",
            content=b'{"question": "' + b"a" * 70_000 + b'"}',
            headers={"content-type": "application/json"},
        )
        assert huge.status_code == 413
        chunked = http.post(
            "/api/ask",
            content=iter([b'{"question": "', b"a" * 70_000, b'"}']),
            headers={"content-type": "application/json"},
        )
        assert chunked.status_code == 413
        broken = http.post(
            "/api/ask", content=b"{not json", headers={"content-type": "application/json"}
        )
        assert broken.status_code == 422
        cross = http.post(
            "/api/ask", json={"question": "credits?"}, headers={"Origin": "https://evil.example"}
        )
        assert cross.status_code == 403
        same = http.post(
            "/api/ask", json={"question": "What is the credit bank?"}, headers={"Origin": site[0]}
        )
        assert same.status_code == 200


def test_too_many_questions_from_one_client_get_a_429_with_retry_after(site):
    with client(site) as http:
        statuses = [
            http.post("/api/ask", json={"question": "What is the credit bank?"}) for _ in range(5)
        ]
    assert [r.status_code for r in statuses[:3]] == [200, 200, 200]
    limited = statuses[3]
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert "wait" in limited.json()["detail"]
    with client(site) as other:  # another client is not held up
        assert (
            other.post("/api/ask", json={"question": "What is the credit bank?"}).status_code == 200
        )


# The console: /weblogin, sessions, CSRF
def weblogin(emulator, user_id=ADMIN_ID):
    before = len(emulator.wait_for_messages(user_id, count=0, timeout=0))
    emulator.user_message("/weblogin", user_id=user_id)
    sent = emulator.wait_for_messages(user_id, count=before + 1)
    assert len(sent) > before, "no reply to /weblogin"
    return sent[-1]


def login_link(site):
    reply = weblogin(site[1])
    sent = [
        p for method, p in site[1].calls if method == "sendMessage" and p["text"] == reply["text"]
    ]
    preview = sent[-1]["link_preview_options"]  # Telegram must not fetch (and spend) the link
    assert (json.loads(preview) if isinstance(preview, str) else preview)["is_disabled"] is True
    match = found(r"(http://127\.0\.0\.1:\d+)/admin/login/([A-Za-z0-9_-]{40,})", reply["text"])
    assert match, reply["text"]
    assert match.group(1) == site[0]
    return match.group(2)


@contextlib.contextmanager
def signed_in(site) -> Iterator[httpx.Client]:
    with client(site) as http:
        token = login_link(site)
        assert http.post("/admin/login", data={"token": token}).status_code == 303
        yield http


def csrf_of(page: str) -> str:
    return found(r'name="csrf" value="([^"]+)"', page).group(1)


def test_the_console_needs_a_sign_in(site):
    with client(site) as http:
        for path in ("/admin", "/admin/review", "/admin/documents", "/admin/chart.png"):
            response = http.get(path)
            assert response.status_code == 401 and "/weblogin" in response.text
        assert http.get("/admin/reindex/status").status_code == 401
        assert http.post("/admin/reindex", data={"csrf": "x"}).status_code == 401


def test_only_admins_get_a_sign_in_link(site):
    reply = weblogin(site[1], user_id=4242)
    assert "/admin/login/" not in reply["text"]


def test_a_sign_in_link_works_once_and_its_session_ends_at_sign_out(site):
    token = login_link(site)
    with client(site) as http:
        # Opening the link (as a link preview would) spends nothing
        page = http.get(f"/admin/login/{token}")
        assert page.status_code == 200 and 'id="signin"' in page.text
        signed = http.post("/admin/login", data={"token": token})
        assert signed.status_code == 303 and signed.headers["location"] == "/admin"
        cookie = signed.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "path=/admin" in cookie
        assert token not in cookie
        dashboard = http.get("/admin")
        assert dashboard.status_code == 200 and 'id="chart"' in dashboard.text
        chart = http.get("/admin/chart.png")
        assert chart.status_code == 200 and chart.content.startswith(b"\x89PNG")
        with client(site) as second:
            reused = second.post("/admin/login", data={"token": token})
            assert reused.status_code == 403 and "used already" in reused.text
        assert http.post("/admin/logout", data={"csrf": "wrong"}).status_code == 403
        out = http.post("/admin/logout", data={"csrf": csrf_of(dashboard.text)})
        assert out.status_code == 303
        # The old cookie, replayed, signs in no one
        replay = httpx.get(
            f"{site[0]}/admin",
            cookies={"aa_admin": found(r"aa_admin=([^;]+)", signed.headers["set-cookie"]).group(1)},
        )
        assert replay.status_code == 401
    with client(site) as http:
        assert http.post("/admin/login", data={"token": "A" * 43}).status_code == 403
        assert http.post("/admin/login", data={"token": "../../x"}).status_code == 422
    logs = (site[3] / "web.log").read_text() + (site[3] / "bot.log").read_text()
    assert token not in logs


def upload(http, name, content, **fields):
    """Post a document to the console's upload form, with its CSRF token and fields."""
    csrf = csrf_of(http.get("/admin/documents").text)
    form = {"csrf": csrf, "title": "Upload", "topic": "faq", "audience": "public", "lang": "en"}
    return http.post(
        "/admin/documents",
        data=form | fields,
        files={"file": (name, content, "application/octet-stream")},
    )


def test_console_forms_need_the_sessions_csrf_token(site):
    with signed_in(site) as http:
        page = http.get("/admin/documents").text
        for data in ({}, {"csrf": ""}, {"csrf": "0" * 43}):
            assert http.post("/admin/reindex", data=data).status_code in (403, 422)
        assert (
            http.post("/admin/curated/1", data={"csrf": "x", "action": "retire"}).status_code == 403
        )
        assert (
            http.post("/admin/review/1", data={"csrf": "x", "action": "right"}).status_code == 403
        )
        ok = http.post("/admin/reindex", data={"csrf": csrf_of(page)})
        assert ok.status_code == 303
        status = http.get("/admin/reindex/status").json()
        assert set(status) == {"running", "stage", "done", "total", "result", "failed"}


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("../escape.md", b"# Escape\n\ntext", "folder"),
        ("..\\escape.md", b"# Escape\n\ntext", "folder"),
        (".hidden.md", b"# Hidden\n\ntext", "file name"),
        ("tool.exe", b"MZ\x90\x00", "can be uploaded"),
        ("report.pdf", b"# not a pdf", "not a PDF"),
        ("broken.pdf", b"%PDF-1.4 garbage", "cannot be indexed"),
        ("notes.docx", b"PK\x03\x04 not a zip", "not a Word document"),
        ("binary.md", b"\x00\x01\x02 text", "binary"),
        ("latin.txt", "café".encode("latin-1"), "UTF-8"),
        ("page.html", b"just words", "no HTML"),
        ("front.md", b"---\ntitle: x\n---\n# X\n\ntext", "front matter"),
        ("empty.md", b"   ", "empty"),
    ],
)
def test_hostile_uploads_are_refused_and_nothing_is_kept(
    site, shipped_index, name, content, problem
):
    with signed_in(site) as http:
        response = upload(http, name, content)
    assert response.status_code == 422, response.text
    assert problem in response.text
    uploads = shipped_index.knowledge_dir / "uploads"
    assert not uploads.exists() or list(uploads.iterdir()) == []


def test_an_upload_over_the_size_limit_is_refused_before_it_is_read(site):
    with signed_in(site) as http:
        response = upload(http, "big.md", b"a" * 11_000_000)
    assert response.status_code == 413


def test_bad_upload_fields_are_refused(site):
    with signed_in(site) as http:
        response = upload(http, "fine.md", b"# Fine\n\nSome text.", audience="everyone")
    assert response.status_code == 422 and "audience" in response.text


def test_many_questions_at_once_are_all_answered(site):
    """Concurrent clients over HTTP: none fails, each gets its own conversation."""
    results: list[int] = []

    def one():
        with client(site) as http:
            results.append(
                http.post("/api/ask", json={"question": "What is the credit bank?"}).status_code
            )

    threads = [threading.Thread(target=one) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [200] * 20


def test_a_proxy_that_rewrites_host_still_lets_the_public_origin_post(site):
    with client(site) as http:
        behind = {"Host": "web-backend.internal", "Origin": site[0]}
        asked = http.post("/api/ask", json={"question": "What is the credit bank?"}, headers=behind)
        assert asked.status_code == 200
        forged = {"Host": "web-backend.internal", "Origin": "https://evil.example"}
        assert http.post("/api/ask", json={"question": "x"}, headers=forged).status_code == 403


def test_hostile_ids_in_the_console_get_clear_errors(site):
    with signed_in(site) as http:
        csrf = csrf_of(http.get("/admin/review").text)
        for path in ("/admin/review/99999999999999999999", "/admin/review/0", "/admin/review/x"):
            response = http.post(path, data={"csrf": csrf, "action": "right"})
            assert response.status_code == 422, path
        assert (
            http.post("/admin/review/123456", data={"csrf": csrf, "action": "right"}).status_code
            == 409
        )
        assert (
            http.post("/admin/review/1", data={"csrf": csrf, "action": "delete"}).status_code == 422
        )
        edited = http.post(
            "/admin/curated/123456", data={"csrf": csrf, "action": "edit", "answer": "x"}
        )
        assert edited.status_code == 404
        for offset in ("-1", "99999999999999999999", "x"):
            assert http.get("/admin/curated", params={"offset": offset}).status_code == 422
        assert http.get("/admin/curated", params={"offset": "40"}).status_code == 200
        change = "/admin/documents/change"
        for path in ("../../etc/passwd", "/etc/passwd", "nothing.md", "charter/../../x.md"):
            refused = http.post(change, data={"csrf": csrf, "path": path, "action": "delete"})
            assert refused.status_code == 404 and "no document" in refused.text, path
        wrong = {"csrf": csrf, "path": "faq/learner-faq.en.md", "action": "rm -rf"}
        assert http.post(change, data=wrong).status_code == 422
        forged = {"csrf": "x", "path": "faq/learner-faq.en.md", "action": "delete"}
        assert http.post(change, data=forged).status_code == 403
        assert "faq/learner-faq.en.md" in http.get("/admin/documents").text  # still there


def test_an_admin_answers_a_web_ticket_in_the_console_and_keeps_it(site):
    question = "Is there parking for learners at the Jinniu workstation on Saturdays?"
    with client(site) as learner:
        found_answer = ask(learner, question)
        ticket = learner.post(
            "/api/person", json={"answer_id": found_answer["answer_id"], "contact": "028-8765 4321"}
        ).json()
        number = ticket["ticket"]
    with signed_in(site) as http:
        page = http.get("/admin/tickets").text
        assert f'action="/admin/tickets/{number}"' in page and question in page
        assert 'contact: <span class="contact">028-8765 4321</span>' in page
        csrf = csrf_of(page)
        path = f"/admin/tickets/{number}"
        assert http.post(path, data={"csrf": "x", "answer": "Yes."}).status_code == 403
        assert http.post(path, data={"csrf": csrf, "answer": "  "}).status_code == 422
        assert (
            http.post("/admin/tickets/999999", data={"csrf": csrf, "answer": "Yes."}).status_code
            == 404
        )
        answer = "Yes: the car park behind the workstation is free for learners on Saturdays."
        sent = http.post(path, data={"csrf": csrf, "answer": answer, "keep": "public"})
        assert sent.status_code == 303
        assert "ticket answer" in http.get("/admin/actions").text
    with client(site) as learner:
        replies = learner.get(
            "/api/replies", params={"conversation_id": found_answer["conversation_id"]}
        )
        assert [r["text"] for r in replies.json()] == [answer]
    with client(site) as next_learner:
        assert ask(next_learner, question)["answer"].startswith(answer)


def test_a_telegram_learners_ticket_answered_in_the_console_reaches_them_in_telegram(site):
    emulator = site[1]
    learner = 5150
    before = len(emulator.wait_for_messages(learner, 0, 0))
    emulator.user_message("Can I bring my child to the weekend exam hall?", user_id=learner)
    answered = emulator.wait_for_messages(learner, before + 1)[-1]
    emulator.press(buttons(answered)["Ask a person"], answered, user_id=learner)
    confirm = emulator.wait_for_messages(learner, before + 2)[-1]
    emulator.press(buttons(confirm)["Send"], confirm, user_id=learner)
    # The confirmation is edited into "Sent to your branch staff as ticket #N"
    assert emulator.wait_for(
        lambda: "as ticket" in emulator.wait_for_messages(learner, 0, 0)[-1]["text"]
    )
    number = int(found(r"#(\d+)", emulator.wait_for_messages(learner, 0, 0)[-1]["text"]).group(1))
    with signed_in(site) as http:
        page = http.get("/admin/tickets").text
        assert f"#{number}</b>" in page and f'action="/admin/tickets/{number}"' in page
        sent = http.post(
            f"/admin/tickets/{number}", data={"csrf": csrf_of(page), "answer": "No, sorry."}
        )
        assert sent.status_code == 303
    # The bot's next round delivers it in Telegram, where the learner asked.
    delivered = emulator.wait_for_messages(learner, before + 3)[-1]
    assert delivered["text"].startswith("<b>Answer from your branch staff</b>")
    assert f"ticket #{number}" in delivered["text"] and "No, sorry." in delivered["text"]
