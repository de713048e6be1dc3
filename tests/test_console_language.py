"""The admin console in the browser's language, like the chat and the workspace: Chinese for a
browser that prefers it, English otherwise; `?lang=` switches and is remembered. The texts of
both languages have the same keys and placeholders, and every text a console template names
exists. Refused uploads and account actions, and the re-index's progress and result, come in
the page's language too. In-process: the web app through httpx's ASGI transport, starting
without an index."""

import asyncio
import html
import re
import string
from pathlib import Path

import pytest

from bot.channels.web.texts import (
    CONSOLE,
    LANGUAGES,
    PEOPLE_REFUSED,
    UPLOAD_REFUSED,
    refusal,
)
from bot.services.documents import UPLOAD_SUFFIXES, UploadError
from bot.services.people import PeopleError
from bot.store.curated import AUDIENCES

PASSWORD = "river-of-credits-42"
TEMPLATES = Path(__file__).resolve().parent.parent / "bot/channels/web/templates"
ZH = {"accept-language": "zh-CN,zh;q=0.9,en;q=0.8"}
EN = {"accept-language": "en-US,en;q=0.9"}
NAV = {
    "en": [
        *["Dashboard", "Review 👎", "Curated answers", "Open tickets", "Workspace"],
        *["Documents", "People", "Actions"],
    ],
    "zh": ["概览", "审核 👎", "标准答案", "待处理工单", "工作台", "文件", "人员", "操作记录"],
}
# Each page and a text only it shows, in either language.
PAGES = {
    "/admin": {"en": "Questions per day", "zh": "每日问题数"},
    "/admin/review": {"en": "Nothing to review.", "zh": "没有需要审核的评价。"},
    "/admin/curated": {"en": "Curated answers (0)", "zh": "标准答案（0）"},
    "/admin/tickets": {"en": "Open tickets (0)", "zh": "待处理工单（0）"},
    "/admin/documents": {"en": "Upload a document", "zh": "上传文件"},
    "/admin/people": {"en": "Invite someone", "zh": "邀请人员"},
    "/admin/actions": {"en": "What admins did", "zh": "管理员操作记录"},
}


@pytest.fixture
async def admin(http, command_line):
    """The client, signed in as an admin with an account."""
    _, token = await command_line.add("li.na", "admin")
    fields = {"token": token, "password": PASSWORD, "repeated": PASSWORD}
    assert (await http.post("/account/password", data=fields)).status_code == 303
    signed = await http.post("/signin", data={"name": "li.na", "password": PASSWORD, "code": ""})
    assert signed.headers["location"] == "/admin"
    return http


def _in(language: str, page: str, path: str) -> None:
    other = "en" if language == "zh" else "zh"
    html_lang = "zh-CN" if language == "zh" else "en"
    assert f'<html lang="{html_lang}">' in page, (path, page[:500])
    assert PAGES[path][language] in page and PAGES[path][other] not in page, path
    for label in NAV[language]:
        assert f">{label}</a>" in page, (path, label)
    assert CONSOLE[language]["sign_out"] in page and CONSOLE[other]["sign_out"] not in page


async def test_an_admins_console_pages_come_in_the_browsers_language(admin):
    for path in PAGES:
        chinese = await admin.get(path, headers=ZH)
        assert chinese.status_code == 200, path
        _in("zh", chinese.text, path)
        for headers in (EN, {}):  # English, and English by default
            english = await admin.get(path, headers=headers)
            assert english.status_code == 200, path
            _in("en", english.text, path)
    # Ids, field names and addresses stay as they were, whatever the language.
    documents = (await admin.get("/admin/documents", headers=ZH)).text
    for kept in ['id="reindex-button"', 'name="topic"', '<option value="charter">章程</option>']:
        assert kept in documents


async def test_the_console_switch_is_remembered_and_notices_follow_the_language(admin):
    switched = await admin.get("/admin/people?lang=zh", headers=EN)
    assert '<html lang="zh-CN">' in switched.text and 'href="?lang=en">English</a>' in switched.text
    assert "lang=zh" in switched.headers["set-cookie"]
    assert '<html lang="zh-CN">' in (await admin.get("/admin/actions", headers=EN)).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', switched.text)
    assert csrf is not None
    fields = {"csrf": csrf.group(1), "name": "zhou.min", "role": "staff", "branch": "jinniu"}
    invited = await admin.post("/admin/people", data=fields)
    assert "请把这个一次性链接交给 <b>zhou.min</b>" in invited.text
    assert re.search(r'<code id="link">[^<]+/account/password/[^<]+</code>', invited.text)
    assert "<td>zhou.min</td><td>分校工作人员</td>" in invited.text
    actions = await admin.get("/admin/actions?lang=en")
    assert '<html lang="en">' in actions.text and "account add" in actions.text


async def test_the_sign_in_page_of_the_console_follows_the_browsers_language(http):
    chinese = await http.get("/admin", headers=ZH)  # no session: the sign-in page, 401
    assert chinese.status_code == 401 and '<html lang="zh-CN">' in chinese.text
    assert "管理控制台供联盟管理员使用。" in chinese.text and 'id="account-signin"' in chinese.text
    english = await http.get("/admin/review")
    assert english.status_code == 401 and '<html lang="en">' in english.text
    assert "The console is for the alliance&#39;s admins." in english.text
    failed = await http.post("/admin/login", data={"token": "A" * 43}, headers=ZH)
    assert failed.status_code == 403 and "此登录链接已使用" in failed.text
    link = await http.get(f"/admin/login/{'B' * 43}", headers=ZH)
    assert 'id="signin">登录</button>' in link.text


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


async def _upload(admin, name: str, content: bytes, headers: dict[str, str]):
    page = await admin.get("/admin/documents", headers=headers)
    form = {"csrf": _csrf(page.text), "title": "Upload", "topic": "faq", "audience": "public"}
    return await admin.post(
        "/admin/documents",
        data=form | {"lang": "en"},
        files={"file": (name, content, "application/octet-stream")},
        headers=headers,
    )


async def test_a_refused_upload_says_why_in_the_pages_language(admin, web_settings):
    suffixes = ", ".join(UPLOAD_SUFFIXES)
    chinese = await _upload(admin, "tool.exe", b"MZ\x90\x00", ZH)
    assert chinese.status_code == 422
    assert f"只能上传 {suffixes} 文件。" in chinese.text
    assert "can be uploaded" not in chinese.text
    english = await _upload(admin, "report.pdf", b"# not a pdf", EN)
    assert english.status_code == 422
    assert "the file is named .pdf but is not a PDF" in english.text
    assert not (web_settings.knowledge_dir / "uploads").exists()


async def test_a_refused_account_action_says_why_in_the_pages_language(admin, command_line):
    people = await admin.get("/admin/people", headers=ZH)
    fields = {"csrf": _csrf(people.text), "name": "zhou min", "role": "admin"}
    refused = await admin.post("/admin/people", data=fields, headers=ZH)
    assert refused.status_code == 422
    assert "账号名为 2 至 40 个小写字母" in refused.text and "a name is" not in refused.text
    # A person choosing a password, in Chinese and in English.
    _, token = await command_line.add("zhou.min", "staff", "jinniu")
    typed = {"token": token, "password": PASSWORD, "repeated": PASSWORD + "!"}
    differ = await admin.post("/account/password", data=typed, headers=ZH)
    assert differ.status_code == 422 and "两次输入的密码不一致。" in differ.text
    short = {"token": token, "password": "short-1", "repeated": "short-1"}
    english = await admin.post("/account/password", data=short, headers=EN)
    assert english.status_code == 422 and "a password has 10 to 200 characters" in english.text


async def _reindexed(admin) -> list[dict]:
    """Start a re-index from the documents page; the statuses a Chinese page polled until it
    ended."""
    page = await admin.get("/admin/documents", headers=ZH)
    started = await admin.post("/admin/reindex", data={"csrf": _csrf(page.text)})
    assert started.status_code == 303
    polled: list[dict] = []
    for _ in range(600):
        polled.append((await admin.get("/admin/reindex/status", headers=ZH)).json())
        if not polled[-1]["running"]:
            return polled
        await asyncio.sleep(0.1)
    raise AssertionError(f"the re-index did not end: {polled[-1]}")


async def test_the_reindex_status_comes_in_the_pages_language(admin):
    polled = await _reindexed(admin)
    stages = [CONSOLE["zh"][f"reindex_{s}"] for s in ["starting", "reading", "embedding"]]
    stages.append(CONSOLE["zh"]["reindex_publishing"])
    for status in polled[:-1]:
        assert status["stage"] in stages, status
    ended = polled[-1]
    assert ended["failed"] is False and ended["stage"] == ""
    assert ended["result"].startswith("索引已重建：版本 ")
    assert "新增 3，更新 0，删除 0，未变 0" in ended["result"], ended
    # The same run, asked for by an English page.
    english = (await admin.get("/admin/reindex/status", headers=EN)).json()
    assert english["result"].startswith("Re-indexed: version ")
    assert "3 added, 0 updated, 0 removed, 0 unchanged" in english["result"], english
    # The action log keeps the English figures.
    actions = (await admin.get("/admin/actions", headers=ZH)).text
    assert html.escape("3 added, 0 updated") in actions


@pytest.mark.parametrize(
    ("table", "error"), [(UPLOAD_REFUSED, UploadError), (PEOPLE_REFUSED, PeopleError)]
)
def test_every_refusal_has_english_and_chinese_with_the_same_placeholders(table, error):
    assert set(table) == set(LANGUAGES)
    assert table["en"] and table["en"].keys() == table["zh"].keys()
    for code, english in table["en"].items():
        assert _fields(english) == _fields(table["zh"][code]), code
        params = {name: 1 for name in _fields(english)}
        refused = error(code, **params)
        # The service's message is the English table's, and the web phrases it in either.
        assert refusal(refused, "en") == str(refused)
        assert refusal(refused, "zh") == table["zh"][code].format(**params), code


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_the_console_texts_have_the_same_keys_and_placeholders_in_both_languages():
    assert set(CONSOLE) == set(LANGUAGES)
    assert CONSOLE["en"].keys() == CONSOLE["zh"].keys()
    for key, english in CONSOLE["en"].items():
        assert _fields(english) == _fields(CONSOLE["zh"][key]), key
        assert CONSOLE["zh"][key].strip() or key == "folder_before", key


def test_every_text_the_console_templates_name_exists():
    named: set[str] = set()
    for template in TEMPLATES.glob("admin_*.html"):
        named |= set(re.findall(r"\bt\.(\w+)", template.read_text())) - {"get"}
    assert named and named <= CONSOLE["en"].keys(), named - CONSOLE["en"].keys()
    # The texts the templates look up by a value: document topics, gap reasons, audiences, roles.
    looked_up = [f"topic_{topic}" for topic in ["charter", "credit", "courses", "staff", "faq"]]
    looked_up += [f"reason_{reason}" for reason in ["abstained", "escalated", "voted"]]
    looked_up += [f"audience_{audience}" for audience in AUDIENCES]
    looked_up += ["role_admin", "role_staff"]
    assert set(looked_up) <= CONSOLE["en"].keys()
