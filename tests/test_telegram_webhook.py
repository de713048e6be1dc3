"""Webhook mode: the real bot process takes updates over HTTP only with the right secret token,
answers through the Bot API emulator, and reports its health on /healthz."""

import json
import signal
import time
import urllib.request

import pytest
from processes import free_port, handled, stop
from prometheus_client.parser import text_string_to_metric_families
from webhook_replica import get, post, start_replica

from bench.bot_api_emulator import BotAPIEmulator

TOKEN = "987654321:WEBHOOK-token-for-the-emulator-only"
SECRET = "webhook-secret_0123456789"


@pytest.fixture(scope="module")
def webhook(shipped_index, tmp_path_factory):
    folder = tmp_path_factory.mktemp("webhook")
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram-updates"
    with BotAPIEmulator(TOKEN) as emulator:
        database = f"sqlite+aiosqlite:///{folder / 'assistant.db'}"
        process = start_replica(
            shipped_index, folder / "bot.log", emulator, port, SECRET, DATABASE_URL=database
        )
        try:
            assert emulator.wait_for_call("setWebhook", timeout=30)
            yield emulator, url, port, process, folder / "bot.log"
        finally:
            stop(process, signal.SIGTERM)


def _update(update_id: int, user_id: int, text: str) -> bytes:
    message = {
        "message_id": update_id,
        "date": int(time.time()),
        "chat": {"id": user_id, "type": "private"},
        "from": {"id": user_id, "is_bot": False, "first_name": "Learner", "language_code": "en"},
        "text": text,
    }
    return json.dumps({"update_id": update_id, "message": message}).encode()


def test_the_webhook_is_registered_with_its_secret(webhook):
    emulator, url, _, _, _ = webhook
    [params] = [params for method, params in emulator.calls if method == "setWebhook"]
    assert params["url"] == url and params["secret_token"] == SECRET


def test_healthz_reports_readiness_and_the_index_version(webhook, shipped_index):
    _, _, port, _, _ = webhook
    status, body = get(port, "/healthz")
    assert status == 200 and body["ready"] is True
    assert (shipped_index.index_dir / "CURRENT").read_text().strip() == body["index_version"]


def test_updates_without_the_right_secret_are_refused(webhook):
    emulator, url, _, _, log = webhook
    assert post(url, _update(1, 71, "When was the alliance established?"), None) == 403
    assert post(url, _update(2, 71, "When was the alliance established?"), "wrong") == 403
    assert post(url, _update(3, 71, "When was it founded?"), SECRET + "x") == 403
    # A right one after them, in the same chat, is handled after any of theirs would have been.
    assert post(url, _update(4, 71, "When was it founded?"), SECRET) == 200
    assert handled(log, 4)
    assert len(emulator.wait_for_messages(71, timeout=0)) == 1
    assert not any(f"update {n} handled" in log.read_text() for n in (1, 2, 3))


def test_an_update_with_the_secret_is_answered(webhook):
    emulator, url, _, _, _ = webhook
    assert post(url, _update(10, 72, "When was the alliance established?"), SECRET) == 200
    [reply] = emulator.wait_for_messages(72)
    assert "8 June 2020" in reply["text"]


def test_metrics_count_the_webhooks_answers_without_personal_data(webhook):
    emulator, url, port, _, _ = webhook
    assert post(url, _update(40, 74, "When was the alliance established?"), SECRET) == 200
    assert emulator.wait_for_messages(74)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    families = {family.name: family for family in text_string_to_metric_families(text)}
    answered = {
        sample.labels["outcome"]: sample.value
        for sample in families["alliance_answers"].samples
        if sample.name == "alliance_answers_total" and sample.labels["channel"] == "telegram"
    }
    assert answered.get("answered", 0) >= 1
    assert "alliance_index_age_seconds" in families and "alliance_tickets" in families
    assert "alliance established" not in text
    labels = {key for family in families.values() for s in family.samples for key in s.labels}
    assert labels <= {"channel", "outcome", "reason", "stage", "state", "version", "le"}


@pytest.mark.parametrize(
    ("number", "body"), list(enumerate([b"not json", b"[]", b'{"update_id": "x"}', b"\xff\xfe"]))
)
def test_malformed_bodies_are_rejected_and_the_bot_carries_on(webhook, number, body):
    emulator, url, _, _, _ = webhook
    before = len(emulator.wait_for_messages(73, count=0, timeout=0))
    assert post(url, body, SECRET) == 400
    assert post(url, _update(20 + number, 73, "What is the credit bank?"), SECRET) == 200
    assert len(emulator.wait_for_messages(73, count=before + 1)) == before + 1


def test_the_secret_never_reaches_the_log(webhook):
    _, url, _, process, log = webhook
    assert post(url, _update(99, 79, "x"), SECRET + "-bad") == 403
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    output = log.read_text()
    assert "webhook request without the right secret" in output  # the refusal was logged
    assert SECRET not in output and TOKEN.split(":")[1] not in output
