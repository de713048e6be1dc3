"""Names across the two languages: "what is 巴蜀文化 called in English?", "学分银行办公室用英文怎么
说?". Every document comes in both languages, chunk for chunk (`PublishedIndex.counterparts`),
so the name is in the sentences of the counterpart chunk that say what the sentence naming it
says: those whose embeddings are closest to it (the model is multilingual)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bot.engine.judge_features import Candidate

if TYPE_CHECKING:
    from bot.engine.judge_features import Asked
    from bot.engine.retrieval import Retriever

# The least share of the question's words (weighed as evidence) a sentence in its language must
# hold to be the one that names what it asks about. Chosen on the corpus's dev part.
NAMED_AT = 0.5


# Counterpart sentences quoted: the closest is not always the one (two sentences of a section
# can say much the same), and the answer must hold the name.
ALIGNED = 2


@dataclass(frozen=True)
class Translation:
    named: Candidate  # the sentence in the question's language that names it
    translated: list[Candidate]  # the closest sentences of its counterpart, in their order


def translate(retriever: Retriever, asked: Asked, found: Sequence[Candidate]) -> Translation | None:
    """For a question that wants the other language's wording, the sentence of its own
    language that names what it asks about and the closest sentences of its counterpart chunk;
    None when no candidate names it or its document has no counterpart."""
    if asked.wanted == asked.language:
        return None
    evidence = retriever.evidence
    own = [c for c in found if c.passage.metadata.get("lang") == asked.language]
    scored = [(evidence.support(asked.concepts, c.text), -c.rank, c) for c in own]
    if not scored:
        return None
    support, _, named = max(scored, key=lambda item: item[:2])
    other = retriever.index.counterparts.get(named.passage.id)
    if support < NAMED_AT or other is None:
        return None
    index = retriever.index
    rows = index.sentence_rows.get(other, ())
    if not rows:
        return None
    closeness = index.sentences.vectors[list(rows)] @ index.sentences.vectors[named.row]
    closest = sorted(np.argsort(-closeness)[:ALIGNED].tolist())
    translated = [
        Candidate(index.passages[other], named.rank, n, rows[n], index.sentences.texts[rows[n]])
        for n in closest
    ]
    return Translation(named, translated)
