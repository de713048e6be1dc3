"""The alliance glossary (`glossary.yaml` anywhere in the knowledge folder): the words learners
use for what the documents say in other words. Admins keep it; it is no searchable document:
each version of the index carries it for the engine to match questions with."""

import unicodedata
from datetime import date

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from alliance.index_format import Glossary
from ingest.catalogue import Bilingual
from ingest.documents import LoadError

GLOSSARY_NAME = "glossary.yaml"


class _GlossaryFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    title: Bilingual
    updated: date
    groups: list[list[str]] = Field(default_factory=list)
    characters: dict[str, str] = Field(default_factory=dict)
    function_words: list[str] = Field(default_factory=list)

    @field_validator("groups")
    @classmethod
    def _whole_groups(cls, groups: list[list[str]]) -> list[list[str]]:
        for number, group in enumerate(groups, start=1):
            words = [word.strip() for word in group]
            if len(words) < 2 or not all(words):
                raise ValueError(f"group {number} needs two or more non-empty words")
        return groups

    @field_validator("characters")
    @classmethod
    def _single_characters(cls, characters: dict[str, str]) -> dict[str, str]:
        for traditional, simplified in characters.items():
            if len(traditional) != 1 or len(simplified) != 1:
                raise ValueError(f"{traditional}: {simplified} maps one character to one")
        return characters


def is_glossary(relpath: str) -> bool:
    return relpath.rsplit("/", 1)[-1] == GLOSSARY_NAME


def load_glossary(relpath: str, data: bytes) -> tuple[str, Glossary]:
    """The glossary's English title and its content; LoadError with the reason when it is not
    a valid glossary."""
    try:
        parsed = yaml.safe_load(data.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise LoadError(f"not a readable YAML glossary: {exc}") from None
    if not isinstance(parsed, dict) or set(parsed) != {"glossary"}:
        raise LoadError("a glossary file holds one `glossary:` mapping")
    try:
        glossary = _GlossaryFile.model_validate(parsed["glossary"])
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'glossary'}: {error['msg']}"
            for error in exc.errors()
        )
        raise LoadError(f"{relpath}: {problems}") from None
    groups = tuple(tuple(_normal(word) for word in group) for group in glossary.groups)
    function_words = tuple(_normal(word) for word in glossary.function_words)
    return glossary.title.en, Glossary(groups, dict(glossary.characters), function_words)


def _normal(word: str) -> str:
    return unicodedata.normalize("NFKC", word).strip().lower()
