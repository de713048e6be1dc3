"""The web channel in a real browser: Debian's Chromium, headless, against the real server on
127.0.0.1. A learner asks in English and in Chinese, reads the sources, votes, asks a person and
follows up; a branch page embeds the widget; an admin signs in through a /weblogin link, sees
the charts, turns a 👎 into a curated answer that the next learner gets, and uploads a document
that is then answered from. Screenshots are kept in test-artifacts/."""

import contextlib
import http.server
import re
import threading

import pytest
from conftest import copy_of
from processes import free_port
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait
from telegram_app import telegram_bot
from web_process import chromium, screenshot, staff_answer, web_server

from bench.bot_api_emulator import BotAPIEmulator
from bot.store.invite_codes import hash_code

TOKEN = "123456789:TEST-token-for-the-browser_abcdef"
STAFF_CHAT, STAFF_ID, ADMIN_ID = -1001, 99, 7
INVITE = "jinniu-invite-for-the-browser-tests"
UNCOVERED = "Can the branch arrange a dormitory room for weekend sessions?"
WAIT = 90  # seconds: an answer on a busy 2-core machine


def found(pattern: str, text: str) -> re.Match[str]:
    match = re.search(pattern, text)
    assert match is not None, f"{pattern!r} not in {text[:500]!r}"
    return match


class _HostPage(http.server.BaseHTTPRequestHandler):
    """A branch's own page, on another origin, with the widget's one script tag."""

    assistant = ""

    def do_GET(self) -> None:
        body = (
            "<!doctype html><html><head><title>Jinniu branch</title></head><body>"
            "<h1>Chengdu Jinniu workstation</h1><p>Welcome to our branch.</p>"
            f'<script src="{self.assistant}/static/widget.js" defer></script></body></html>'
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site(shipped_index, real_embeddings, tmp_path_factory):
    """Its own copy of the knowledge and the index (the upload test adds to them), the web
    server, the bot for /weblogin and the staff loop, and a branch page on another origin."""
    folder = tmp_path_factory.mktemp("browser")
    settings = copy_of(shipped_index, folder)
    host_port = free_port()
    host_origin = f"http://localhost:{host_port}"
    shared = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'assistant.db'}",
        "ADMIN_USER_IDS": str(ADMIN_ID),
        "STAFF_USER_IDS": str(STAFF_ID),
        "STAFF_CHAT_ID": str(STAFF_CHAT),
        "WEB_SECRET_KEY": "browser-test-key",
        "STAFF_INVITE_CODES": f"Chengdu-Jinniu={hash_code(INVITE)}",
    }
    with BotAPIEmulator(TOKEN) as emulator:
        emulator.add_group(STAFF_CHAT)
        with (
            web_server(
                settings, folder / "web.log", WEB_EMBED_ORIGINS=host_origin, **shared
            ) as base,
            telegram_bot(
                settings,
                real_embeddings,
                folder / "bot.log",
                emulator,
                TICKET_RETRY_S="0.5",
                TELEGRAM_MESSAGES_PER_SECOND="0",
                WEB_PUBLIC_URL=base,
                **shared,
            ),
        ):
            _HostPage.assistant = base
            host = http.server.ThreadingHTTPServer(("127.0.0.1", host_port), _HostPage)
            threading.Thread(target=host.serve_forever, daemon=True).start()
            try:
                yield base, emulator, host_origin
            finally:
                host.shutdown()
                host.server_close()


@contextlib.contextmanager
def browser(language="en-US", width=1000, height=1100):
    driver = chromium(language, width, height)
    try:
        yield driver
    finally:
        driver.quit()


def wait(driver, condition, timeout=WAIT):
    return WebDriverWait(driver, timeout, poll_frequency=0.2).until(condition)


def ask(driver, question):
    """Type the question and press Enter (the keyboard alone); the new answer's element."""
    before = len(driver.find_elements(By.CSS_SELECTOR, ".turn.answer:not(.pending)"))
    box = driver.find_element(By.ID, "question")
    box.send_keys(question)
    box.send_keys(Keys.ENTER)
    wait(
        driver,
        lambda d: len(d.find_elements(By.CSS_SELECTOR, ".turn.answer:not(.pending)")) > before,
    )
    return driver.find_elements(By.CSS_SELECTOR, ".turn.answer:not(.pending)")[-1]


def test_a_learner_asks_reads_the_sources_votes_and_follows_up_in_english(site):
    with browser() as driver:
        driver.get(f"{site[0]}/?lang=en")
        assert driver.find_element(By.TAG_NAME, "h1").text == "Alliance Assistant"
        answer = ask(driver, "How do I transfer credits between Sichuan and Chongqing?")
        cites = answer.find_elements(By.CSS_SELECTOR, "a.cite")
        assert cites and cites[0].text == "[1]"
        sources = answer.find_element(By.CSS_SELECTOR, "details.sources")
        sources.find_element(By.TAG_NAME, "summary").click()
        wait(driver, lambda d: sources.find_elements(By.TAG_NAME, "blockquote"))
        assert sources.find_element(By.TAG_NAME, "blockquote").text.strip()
        answer.find_element(By.CSS_SELECTOR, "button.vote[aria-label='Helpful']").click()
        wait(driver, lambda d: "Thank you" in answer.find_element(By.CSS_SELECTOR, ".status").text)
        conversation = driver.execute_script("return sessionStorage.getItem('conversation')")
        screenshot(driver, "chat-en")
        follow = ask(driver, "Which shared courses can I take?")
        assert follow.find_elements(By.CSS_SELECTOR, "p")
        assert (
            driver.execute_script("return sessionStorage.getItem('conversation')") == conversation
        )
        assert not driver.find_element(By.ID, "new").get_attribute("hidden")


def test_a_learner_asks_in_chinese_starting_from_a_suggested_question(site):
    with browser("zh-CN") as driver:
        driver.get(site[0])
        assert driver.find_element(By.TAG_NAME, "h1").text == "联盟助手"
        screenshot(driver, "chat-zh-empty")
        suggested = driver.find_elements(By.CSS_SELECTOR, "#suggestions button.suggestion")
        assert len(suggested) == 4 and all(b.text.endswith("？") for b in suggested)
        question = suggested[0].text
        suggested[0].click()
        first = wait(
            driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".turn.answer:not(.pending)")
        )
        assert question in driver.find_element(By.CSS_SELECTOR, ".turn.question").text
        assert first[0].find_elements(By.CSS_SELECTOR, "a.cite")
        assert not driver.find_element(By.ID, "suggestions").is_displayed()
        answer = ask(driver, "学分银行怎样认定和转换学分？")
        assert answer.find_elements(By.CSS_SELECTOR, "a.cite")
        assert "来源" in answer.find_element(By.CSS_SELECTOR, "details.sources summary").text
        screenshot(driver, "chat-zh")


def test_not_covered_then_a_person_answers_and_the_page_keeps_it_all(site):
    """Not covered → Ask a person, with a contact (what is shared is said first) → the staff
    answer on the page; a reload and a new tab show the whole conversation, the ticket's state
    and the staff answer again, and a follow-up goes on in the same conversation."""
    _, emulator, _ = site
    with browser() as driver:
        driver.get(f"{site[0]}/?lang=en")
        answer = ask(driver, UNCOVERED)
        badge = answer.find_element(By.CSS_SELECTOR, ".badge")
        assert "Not covered" in badge.text
        label = answer.find_element(By.CSS_SELECTOR, ".who")
        assert label.location["y"] < badge.location["y"]  # "Assistant" on a line of its own
        answer.find_element(By.CSS_SELECTOR, "button.person").click()
        form = wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, ".person-form"))
        assert "will see your question and my reply" in form.text
        form.find_element(By.CSS_SELECTOR, "input.contact").send_keys("not a contact")
        form.find_element(By.CSS_SELECTOR, "button.send-person").click()
        assert driver.find_elements(By.CSS_SELECTOR, ".person-form")  # refused in the page
        contact = form.find_element(By.CSS_SELECTOR, "input.contact")
        contact.clear()
        contact.send_keys("+86 28 8765 4321")
        form.find_element(By.CSS_SELECTOR, "button.send-person").click()
        status = answer.find_element(By.CSS_SELECTOR, ".status")
        wait(driver, lambda d: "ticket #" in status.text)
        assert "Shared with staff: your question, my reply and +86 28 8765 4321." in status.text
        number = found(r"ticket #(\d+)", status.text).group(1)
        screenshot(driver, "ask-a-person")

        staff_answer(
            emulator,
            STAFF_CHAT,
            STAFF_ID,
            int(number),
            "Weekend rooms are arranged by the branch office.",
        )
        staff = wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".turn.staff"), 60)
        assert "Weekend rooms are arranged" in staff[0].text and f"#{number}" in staff[0].text

        for reopen in (driver.refresh, lambda: _new_tab(driver, f"{site[0]}/?lang=en")):
            reopen()
            wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".turn.staff"))
            texts = [turn.text for turn in driver.find_elements(By.CSS_SELECTOR, ".turn")]
            assert UNCOVERED in texts[0] and "Not covered" in texts[1]
            assert "Weekend rooms are arranged" in texts[2] and len(texts) == 3
            state = driver.find_element(By.CSS_SELECTOR, ".turn.answer .status")
            wait(driver, lambda d, s=state: f"Ticket #{number}: answered" in s.text)
        screenshot(driver, "conversation-kept")
        follow_up = ask(driver, "And who do I ask about that?")
        assert follow_up.text

        # Signing in as staff keeps the conversation; staff-only sources are marked as such.
        driver.find_element(By.CSS_SELECTOR, "footer.staff details summary").click()
        driver.find_element(By.ID, "code").send_keys(INVITE)
        driver.find_element(By.CSS_SELECTOR, "form.signin button[type=submit]").click()
        wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "p.signed-in"))
        wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".turn")) == 5)
        staff_only = ask(driver, "What is the teaching allowance for visiting teachers?")
        staff_only.find_element(By.CSS_SELECTOR, "details.sources summary").click()
        marks = staff_only.find_elements(By.CSS_SELECTOR, ".sources .staff-source")
        assert marks and marks[0].text == "staff only"


def _new_tab(driver, url):
    driver.switch_to.new_window("tab")
    driver.get(url)


def test_the_chat_fits_a_phone_screen(site):
    with browser(width=390, height=844) as driver:
        driver.get(f"{site[0]}/?lang=en")
        answer = ask(driver, "What is the credit bank?")
        assert answer.is_displayed()
        assert driver.find_element(By.ID, "send").is_displayed()
        overflow = driver.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth"
        )
        assert overflow <= 0
        screenshot(driver, "chat-phone")


def test_a_branch_page_embeds_the_widget(site):
    base, _, host_origin = site
    with browser() as driver:
        driver.get(host_origin)
        button = wait(
            driver,
            lambda d: d.find_element(By.XPATH, "//button[contains(., 'Alliance Assistant')]"),
        )
        button.click()
        frame = wait(driver, lambda d: d.find_element(By.TAG_NAME, "iframe"))
        assert frame.get_attribute("src").startswith(f"{base}/embed")
        driver.switch_to.frame(frame)
        wait(driver, lambda d: d.find_elements(By.ID, "question"))
        answer = ask(driver, "What is the credit bank?")
        assert answer.find_elements(By.CSS_SELECTOR, "a.cite")
        driver.switch_to.default_content()
        screenshot(driver, "widget")


def test_a_page_not_allowed_to_embed_the_chat_gets_no_widget(site):
    host_origin = site[2]
    elsewhere = host_origin.replace("localhost", "127.0.0.1")  # the same page, another origin
    with browser() as driver:
        driver.get(elsewhere)
        script = driver.find_element(By.CSS_SELECTOR, "script[src$='widget.js']")
        wait(driver, lambda d: script.get_attribute("data-state"))
        assert script.get_attribute("data-state") == "refused"
        assert not driver.find_elements(By.XPATH, "//button[contains(., 'Alliance Assistant')]")
        driver.get(host_origin)
        script = driver.find_element(By.CSS_SELECTOR, "script[src$='widget.js']")
        wait(driver, lambda d: script.get_attribute("data-state"))
        assert script.get_attribute("data-state") == "ready"


def sign_in(driver, site):
    _, emulator, _ = site
    before = len(emulator.wait_for_messages(ADMIN_ID, count=0, timeout=0))
    emulator.user_message("/weblogin", user_id=ADMIN_ID)
    reply = emulator.wait_for_messages(ADMIN_ID, count=before + 1)[-1]
    link = found(r"http://\S+/admin/login/\S+", reply["text"]).group(0)
    driver.get(link)
    driver.find_element(By.ID, "signin").click()
    wait(driver, lambda d: d.find_elements(By.ID, "chart"))


def test_an_admin_signs_in_sees_the_charts_and_corrects_a_thumbs_down(site):
    base = site[0]
    question = "How long does a credit application take to be decided?"
    with browser() as learner, browser() as admin:
        learner.get(f"{base}/?lang=en")
        first = ask(learner, question)
        first.find_element(By.CSS_SELECTOR, "button.vote[aria-label='Not helpful']").click()
        wait(learner, lambda d: "Thank you" in first.find_element(By.CSS_SELECTOR, ".status").text)

        sign_in(admin, site)
        chart = admin.find_element(By.ID, "chart")
        wait(
            admin,
            lambda d: d.execute_script(
                "return arguments[0].complete && arguments[0].naturalWidth", chart
            ),
        )
        assert admin.execute_script("return arguments[0].naturalWidth", chart) == 1000
        assert int(admin.find_element(By.ID, "questions").text) >= 1
        screenshot(admin, "dashboard")

        admin.find_element(By.LINK_TEXT, "Review 👎").click()
        vote = wait(
            admin, lambda d: d.find_element(By.XPATH, f"//article[contains(., '{question}')]")
        )
        correction = (
            "A credit application is decided within 20 working days of the branch forwarding it."
        )
        vote.find_element(By.TAG_NAME, "textarea").send_keys(correction)
        vote.find_element(By.CSS_SELECTOR, "button[value='correct']").click()
        wait(admin, lambda d: "Nothing to review" in d.page_source or question not in d.page_source)

        learner.find_element(By.ID, "new").click()
        again = ask(learner, question)
        assert correction in again.text


def test_an_admin_uploads_a_document_it_is_answered_from_then_disables_and_deletes_it(
    site, tmp_path
):
    """Upload → the table shows it indexed without a reload → a learner's answer cites it →
    disabled, the next answer does not → deleted; each step in the action log."""
    base = site[0]
    document = tmp_path / "library-hours.md"
    document.write_text(
        "# Evening opening\n\nThe Jinniu branch library stays open until 21:30 on weekdays, "
        "so that working learners of the alliance can study after work.\n",
        encoding="utf-8",
    )
    question = "How long does the Jinniu branch library stay open on weekdays?"
    path = "uploads/library-hours.md"
    with browser() as admin, browser() as learner:
        sign_in(admin, site)
        admin.find_element(By.LINK_TEXT, "Documents").click()
        glossary = _row(admin, "glossary/glossary.yaml")
        assert "Alliance glossary" in glossary and "error" not in glossary.lower()
        catalogue = _row(admin, "courses/shared-course-catalogue.yaml")
        assert "Shared course catalogue / 共享课程目录" in catalogue and "en, zh" in catalogue
        admin.find_element(By.ID, "file").send_keys(str(document))
        admin.find_element(By.ID, "title").send_keys("Jinniu branch library hours")
        admin.find_element(By.CSS_SELECTOR, "#lang option[value='en']").click()
        admin.find_element(By.CSS_SELECTOR, "#upload button[type=submit]").click()
        # No reload by hand: the page reloads itself when the re-index it watched ends.
        wait(admin, lambda d: "yes" in _row(d, path), 300)
        assert "Jinniu branch library hours" in _row(admin, path)
        assert "1 added" in admin.find_element(By.ID, "progress-text").text

        learner.get(f"{base}/?lang=en")
        answer = ask(learner, question)
        assert "21:30" in answer.text
        answer.find_element(By.CSS_SELECTOR, "details.sources summary").click()
        sources = answer.find_element(By.CSS_SELECTOR, "details.sources").text
        assert "Jinniu branch library hours" in sources

        _change(admin, path, "disable")
        wait(admin, lambda d: "disabled" in _row(d, path) and "1 removed" in _progress(d), 300)
        assert "21:30" not in ask(learner, question).text
        _change(admin, path, "delete-disabled")
        wait(admin, lambda d: _row(d, path) == "" and _progress(d), 300)
        admin.find_element(By.LINK_TEXT, "Actions").click()
        log = admin.find_element(By.ID, "actions").text
        assert "upload" in log and "document disable" in log and "document delete-disabled" in log


def _row(driver, path: str) -> str:
    """The documents table's row of `path` ("" when there is none, or the page is reloading:
    its elements may leave the document between finding and reading them)."""
    try:
        rows = driver.find_elements(By.CSS_SELECTOR, f"tr[data-path='{path}']")
        return rows[0].text if rows else ""
    except WebDriverException:
        return ""


def _progress(driver) -> str:
    try:
        return driver.find_element(By.ID, "progress-text").text
    except WebDriverException:  # not there yet, or the page reloading
        return ""


def _change(driver, path: str, action: str) -> None:
    row = driver.find_element(By.CSS_SELECTOR, f"tr[data-path='{path}']")
    if action.startswith("delete"):
        row.find_element(By.CSS_SELECTOR, "details summary").click()
        row.find_element(By.CSS_SELECTOR, "button.delete").click()
    else:
        row.find_element(By.CSS_SELECTOR, f"button.{action}").click()
