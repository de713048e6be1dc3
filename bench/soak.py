"""`python -m bench.soak [--users 500] [--per-user 40]`: the bot under a long load with Telegram
faults injected throughout (5xx, dropped connections, 429s, slow and failing getUpdates),
sampling its memory, open files and threads; prints one Markdown table."""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from bench.bot_api_emulator import DROP, BotAPIEmulator
from bench.bot_load import REPO, run_load
from bench.ingest_runs import measure_ingest

FAULT_EVERY_S = 0.5
SAMPLE_EVERY_S = 2.0


def _inject(emulator: BotAPIEmulator, rng: random.Random) -> None:
    kind = rng.choice(["500", "502", "drop", "429", "slow-poll", "failed-poll"])
    if kind in ("500", "502"):
        emulator.fail("sendMessage", int(kind))
    elif kind == "drop":
        emulator.fail("sendMessage", DROP)
    elif kind == "429":
        emulator.fail("sendMessage", 429, retry_after=1)
    elif kind == "slow-poll":
        emulator.delay("getUpdates", 1.0)
    else:
        emulator.fail("getUpdates", 500)


def _sample(pid: int) -> dict[str, int]:
    status = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return {
        "rss_mb": int(status["VmRSS"].split()[0]) // 1024,
        "threads": int(status["Threads"]),
        "open_files": len(list(Path(f"/proc/{pid}/fd").iterdir())),
    }


@contextmanager
def faults_and_samples(
    emulator: BotAPIEmulator, pid: int, samples: list[dict], faults: list
) -> Iterator[None]:
    """While the load runs: a fault every FAULT_EVERY_S, a resource sample every
    SAMPLE_EVERY_S."""
    stop = threading.Event()
    rng = random.Random(2020)

    def work() -> None:
        ticks = 0
        while not stop.wait(FAULT_EVERY_S):
            _inject(emulator, rng)
            faults.append(1)
            ticks += 1
            if ticks % int(SAMPLE_EVERY_S / FAULT_EVERY_S) == 0:
                samples.append(_sample(pid))

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--per-user", type=int, default=40)
    args = parser.parse_args()
    from alliance.settings import Settings
    from bot.eval.gold import load_gold

    with tempfile.TemporaryDirectory(prefix="alliance-soak-") as folder:
        work = Path(folder)
        shutil.copytree(REPO / "knowledge", work / "knowledge")
        measure_ingest(work / "knowledge", work / "index")
        settings = Settings(knowledge_dir=work / "knowledge", index_dir=work / "index")
        questions = [item.question for item in load_gold() if not item.history]
        samples: list[dict] = []
        faults: list = []
        report = run_load(
            settings,
            questions,
            args.users,
            args.per_user,
            work / "soak.db",
            during=lambda emulator, pid: faults_and_samples(emulator, pid, samples, faults),
        )
    warm = samples[len(samples) // 10 :] or samples  # after the first tenth: caches filled

    def trend(key: str) -> str:
        return f"{warm[0][key]} → {samples[-1][key]} (max {max(s[key] for s in samples)})"

    load = f"{report['questions']:,} ({args.users} × {args.per_user})"
    outcome = f"{report['answered']:,} / {report['lost']} / {report['duplicated']}"
    speed = f"{report['messages_per_s']}/s; {report['reply_p95_ms'] / 1000:.2f} s"
    rows = [
        ("messages (users × questions each)", load),
        ("faults injected (one every 0.5 s)", str(len(faults))),
        ("answered / lost / duplicated", outcome),
        ("answered messages per second; p95 update→reply", speed),
        ("resident memory, MB: after warm-up → end", trend("rss_mb")),
        ("open files: after warm-up → end", trend("open_files")),
        ("threads: after warm-up → end", trend("threads")),
    ]
    print(f"Soak of {date.today().isoformat()}: {len(samples)} samples every {SAMPLE_EVERY_S} s\n")
    print("| figure | value |\n| --- | --- |")
    print("\n".join(f"| {name} | {value} |" for name, value in rows))
    return 0 if report["lost"] == 0 and report["duplicated"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
