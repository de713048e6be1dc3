"""Roles: settings, invite codes (hashed, throttled) and the group-chat rule."""

import pytest

from alliance.settings import Settings
from bot.store.database import Store
from bot.store.invite_codes import branch_for, hash_code, new_code
from bot.store.roles import MAX_FAILURES, Roles

CODE = "right-code-1"


@pytest.fixture
async def roles(tmp_path):
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'r.db'}")
    settings = Settings(
        admin_user_ids=[1],
        staff_user_ids=[2],
        staff_invite_codes={"jinniu": hash_code(CODE), "wanzhou": hash_code("other-code")},
    )
    yield Roles(settings, store)
    await store.close()


@pytest.fixture
async def store(roles):
    return roles._store


async def test_roles_from_settings_apply_in_private_chats_only(roles):
    assert await roles.is_admin(1) and not await roles.is_admin(2)
    assert await roles.role(1, private_chat=True) == "staff"
    assert await roles.role(2, private_chat=True) == "staff"
    assert await roles.role(3, private_chat=True) == "learner"
    assert await roles.role(2, private_chat=False) == "learner"


async def test_a_linked_account_gives_its_role_to_the_telegram_id(roles, store):
    admin = await store.accounts.add("wang.li", "admin", None, None)
    staff = await store.accounts.add("zhou", "staff", "jinniu", admin.id)
    await store.accounts.link_telegram(admin.id, 30)
    await store.accounts.link_telegram(staff.id, 31)
    assert await roles.is_admin(30) and not await roles.is_admin(31)
    assert await roles.role(31, private_chat=True) == "staff"
    assert await roles.role(31, private_chat=False) == "learner"
    await store.accounts.disable(admin.id)  # a disabled account gives nothing
    assert not await roles.is_admin(30) and await roles.role(30, private_chat=True) == "learner"


async def test_on_the_web_an_account_or_a_current_code_makes_staff(roles, store):
    admin = await store.accounts.add("wang.li", "admin", None, None)
    staff = await store.accounts.add("zhou", "staff", "jinniu", admin.id)
    assert roles.on_the_web(staff, None) == ("staff", "jinniu")
    assert roles.on_the_web(admin, "wanzhou") == ("staff", None)  # the alliance's
    assert roles.on_the_web(None, "wanzhou") == ("staff", "wanzhou")
    # a code signed in with, since taken out of the settings, is worth nothing
    assert roles.on_the_web(None, "pixian") == ("learner", None)
    assert roles.on_the_web(None, None) == ("learner", None)


async def test_a_right_code_registers_staff_of_its_branch(roles):
    assert await roles.register(3, f"  {CODE} ") == ("registered", "jinniu")
    assert await roles.role(3, private_chat=True) == "staff"


@pytest.mark.parametrize("code", ["", "wrong", CODE.upper(), CODE + "x", "\x00", "码" * 300])
async def test_wrong_codes_register_nothing(roles, code):
    assert await roles.register(4, code) == ("wrong", None)
    assert await roles.role(4, private_chat=True) == "learner"


async def test_brute_force_is_throttled(roles):
    for attempt in range(MAX_FAILURES):
        assert (await roles.register(5, f"guess-{attempt}"))[0] == "wrong"
    assert (await roles.register(5, CODE))[0] == "throttled"
    assert await roles.role(5, private_chat=True) == "learner"
    assert await roles.register(6, CODE) == ("registered", "jinniu")  # another user is not


async def test_registration_is_closed_without_codes(tmp_path):
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    assert await Roles(Settings(), store).register(6, CODE) == ("closed", None)
    await store.close()


def test_codes_are_stored_salted_and_checked_against_every_branch():
    code = new_code()
    first, second = hash_code(code), hash_code(code)
    assert first != second and code not in first  # salted, never in clear
    assert branch_for(code, {"a": hash_code("x"), "b": first}) == "b"
    assert branch_for(code, {"a": "scrypt$zz$00", "b": second}) == "b"  # a bad entry is skipped
    assert branch_for("x" + code, {"b": first}) is None
