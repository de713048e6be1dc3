"""What loaders produce: documents with validated metadata and a Markdown body."""

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from alliance.errors import AllianceError

Topic = Literal["charter", "credit", "courses", "staff", "faq"]


class LoadError(AllianceError):
    """A file cannot be indexed; the message says why, for the admin reading the summary."""


class DocumentMeta(BaseModel):
    """The front matter every document carries."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=1, max_length=300)
    topic: Topic
    audience: Literal["public", "staff"]
    lang: Literal["en", "zh"]
    status: Literal["official", "sample"]
    source: str = Field(min_length=1, max_length=500)
    updated: date

    @field_validator("title", "source", mode="before")
    @classmethod
    def _strip(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value


def validate_meta(values: object, where: str) -> DocumentMeta:
    """Validate a metadata mapping, turning pydantic's report into one readable line."""
    if not isinstance(values, dict):
        raise LoadError(f"{where} must be a mapping of keys to values")
    try:
        return DocumentMeta.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'value'}: {error['msg']}"
            for error in exc.errors()
        )
        raise LoadError(f"{where}: {problems}") from None


@dataclass(frozen=True)
class Document:
    """One indexable document. `body` is Markdown: headings become citation sections."""

    doc_id: str
    path: str
    meta: DocumentMeta
    body: str
    extra: dict[str, str | int] = field(default_factory=dict)
