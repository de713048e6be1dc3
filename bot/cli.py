"""Command line of the assistant: `python -m bot ask | chat | run | web | admin | invite-code`.

Exit status: 0 success; 1 an unexpected failure (its traceback is logged); 2 usage or
configuration error (no index, bad settings, no token, a backend that is not installed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from alliance.errors import AllianceError
from alliance.logging_setup import configure_logging
from alliance.settings import Settings, settings_or_exit
from bot.channels.console import chat, format_answer, format_too_long
from bot.engine.answering import Engine
from bot.engine.factory import build_engine
from bot.engine.results import Answer, Role
from bot.services.asking import TooLong
from bot.services.core import open_core
from bot.services.people import People, PeopleError, account_name
from bot.store.accounts import AccountRole
from bot.store.backups import BackupError
from bot.store.database import Store
from bot.store.invite_codes import hash_code, new_code, valid_branch

log = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Alliance Assistant")
    commands = parser.add_subparsers(dest="command", required=True)
    ask = commands.add_parser("ask", help="answer questions (from standard input when none given)")
    ask.add_argument("question", nargs="?", help="the question; omit to read one per line")
    ask.add_argument("--json", action="store_true", help="one JSON object per answer")
    chat_cmd = commands.add_parser("chat", help="interactive console conversation")
    run = commands.add_parser("run", help="the Telegram bot (needs TELEGRAM_BOT_TOKEN)")
    wecom = commands.add_parser(
        "wecom", help="the WeCom bot (needs WECOM_BOT_ID and WECOM_BOT_SECRET)"
    )
    web = commands.add_parser("web", help="the web chat, its widget and the admin console")
    web.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: all)")
    web.add_argument("--port", type=_port, default=8080, help="port to listen on (default 8080)")
    invite = commands.add_parser(
        "invite-code", help="make a staff invite code for a branch and print its settings entry"
    )
    invite.add_argument("branch", help="branch (workstation) name, e.g. chengdu-jinniu")
    backup = commands.add_parser(
        "backup", help="back up the database (accounts, curated answers, tickets, logs) to DIR"
    )
    backup.add_argument("folder", type=Path, metavar="DIR", help="a new (or empty) folder")
    restore = commands.add_parser(
        "restore", help="restore a backup from DIR into DATABASE_URL's empty database"
    )
    restore.add_argument("folder", type=Path, metavar="DIR", help="a folder `backup` wrote")
    _admin_parser(commands)
    for command in (ask, chat_cmd):
        command.add_argument("--role", choices=["learner", "staff"], default="learner")
    for command in (ask, chat_cmd, run, wecom, web):
        command.add_argument("--index", type=Path, help="index folder (default: INDEX_DIR)")
    return parser


def _admin_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    admin = commands.add_parser(
        "admin", help="accounts of admins and branch staff, who sign in on the web"
    )
    actions = admin.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="add an account and print its one-time sign-in link")
    add.add_argument("name", help="sign-in name: 2-40 letters, digits, '.', '_' or '-'")
    add.add_argument("--staff", metavar="BRANCH", help="branch staff of BRANCH (default: admin)")
    link = actions.add_parser("link", help="a new one-time link to choose a password")
    link.add_argument("name")
    link.add_argument(
        "--second-factor-off",
        action="store_true",
        help="also turn off one-time codes (a lost phone)",
    )
    actions.add_parser("list", help="every account, its role, branch and state")
    for verb in ("disable", "enable"):
        actions.add_parser(verb, help=f"{verb} an account").add_argument("name")


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1-65535)")
    return int(text)


async def _ask(
    settings: Settings, engine: Engine, questions: Iterable[str], role: Role, as_json: bool
) -> None:
    async with open_core(settings, engine) as core:
        for line in questions:
            question = line.strip()
            if question:
                answer = await core.answer_once(question, role)
                _print_answer(question, answer, as_json)


def _print_answer(question: str, answer: Answer | TooLong, as_json: bool) -> None:
    if isinstance(answer, TooLong):
        print(f"Q: {question[:80]}…\n{format_too_long(answer)}\n", file=sys.stderr, flush=True)
        if as_json:
            refused = {"question": question, "error": "too long", "limit": answer.limit}
            print(json.dumps(refused, ensure_ascii=False), flush=True)
    elif as_json:
        print(json.dumps(answer.to_json_dict(question), ensure_ascii=False), flush=True)
    else:
        print(f"Q: {question}\n{format_answer(answer)}\n", flush=True)


async def _chat(settings: Settings, engine: Engine, role: Role) -> None:
    async with open_core(settings, engine) as core:
        await chat(core, role)


def _invite_code(branch: str) -> int:
    branch = branch.strip()
    if not valid_branch(branch):
        print("bot: use 1-100 characters without spaces, commas or '='", file=sys.stderr)
        return 2
    code = new_code()
    print(f"invite code for {branch} (give it to the branch; it is not stored): {code}")
    print(f"add to STAFF_INVITE_CODES (comma-separated): {branch}={hash_code(code)}")
    return 0


async def _admin(settings: Settings, args: argparse.Namespace) -> int:
    store = await Store.open(settings.database_url, settings.question_log_days)
    try:
        return await _admin_action(People(store.accounts, store.guesses), settings, args)
    except PeopleError as exc:
        print(f"bot: {exc}", file=sys.stderr)
        return 2
    finally:
        await store.close()


async def _admin_action(people: People, settings: Settings, args: argparse.Namespace) -> int:
    if args.action == "list":
        for found in await people.accounts.all():
            state = "disabled" if found.disabled_at else "active" if found.active else "no password"
            extras = [
                x for x, on in [("code", found.totp_secret), ("telegram", found.telegram_id)] if on
            ]
            print(f"{found.name}\t{found.role}\t{found.branch or '-'}\t{state}\t{' '.join(extras)}")
        return 0
    if args.action == "add":
        role: AccountRole = "admin" if args.staff is None else "staff"
        account, token = await people.add(args.name, role, args.staff)
        print(f"added {account.name} ({role}{', ' + account.branch if account.branch else ''})")
    else:
        named = await people.accounts.named(account_name(args.name))
        if named is None:
            print(
                f"bot: no account is named {args.name!r} (see: python -m bot admin list)",
                file=sys.stderr,
            )
            return 2
        if args.action in ("disable", "enable"):
            await getattr(people.accounts, args.action)(named.id)
            print(f"{named.name} {args.action}d")
            return 0
        if args.second_factor_off:
            await people.accounts.set_totp(named.id, None)
        token = await people.password_link(named.id)
    url = f"{settings.web_public_url.rstrip('/')}/account/password/{token}"
    print(f"one-time link to choose a password (works once, for 72 hours): {url}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "invite-code":
        return _invite_code(args.branch)
    settings = settings_or_exit("bot", index_dir=getattr(args, "index", None))
    configure_logging(settings.log_level)
    if args.command == "admin":
        return asyncio.run(_admin(settings, args))
    if args.command in ("backup", "restore"):
        return asyncio.run(_backup(settings, args.command, args.folder))
    if args.command == "run" and settings.telegram_bot_token is None:
        print("bot: TELEGRAM_BOT_TOKEN is not set; use `python -m bot chat`", file=sys.stderr)
        return 2
    try:
        _serve(args, settings)
    except AllianceError as exc:
        print(f"bot: {exc}", file=sys.stderr)
        return 2
    except Exception:
        log.exception("bot %s failed", args.command)
        return 1
    return 0


async def _backup(settings: Settings, command: str, folder: Path) -> int:
    """`backup DIR` or `restore DIR` on DATABASE_URL: each table's rows, printed."""
    try:
        store = await Store.open(settings.database_url, settings.question_log_days)
    except Exception as exc:  # the driver's own errors: said, without a traceback
        print(f"bot {command}: the database cannot be opened: {exc}", file=sys.stderr)
        return 2
    try:
        if command == "backup":
            counts = await store.back_up(folder)
        else:
            counts = await store.restore(folder)
    except (BackupError, OSError) as exc:
        print(f"bot {command}: {exc}", file=sys.stderr)
        return 2
    finally:
        await store.close()
    done = "backed up to" if command == "backup" else "restored from"
    rows = ", ".join(f"{name} {count}" for name, count in counts.items() if count)
    print(f"{sum(counts.values())} rows {done} {folder} ({rows or 'no rows'})")
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> None:
    # The bot runs on without an index, telling users and logs how to rebuild it.
    engine = build_engine(settings, without_index=args.command in ("run", "wecom", "web"))
    if args.command == "ask":
        # Bytes that are not UTF-8 become U+FFFD rather than ending the run mid-way.
        sys.stdin.reconfigure(errors="replace")  # type: ignore[union-attr]
        questions = [args.question] if args.question is not None else sys.stdin
        asyncio.run(_ask(settings, engine, questions, args.role, args.json))
    elif args.command == "chat":
        asyncio.run(_chat(settings, engine, args.role))
    elif args.command == "web":
        from bot.channels.web.app import run_web

        run_web(settings, engine, args.host, args.port)
    elif args.command == "wecom":
        from bot.channels.wecom.app import run_wecom

        run_wecom(settings, engine)
    else:
        from bot.channels.telegram.app import run_bot

        run_bot(settings, engine)
