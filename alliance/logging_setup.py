"""Logging configured once, by each entry point."""

import logging
import sys

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, stream=sys.stderr, format=FORMAT)
    quiet_libraries(level)


def quiet_libraries(level: str) -> None:
    """Request lines would carry the bot token in their URLs; libraries are quiet unless
    debugging."""
    for noisy in (
        "httpx",
        "httpcore",
        "chromadb",
        "sentence_transformers",
        "transformers",
        "jieba",
    ):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
