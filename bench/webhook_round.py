"""Telegram's side of a webhook deployment, run where the bots can reach it (a container in
scripts/test-image's pod, or on scripts/test-stack's network): the Bot API emulator, questions
from distinct learners posted to the webhook URL as Telegram posts them (a delivery that fails
is delivered again, as Telegram does, until the bot answers it 200), and the count of replies.

    python -m bench.webhook_round --listen 0.0.0.0:8081 --webhook http://nginx:8080/tg \\
        --secret S --bots 2 --questions 60

With --hold-at N, question N goes first to one replica (--hold-via), whose answer the emulator
stalls: "held N" is printed once it is, for a script to kill that replica with the update in
hand. It prints "posted N" as it goes, then one JSON
line of figures: answered (exactly one reply), lost (none), duplicated (more than one), wrong
(not the expected answer), then "round ok" or "round FAILED" (also its exit status, unless
--stay keeps the emulator serving for the bots started next)."""

import argparse
import itertools
import json
import sys
import threading
import time
import urllib.error
import urllib.request

from bench.bot_api_emulator import BotAPIEmulator
from bot.channels.telegram.webhook import SECRET_HEADER

TOKEN = "424242:IMAGE-test-token-for-the-emulator"
QUESTIONS = (
    ("When was the alliance established?", "en", "2020"),
    ("联盟是什么时候成立的？", "zh", "2020"),
    ("How do I transfer credits to another member university?", "en", ""),
    ("学分银行的学分可以保留多久？", "zh", ""),
)
FIRST_USER = 500_000


def deliver(
    url: str, update: dict, secret: str, give_up_after: float, first_to: str | None = None
) -> int:
    """Post one update until the bot answers 200 (the first time to `first_to` when given, as
    a load balancer might pick that replica); the number of failed attempts."""
    body, failures, wait = json.dumps(update).encode(), 0, 0.2
    deadline = time.monotonic() + give_up_after
    while True:
        request = urllib.request.Request(
            first_to if first_to is not None and not failures else url,
            data=body,
            headers={"Content-Type": "application/json", SECRET_HEADER: secret},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                if response.status == 200:
                    return failures
        except (urllib.error.URLError, OSError):
            pass
        failures += 1
        if time.monotonic() > deadline:
            raise TimeoutError(f"update {update['update_id']} was never accepted")
        time.sleep(wait)
        wait = min(wait * 2, 5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listen", default="127.0.0.1:8081", help="the emulator's HOST:PORT")
    parser.add_argument("--webhook", required=True, help="the URL updates are posted to")
    parser.add_argument("--secret", required=True, help="TELEGRAM_WEBHOOK_SECRET")
    parser.add_argument("--bots", type=int, default=1, help="setWebhook calls to wait for")
    parser.add_argument("--questions", type=int, default=len(QUESTIONS))
    parser.add_argument("--pace", type=float, default=0.0, help="seconds between posts")
    parser.add_argument("--give-up-after", type=float, default=240.0)
    parser.add_argument("--token", default=TOKEN, help="the bots' TELEGRAM_BOT_TOKEN")
    parser.add_argument(
        "--hold-at",
        type=int,
        default=0,
        help="question number whose answer is held (sendChatAction stalls) at --hold-via, "
        "printing 'held N' once it is: a replica to kill while it has an update in hand",
    )
    parser.add_argument("--hold-via", help="the replica's own webhook URL for --hold-at")
    parser.add_argument(
        "--stay", action="store_true", help="serve the Bot API on after the round, until killed"
    )
    args = parser.parse_args(argv)
    host, port = args.listen.rsplit(":", 1)
    with BotAPIEmulator(args.token, address=(host, int(port))) as emulator:
        status = _round(emulator, args)
        while args.stay:  # for the bots started next (health checks)
            time.sleep(3600)
        return status


def _round(emulator: BotAPIEmulator, args: argparse.Namespace) -> int:
    print(f"emulator on {args.listen}, waiting for {args.bots} bot(s)", flush=True)
    if not emulator.wait_for(lambda: _calls(emulator, "setWebhook") >= args.bots, timeout=300):
        print("the bots never set their webhook", file=sys.stderr)
        return 1
    asked, failures, started = [], 0, time.monotonic()
    for number, (question, language, _) in zip(
        range(args.questions), itertools.cycle(QUESTIONS), strict=False
    ):
        user = FIRST_USER + number
        emulator.user_message(question, user_id=user, language=language)
        held = number + 1 == args.hold_at
        if held:
            _announce_hold(emulator, number + 1)
        for update in emulator.take_updates():
            first_to = args.hold_via if held else None
            failures += deliver(args.webhook, update, args.secret, args.give_up_after, first_to)
        asked.append((user, QUESTIONS[number % len(QUESTIONS)][2]))
        print(f"posted {number + 1}", flush=True)
        time.sleep(args.pace)
    for user, _ in asked:
        emulator.wait_for_messages(user, timeout=120)
    time.sleep(2)  # a duplicate would be on its way by now
    replies = {user: emulator.wait_for_messages(user, timeout=0) for user, _ in asked}
    # Answered, but not with what the question's answer holds (a lost one is not also wrong).
    wrong = [
        user
        for user, expected in asked
        if replies[user] and expected not in str(replies[user][0].get("text", ""))
    ]
    figures = {
        "posted": len(asked),
        "answered": sum(len(found) == 1 for found in replies.values()),
        "lost": sum(not found for found in replies.values()),
        "duplicated": sum(len(found) > 1 for found in replies.values()),
        "wrong": len(wrong),
        "failed_deliveries": failures,
        "seconds": round(time.monotonic() - started, 1),
    }
    print(json.dumps(figures), flush=True)
    ok = figures["answered"] == len(asked) and not wrong
    print("round ok" if ok else "round FAILED", flush=True)
    return 0 if ok else 1


def _announce_hold(emulator: BotAPIEmulator, number: int) -> None:
    """Stall the next sendChatAction (the bot shows "typing" before it answers) and print
    "held N" once a bot is stalled in it."""
    typed = _calls(emulator, "sendChatAction")
    emulator.delay("sendChatAction", 120)

    def watch() -> None:
        if emulator.wait_for(lambda: _calls(emulator, "sendChatAction") > typed, timeout=60):
            print(f"held {number}", flush=True)

    threading.Thread(target=watch, daemon=True).start()


def _calls(emulator: BotAPIEmulator, method: str) -> int:
    return sum(name == method for name, _ in list(emulator.calls))


if __name__ == "__main__":
    sys.exit(main())
