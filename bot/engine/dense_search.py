"""Dense search over one index version's vectors, held in memory as one matrix.

Chroma stores the vectors; asking it at query time with the audience filter cost 25 ms at
10,000 chunks (its metadata filter scans every row) against 0.15 ms for this product. The
audience mask is applied before ranking, so staff-only chunks never enter a learner's results.
"""

from collections.abc import Sequence

import numpy as np


class DenseIndex:
    def __init__(self, ids: list[str], vectors: np.ndarray, audiences: Sequence[str]) -> None:
        self.ids = ids
        matrix = np.asarray(vectors, dtype=np.float32).reshape(len(ids), -1 if ids else 0)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        self._matrix = matrix / np.where(norms == 0, 1, norms)  # cosine, as the collection's
        self._audience = np.array(audiences)
        self._rows = {chunk_id: row for row, chunk_id in enumerate(ids)}

    def similarities(self, vector: np.ndarray, ids: Sequence[str]) -> np.ndarray:
        """Cosine of `vector` (unit) with each chunk of `ids`."""
        found: np.ndarray = self._matrix[[self._rows[chunk_id] for chunk_id in ids]] @ vector
        return found

    def search(
        self, vector: Sequence[float] | np.ndarray, audiences: Sequence[str], limit: int
    ) -> list[str]:
        """Ids of the `limit` chunks of the allowed audiences most similar to `vector`."""
        if not self.ids:
            return []
        query = np.asarray(vector, dtype=np.float32)
        scores = self._matrix @ (query / (np.linalg.norm(query) or 1.0))
        scores[~np.isin(self._audience, list(audiences))] = -np.inf
        allowed = int(np.isfinite(scores).sum())
        count = min(limit, allowed)
        if count == 0:
            return []
        top = np.argpartition(-scores, count - 1)[:count]
        return [self.ids[i] for i in top[np.argsort(-scores[top], kind="stable")]]
