"""Fakes at the edges: deterministic embeddings for bookkeeping tests, never for quality."""

import hashlib

import numpy as np
from langchain_core.embeddings import Embeddings

DIMENSION = 32


class FakeEmbeddings(Embeddings):
    """Same text, same unit vector; counts the texts it embedded."""

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def _vector(self, text: str) -> list[float]:
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
        vector = np.random.default_rng(seed).normal(size=DIMENSION)
        return (vector / np.linalg.norm(vector)).tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.embedded.extend(texts)
        return [self._vector(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)


def refuse_model(_settings: object) -> Embeddings:
    raise AssertionError("the embedding model must not be loaded here")
