"""Loaders: one file's bytes to documents, by file type; every failure is a LoadError."""

import io
import re
from collections.abc import Callable
from pathlib import Path

from ingest.catalogue import load_catalogue
from ingest.documents import Document, DocumentMeta, LoadError, validate_meta
from ingest.front_matter import read_sidecar, split_front_matter


def _decode(data: bytes) -> str:
    if b"\x00" in data:
        raise LoadError("binary content (NUL bytes) in a text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoadError(f"not valid UTF-8 text (at byte {exc.start})") from None


def _required_sidecar(path: Path) -> DocumentMeta:
    meta = read_sidecar(path)
    if meta is None:
        raise LoadError(
            f"no metadata: add YAML front matter, or a {path.name}.meta.yaml file beside it "
            "(title, topic, audience, lang, status, source, updated)"
        )
    return meta


def _document(path: Path, relpath: str, meta: DocumentMeta, body: str) -> list[Document]:
    body = re.sub(r"\n{3,}", "\n\n", body).strip()
    if not body:
        raise LoadError("no text to index")
    return [Document(doc_id=relpath, path=relpath, meta=meta, body=body)]


def load_text(path: Path, relpath: str, data: bytes) -> list[Document]:
    """Markdown or plain text, with YAML front matter (or a sidecar metadata file)."""
    front_matter, body = split_front_matter(_decode(data))
    if front_matter is None:
        meta = _required_sidecar(path)
    else:
        meta = validate_meta(front_matter, "front matter")
    return _document(path, relpath, meta, body)


def load_html(path: Path, relpath: str, data: bytes) -> list[Document]:
    from bs4 import BeautifulSoup

    meta = _required_sidecar(path)
    soup = BeautifulSoup(data, "html.parser")
    for tag in soup(["script", "style", "nav", "header", "footer", "noscript", "template"]):
        tag.decompose()
    for heading in soup.find_all(re.compile(r"^h[1-6]$")):
        level = int(heading.name[1])
        text = heading.get_text(" ", strip=True)
        heading.replace_with(f"\n\n{'#' * level} {text}\n\n" if text else "")
    root = soup.body or soup
    text = "\n".join(line.strip() for line in root.get_text("\n").splitlines())
    return _document(path, relpath, meta, text)


def load_pdf(path: Path, relpath: str, data: bytes) -> list[Document]:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    meta = _required_sidecar(path)
    page_heading = "第{}页" if meta.lang == "zh" else "Page {}"
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise LoadError("the PDF is encrypted")
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PyPdfError, ValueError, TypeError, KeyError, OSError) as exc:
        raise LoadError(f"corrupt or unreadable PDF: {exc}") from None
    if not any(page.strip() for page in pages):
        raise LoadError("the PDF has no extractable text (a scanned image?)")
    body = "\n\n".join(
        f"## {page_heading.format(number)}\n\n{text}"
        for number, text in enumerate(pages, start=1)
        if text.strip()
    )
    return _document(path, relpath, meta, body)


def load_docx(path: Path, relpath: str, data: bytes) -> list[Document]:
    import zipfile

    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    meta = _required_sidecar(path)
    try:
        document = docx.Document(io.BytesIO(data))
        blocks: list[str] = []
        for item in document.iter_inner_content():
            if isinstance(item, Table):
                blocks.extend(
                    " | ".join(cell.text.strip() for cell in row.cells) for row in item.rows
                )
                continue
            style = (item.style.name if item.style is not None else "") or ""
            level = re.fullmatch(r"Heading (\d)", style)
            prefix = "#" * int(level.group(1)) + " " if level else "# " if style == "Title" else ""
            blocks.append(prefix + item.text.strip())
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise LoadError(f"corrupt or unreadable DOCX: {exc}") from None
    return _document(path, relpath, meta, "\n\n".join(block for block in blocks if block.strip()))


def load_catalogue_file(path: Path, relpath: str, data: bytes) -> list[Document]:
    return load_catalogue(relpath, _decode(data))


Loader = Callable[[Path, str, bytes], list[Document]]

LOADERS: dict[str, Loader] = {
    ".md": load_text,
    ".markdown": load_text,
    ".txt": load_text,
    ".html": load_html,
    ".htm": load_html,
    ".pdf": load_pdf,
    ".docx": load_docx,
    ".yaml": load_catalogue_file,
    ".yml": load_catalogue_file,
}


def load_file(path: Path, relpath: str, data: bytes) -> list[Document]:
    """Documents from one file; raises LoadError with the reason when it cannot be indexed."""
    if not data.strip():
        raise LoadError("empty file")
    return LOADERS[path.suffix.lower()](path, relpath, data)
