"""The real web server (`python -m bot web`) under load over HTTP: simultaneous clients, each
asking its next question when the answer to its last arrives; answered questions per second,
the latency clients see (p50, p95), failed requests and the server's resident memory.

`python -m bench.web_load [--clients 200] [--per-client 10]` measures it beside the Telegram
bot's and the WeCom bot's throughput in the same run (the whole benchmark, `python -m bench`,
has all three too)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from bench.bot_load import free_port, peak_rss_mb, process_environment, stop
from bench.stats import percentile

if TYPE_CHECKING:
    from alliance.settings import Settings

REPO = Path(__file__).resolve().parent.parent


def run_web_load(
    settings: Settings, questions: list[str], clients: int, per_client: int, database: Path
) -> dict:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = process_environment(
        settings,
        database,
        WEB_PUBLIC_URL=base,
        # Each client has its own address (X-Forwarded-For from 127.0.0.1): measure the server's
        # capacity, not its rate limit.
        WEB_QUESTIONS_PER_MINUTE="600",
    )
    log = database.with_suffix(".log")
    started = time.perf_counter()
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "web", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=output,
        )
    try:
        cold_start_s = _first_answer(base, questions[0], process, log) - started
        figures = asyncio.run(_load(base, questions, clients, per_client))
        time.sleep(0.5)
        rss_mb, peak_mb = peak_rss_mb(process.pid)
    finally:
        stop(process)
    return {
        "cold_start_s": round(cold_start_s, 2),
        "clients": clients,
        "questions": clients * per_client,
        **figures,
        "rss_mb": round(rss_mb),
        "peak_rss_mb": round(peak_mb),
    }


def _first_answer(base: str, question: str, process: subprocess.Popen, log: Path) -> float:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the web server exited: {log.read_text()[-2000:]}")
        try:
            response = httpx.post(f"{base}/api/ask", json={"question": question}, timeout=30)
            if response.status_code == 200:
                return time.perf_counter()
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the web server never answered: {log.read_text()[-2000:]}")


async def _load(base: str, questions: list[str], clients: int, per_client: int) -> dict:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    waits: list[float] = []
    failed = 0

    async def client(number: int, http: httpx.AsyncClient) -> None:
        nonlocal failed
        headers = {"X-Forwarded-For": f"10.{number // 250}.{number % 250}.1"}
        conversation = None
        for i in range(per_client):
            question = questions[(number * per_client + i) % len(questions)]
            asked = time.perf_counter()
            try:
                response = await http.post(
                    "/api/ask",
                    json={"question": question, "conversation_id": conversation},
                    headers=headers,
                )
            except httpx.HTTPError:
                failed += 1
                continue
            if response.status_code != 200:
                failed += 1
                continue
            waits.append(time.perf_counter() - asked)
            conversation = response.json()["conversation_id"]

    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=300) as http:
        began = time.perf_counter()
        await asyncio.gather(*(client(n, http) for n in range(clients)))
        elapsed = time.perf_counter() - began
    return {
        "answered": len(waits),
        "failed": failed,
        "answers_per_s": round(len(waits) / elapsed, 1),
        "latency_p50_ms": round(percentile(waits, 50) * 1000, 1),
        "latency_p95_ms": round(percentile(waits, 95) * 1000, 1),
    }


def main() -> int:
    import argparse
    import shutil
    import tempfile

    from alliance.embeddings import make_embeddings
    from alliance.logging_setup import configure_logging
    from alliance.settings import Settings
    from bench.bot_load import run_load
    from bench.report import bot_load_rows, check, web_load_rows, wecom_load_rows
    from bench.wecom_load import run_wecom_load
    from bot.eval.gold import load_gold
    from ingest.pipeline import run_ingest

    parser = argparse.ArgumentParser(prog="python -m bench.web_load", description=__doc__)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--per-client", type=int, default=10)
    args = parser.parse_args()
    configure_logging("WARNING")
    questions = [item.question for item in load_gold() if not item.history]
    with tempfile.TemporaryDirectory(prefix="alliance-web-load-") as folder:
        work = Path(folder)
        shutil.copytree(REPO / "knowledge", work / "knowledge")
        settings = Settings(knowledge_dir=work / "knowledge", index_dir=work / "index")
        embeddings = make_embeddings(settings)
        run_ingest(settings, embeddings_factory=lambda _: embeddings)
        bot = run_load(settings, questions, args.clients, args.per_client, work / "bot.db")
        web = run_web_load(settings, questions, args.clients, args.per_client, work / "web.db")
        wecom = run_wecom_load(
            settings, questions, args.clients, args.per_client, work / "wecom.db"
        )
    print("| benchmark | figure | target | met |\n| --- | --- | --- | --- |")
    rows = bot_load_rows(bot, "eval questions repeated") + web_load_rows(web)
    rows += wecom_load_rows(wecom)
    for label, figure, target, met in rows:
        print(f"| {label} | {figure} | {target} | {check(met)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
