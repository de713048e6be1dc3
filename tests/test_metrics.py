"""/metrics on the web server (in-process, the real engine on the shipped index): questions,
answers by outcome, refusals, seconds per stage, tickets by state and the index's version and
age, in Prometheus's text format, with no person, chat or question in it."""

from prometheus_client.parser import text_string_to_metric_families
from web_app import web_client

from bot.engine.factory import build_engine

LABELS = {"channel", "outcome", "reason", "stage", "state", "version", "le"}


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
            assert set(sample.labels) <= LABELS, sample  # nothing that names a person
    return found


def _get(found: dict, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_the_web_servers_metrics_follow_its_answers(shipped_index, real_embeddings, tmp_path):
    settings = shipped_index.model_copy(
        update={"database_url": f"sqlite+aiosqlite:///{tmp_path / 'assistant.db'}"}
    )
    engine = build_engine(settings, embeddings=real_embeddings)
    async with web_client(settings, engine) as http:
        before = _samples((await http.get("/metrics")).text)
        asked = [
            "When was the alliance founded?",
            "Can the branch arrange a dormitory room for weekend sessions?",
        ]
        conversations = []
        for question in asked:
            found = (await http.post("/api/ask", json={"question": question})).json()
            conversations.append(found["conversation_id"])
        assert (await http.post("/api/ask", json={"question": "x" * 1001})).status_code == 413
        response = await http.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    after = _samples(response.text)

    def grew(name: str, **labels: str) -> float:
        return _get(after, name, **labels) - _get(before, name, **labels)

    assert grew("alliance_questions_total", channel="web") == 3
    assert grew("alliance_answers_total", channel="web", outcome="answered") == 1
    assert grew("alliance_answers_total", channel="web", outcome="abstained") == 1
    assert grew("alliance_refused_questions_total", channel="web", reason="too_long") == 1
    assert grew("alliance_answer_seconds_count", channel="web") == 2
    assert grew("alliance_answer_stage_seconds_count", stage="embed") >= 1
    for state in ("open", "answered", "closed", "expired"):
        assert ("alliance_tickets", (("state", state),)) in after
    version = (shipped_index.index_dir / "CURRENT").read_text().strip()
    assert _get(after, "alliance_index_info", version=version) == 1
    assert 0 <= _get(after, "alliance_index_age_seconds") < 7 * 86400
    for private in (*asked, *conversations):
        assert private not in response.text
    channels = {dict(labels).get("channel") for _, labels in after} - {None}
    assert channels <= {"web", "telegram", "wecom"}  # channels, never a chat or a person
