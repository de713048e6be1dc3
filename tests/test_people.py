"""People: accounts, their one-time links, signing in with a password and an optional second
factor, lock-out per account, address and browser, and linking a Telegram id."""

from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from bot.services.people import (
    ACCOUNT_GUESSES,
    ADDRESS_GUESSES,
    BROWSER_GUESSES,
    People,
    PeopleError,
    Refused,
    SignedIn,
)

PASSWORD = "river-of-credits-42"
SCHOOL = "203.0.113.7"  # one address shared by a school's staff and a guesser among them


@pytest.fixture
def database_url(tmp_path):
    """SQLite only: the store's own tests run these statements on PostgreSQL too."""
    return f"sqlite+aiosqlite:///{tmp_path / 'assistant.db'}"


@pytest.fixture
def people(store):
    return People(store.accounts, store.guesses)


async def _person(people, name="zhou.min", role="staff", branch="chengdu-jinniu"):
    account, token = await people.add(name, role, branch)
    await people.choose_password(token, PASSWORD, PASSWORD)
    return account


async def test_a_new_account_chooses_a_password_once_and_signs_in(people):
    account, token = await people.add("  Zhou.Min ", "staff", "chengdu-jinniu")
    assert account.name == "zhou.min" and not account.active  # no password yet
    with pytest.raises(PeopleError, match="differ"):
        await people.choose_password(token, PASSWORD, PASSWORD + "x")
    chosen = await people.choose_password(token, PASSWORD, PASSWORD)  # a typo does not spend it
    assert chosen.id == account.id
    with pytest.raises(PeopleError, match="used"):
        await people.choose_password(token, "another-password-9", "another-password-9")

    signed = await people.sign_in("ZHOU.MIN", PASSWORD, "", SCHOOL, None)
    assert isinstance(signed, SignedIn) and signed.account.id == account.id
    assert signed.browser  # a new browser is given a token to be known by
    stored = await people.accounts.get(account.id)
    assert stored.password_hash.startswith("$argon2id$") and PASSWORD not in stored.password_hash
    again = await people.sign_in("zhou.min", PASSWORD, "", SCHOOL, signed.browser)
    assert isinstance(again, SignedIn) and again.browser is None  # known already


async def test_a_new_link_replaces_the_last_and_a_reset_changes_the_password(people):
    account, first = await people.add("li.na", "admin")
    second = await people.password_link(account.id)
    with pytest.raises(PeopleError, match="used, has expired"):
        await people.choose_password(first, PASSWORD, PASSWORD)
    await people.choose_password(second, PASSWORD, PASSWORD)
    reset = await people.password_link(account.id)
    await people.choose_password(reset, "a-new-password-7", "a-new-password-7")
    assert await people.sign_in("li.na", PASSWORD, "", SCHOOL, None) == Refused("wrong")
    assert isinstance(await people.sign_in("li.na", "a-new-password-7", "", SCHOOL, None), SignedIn)


@pytest.mark.parametrize(
    ("name", "role", "branch", "error"),
    [
        ("x", "admin", None, "a name is"),
        ("zhou min", "admin", None, "a name is"),
        ("-zhou", "admin", None, "a name is"),
        ("zhou\x00", "admin", None, "a name is"),
        ("周敏", "admin", None, "a name is"),
        ("z" * 41, "admin", None, "a name is"),
        ("zhou", "staff", None, "need a branch"),
        ("zhou", "staff", "  ", "need a branch"),
        ("zhou", "staff", "a,b", "a branch is"),
        ("zhou", "staff", "b" * 101, "a branch is"),
    ],
)
async def test_bad_names_and_branches_are_refused_with_a_reason(people, name, role, branch, error):
    with pytest.raises(PeopleError, match=error):
        await people.add(name, role, branch)
    assert await people.accounts.count() == 0


async def test_a_name_is_taken_once_whatever_its_case(people):
    await people.add("zhou", "admin")
    with pytest.raises(PeopleError, match="exists already"):
        await people.add("ZHOU", "staff", "b")


@pytest.mark.parametrize("password", ["short-1", "x" * 201, "zhou.min", "ab" * 10, "\x00" * 12])
async def test_weak_or_hostile_passwords_are_refused_and_the_link_kept(people, password):
    _, token = await people.add("zhou.min", "staff", "b")
    with pytest.raises(PeopleError, match="password"):
        await people.choose_password(token, password, password)
    await people.choose_password(token, PASSWORD, PASSWORD)


@pytest.mark.parametrize("token", ["", "nope", "x" * 5000, "\x00", "' OR 1=1 --"])
async def test_unknown_links_are_refused(people, token):
    with pytest.raises(PeopleError, match="not valid"):
        await people.choose_password(token, PASSWORD, PASSWORD)


async def test_unknown_names_and_hostile_input_are_just_wrong(people):
    await _person(people)
    for name, password in [("nobody", PASSWORD), ("", ""), ("\x00" * 50, "x" * 10_000)]:
        assert await people.sign_in(name, password, "", SCHOOL, None) == Refused("wrong")
    signed = await people.sign_in("zhou.min", PASSWORD, "", SCHOOL, "forged")  # cookie ignored
    assert isinstance(signed, SignedIn) and signed.browser


async def test_a_guesser_locks_the_account_only_for_browsers_it_has_not_used(people):
    account = await _person(people)
    trusted = (await people.sign_in("zhou.min", PASSWORD, "", SCHOOL, None)).browser
    for _ in range(ACCOUNT_GUESSES):
        assert await people.sign_in("zhou.min", "guess-guess-1", "", "198.51.100.9", None) == (
            Refused("wrong")
        )
    # The guesser, and the right password from a new browser, are stopped for a while…
    assert await people.sign_in("zhou.min", PASSWORD, "", "198.51.100.9", None) == Refused("locked")
    assert await people.sign_in("zhou.min", PASSWORD, "", SCHOOL, None) == Refused("locked")
    # …the person's own browser is not.
    signed = await people.sign_in("zhou.min", PASSWORD, "", SCHOOL, trusted)
    assert isinstance(signed, SignedIn) and signed.account.id == account.id


async def test_a_guesser_at_a_school_stops_its_address_not_its_staff(people):
    await _person(people, "zhou.min")
    trusted = (await people.sign_in("zhou.min", PASSWORD, "", SCHOOL, None)).browser
    for attempt in range(ADDRESS_GUESSES):  # many names, few guesses each
        await people.sign_in(f"guess{attempt % 5}", "guess-guess-1", "", SCHOOL, None)
    assert await people.sign_in("zhou.min", PASSWORD, "", SCHOOL, None) == Refused("locked")
    assert isinstance(await people.sign_in("zhou.min", PASSWORD, "", SCHOOL, trusted), SignedIn)
    assert isinstance(await people.sign_in("zhou.min", PASSWORD, "", "192.0.2.1", None), SignedIn)


async def test_a_trusted_browser_has_its_own_few_guesses(people):
    await _person(people)
    trusted = (await people.sign_in("zhou.min", PASSWORD, "", SCHOOL, None)).browser
    for _ in range(BROWSER_GUESSES):
        assert await people.sign_in("zhou.min", "wrong-pass-1", "", SCHOOL, trusted) == (
            Refused("wrong")
        )
    assert await people.sign_in("zhou.min", PASSWORD, "", SCHOOL, trusted) == Refused("locked")


async def test_a_disabled_account_cannot_sign_in_or_use_its_links(people):
    account = await _person(people)
    token = await people.password_link(account.id)
    await people.accounts.disable(account.id)
    assert await people.sign_in("zhou.min", PASSWORD, "", SCHOOL, None) == Refused("wrong")
    with pytest.raises(PeopleError, match="not valid"):
        await people.choose_password(token, "another-password-9", "another-password-9")
    await people.accounts.enable(account.id)
    assert isinstance(await people.sign_in("zhou.min", PASSWORD, "", SCHOOL, None), SignedIn)


def _code(secret: str, seconds_ago: int = 0) -> str:
    return pyotp.TOTP(secret).at(datetime.now(UTC) - timedelta(seconds=seconds_ago))


async def test_a_second_factor_is_asked_for_and_each_code_works_once(people):
    account = await _person(people)
    secret = people.new_totp_secret()
    assert "otpauth://totp/" in people.totp_uri(secret, "zhou.min")
    with pytest.raises(PeopleError, match="does not match"):
        await people.enable_totp(account, secret, "000000" if _code(secret) != "000000" else "1")
    await people.enable_totp(account, secret, _code(secret))

    assert await people.sign_in("zhou.min", PASSWORD, "", SCHOOL, None) == Refused("code")
    assert await people.sign_in("zhou.min", "wrong-pass-1", "", SCHOOL, None) == Refused("wrong")
    code = _code(secret, seconds_ago=-30)  # the next step's: the one that turned it on is spent
    assert isinstance(await people.sign_in("zhou.min", PASSWORD, code, SCHOOL, None), SignedIn)
    # The same code again (a shoulder-surfer, a replay) is refused, and so is an older one.
    assert await people.sign_in("zhou.min", PASSWORD, code, SCHOOL, None) == Refused("wrong")
    old = _code(secret, seconds_ago=30)
    assert await people.sign_in("zhou.min", PASSWORD, old, SCHOOL, None) == Refused("wrong")
    for hostile in ["12345", "abcdef", "１２３４５６", "\x00" * 6, "9" * 1000]:
        assert await people.sign_in("zhou.min", PASSWORD, hostile, SCHOOL, None) == (
            Refused("wrong")
        )


async def test_turning_the_second_factor_off_needs_a_code(people):
    account = await _person(people)
    secret = people.new_totp_secret()
    await people.enable_totp(account, secret, _code(secret))
    account = await people.accounts.get(account.id)
    with pytest.raises(PeopleError, match="does not match"):
        await people.disable_totp(account, "not-a-code")
    await people.disable_totp(account, _code(secret, seconds_ago=-30))  # the next step's
    assert isinstance(await people.sign_in("zhou.min", PASSWORD, "", SCHOOL, None), SignedIn)


@pytest.mark.parametrize("secret", ["", "lowercase", "A" * 31, "1" * 32, "A" * 33])
async def test_a_bad_secret_is_refused(people, secret):
    account = await _person(people)
    with pytest.raises(PeopleError, match="not valid"):
        await people.enable_totp(account, secret, "123456")


async def test_a_telegram_id_is_linked_with_a_one_time_code_to_one_account(people):
    first = await _person(people, "zhou.min")
    second = await _person(people, "li.na", "admin", None)
    code = await people.link_code(first)
    assert (await people.link_telegram(f" {code} ", 555)).id == first.id
    assert await people.link_telegram(code, 556) is None  # spent
    assert await people.link_telegram("forged", 556) is None
    assert (await people.accounts.with_telegram_id(555)).id == first.id
    # The same Telegram user links another account: it moves there.
    assert (await people.link_telegram(await people.link_code(second), 555)).id == second.id
    assert (await people.accounts.with_telegram_id(555)).id == second.id
    assert (await people.accounts.get(first.id)).telegram_id is None
