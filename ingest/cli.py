"""Command line of ingest: `python -m ingest [--knowledge DIR] [--index DIR] [--dry-run] [--json]`.

Exit status: 0 everything indexed; 1 some files skipped (the rest published); 2 usage or
configuration error, or a failure while writing (nothing published). With --json the last line
is the summary in every case; a failure of the run as a whole is an error with an empty path.
"""

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from alliance.errors import AllianceError
from alliance.index_format import IndexLayout
from alliance.logging_setup import configure_logging
from alliance.settings import Settings, settings_or_exit
from ingest.discovery import FileError
from ingest.pipeline import Summary, run_ingest

log = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ingest",
        description="Index the knowledge folder and publish a new index version atomically.",
    )
    parser.add_argument("--knowledge", type=Path, help="knowledge folder (default: KNOWLEDGE_DIR)")
    parser.add_argument("--index", type=Path, help="index folder (default: INDEX_DIR)")
    parser.add_argument(
        "--dry-run", action="store_true", help="report what would change; publish nothing"
    )
    parser.add_argument(
        "--json", action="store_true", help="print the summary as one JSON object on the last line"
    )
    return parser


def _summary_line(summary: Summary, seconds: float, dry_run: bool) -> str:
    prefix = "dry run: would index" if dry_run else "indexed"
    line = (
        f"{prefix}: {summary.added} added, {summary.updated} updated, {summary.removed} removed, "
        f"{summary.unchanged} unchanged, {summary.chunks} chunks, {len(summary.errors)} skipped; "
        f"index version {summary.index_version or 'none'} ({seconds:.1f} s)"
    )
    skipped = "".join(f"\n  skipped {error.path}: {error.error}" for error in summary.errors)
    return line + skipped


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = settings_or_exit("ingest", knowledge_dir=args.knowledge, index_dir=args.index)
    configure_logging(settings.log_level)
    started = time.perf_counter()
    try:
        summary = run_ingest(settings, dry_run=args.dry_run, progress=sys.stderr.isatty())
    except Exception as exc:
        if not isinstance(exc, AllianceError):
            log.exception("ingest failed unexpectedly")
        print(f"ingest: {exc}; nothing was published", file=sys.stderr)
        if args.json:
            print(json.dumps(_failed(settings, str(exc)).as_dict(), ensure_ascii=False))
        return 2
    print(_summary_line(summary, time.perf_counter() - started, args.dry_run), file=sys.stderr)
    if args.json:
        print(json.dumps(summary.as_dict(), ensure_ascii=False))
    return summary.exit_code


def _failed(settings: Settings, reason: str) -> Summary:
    """The summary of a run that published nothing: the version still being served, if any."""
    try:
        published = IndexLayout(settings.index_dir).current_version()
    except (OSError, AllianceError):
        published = None
    return Summary(errors=[FileError("", reason)], index_version=published)
