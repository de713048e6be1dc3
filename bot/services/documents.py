"""The knowledge folder as admins manage it, for every channel: each document with its
metadata and what the published index holds of it, and uploads written with their metadata
into `knowledge/uploads/` (checked by content, loaded once before they are kept)."""

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
from ingest.documents import DocumentMeta, LoadError, validate_meta
from ingest.front_matter import sidecar_path, split_front_matter
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


@dataclass(frozen=True)
class Listed:
    """A file in the knowledge folder and what the published index holds of it."""

    path: str
    meta: DocumentMeta | None
    error: str | None  # why it cannot be indexed, if it cannot
    chunks: int  # in the published version, 0 when it is not in it
    indexed: bool  # the published version holds this very content


def documents(settings: Settings) -> tuple[list[Listed], str | None]:
    """Every document under the knowledge folder, and the published index version."""
    layout = IndexLayout(settings.index_dir)
    try:
        version = layout.current_version()
        manifest = layout.read_manifest(version) if version else None
    except IndexUnavailableError:
        version, manifest = None, None
    sources, unreadable = discover(settings.knowledge_dir, int(settings.max_file_mb * 1_000_000))
    listed = [Listed(e.path, None, e.error, 0, False) for e in unreadable]
    for source in sources:
        entry = manifest.files.get(source.relpath) if manifest else None
        try:
            meta, error = load_file(source.path, source.relpath, source.data)[0].meta, None
        except LoadError as exc:
            meta, error = None, str(exc)
        except IndexError:  # a catalogue with no courses
            meta, error = None, "no documents in the file"
        listed.append(
            Listed(
                path=source.relpath,
                meta=meta,
                error=error,
                chunks=len(entry.chunk_ids) if entry else 0,
                indexed=entry is not None and entry.hash == source.hash,
            )
        )
    listed.sort(key=lambda item: item.path)
    return listed, version


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
