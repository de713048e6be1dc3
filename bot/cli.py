"""Command line of the assistant: `python -m bot ask | chat | run | web | invite-code`.

Exit status: 0 success; 1 an unexpected failure (its traceback is logged); 2 usage or
configuration error (no index, bad settings, no token, a backend that is not installed).
"""

import argparse
import asyncio
import json
import logging
import re
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
from bot.store.invite_codes import hash_code, new_code

log = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Alliance Assistant")
    commands = parser.add_subparsers(dest="command", required=True)
    ask = commands.add_parser("ask", help="answer questions (from standard input when none given)")
    ask.add_argument("question", nargs="?", help="the question; omit to read one per line")
    ask.add_argument("--json", action="store_true", help="one JSON object per answer")
    chat_cmd = commands.add_parser("chat", help="interactive console conversation")
    run = commands.add_parser("run", help="the Telegram bot (needs TELEGRAM_BOT_TOKEN)")
    web = commands.add_parser("web", help="the web chat, its widget and the admin console")
    web.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: all)")
    web.add_argument("--port", type=_port, default=8080, help="port to listen on (default 8080)")
    invite = commands.add_parser(
        "invite-code", help="make a staff invite code for a branch and print its settings entry"
    )
    invite.add_argument("branch", help="branch (workstation) name, e.g. chengdu-jinniu")
    for command in (ask, chat_cmd):
        command.add_argument("--role", choices=["learner", "staff"], default="learner")
    for command in (ask, chat_cmd, run, web):
        command.add_argument("--index", type=Path, help="index folder (default: INDEX_DIR)")
    return parser


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
    if not re.fullmatch(r"[^,=\s]{1,100}", branch):
        print("bot: use 1-100 characters without spaces, commas or '='", file=sys.stderr)
        return 2
    code = new_code()
    print(f"invite code for {branch} (give it to the branch; it is not stored): {code}")
    print(f"add to STAFF_INVITE_CODES (comma-separated): {branch}={hash_code(code)}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "invite-code":
        return _invite_code(args.branch)
    settings = settings_or_exit("bot", index_dir=args.index)
    configure_logging(settings.log_level)
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


def _serve(args: argparse.Namespace, settings: Settings) -> None:
    # The bot runs on without an index, telling users and logs how to rebuild it.
    engine = build_engine(settings, without_index=args.command in ("run", "web"))
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
    else:
        from bot.channels.telegram.app import run_bot

        run_bot(settings, engine)
