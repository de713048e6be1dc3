"""Split documents into chunks along headings, articles (第…条, Article N) and sentence ends."""

import hashlib
import re
from dataclasses import dataclass
from functools import cache

from langchain_text_splitters import RecursiveCharacterTextSplitter

from ingest.documents import Document

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_ARTICLE_START = re.compile(
    r"^(?=\s*(?:第[〇零一二三四五六七八九十百千0-9]+条|Article\s+\d+\b))", re.MULTILINE
)
_CJK_CHAR = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")

# Paragraphs first, then lines, then sentence ends in both languages, then clauses and words.
_SEPARATORS = ["\n\n", "\n", "。", "！", "？", "；", ". ", "! ", "? ", "; ", "，", ", ", " ", ""]

SECTION_SEPARATOR = " › "


def estimate_tokens(text: str) -> int:
    """About one model token per Chinese character or per four other characters."""
    cjk = len(_CJK_CHAR.findall(text))
    return cjk + (len(text) - cjk + 3) // 4


@dataclass(frozen=True)
class Chunk:
    id: str
    text: str
    metadata: dict[str, str | int]

    @property
    def embedding_text(self) -> str:
        """Title and section give a short passage the context its words alone lack."""
        heading = SECTION_SEPARATOR.join(
            str(part) for part in (self.metadata["title"], self.metadata["section"]) if part
        )
        return f"{heading}\n{self.text}"


def sections(body: str, title: str) -> list[tuple[str, str]]:
    """(section path, text) pairs from Markdown headings; a top heading equal to the title is
    dropped."""
    path: list[tuple[int, str]] = []
    result: list[tuple[str, list[str]]] = [("", [])]
    in_fence = False
    for line in body.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        heading = None if in_fence else _HEADING.match(line)
        if heading is None:
            result[-1][1].append(line)
            continue
        level, text = len(heading.group(1)), heading.group(2).strip()
        path = [(lvl, name) for lvl, name in path if lvl < level] + [(level, text)]
        names = [name for lvl, name in path if not (lvl == 1 and name == title)]
        result.append((SECTION_SEPARATOR.join(names), []))
    return [(name, "\n".join(lines).strip()) for name, lines in result if "\n".join(lines).strip()]


@cache
def _splitter(chunk_size: int, chunk_overlap: int) -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter(
        separators=_SEPARATORS,
        keep_separator="end",
        chunk_size=chunk_size,
        chunk_overlap=min(chunk_overlap, chunk_size // 2),
        length_function=estimate_tokens,
        strip_whitespace=True,
    )


def split_text(text: str, chunk_size: int, chunk_overlap: int) -> list[str]:
    """Articles start new pieces; a piece longer than chunk_size is split at sentence ends."""
    pieces = []
    for article in _ARTICLE_START.split(text):
        article = article.strip()
        if not article:
            continue
        if estimate_tokens(article) <= chunk_size:
            pieces.append(article)
        else:
            pieces.extend(_splitter(chunk_size, chunk_overlap).split_text(article))
    return pieces


def chunk_id(doc_id: str, content_hash: str, number: int) -> str:
    """Stable while the file is unchanged, new when it changes: vectors are reused by id."""
    digest = hashlib.sha256(f"{doc_id}\0{content_hash}".encode()).hexdigest()[:20]
    return f"{digest}-{number:04d}"


def chunk_document(
    document: Document, content_hash: str, chunk_size: int, chunk_overlap: int
) -> list[Chunk]:
    meta = document.meta
    base = {
        "doc_id": document.doc_id,
        "path": document.path,
        "title": meta.title,
        "topic": meta.topic,
        "audience": meta.audience,
        "lang": meta.lang,
        "status": meta.status,
        "source": meta.source,
        "updated": meta.updated.isoformat(),
        **document.extra,
    }
    chunks: list[Chunk] = []
    for section, text in sections(document.body, meta.title):
        for piece in split_text(text, chunk_size, chunk_overlap):
            number = len(chunks)
            chunks.append(
                Chunk(
                    id=chunk_id(document.doc_id, content_hash, number),
                    text=piece,
                    metadata={**base, "section": section, "chunk": number},
                )
            )
    return chunks
