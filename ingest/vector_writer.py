"""Write one new index version's vectors: reuse unchanged chunks' vectors, add the new ones."""

import logging
import shutil
from collections.abc import Sequence

import numpy as np

from alliance.index_format import IndexLayout, Manifest, collection_name, open_client
from alliance.settings import Settings
from ingest.chunking import Chunk

log = logging.getLogger(__name__)

_BATCH = 256


class VersionWriter:
    """A new, unpublished collection for `version`; readers never see it until it is published."""

    def __init__(
        self, settings: Settings, layout: IndexLayout, version: str, store: dict[str, str]
    ) -> None:
        self._settings, self._layout = settings, layout
        self._client = open_client(settings, layout, version, store["kind"])
        self.collection = self._client.create_collection(
            store["collection"],
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"version": version},
            embedding_function=None,
        )

    def copy_from(self, previous: Manifest, ids: Sequence[str]) -> None:
        """Copy stored vectors, texts and metadata of unchanged chunks: no model call needed."""
        if not ids:
            return
        source_client = open_client(
            self._settings, self._layout, previous.version, previous.store["kind"]
        )
        source = source_client.get_collection(previous.store["collection"], embedding_function=None)
        for start in range(0, len(ids), _BATCH):
            batch = source.get(
                ids=list(ids[start : start + _BATCH]),
                include=["embeddings", "documents", "metadatas"],
            )
            if len(batch["ids"]) != len(ids[start : start + _BATCH]):
                raise RuntimeError(f"version {previous.version} is missing chunks it lists")
            self.collection.add(
                ids=batch["ids"],
                embeddings=batch["embeddings"],
                documents=batch["documents"],
                metadatas=batch["metadatas"],
            )

    def add(self, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None:
        for start in range(0, len(chunks), _BATCH):
            batch = chunks[start : start + _BATCH]
            self.collection.add(
                ids=[chunk.id for chunk in batch],
                embeddings=np.asarray(vectors[start : start + _BATCH], dtype=np.float32),
                documents=[chunk.text for chunk in batch],
                metadatas=[chunk.metadata for chunk in batch],
            )


def remove_stale_versions(settings: Settings, layout: IndexLayout, keep: set[str]) -> None:
    """Delete every version but `keep` (the published one and its predecessor, which a running
    engine may still be reading), including leftovers of runs that were killed."""
    if layout.versions.is_dir():
        for folder in layout.versions.iterdir():
            if folder.name not in keep:
                log.info("removing stale index version %s", folder.name)
                shutil.rmtree(folder, ignore_errors=True)
    if settings.chroma_host:
        client = open_client(settings, layout, "", "server")
        keep_names = {collection_name(settings.chroma_collection_prefix, v) for v in keep}
        prefix = f"{settings.chroma_collection_prefix}-"
        for collection in client.list_collections():
            if collection.name.startswith(prefix) and collection.name not in keep_names:
                log.info("removing stale collection %s", collection.name)
                client.delete_collection(collection.name)


def remove_version(
    settings: Settings, layout: IndexLayout, version: str, store: dict[str, str]
) -> None:
    """Delete one unpublished version: its folder and, on a Chroma server, its collection."""
    shutil.rmtree(layout.version_dir(version), ignore_errors=True)
    if store["kind"] == "server":
        client = open_client(settings, layout, version, "server")
        if store["collection"] in {collection.name for collection in client.list_collections()}:
            client.delete_collection(store["collection"])
