"""The ingest run: discover, diff against the published version, load, split, embed, publish."""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from tqdm import tqdm

from alliance.embeddings import embedding_spec, make_embeddings
from alliance.errors import AllianceError
from alliance.index_format import (
    FileEntry,
    Glossary,
    IndexLayout,
    IndexUnavailableError,
    KeywordEntry,
    Manifest,
    Sentences,
    new_version_name,
    open_client,
    store_kind,
    store_spec,
)
from alliance.language import tokenize
from ingest.chunking import Chunk, chunk_document
from ingest.discovery import FileError, SourceFile, discover
from ingest.documents import LoadError
from ingest.glossary import is_glossary, load_glossary
from ingest.loaders import load_file
from ingest.sentences import build_sentences
from ingest.vector_writer import VersionWriter, remove_stale_versions, remove_version

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from alliance.settings import Settings

log = logging.getLogger(__name__)

EmbeddingsFactory = Callable[["Settings"], "Embeddings"]
# Told (stage, done, total) as a run goes: "reading" files, "embedding" chunks, "publishing".
ProgressListener = Callable[[str, int, int], None]


def _silent(stage: str, done: int, total: int) -> None:
    pass


class IngestError(AllianceError):
    """The run could not publish: a usage or configuration problem, or a failure while writing
    the new version. Nothing was published."""


class IngestBusyError(IngestError):
    """Another ingest holds the index folder's lock (another process, or another replica)."""


@dataclass
class Summary:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    chunks: int = 0
    errors: list[FileError] = field(default_factory=list)
    index_version: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def exit_code(self) -> int:
        return 1 if self.errors else 0


@dataclass
class _Plan:
    """What changes between the published version and the knowledge folder."""

    kept: dict[str, FileEntry]  # path -> entry whose vectors are copied as they are
    to_load: list[SourceFile]
    fallback: dict[str, FileEntry]  # last good entries of files to load, kept if loading fails
    removed: list[str]
    added: set[str]


@contextmanager
def _exclusive(layout: IndexLayout) -> Iterator[None]:
    try:
        layout.root.mkdir(parents=True, exist_ok=True)
        handle = layout.lock.open("a")
    except OSError as exc:
        raise IngestError(f"cannot write the index folder {layout.root}: {exc}") from exc
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IngestBusyError(f"another ingest is running on {layout.root}") from None
        yield


def _previous(layout: IndexLayout) -> Manifest | None:
    try:
        version = layout.current_version()
        return layout.read_manifest(version) if version else None
    except IndexUnavailableError as exc:
        log.warning("the published index is unreadable (%s); building a new one from scratch", exc)
        return None


def _plan(
    sources: list[SourceFile],
    unreadable: list[FileError],
    previous: Manifest | None,
    rebuild: bool,
) -> _Plan:
    old = {} if previous is None or rebuild else previous.files
    kept = {
        s.relpath: old[s.relpath]
        for s in sources
        if s.relpath in old and old[s.relpath].hash == s.hash
    }
    # A file that is now unreadable keeps its last good version: nothing is lost.
    kept |= {e.path: old[e.path] for e in unreadable if e.path in old}
    to_load = [s for s in sources if s.relpath not in kept]
    present = {s.relpath for s in sources} | {e.path for e in unreadable}
    previous_paths = set(previous.files) if previous else set()
    return _Plan(
        kept=kept,
        to_load=to_load,
        fallback={s.relpath: old[s.relpath] for s in to_load if s.relpath in old},
        removed=sorted(previous_paths - present),
        added={s.relpath for s in to_load if s.relpath not in previous_paths},
    )


@dataclass
class _Loaded:
    """What the files that changed hold: their entries, chunks and glossaries."""

    entries: dict[str, FileEntry] = field(default_factory=dict)
    chunks: list[Chunk] = field(default_factory=list)
    glossaries: dict[str, Glossary] = field(default_factory=dict)


def _load_and_split(
    plan: _Plan,
    settings: Settings,
    errors: list[FileError],
    progress: bool,
    listener: ProgressListener,
) -> _Loaded:
    loaded = _Loaded()
    reading = tqdm(plan.to_load, desc="reading", unit="file", disable=not progress)
    for done, source in enumerate(reading):
        listener("reading", done, len(plan.to_load))
        try:
            if is_glossary(source.relpath):  # no searchable text: words for matching
                title, glossary = load_glossary(source.relpath, source.data)
                loaded.glossaries[source.relpath] = glossary
                loaded.entries[source.relpath] = FileEntry(source.hash, [title], "public", [])
                continue
            documents = load_file(source.path, source.relpath, source.data)
            file_chunks = [
                chunk
                for document in documents
                for chunk in chunk_document(
                    document, source.hash, settings.chunk_size, settings.chunk_overlap
                )
            ]
            if not file_chunks:
                raise LoadError("no text to index")
        except Exception as exc:
            if not isinstance(exc, LoadError):  # a loader library failing in an undocumented way
                log.exception("unexpected failure loading %s", source.relpath)
            reason = str(exc) if isinstance(exc, LoadError) else f"{type(exc).__name__}: {exc}"
            errors.append(FileError(source.relpath, reason))
            if source.relpath in plan.fallback:  # nothing is lost: the last good version stays
                plan.kept[source.relpath] = plan.fallback[source.relpath]
            continue
        loaded.entries[source.relpath] = FileEntry(
            hash=source.hash,
            titles=sorted({document.meta.title for document in documents}),
            audience=",".join(sorted({document.meta.audience for document in documents})),
            chunk_ids=[chunk.id for chunk in file_chunks],
        )
        loaded.chunks.extend(file_chunks)
    return loaded


def _embed(
    chunks: list[Chunk],
    embeddings: Embeddings,
    batch_size: int,
    progress: bool,
    listener: ProgressListener,
) -> list[list[float]]:
    vectors: list[list[float]] = []
    with tqdm(total=len(chunks), desc="embedding", unit="chunk", disable=not progress) as bar:
        for start in range(0, len(chunks), batch_size):
            listener("embedding", start, len(chunks))
            batch = chunks[start : start + batch_size]
            vectors.extend(embeddings.embed_documents([chunk.embedding_text for chunk in batch]))
            bar.update(len(batch))
    return vectors


def run_ingest(
    settings: Settings,
    *,
    dry_run: bool = False,
    progress: bool = False,
    embeddings_factory: EmbeddingsFactory = make_embeddings,
    listener: ProgressListener = _silent,
) -> Summary:
    """Bring the published index in line with the knowledge folder, in one atomic publish;
    `progress` draws bars on the terminal, `listener` hears the same steps."""
    if not settings.knowledge_dir.is_dir():
        raise IngestError(f"knowledge folder {settings.knowledge_dir} is not a folder")
    layout = IndexLayout(settings.index_dir)
    with _exclusive(layout):
        previous = _previous(layout)
        sources, errors = discover(settings.knowledge_dir, int(settings.max_file_mb * 1_000_000))
        if not sources and not errors:
            raise IngestError(f"no documents found in {settings.knowledge_dir}")
        spec = embedding_spec(settings)
        chunking = {"chunk_size": settings.chunk_size, "chunk_overlap": settings.chunk_overlap}
        kind = store_kind(settings)
        if kind == "server":  # fail before minutes of embedding, not after
            open_client(settings, layout, "", kind)
        rebuild = previous is not None and (
            previous.embedding != spec
            or previous.chunking != chunking
            or previous.store["kind"] != kind
        )
        if rebuild:
            log.info("embedding, chunking or store changed since the published index: rebuilding")
        plan = _plan(sources, errors, previous, rebuild)
        loaded = _load_and_split(plan, settings, errors, progress, listener)
        new_entries = loaded.entries
        summary = Summary(
            added=len(plan.added & new_entries.keys()),
            updated=len(new_entries.keys() - plan.added),
            removed=len(plan.removed),
            unchanged=len(plan.kept),
            chunks=sum(len(e.chunk_ids) for e in (plan.kept | new_entries).values()),
            errors=errors,
            index_version=previous.version if previous else None,
        )
        if dry_run:
            return summary
        if not plan.kept and not new_entries:
            raise IngestError("no document could be indexed")
        if not (new_entries or plan.removed or rebuild):
            return summary
        version = new_version_name()
        manifest = Manifest(
            version=version,
            created=datetime.now(UTC).isoformat(timespec="seconds"),
            embedding=spec,
            chunking=chunking,
            store=store_spec(settings, version),
            files=dict(sorted((plan.kept | new_entries).items())),
        )
        kept_ids = [chunk_id for entry in plan.kept.values() for chunk_id in entry.chunk_ids]
        try:
            _write_version(
                settings, layout, previous, manifest, kept_ids, loaded, embeddings_factory,
                progress, listener,
            )  # fmt: skip
            listener("publishing", 0, 0)
            layout.publish(version)
        except AllianceError:
            _discard(settings, layout, manifest)
            raise
        except Exception as exc:  # a store or file system failing mid-write: a bug or a fault
            log.exception("writing index version %s failed", version)
            _discard(settings, layout, manifest)
            raise IngestError(
                f"writing index version {version} failed ({type(exc).__name__}: {exc})"
            ) from exc
        log.info("published index version %s (%d chunks)", version, manifest.chunk_count)
        summary.index_version = version
        keep = {version, previous.version} if previous else {version}
        try:
            remove_stale_versions(settings, layout, keep)
        except Exception:  # the new version is published; old ones go at the next run
            log.exception("published %s, but removing older index versions failed", version)
        return summary


def _discard(settings: Settings, layout: IndexLayout, manifest: Manifest) -> None:
    """Remove what a failed run wrote; best effort, as the next run removes leftovers too."""
    try:
        remove_version(settings, layout, manifest.version, manifest.store)
    except Exception:
        log.exception("removing unpublished version %s failed; the next run will", manifest.version)


def _write_version(
    settings: Settings,
    layout: IndexLayout,
    previous: Manifest | None,
    manifest: Manifest,
    kept_ids: list[str],
    loaded: _Loaded,
    embeddings_factory: EmbeddingsFactory,
    progress: bool,
    listener: ProgressListener,
) -> None:
    """Write every part of an unpublished version; the manifest last, as its seal."""
    new_chunks = loaded.chunks
    vectors = []
    model: list[Embeddings] = []  # loaded once, when something needs embedding

    def embeddings() -> Embeddings:
        if not model:
            model.append(embeddings_factory(settings))
        return model[0]

    if new_chunks:
        vectors = _embed(
            new_chunks, embeddings(), settings.embedding_batch_size, progress, listener
        )
    writer = VersionWriter(settings, layout, manifest.version, manifest.store)
    if previous is not None:
        writer.copy_from(previous, kept_ids)
    writer.add(new_chunks, vectors)
    keywords = _kept_keywords(layout, previous, set(kept_ids)) + [
        KeywordEntry(
            id=chunk.id,
            audience=str(chunk.metadata["audience"]),
            lang=str(chunk.metadata["lang"]),
            tokens=tokenize(chunk.embedding_text),
        )
        for chunk in new_chunks
    ]
    layout.write_keywords(manifest.version, keywords)
    # Unchanged glossary files (and broken ones, at their last good version) as they were.
    kept_glossaries = layout.read_glossary(previous.version) if previous is not None else {}
    glossaries = {
        path: glossary
        for path, glossary in kept_glossaries.items()
        if path in manifest.files and path not in loaded.glossaries
    }
    glossary = glossaries | loaded.glossaries
    layout.write_glossary(manifest.version, glossary)
    earlier = _earlier_sentences(layout, previous, manifest)
    sentences = build_sentences(
        new_chunks, set(kept_ids), earlier, lambda texts: embeddings().embed_documents(texts)
    )
    layout.write_sentences(manifest.version, sentences)
    layout.write_manifest(manifest)


def _earlier_sentences(
    layout: IndexLayout, previous: Manifest | None, manifest: Manifest
) -> Sentences | None:
    """The published version's sentences, whose vectors are reused; None when it has none that
    this run may reuse (a first build, or a change of embedding model)."""
    if previous is None or previous.embedding != manifest.embedding:
        return None
    try:
        return layout.read_sentences(previous.version)
    except IndexUnavailableError:
        return None


def _kept_keywords(
    layout: IndexLayout, previous: Manifest | None, kept_ids: set[str]
) -> list[KeywordEntry]:
    if previous is None or not kept_ids:
        return []
    return [entry for entry in layout.read_keywords(previous.version) if entry.id in kept_ids]
