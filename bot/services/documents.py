"""The knowledge folder as admins manage it, for every channel: each document with its
metadata and what the published index holds of it; uploads written with their metadata into
`knowledge/uploads/` (checked by content, loaded once before they are kept); documents disabled
(kept in `knowledge/.disabled/`, which ingest passes by), enabled again, or deleted."""

from __future__ import annotations

import logging
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from io import BytesIO
from pathlib import Path

import yaml

from alliance.errors import AllianceError
from alliance.index_format import IndexLayout, IndexUnavailableError
from alliance.settings import Settings
from ingest.discovery import discover
from ingest.documents import LoadError, validate_meta
from ingest.front_matter import sidecar_path, split_front_matter
from ingest.glossary import is_glossary, load_glossary
from ingest.loaders import load_file

log = logging.getLogger(__name__)

UPLOADS = "uploads"  # the folder of knowledge/ that uploads go to
UPLOAD_SUFFIXES = (".md", ".txt", ".html", ".htm", ".pdf", ".docx")
# A file name: letters (any script), digits, spaces, dots, dashes and underscores, one suffix.
_NAME = re.compile(r"[\w\- ]{1,100}(\.[A-Za-z]{2,4})", re.UNICODE)


# Why an upload is refused, in English, by code: `str()` of an UploadError. A channel that
# speaks another language phrases the code and its parameters itself (bot/channels/web/texts.py).
UPLOAD_REFUSALS: dict[str, str] = {
    "folder": "the file name must not contain a folder",
    "name": "use a file name of letters, digits, spaces, '-' and '_' with one suffix, "
    "up to 100 characters",
    "suffix": "only {suffixes} files can be uploaded",
    "empty": "the file is empty",
    "too_large": "the file is {size:.1f} MB, over the {limit:.1f} MB limit",
    "not_pdf": "the file is named .pdf but is not a PDF",
    "not_docx": "the file is named .docx but is not a Word document",
    "not_utf8": "the file is named {suffix} but is not UTF-8 text",
    "binary": "the file is named {suffix} but holds binary data",
    "not_html": "the file is named .html but holds no HTML",
    "front_matter": "remove the file's front matter: the upload form sets its fields",
    "fields": "{reason}",
    "exists": "{path} exists already; choose replace to change it",
    "not_indexable": "the file cannot be indexed: {reason}",
}


class UploadError(AllianceError):
    """The upload is refused: `code` (a key of UPLOAD_REFUSALS) and its `params` say why, and
    the message says it in English, for the admin who sent it."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(UPLOAD_REFUSALS[code].format(**params))
        self.code = code
        self.params = params


DISABLED = ".disabled"  # the folder of knowledge/ that disabled documents are kept in


@dataclass(frozen=True)
class Described:
    """What a file holds, as the documents page shows it."""

    title: str = ""
    kind: str = "document"  # "document", "catalogue" (one document per course and language)
    # or "glossary" (words for matching, nothing to answer from)
    audience: str = ""
    languages: str = ""  # "en", "zh" or "en, zh"
    status: str = ""
    documents: int = 0  # searchable documents in the file
    error: str | None = None  # why it cannot be indexed, if it cannot


@dataclass(frozen=True)
class Listed:
    """A file in the knowledge folder and what the published index holds of it."""

    path: str
    about: Described
    chunks: int  # in the published version, 0 when it is not in it
    indexed: bool  # the published version holds this very content
    disabled: bool = False  # kept in knowledge/.disabled/, not indexed


class DocumentError(AllianceError):
    """No such document (or a path outside the knowledge folder), or its place is taken."""


def documents(settings: Settings) -> tuple[list[Listed], str | None]:
    """Every document under the knowledge folder (the disabled ones too), and the published
    index version."""
    layout = IndexLayout(settings.index_dir)
    try:
        version = layout.current_version()
        manifest = layout.read_manifest(version) if version else None
    except IndexUnavailableError:
        version, manifest = None, None
    max_bytes = int(settings.max_file_mb * 1_000_000)
    listed = []
    for disabled, root in ((False, settings.knowledge_dir), (True, _disabled(settings))):
        sources, unreadable = discover(root, max_bytes) if root.is_dir() else ([], [])
        listed += [Listed(e.path, Described(error=e.error), 0, False, disabled) for e in unreadable]
        for source in sources:
            entry = manifest.files.get(source.relpath) if manifest and not disabled else None
            listed.append(
                Listed(
                    path=source.relpath,
                    about=describe(source.path, source.relpath, source.data),
                    chunks=len(entry.chunk_ids) if entry else 0,
                    indexed=entry is not None and entry.hash == source.hash,
                    disabled=disabled,
                )
            )
    listed.sort(key=lambda item: (item.disabled, item.path))
    return listed, version


def describe(path: Path, relpath: str, data: bytes) -> Described:
    """A file's title, kind, audience, languages and status, or why it cannot be indexed."""
    try:
        if is_glossary(relpath):
            title, _ = load_glossary(relpath, data)
            return Described(title=title, kind="glossary", languages="en, zh")
        loaded = load_file(path, relpath, data)
    except LoadError as exc:
        return Described(error=str(exc))
    if not loaded:
        return Described(error="no documents in the file")
    meta = loaded[0].meta
    languages = ", ".join(sorted({document.meta.lang for document in loaded}))
    common = {"audience": meta.audience, "status": meta.status, "languages": languages}
    if relpath.endswith((".yaml", ".yml")):
        title = _catalogue_title(data) or meta.title
        return Described(title=title, kind="catalogue", documents=len(loaded), **common)
    return Described(title=meta.title, documents=len(loaded), **common)


def _catalogue_title(data: bytes) -> str:
    """A catalogue's own title ("Shared course catalogue / 共享课程目录"), not its first
    course's; "" when it has none."""
    try:
        title = yaml.safe_load(data.decode("utf-8"))["catalogue"]["title"]
    except (UnicodeDecodeError, yaml.YAMLError, KeyError, TypeError):
        return ""
    if isinstance(title, dict):
        return " / ".join(str(title[lang]) for lang in ("en", "zh") if title.get(lang))
    return str(title)


def _disabled(settings: Settings) -> Path:
    return settings.knowledge_dir / DISABLED


def _document(root: Path, relpath: str) -> Path:
    """The file at `relpath` under `root`, never outside it; DocumentError for anything else."""
    parts = Path(relpath).parts
    if not relpath or Path(relpath).is_absolute() or ".." in parts or "\0" in relpath:
        raise DocumentError(f"no document {relpath!r}")
    path = root / relpath
    resolved, base = path.resolve(), root.resolve()
    if base not in resolved.parents or not path.is_file() or path.is_symlink():
        raise DocumentError(f"no document {relpath!r}")
    return path


def set_enabled(settings: Settings, relpath: str, enabled: bool) -> None:
    """Move a document (with its metadata file) out of the knowledge folder's indexed part into
    knowledge/.disabled/, or back; the next re-index drops it, or adds it again."""
    knowledge, disabled = settings.knowledge_dir, _disabled(settings)
    source_root, target_root = (disabled, knowledge) if enabled else (knowledge, disabled)
    path = _document(source_root, relpath)
    target = target_root / relpath
    if target.exists():
        raise DocumentError(f"{relpath} exists there already")
    target.parent.mkdir(parents=True, exist_ok=True)
    if sidecar_path(path).exists():
        sidecar_path(path).replace(sidecar_path(target))
    path.replace(target)
    log.info("document %s %s", relpath, "enabled" if enabled else "disabled")


def delete_document(settings: Settings, relpath: str, disabled: bool) -> None:
    """Delete a document (an enabled or a disabled one) and its metadata file."""
    root = _disabled(settings) if disabled else settings.knowledge_dir
    path = _document(root, relpath)
    sidecar_path(path).unlink(missing_ok=True)
    path.unlink()
    log.info("document %s deleted", relpath)


def upload_name(name: str) -> str:
    """The name an upload is kept under; UploadError for a path, a hidden file or a type that
    is not a document."""
    name = name.strip()
    if "/" in name or "\\" in name or "\0" in name:
        raise UploadError("folder")
    match = _NAME.fullmatch(name)
    if name.startswith((".", "-")) or match is None:
        raise UploadError("name")
    if match.group(1).lower() not in UPLOAD_SUFFIXES:
        raise UploadError("suffix", suffixes=", ".join(UPLOAD_SUFFIXES))
    return name


def check_content(name: str, data: bytes, max_bytes: int) -> None:
    """UploadError when the bytes are not the kind of document the name says."""
    if not data.strip():
        raise UploadError("empty")
    if len(data) > max_bytes:
        raise UploadError("too_large", size=len(data) / 1e6, limit=max_bytes / 1e6)
    suffix = Path(name).suffix.lower()
    if suffix == ".pdf":
        if not data.startswith(b"%PDF-"):
            raise UploadError("not_pdf")
    elif suffix == ".docx":
        if not _is_docx(data):
            raise UploadError("not_docx")
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise UploadError("not_utf8", suffix=suffix) from None
        if "\0" in text:
            raise UploadError("binary", suffix=suffix)
        if suffix in (".html", ".htm") and not re.search(r"<\s*[a-zA-Z!]", text):
            raise UploadError("not_html")
        if suffix in (".md", ".txt") and split_front_matter(text)[0] is not None:
            raise UploadError("front_matter")


def _is_docx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def upload_exists(settings: Settings, name: str) -> bool:
    """Whether an upload of this name is in the knowledge folder already (adding it again
    replaces it: the console and Telegram ask first)."""
    return (settings.knowledge_dir / UPLOADS / upload_name(name)).exists()


def add_document(
    settings: Settings, name: str, data: bytes, fields: Mapping[str, object], replace: bool = False
) -> str:
    """Write an upload and its metadata into knowledge/uploads/; its path in the knowledge
    folder. The file is loaded as ingest will load it, and refused (nothing kept) if it
    cannot be."""
    name = upload_name(name)
    check_content(name, data, int(settings.web_upload_max_mb * 1_000_000))
    fields = {"updated": date.today(), **fields}
    try:
        meta = validate_meta(fields, "the document's fields")
    except LoadError as exc:
        raise UploadError("fields", reason=str(exc)) from None
    folder = settings.knowledge_dir / UPLOADS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if path.exists() and not replace:
        raise UploadError("exists", path=f"{UPLOADS}/{name}")
    relpath = f"{UPLOADS}/{name}"
    # Hidden (ingest passes them by) with the real suffix (the loader goes by it) until loaded.
    staged = folder / f".staged-{name}"
    staged_meta = folder / f".staged-{name}.meta.part"
    try:
        staged.write_bytes(data)
        staged_meta.write_text(
            yaml.safe_dump(meta.model_dump(), allow_unicode=True, sort_keys=False),
            encoding="utf-8",
        )
        staged_meta.replace(sidecar_path(staged))  # where the loader looks for it
        load_file(staged, relpath, data)
    except LoadError as exc:
        staged.unlink(missing_ok=True)
        sidecar_path(staged).unlink(missing_ok=True)
        raise UploadError("not_indexable", reason=str(exc)) from None
    finally:
        staged_meta.unlink(missing_ok=True)
    sidecar_path(staged).replace(sidecar_path(path))
    staged.replace(path)
    log.info("document %s added (%d bytes)", relpath, len(data))
    return relpath
