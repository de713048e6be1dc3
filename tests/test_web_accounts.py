"""Signing in to the web without Telegram: an admin chooses a password from the command line's
one-time link, reaches the console, invites branch staff who sign in with their own, and either
may turn on one-time codes or link Telegram. In-process: the web app through httpx's ASGI
transport, the accounts made through the same database the command line uses."""

import re
from datetime import UTC, datetime

import pyotp
import pytest
from web_app import web_client

from bot.engine.factory import build_engine
from bot.services.people import ACCOUNT_GUESSES

PASSWORD = "river-of-credits-42"


def _found(pattern: str, page: str) -> str:
    match = re.search(pattern, page)
    assert match is not None, page[:2000]
    return match.group(1)


def _csrf(page: str) -> str:
    return _found(r'name="csrf" value="([^"]+)"', page)


async def _choose(http, link_token: str, password: str = PASSWORD):
    page = await http.get(f"/account/password/{link_token}")
    assert page.status_code == 200
    fields = {"token": link_token, "password": password, "repeated": password}
    return await http.post("/account/password", data=fields)


async def _sign_in(http, name: str, password: str = PASSWORD, code: str = ""):
    return await http.post("/signin", data={"name": name, "password": password, "code": code})


async def test_the_first_admin_signs_in_from_the_link_and_invites_staff(http, command_line):
    _admin, token = await command_line.add("li.na", "admin")
    page = await http.get(f"/account/password/{token}")
    assert "li.na" in page.text and "Choose a password" in page.text
    chosen = await _choose(http, token)
    assert chosen.status_code == 303 and chosen.headers["location"] == "/signin?chosen=li.na"
    assert (await http.get(f"/account/password/{token}")).status_code == 404  # used once

    signed = await _sign_in(http, "Li.Na")
    assert signed.status_code == 303 and signed.headers["location"] == "/admin"
    session = next(c for c in http.cookies.jar if c.name == "aa_account")
    device = next(c for c in http.cookies.jar if c.name == "aa_device")
    assert session.path == "/" and device.path == "/signin"
    assert PASSWORD not in signed.headers.get("set-cookie", "")

    people = await http.get("/admin/people")
    assert people.status_code == 200 and "li.na" in people.text
    invited = await http.post(
        "/admin/people",
        data={"csrf": _csrf(people.text), "name": "zhou.min", "role": "staff", "branch": "jinniu"},
    )
    link = _found(r'<code id="link">([^<]+)</code>', invited.text)
    assert link.startswith("http://127.0.0.1:8080/account/password/")
    actions = await http.get("/admin/actions")
    assert "account add" in actions.text and "li.na" in actions.text

    http.cookies.clear()
    await _choose(http, link.rsplit("/", 1)[1])
    staff = await _sign_in(http, "zhou.min")
    assert staff.headers["location"] == "/workspace"
    account = await http.get("/account")
    assert "Staff of jinniu" in account.text
    console = await http.get("/admin")  # staff are not admins
    assert console.status_code == 401 and 'href="/signin"' in console.text
    chat = await http.get("/")
    assert "Signed in as staff of jinniu" in chat.text  # answers include staff-only documents


async def test_the_console_refuses_forged_forms_and_an_admin_cannot_disable_themself(
    http, command_line
):
    admin, token = await command_line.add("li.na", "admin")
    await _choose(http, token)
    await _sign_in(http, "li.na")
    page = await http.get("/admin/people")
    forged = await http.post(
        "/admin/people", data={"csrf": "x" * 43, "name": "a1", "role": "admin"}
    )
    assert forged.status_code == 403
    own = await http.post(
        f"/admin/people/{admin.id}", data={"csrf": _csrf(page.text), "action": "disable"}
    )
    assert own.status_code == 409
    for data in [
        {"name": "x", "role": "staff", "branch": "b"},  # too short a name
        {"name": "zhou", "role": "staff", "branch": ""},  # staff without a branch
        {"name": "zhou", "role": "root"},  # no such role
        {"name": "z" * 300, "role": "admin"},
    ]:
        refused = await http.post("/admin/people", data={"csrf": _csrf(page.text), **data})
        assert refused.status_code == 422, data
    assert [a.name for a in await command_line.accounts.all()] == ["li.na"]


async def test_a_disabled_account_is_signed_out_at_once(http, command_line):
    _, token = await command_line.add("li.na", "admin")
    staff, staff_token = await command_line.add("zhou", "staff", "jinniu")
    await _choose(http, staff_token)
    await _sign_in(http, "zhou")
    staff_session = http.cookies["aa_account"]
    assert (await http.get("/account")).status_code == 200
    http.cookies.clear()
    await _choose(http, token)
    await _sign_in(http, "li.na")
    page = await http.get("/admin/people")
    disabled = await http.post(
        f"/admin/people/{staff.id}", data={"csrf": _csrf(page.text), "action": "disable"}
    )
    assert disabled.status_code == 303
    http.cookies.clear()
    http.cookies.set("aa_account", staff_session, path="/")
    assert (await http.get("/account")).headers["location"] == "/signin"
    assert "Signed in as staff" not in (await http.get("/")).text
    assert (await _sign_in(http, "zhou")).status_code == 401


async def test_wrong_passwords_lock_out_new_browsers_but_not_the_persons_own(http, command_line):
    _, token = await command_line.add("li.na", "admin")
    await _choose(http, token)
    assert (await _sign_in(http, "li.na")).status_code == 303  # this browser is now known
    known = {c.name: c.value for c in http.cookies.jar}
    http.cookies.clear()
    for _ in range(ACCOUNT_GUESSES):
        wrong = await _sign_in(http, "li.na", "guess-guess-1")
        assert wrong.status_code == 401 and "not right" in wrong.text
    locked = await _sign_in(http, "li.na")
    assert locked.status_code == 429 and "Too many wrong tries" in locked.text
    http.cookies.set("aa_device", known["aa_device"], path="/signin")
    assert (await _sign_in(http, "li.na")).status_code == 303


async def test_one_time_codes_are_turned_on_asked_for_and_not_replayed(http, command_line):
    _, token = await command_line.add("li.na", "admin")
    await _choose(http, token)
    await _sign_in(http, "li.na")
    account = await http.get("/account")
    started = await http.post("/account/second-factor/new", data={"csrf": _csrf(account.text)})
    secret = _found(r'<code id="secret">([A-Z2-7]{32})</code>', started.text)
    assert "otpauth://totp/" in started.text
    form = {"csrf": _csrf(account.text), "action": "on", "secret": secret}
    wrong = await http.post("/account/second-factor", data=form | {"code": "12345x"})
    assert wrong.status_code == 422 and secret in wrong.text  # try again with the same key
    code = pyotp.TOTP(secret).at(datetime.now(UTC))
    assert (
        await http.post("/account/second-factor", data=form | {"code": code})
    ).status_code == 303
    signout = await http.post("/signout", data={"csrf": _csrf(account.text)})
    assert signout.headers["location"] == "/signin?out=1"
    assert (await http.get("/account")).headers["location"] == "/signin"

    asked = await _sign_in(http, "li.na")
    assert asked.status_code == 401 and "one-time code" in asked.text
    assert (await _sign_in(http, "li.na", code=code)).status_code == 401  # used to turn it on
    fresh = pyotp.TOTP(secret).at(datetime.now(UTC), counter_offset=1)
    assert (await _sign_in(http, "li.na", code=fresh)).status_code == 303


async def test_a_link_code_links_telegram_or_wecom_once_asked_for(web_settings, command_line):
    settings = web_settings.model_copy(update={"telegram_bot_token": "1:x", "wecom_bot_id": "b"})
    async with web_client(settings, build_engine(settings, without_index=True)) as http:
        _, token = await command_line.add("zhou", "staff", "jinniu")
        await _choose(http, token)
        await _sign_in(http, "zhou")
        page = await http.get("/account")
        assert "Telegram: not linked · WeCom: not linked" in " ".join(page.text.split())

        async def new_code() -> str:
            shown = await http.post("/account/link", data={"csrf": _csrf(page.text)})
            assert "send the assistant in Telegram / WeCom:" in shown.text
            return _found(r'<code id="link-command">/link ([^<]+)</code>', shown.text)

        code = await new_code()
        linked = await command_line.link_telegram(code, 4242)
        assert linked is not None and linked.name == "zhou"
        assert await command_line.link_wecom(code, "zhou.wei") is None  # spent
        assert (await command_line.link_wecom(await new_code(), "zhou.wei")).name == "zhou"
        page = await http.get("/account")
        assert "Telegram: linked to this account · WeCom: linked" in " ".join(page.text.split())


@pytest.mark.parametrize(
    ("method", "path", "data", "status"),
    [
        ("get", "/account/password/" + "x" * 5000, None, 404),
        ("get", "/account/password/%00%27", None, 404),
        ("post", "/account/password", {"token": "short", "password": "p", "repeated": "p"}, 422),
        (
            "post",
            "/account/password",
            {"token": "a" * 43, "password": PASSWORD, "repeated": PASSWORD},
            404,
        ),
        ("post", "/signin", {"name": "n" * 300, "password": "p"}, 422),
        ("post", "/signin", {"name": "li.na", "password": "p" * 2000}, 422),
        ("post", "/signin", {"name": "\x00", "password": "😀\u202e"}, 401),
        ("post", "/signin", {}, 422),
        ("post", "/signout", {"csrf": "x"}, 401),
        ("post", "/account/second-factor", {"csrf": "x", "action": "on", "code": "1"}, 401),
        ("post", "/account/link", {"csrf": "x"}, 401),
        ("get", "/account?lang=zh", None, 303),
    ],
)
async def test_hostile_requests_get_clear_refusals(http, method, path, data, status):
    response = await getattr(http, method)(path, **({"data": data} if data is not None else {}))
    assert response.status_code == status, response.text[:300]


async def test_the_pages_follow_the_browsers_language(http, command_line):
    _, token = await command_line.add("li.na", "admin")
    page = await http.get(f"/account/password/{token}", headers={"accept-language": "zh-CN,zh"})
    assert "设置密码" in page.text and 'lang="zh-CN"' in page.text
    assert "登录" in (await http.get("/signin?lang=zh")).text
