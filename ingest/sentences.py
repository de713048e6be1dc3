"""The index version's sentences: every chunk cut into sentences, each embedded with its section
heading, for the engine's answer judge. Unchanged chunks keep their sentences' vectors."""

from collections.abc import Callable, Sequence

import numpy as np

from alliance.index_format import Sentences, sentence_context
from alliance.language import split_sentences
from ingest.chunking import Chunk


def build_sentences(
    new_chunks: Sequence[Chunk],
    kept_ids: set[str],
    previous: Sentences | None,
    embed: Callable[[list[str]], list[list[float]]],
) -> Sentences:
    """The previous version's sentences of the kept chunks, then the new chunks' sentences;
    `embed` is called once, for the new chunks' sentences (not at all when there are none)."""
    kept = (
        [row for row, chunk_id in enumerate(previous.chunk_ids) if chunk_id in kept_ids]
        if previous is not None
        else []
    )
    chunk_ids = [previous.chunk_ids[row] for row in kept] if previous is not None else []
    texts = [previous.texts[row] for row in kept] if previous is not None else []
    contexts = []
    for chunk in new_chunks:
        section = str(chunk.metadata.get("section", ""))
        for sentence in split_sentences(chunk.text):
            chunk_ids.append(chunk.id)
            texts.append(sentence)
            contexts.append(sentence_context(section, sentence))
    parts = [previous.vectors[kept]] if previous is not None and kept else []
    if contexts:
        parts.append(np.asarray(embed(contexts), np.float32).reshape(len(contexts), -1))
    if not parts:
        return Sentences.empty()
    vectors = np.vstack(parts)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return Sentences(tuple(chunk_ids), tuple(texts), vectors / np.where(norms == 0, 1, norms))
