# Alliance Assistant: CPU-only image; ingests knowledge/ at start, then runs the Telegram bot
# (or the console chat with `docker run -it` and no TELEGRAM_BOT_TOKEN).
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1

WORKDIR /app

# The CPU wheel of torch first: PyPI's default Linux wheel pulls several GB of CUDA.
RUN pip install "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu

COPY pyproject.toml README.md ./
COPY alliance alliance
COPY bot bot
COPY ingest ingest
RUN pip install .

COPY knowledge knowledge
COPY scripts/serve scripts/serve

RUN useradd --create-home --uid 10001 alliance && mkdir -p data && chown alliance data
USER alliance
# The index lives here; mount a volume to keep it across restarts (re-ingest is incremental).
VOLUME ["/app/data"]

CMD ["scripts/serve"]
