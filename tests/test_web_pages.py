"""What the web app shows when something is wrong, in-process (httpx's ASGI transport): a page
for a browser, JSON for the API; text JSON can carry but nothing can store; the question box's
limit is the server's."""

import contextlib
import re

import httpx
import pytest

from bot.channels.web.app import build_app
from bot.engine.factory import build_engine
from bot.store.invite_codes import hash_code

BROWSER = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


@contextlib.asynccontextmanager
async def _app(settings, broken: bool = False):
    """The app without an index (its engine failing on every question if `broken`); exceptions
    answered as a server answers them, not raised into the test."""
    engine = build_engine(settings, without_index=True)
    if broken:

        async def fail(*args, **kwargs):
            raise RuntimeError("the engine failed")

        engine.answer = fail  # type: ignore[method-assign]
    app = build_app(settings, engine)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=settings.web_public_url) as http,
    ):
        yield http


async def test_an_unknown_address_is_a_page_for_people_and_json_for_scripts(web_settings):
    async with _app(web_settings) as http:
        page = await http.get("/no/such/page", headers=BROWSER)
        assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
        assert "Page not found" in page.text and 'href="/?lang=en"' in page.text
        chinese = await http.get("/nothing?lang=zh", headers=BROWSER)
        assert "找不到页面" in chinese.text
        api = await http.get("/api/nothing", headers=BROWSER)
        assert api.status_code == 404 and api.json() == {"detail": "Not Found"}
        script = await http.get("/no/such/page")
        assert script.status_code == 404 and script.json() == {"detail": "Not Found"}


async def test_a_failure_in_the_form_keeps_the_question_on_a_page(web_settings):
    question = "How do I <b>transfer</b> credits?"
    async with _app(web_settings, broken=True) as http:
        page = await http.post("/", data={"question": question}, headers=BROWSER)
        assert page.status_code == 500 and "Something went wrong" in page.text
        kept = re.search(r'<textarea id="question"[^>]*>([^<]*)</textarea>', page.text)
        assert kept is not None and kept.group(1) == "How do I &lt;b&gt;transfer&lt;/b&gt; credits?"
        api = await http.post("/api/ask", json={"question": question}, headers=BROWSER)
        assert api.status_code == 500 and api.json()["detail"].startswith("internal error")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/ask", b'{"question": "credits \\ud800?"}'),
        ("/api/ask", b'{"question": "\\udfff"}'),
        ("/api/person", b'{"answer_id": "1.x", "name": "\\ud83d"}'),
        ("/api/feedback", b'{"answer_id": "\\ud800", "vote": 1}'),
    ],
)
async def test_lone_surrogates_in_json_are_refused_not_a_server_error(web_settings, path, body):
    async with _app(web_settings) as http:
        response = await http.post(path, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert "unicode" in response.text.lower()  # named as the reason


async def test_the_question_box_holds_what_the_server_takes(web_settings):
    async with _app(web_settings.model_copy(update={"max_question_chars": 640})) as http:
        page = await http.get("/")
    assert re.search(r'<textarea id="question" name="question" rows="2" maxlength="640"', page.text)


async def test_without_an_index_learners_are_told_it_is_unavailable_and_staff_how_to_fix_it(
    web_settings,
):
    code = "jinniu-code-for-the-no-index-page"
    settings = web_settings.model_copy(
        update={"staff_invite_codes": {"Chengdu-Jinniu": hash_code(code)}}
    )
    question = {"question": "When was the alliance founded?"}
    async with _app(settings) as http:
        learner = (await http.post("/api/ask", json=question)).json()
        assert learner["abstained"] and "temporarily unavailable" in learner["answer"]
        assert "python -m ingest" not in learner["answer"] and "/reindex" not in learner["answer"]
        page = await http.post("/", data=question, headers=BROWSER)
        assert "temporarily unavailable" in page.text and "python -m ingest" not in page.text
        await http.post("/staff/signin", data={"code": code})
        staff = (await http.post("/api/ask", json=question)).json()
        assert "python -m ingest" in staff["answer"]
