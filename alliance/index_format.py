"""The index format: the one contract between ingest (writer) and the engine (reader).

An index folder holds immutable versions and a pointer naming the published one:

    INDEX_DIR/CURRENT                      the published version's name, swapped by atomic rename
    INDEX_DIR/versions/<v>/manifest.json   version, embedding model, files and their hashes
    INDEX_DIR/versions/<v>/keywords.jsonl  keyword-search sidecar: one chunk's tokens per line
    INDEX_DIR/versions/<v>/glossary.json   the glossary files' word groups, by file
    INDEX_DIR/versions/<v>/sentences.npz   every chunk's sentences, embedded, for the answer judge
    INDEX_DIR/versions/<v>/chroma/         embedded Chroma (or a collection on a Chroma server)

Every chunk in the collection carries the metadata doc_id, path, title, section, topic, audience
(public | staff), lang (en | zh), status (official | sample), source, updated and chunk (its
number), plus course_code, course_title, description, provider, credits, mode and semester
for catalogue courses.
"""

from __future__ import annotations

import io
import json
import os
import secrets
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from alliance.errors import AllianceError

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

    from alliance.settings import Settings

# Bumped whenever chunk text, metadata or the sidecar change shape: readers refuse other
# formats, and the next ingest rebuilds from scratch.
FORMAT = 4
POINTER = "CURRENT"


class IndexUnavailableError(AllianceError):
    """The index is missing, corrupt or written in a format this code does not read."""


class IndexServerUnreachableError(IndexUnavailableError):
    """The index lives on a Chroma server that did not answer: it may well come back."""


@dataclass(frozen=True)
class EmbeddingSpec:
    """Which embedding produced the vectors; a different spec means every chunk is re-embedded."""

    backend: str
    model: str


@dataclass
class FileEntry:
    """One source file in the index: its content hash and the chunks made from it."""

    hash: str
    titles: list[str]
    audience: str
    chunk_ids: list[str]


@dataclass
class Manifest:
    """What a published version holds."""

    version: str
    created: str
    embedding: EmbeddingSpec
    chunking: dict[str, int]
    store: dict[str, str]
    files: dict[str, FileEntry] = field(default_factory=dict)
    format: int = FORMAT

    @property
    def chunk_count(self) -> int:
        return sum(len(entry.chunk_ids) for entry in self.files.values())

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise IndexUnavailableError(
                f"the index has format {data.get('format')!r}, this version reads format "
                f"{FORMAT}: run `python -m ingest` to rebuild it"
            )
        return cls(
            version=data["version"],
            created=data["created"],
            embedding=EmbeddingSpec(**data["embedding"]),
            chunking=data["chunking"],
            store=data["store"],
            files={path: FileEntry(**entry) for path, entry in data["files"].items()},
        )


@dataclass(frozen=True)
class KeywordEntry:
    """One line of the keyword sidecar."""

    id: str
    audience: str
    lang: str
    tokens: list[str]


@dataclass(frozen=True)
class Glossary:
    """What the alliance's glossary says: groups of words that mean the same here, in either
    language, and the Simplified form of Traditional characters."""

    groups: tuple[tuple[str, ...], ...] = ()
    characters: dict[str, str] = field(default_factory=dict)
    function_words: tuple[str, ...] = ()  # question and function words: no evidence either way

    @classmethod
    def merged(cls, parts: Iterable[Glossary]) -> Glossary:
        groups: list[tuple[str, ...]] = []
        characters: dict[str, str] = {}
        function_words: list[str] = []
        for part in parts:
            groups.extend(part.groups)
            characters.update(part.characters)
            function_words.extend(part.function_words)
        return cls(tuple(groups), characters, tuple(function_words))

    def simplified(self, text: str) -> str:
        """`text` with Traditional characters in their Simplified form."""
        table = {
            ord(traditional): simplified for traditional, simplified in self.characters.items()
        }
        return text.translate(table) if table else text

    def to_dict(self) -> dict[str, object]:
        return {
            "groups": [list(group) for group in self.groups],
            "characters": self.characters,
            "function_words": list(self.function_words),
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Glossary:
        groups = data.get("groups", [])
        characters = data.get("characters", {})
        function_words = data.get("function_words", [])
        if not (
            isinstance(groups, list)
            and isinstance(characters, dict)
            and isinstance(function_words, list)
        ):
            raise ValueError("a glossary holds lists of groups and words and a character map")
        return cls(
            tuple(tuple(str(word) for word in group) for group in groups),
            {str(k): str(v) for k, v in characters.items()},
            tuple(str(word) for word in function_words),
        )


@dataclass(frozen=True)
class Sentences:
    """Every chunk's sentences (as `split_sentences` cuts them), each embedded as a passage with
    its section heading before it (`sentence_context`): the units the answer judge weighs."""

    chunk_ids: tuple[str, ...]  # the chunk of each sentence
    texts: tuple[str, ...]
    vectors: np.ndarray  # float32, one unit row per sentence

    @classmethod
    def empty(cls, dimension: int = 0) -> Sentences:
        return cls((), (), np.zeros((0, dimension), np.float32))


def sentence_context(section: str, sentence: str) -> str:
    """What a sentence is embedded as: its section heading gives it the context it lacks alone
    ("Credits: 3." of which course)."""
    return f"{section}: {sentence}" if section else sentence


def new_version_name() -> str:
    """A sortable, unique version name such as 20261128T201500Z-3fa2c1."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def collection_name(prefix: str, version: str) -> str:
    return f"{prefix}-{version}"


class IndexLayout:
    """Paths inside one index folder, and the pointer that publishes a version."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.pointer = self.root / POINTER
        self.versions = self.root / "versions"
        self.lock = self.root / ".ingest.lock"

    def version_dir(self, version: str) -> Path:
        return self.versions / version

    def manifest_path(self, version: str) -> Path:
        return self.version_dir(version) / "manifest.json"

    def keywords_path(self, version: str) -> Path:
        return self.version_dir(version) / "keywords.jsonl"

    def glossary_path(self, version: str) -> Path:
        return self.version_dir(version) / "glossary.json"

    def sentences_path(self, version: str) -> Path:
        return self.version_dir(version) / "sentences.npz"

    def write_sentences(self, version: str, sentences: Sentences) -> None:
        buffer = io.BytesIO()
        np.savez(
            buffer,
            chunk_ids=np.array(sentences.chunk_ids, dtype=str),
            texts=np.array(sentences.texts, dtype=str),
            vectors=sentences.vectors.astype(np.float32),
        )
        _write_durably(self.sentences_path(version), buffer.getvalue())

    def read_sentences(self, version: str) -> Sentences:
        try:
            with np.load(self.sentences_path(version), allow_pickle=False) as stored:
                chunk_ids = tuple(str(chunk_id) for chunk_id in stored["chunk_ids"])
                texts = tuple(str(text) for text in stored["texts"])
                vectors = stored["vectors"]
        except (OSError, ValueError, KeyError) as exc:
            raise IndexUnavailableError(
                f"cannot read the sentences of version {version}: {exc}"
            ) from exc
        if not len(chunk_ids) == len(texts) == len(vectors):
            raise IndexUnavailableError(f"the sentences of version {version} are inconsistent")
        return Sentences(chunk_ids, texts, vectors.astype(np.float32))

    def chroma_path(self, version: str) -> Path:
        return self.version_dir(version) / "chroma"

    def current_version(self) -> str | None:
        """The published version, or None when nothing has been published yet."""
        try:
            version = self.pointer.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        if not version or not self.manifest_path(version).is_file():
            raise IndexUnavailableError(f"{self.pointer} names {version!r}, which has no manifest")
        return version

    def published_version(self) -> str:
        """The published version; IndexUnavailableError when there is none yet."""
        version = self.current_version()
        if version is None:
            raise IndexUnavailableError(
                f"no published index in {self.root}: run `python -m ingest` to build it"
            )
        return version

    def read_manifest(self, version: str) -> Manifest:
        try:
            return Manifest.from_json(self.manifest_path(version).read_text(encoding="utf-8"))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IndexUnavailableError(
                f"cannot read the manifest of version {version}: {exc}"
            ) from exc

    def write_manifest(self, manifest: Manifest) -> None:
        _write_durably(self.manifest_path(manifest.version), manifest.to_json())

    def write_keywords(self, version: str, entries: list[KeywordEntry]) -> None:
        lines = (json.dumps(asdict(entry), ensure_ascii=False) for entry in entries)
        _write_durably(self.keywords_path(version), "".join(line + "\n" for line in lines))

    def read_keywords(self, version: str) -> list[KeywordEntry]:
        try:
            with self.keywords_path(version).open(encoding="utf-8") as handle:
                return [KeywordEntry(**json.loads(line)) for line in handle]
        except (OSError, ValueError, TypeError) as exc:
            raise IndexUnavailableError(
                f"cannot read the keyword sidecar of version {version}: {exc}"
            ) from exc

    def write_glossary(self, version: str, by_file: dict[str, Glossary]) -> None:
        data = {path: glossary.to_dict() for path, glossary in sorted(by_file.items())}
        _write_durably(self.glossary_path(version), json.dumps(data, ensure_ascii=False))

    def read_glossary(self, version: str) -> dict[str, Glossary]:
        """Each glossary file's groups, by path."""
        try:
            data = json.loads(self.glossary_path(version).read_text(encoding="utf-8"))
            return {path: Glossary.from_dict(part) for path, part in data.items()}
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            raise IndexUnavailableError(
                f"cannot read the glossary of version {version}: {exc}"
            ) from exc

    def publish(self, version: str) -> None:
        """Make `version` the one readers see, in one atomic step."""
        _write_durably(self.pointer, version + "\n")


def _write_durably(path: Path, content: str | bytes) -> None:
    """Write to a temporary file, fsync it, then rename over `path`: readers see old or new."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    data = content.encode("utf-8") if isinstance(content, str) else content
    with tmp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def store_kind(settings: Settings) -> str:
    """ "server" when a Chroma server is configured, else "local" (embedded, on disk)."""
    return "server" if settings.chroma_host else "local"


def store_spec(settings: Settings, version: str) -> dict[str, str]:
    """Where a new version's vectors live, as recorded in its manifest."""
    collection = collection_name(settings.chroma_collection_prefix, version)
    return {"kind": store_kind(settings), "collection": collection}


def open_client(settings: Settings, layout: IndexLayout, version: str, kind: str) -> ClientAPI:
    """A Chroma client for one version: embedded on local disk, or the configured server."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if kind == "server":
        if not settings.chroma_host:
            raise IndexUnavailableError(
                "this index lives on a Chroma server, but CHROMA_HOST is not set"
            )
        try:
            return chromadb.HttpClient(
                host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings
            )
        except ValueError as exc:  # chromadb's way of saying the server did not answer
            raise IndexServerUnreachableError(
                f"Chroma server {settings.chroma_host}:{settings.chroma_port}: {exc}"
            ) from exc
    return chromadb.PersistentClient(
        path=str(layout.chroma_path(version)), settings=chroma_settings
    )


def open_collection(settings: Settings, layout: IndexLayout, manifest: Manifest) -> Collection:
    """The published collection of `manifest`'s version, for reading."""
    client = open_client(settings, layout, manifest.version, manifest.store["kind"])
    try:
        return client.get_collection(manifest.store["collection"], embedding_function=None)
    except Exception as exc:  # chromadb raises NotFoundError, ValueError or HTTP errors
        raise IndexUnavailableError(
            f"collection {manifest.store['collection']} of version {manifest.version} "
            f"cannot be opened: {exc}"
        ) from exc
