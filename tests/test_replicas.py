"""Scale-out: two real bot processes in webhook mode share one PostgreSQL database (Debian's
server on 127.0.0.1), as replicas behind a load balancer do. Whichever replica an update
reaches, a user's role, invite-code lockout, question allowance, conversation and feedback are
the same, and an update delivered to both is answered once."""

import json
import re
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import copy_of, markdown
from processes import free_port, stop
from webhook_replica import post, start_replica

from alliance.settings import Settings
from bench.bot_api_emulator import BotAPIEmulator
from bot.store.invite_codes import hash_code

TOKEN = "246813579:REPLICA-token-for-the-emulator-only"
SECRET = "replica-secret_0123456789"
INVITE_CODE = "longquan-code-2026"
ADMIN_ID = 7
QUESTIONS_PER_MINUTE = 4
CLAIM_STALE_S = 3
STAFF_QUESTION = "How much is the teaching allowance for a visiting teacher per class hour?"


@pytest.fixture(scope="module")
def shared_index(shipped_index, tmp_path_factory) -> Settings:
    """The index folder both replicas read (a shared volume in production), which /reindex
    on either may change."""
    return copy_of(shipped_index, tmp_path_factory.mktemp("shared"))


@pytest.fixture(scope="module")
def replica_environment(postgres) -> dict[str, str]:
    """What every replica of the deployment is started with: one database."""
    return {
        "DATABASE_URL": postgres.new_database(),
        "ADMIN_USER_IDS": str(ADMIN_ID),
        "STAFF_INVITE_CODES": f"chengdu-longquan={hash_code(INVITE_CODE)}",
        "USER_QUESTIONS_PER_MINUTE": str(QUESTIONS_PER_MINUTE),
        # A replica's unfinished claim counts as a crash after this long (120 s by default).
        "UPDATE_CLAIM_STALE_S": str(CLAIM_STALE_S),
    }


@pytest.fixture(scope="module")
def replicas(shared_index, replica_environment, tmp_path_factory):
    folder = tmp_path_factory.mktemp("replicas")
    shared = replica_environment
    with BotAPIEmulator(TOKEN) as emulator:
        started = []
        try:
            for name in ("a", "b"):
                port = free_port()
                log = folder / f"replica-{name}.log"
                process = start_replica(shared_index, log, emulator, port, SECRET, **shared)
                started.append(process)
            urls = [params["url"] for method, params in emulator.calls if method == "setWebhook"]
            yield emulator, urls
        finally:
            for process in started:
                stop(process, signal.SIGTERM)


def _deliver(emulator: BotAPIEmulator, url: str) -> None:
    """Post the queued updates; each is answered 200 once handled."""
    for update in emulator.take_updates():
        assert post(url, json.dumps(update).encode(), SECRET) == 200


def _deliver_to_both(emulator: BotAPIEmulator, urls: list[str]) -> None:
    """Post each queued update to both replicas at once, as a load balancer retrying too early
    might; a 503 (in hand on the other replica) is delivered again, as Telegram does, until
    answered 200."""
    with ThreadPoolExecutor(len(urls)) as pool:
        for update in emulator.take_updates():
            body = json.dumps(update).encode()
            statuses = list(pool.map(post, urls, [body] * len(urls), [SECRET] * len(urls)))
            assert set(statuses) <= {200, 503}, statuses
            for url, status in zip(urls, statuses, strict=True):
                while status == 503:
                    time.sleep(0.2)
                    status = post(url, body, SECRET)
                assert status == 200


def _ask(replicas, replica: int, text: str, user_id: int, **kwargs) -> dict:
    emulator, urls = replicas
    chat_id = kwargs.get("chat_id", user_id)
    before = len(emulator.wait_for_messages(chat_id, count=0, timeout=0))
    emulator.user_message(text, user_id=user_id, **kwargs)
    _deliver(emulator, urls[replica])
    found = emulator.wait_for_messages(chat_id, count=before + 1)
    assert len(found) > before, f"replica {replica} did not answer {text!r}"
    return found[before]


def _buttons(message: dict) -> dict[str, dict]:
    rows = message["reply_markup"]["inline_keyboard"]
    return {button["text"]: button for row in rows for button in row}


def test_two_replicas_run_on_one_database(replicas):
    _, urls = replicas
    assert len(set(urls)) == 2


def test_a_registration_on_one_replica_is_a_role_on_the_other(replicas):
    user = 80
    before = _ask(replicas, 1, STAFF_QUESTION, user)["text"]
    assert "went wrong" not in before and "Please wait" not in before
    assert "200 yuan" not in before
    assert "chengdu-longquan" in _ask(replicas, 0, f"/register {INVITE_CODE}", user)["text"]
    assert "200 yuan" in _ask(replicas, 1, STAFF_QUESTION, user)["text"]


def test_wrong_codes_are_counted_across_replicas(replicas):
    user = 81
    for attempt in range(5):
        wrong = _ask(replicas, attempt % 2, f"/register guess-{attempt}", user)
        assert "not valid" in wrong["text"]
    for replica in (0, 1):
        assert "Too many" in _ask(replicas, replica, f"/register {INVITE_CODE}", user)["text"]


def test_the_question_allowance_is_shared(replicas):
    emulator, urls = replicas
    user = 82
    for turn in range(QUESTIONS_PER_MINUTE + 2):
        emulator.user_message("What is the credit bank?", user_id=user)
        _deliver(emulator, urls[turn % 2])
    replies = emulator.wait_for_messages(user, count=QUESTIONS_PER_MINUTE + 2)
    assert sum("Please wait" in m["text"] for m in replies) == 2


def test_a_follow_up_on_the_other_replica_keeps_its_context(replicas):
    user = 83
    first = _ask(replicas, 0, "重庆广播电视大学有哪些在线课程？", user, language="zh")
    assert "CQ-210" in first["text"]
    follow_up = _ask(replicas, 1, "四川的呢？", user, language="zh")["text"]
    assert "SC-101" in follow_up and "SC-230" in follow_up
    assert "Starting over" in _ask(replicas, 0, "/new", user)["text"]
    after = _ask(replicas, 1, "四川的呢？", user, language="zh")["text"]
    assert "SC-101" not in after and "•" not in after  # no listing: nothing to follow
    assert after == _ask(replicas, 0, "四川的呢？", 183, language="zh")["text"]  # as a new user


def test_feedback_and_stats_are_shared(replicas):
    emulator, urls = replicas
    user = 84
    answer = _ask(replicas, 0, "What is the pass mark for a shared course?", user)
    answered = len(emulator.answered_callbacks)
    emulator.press(_buttons(answer)["👍"], answer, user_id=user)
    _deliver(emulator, urls[1])
    assert emulator.wait_for(lambda: len(emulator.answered_callbacks) >= answered + 1)
    emulator.press(_buttons(answer)["👎"], answer, user_id=user)  # a change of mind, elsewhere
    _deliver(emulator, urls[0])
    assert emulator.wait_for(lambda: len(emulator.answered_callbacks) >= answered + 2)
    stats = _ask(replicas, 1, "/stats", ADMIN_ID)["text"]
    assert "Feedback: 👍 0 / 👎 1" in stats
    asked_so_far = _questions(stats)
    _ask(replicas, 0, "When was the alliance established?", 85)
    again = _ask(replicas, 1, "/stats", ADMIN_ID)["text"]
    assert _questions(again) == asked_so_far + 1


def test_an_update_delivered_to_both_replicas_is_answered_once(replicas):
    emulator, urls = replicas
    user = 86
    for question in ("When was the alliance established?", "What is the credit bank?"):
        emulator.user_message(question, user_id=user)
        _deliver_to_both(emulator, urls)
    replies = emulator.wait_for_messages(user, count=3, timeout=10)
    assert len(replies) == 2


def test_a_reindex_on_one_replica_is_busy_on_the_other_and_serves_both(replicas, shared_index):
    emulator, urls = replicas
    for number in range(20):  # enough to embed that the two requests overlap
        body = f"## Topic {number}\n\n" + f"Branch notice {number} about weekend sessions. " * 40
        (shared_index.knowledge_dir / f"notice-{number}.md").write_text(
            markdown(f"Notice {number}", body)
        )
    (shared_index.knowledge_dir / "faq" / "badge.en.md").write_text(
        markdown("Alliance badges", "## Zorblat badge\n\nThe alliance's zorblat badge is teal.")
    )
    before = len(emulator.sent)
    # From two chats (one chat's updates are handled in order), each to its own replica at once.
    emulator.user_message("/reindex", user_id=ADMIN_ID)
    emulator.user_message("/reindex", user_id=ADMIN_ID, chat_id=-700, chat_type="group")
    bodies = [json.dumps(update).encode() for update in emulator.take_updates()]
    with ThreadPoolExecutor(2) as pool:
        statuses = list(pool.map(lambda url, body: post(url, body, SECRET), urls, bodies))
    assert statuses == [200, 200]

    def outcomes() -> list[str]:
        return [m["text"] for m in emulator.sent[before:] if not m["text"].startswith("⏳")]

    assert emulator.wait_for(lambda: len(outcomes()) >= 2, 120), outcomes()
    assert sum(text.startswith("✅") and "21 added" in text for text in outcomes()) == 1
    assert sum("already running" in text for text in outcomes()) == 1
    for replica in (0, 1):  # the new version reaches both
        assert "teal" in _ask(replicas, replica, "What colour is the zorblat badge?", 87)["text"]


def _questions(stats: str) -> int:
    """The question count in a /stats reply."""
    found = re.search(r"(\d+) questions", stats)
    assert found is not None, stats
    return int(found.group(1))


def test_an_update_a_dying_replica_had_in_hand_is_answered_once_by_another(
    replicas, shared_index, replica_environment, tmp_path
):
    """A third replica takes an update and is killed while answering it (held in
    sendChatAction): Telegram gets no answer and delivers it again, to a replica that says
    503 (in hand elsewhere) until the claim is stale, then answers it: one reply."""
    emulator, urls = replicas
    port, user = free_port(), 88
    dying = start_replica(
        shared_index, tmp_path / "dying.log", emulator, port, SECRET, **replica_environment
    )

    def typing() -> int:
        return sum(name == "sendChatAction" for name, _ in list(emulator.calls))

    typed = typing()
    emulator.delay("sendChatAction", 60)
    emulator.user_message("When was the alliance established?", user_id=user)
    [update] = emulator.take_updates()
    body = json.dumps(update).encode()
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(post, f"http://127.0.0.1:{port}/telegram-updates", body, SECRET)
        assert emulator.wait_for(lambda: typing() > typed), "the dying replica never took it"
        dying.kill()
        dying.wait()
        with pytest.raises(OSError):  # no answer: Telegram will deliver it again
            first.result()
    statuses = [post(urls[0], body, SECRET)]
    while statuses[-1] == 503:
        time.sleep(0.5)
        statuses.append(post(urls[0], body, SECRET))
    assert statuses[0] == 503 and statuses[-1] == 200, statuses
    [reply] = emulator.wait_for_messages(user, count=2, timeout=5)
    assert "8 June 2020" in reply["text"]
