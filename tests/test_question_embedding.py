"""The admin pages' question embedding (dashboard, review queue, /gaps) beside learners: the
real model, counted, on the one model thread."""

import asyncio
import threading

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from bot.engine.answering import EMBED_BATCH, Engine
from bot.engine.retrieval import PublishedIndex, Retriever

LEARNER = "Can I move credits from Chongqing to Chengdu, says the learner?"


class Counting(Embeddings):
    """The real model, recording every text it embeds (in order) and telling when the first
    logged question reaches it."""

    def __init__(self, model: Embeddings, first: str) -> None:
        self.model = model
        self.first = first
        self.calls: list[str] = []
        self.started = threading.Event()

    def embed_query(self, text: str) -> list[float]:
        self.calls.append(text)
        if self.first in text:
            self.started.set()
        return self.model.embed_query(text)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.embed_query(text) for text in texts]


def logged(count: int) -> list[str]:
    return [f"how many credits does course number {n} carry" for n in range(count)]


@pytest.fixture
def counting(shipped_index, real_embeddings) -> Counting:
    return Counting(real_embeddings, first=logged(1)[0])


@pytest.fixture
def engine(shipped_index, counting) -> Engine:
    return Engine(shipped_index, Retriever(PublishedIndex.load(shipped_index), counting))


async def test_a_learner_is_answered_between_batches_not_after_all_of_them(engine, counting):
    questions = logged(max(64, 4 * EMBED_BATCH))
    grouping = asyncio.create_task(engine.embed_questions(questions))
    await asyncio.to_thread(counting.started.wait, 60)  # the first batch is on the model thread
    answer = await engine.answer(LEARNER)
    await grouping
    assert not answer.abstained
    learner_at = next(n for n, text in enumerate(counting.calls) if "says the learner" in text)
    # The learner's question waited for the batch in progress (and at most the next, queued as
    # the first finished), not for all the others.
    assert learner_at <= 2 * EMBED_BATCH < len(questions)
    assert len([text for text in counting.calls if "course number" in text]) == len(questions)


async def test_each_wording_is_embedded_once_and_rows_keep_their_order(engine, counting):
    questions = logged(20)
    first = await engine.embed_questions([*questions, questions[0]])
    assert first.shape[0] == 21 and np.allclose(first[0], first[20])
    assert len(counting.calls) == 20  # the repeated question was embedded once
    again = await engine.embed_questions(list(reversed(questions)))
    assert len(counting.calls) == 20  # nothing embedded twice
    assert np.allclose(again, first[:20][::-1])
    assert (await engine.embed_questions([])).shape[0] == 0
