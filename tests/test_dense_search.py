"""Dense search over the in-memory matrix: cosine ranking, the audience mask before ranking."""

import numpy as np

from bot.engine.dense_search import DenseIndex


def _index() -> DenseIndex:
    vectors = np.array([[1, 0], [0.9, 0.1], [0, 1], [-1, 0], [2, 0.05]], dtype=float)
    return DenseIndex(["a", "b", "c", "d", "staff"], vectors, ["public"] * 4 + ["staff"])


def test_ranks_by_cosine_similarity():
    assert _index().search([1, 0], ["public", "staff"], 3) == ["a", "staff", "b"]


def test_staff_chunks_never_reach_a_learner_however_close():
    index = _index()
    assert "staff" not in index.search([1, 0], ["public"], 5)
    assert index.search([1, 0], ["public"], 10) == ["a", "b", "c", "d"]


def test_no_allowed_chunks_or_no_chunks_gives_nothing():
    assert _index().search([1, 0], ["nobody"], 3) == []
    assert DenseIndex([], np.zeros((0, 2)), []).search([1, 0], ["public"], 3) == []


def test_a_zero_vector_does_not_fail():
    assert len(_index().search([0, 0], ["public"], 2)) == 2
