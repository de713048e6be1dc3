"""BM25 keyword search over the sidecar's tokens, scored as one sparse matrix product."""

from collections.abc import Iterable, Sequence

import numpy as np
from scipy import sparse

from alliance.index_format import KeywordEntry

K1, B = 1.5, 0.75


class KeywordIndex:
    """Chunks' BM25 term weights precomputed, so a query costs one sparse product."""

    def __init__(self, entries: Iterable[KeywordEntry]) -> None:
        entries = list(entries)
        self.ids = [entry.id for entry in entries]
        self.audience = np.array([entry.audience for entry in entries])
        self._vocabulary: dict[str, int] = {}
        rows, cols = [], []
        for row, entry in enumerate(entries):
            for token in entry.tokens:
                rows.append(row)
                cols.append(self._vocabulary.setdefault(token, len(self._vocabulary)))
        shape = (len(entries), max(len(self._vocabulary), 1))
        counts = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=shape)
        counts.sum_duplicates()
        lengths = np.asarray(counts.sum(axis=1)).ravel()
        average = lengths.mean() if len(lengths) else 1.0
        document_frequency = np.bincount(counts.indices, minlength=shape[1])
        idf = np.log1p((len(entries) - document_frequency + 0.5) / (document_frequency + 0.5))
        self._idf = idf
        self._unseen_idf = float(np.log1p((len(entries) + 0.5) / 0.5))
        tf = counts.tocoo()
        norm = K1 * (1 - B + B * lengths[tf.row] / max(average, 1e-9))
        weights = idf[tf.col] * tf.data * (K1 + 1) / (tf.data + norm)
        self._weights = sparse.csr_matrix((weights, (tf.row, tf.col)), shape=shape)

    @property
    def words(self) -> list[str]:
        """Every token the index holds."""
        return list(self._vocabulary)

    def idf(self, token: str) -> float:
        """Rarity of a token in the index; a token the index never saw is rarest of all."""
        column = self._vocabulary.get(token)
        return self._unseen_idf if column is None else float(self._idf[column])

    def search(
        self, tokens: Sequence[str], audiences: Sequence[str], limit: int
    ) -> list[tuple[str, float]]:
        """Best `limit` chunks of the allowed audiences, as (id, score), best first."""
        columns = [self._vocabulary[token] for token in tokens if token in self._vocabulary]
        if not columns or not self.ids:
            return []
        query = np.bincount(columns, minlength=self._weights.shape[1]).astype(float)
        scores = self._weights @ query
        scores[~np.isin(self.audience, list(audiences))] = 0.0
        top = np.argsort(-scores, kind="stable")[:limit]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]
