"""Find the indexable files under the knowledge folder and hash their content."""

import hashlib
import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from ingest.front_matter import SIDECAR_SUFFIX, sidecar_path
from ingest.loaders import LOADERS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SourceFile:
    relpath: str
    path: Path
    data: bytes
    hash: str


@dataclass(frozen=True)
class FileError:
    path: str
    error: str


def _content_hash(data: bytes, sidecar: Path) -> str:
    digest = hashlib.sha256(data)
    if sidecar.is_file():  # metadata edits must re-index the document too
        digest.update(b"\0sidecar\0" + sidecar.read_bytes())
    return digest.hexdigest()


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def discover(root: Path, max_bytes: int) -> tuple[list[SourceFile], list[FileError]]:
    """Every supported file below `root`, in path order, with the files that cannot be read."""
    root = root.resolve()
    found: list[SourceFile] = []
    errors: list[FileError] = []
    for folder, dirnames, filenames in os.walk(root):
        here = Path(folder)
        for name in list(dirnames):
            linked = (here / name).is_symlink()
            if linked:
                message = "symbolic link to a folder; not followed"
                errors.append(FileError(_rel(here / name, root), message))
            if linked or name.startswith("."):
                dirnames.remove(name)
        dirnames.sort()
        for name in sorted(filenames):
            path = here / name
            relpath = _rel(path, root)
            if name.startswith(".") or name.endswith(SIDECAR_SUFFIX):
                continue
            if path.suffix.lower() not in LOADERS:
                log.debug("ignoring %s: not a supported document type", relpath)
                continue
            try:
                if path.is_symlink() and not _inside(path.resolve(), root):
                    errors.append(
                        FileError(
                            relpath,
                            "symbolic link to a place outside the knowledge folder; not followed",
                        )
                    )
                    continue
                status = path.stat()
                if not stat.S_ISREG(status.st_mode):
                    errors.append(FileError(relpath, "not a regular file"))
                    continue
                size = status.st_size
                if size > max_bytes:
                    errors.append(
                        FileError(
                            relpath,
                            f"file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.1f} MB limit",
                        )
                    )
                    continue
                data = path.read_bytes()
                found.append(
                    SourceFile(relpath, path, data, _content_hash(data, sidecar_path(path)))
                )
            except OSError as exc:
                errors.append(FileError(relpath, f"cannot read: {exc.strerror or exc}"))
    found.sort(key=lambda source: source.relpath)
    return found, errors


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()
