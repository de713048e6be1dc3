"""YAML front matter: split it from a text document and validate it; sidecar files for the rest."""

from pathlib import Path

import yaml

from ingest.documents import DocumentMeta, LoadError, validate_meta

SIDECAR_SUFFIX = ".meta.yaml"


def split_front_matter(text: str) -> tuple[dict | None, str]:
    """Return (front matter mapping or None, body). A front matter block opens the text with ---."""
    if not text.startswith("---"):
        return None, text
    first_line, _, rest = text.partition("\n")
    if first_line.strip() != "---":
        return None, text
    lines = rest.split("\n")
    for number, line in enumerate(lines):
        if line.strip() in ("---", "..."):
            block, body = "\n".join(lines[:number]), "\n".join(lines[number + 1 :])
            return _parse_yaml(block, "front matter"), body
    raise LoadError("front matter opened with --- is never closed")


def sidecar_path(path: Path) -> Path:
    """Metadata for a file that cannot hold front matter (PDF, DOCX, HTML): NAME.EXT.meta.yaml."""
    return path.with_name(path.name + SIDECAR_SUFFIX)


def read_sidecar(path: Path) -> DocumentMeta | None:
    sidecar = sidecar_path(path)
    if not sidecar.is_file():
        return None
    try:
        text = sidecar.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LoadError(f"metadata file {sidecar.name} cannot be read: {exc}") from exc
    return validate_meta(_parse_yaml(text, f"metadata file {sidecar.name}"), sidecar.name)


def _parse_yaml(text: str, where: str) -> dict:
    try:
        values = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise LoadError(f"{where} is not valid YAML: {_first_line(exc)}") from None
    if not isinstance(values, dict):
        raise LoadError(f"{where} must be a mapping of keys to values")
    return values


def _first_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:200]
