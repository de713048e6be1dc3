"""The index version's vocabulary: the chunks' content words, each embedded on its own, so the
engine can tell that a question's word it cannot find in a passage means what one of the
passage's words means (soft term matching). Words of the previous version keep their vectors;
only new ones go through the model."""

from collections.abc import Callable, Iterable

import numpy as np

from alliance.index_format import Vocabulary
from alliance.language import words


def content_words(text: str, function_words: frozenset[str]) -> set[str]:
    """The words of `text` that can be evidence: not function words, digits or single letters."""
    return {
        word
        for word in words(text)
        if word not in function_words and not word.isdigit() and len(word) > 1
    }


def build_vocabulary(
    texts: Iterable[tuple[str, str]],
    function_words: frozenset[str],
    previous: Vocabulary | None,
    embed: Callable[[list[str]], list[list[float]]],
) -> Vocabulary:
    """The vocabulary of (text, audience) pairs; `embed` is called once, for the new words."""
    public: dict[str, bool] = {}
    for text, audience in texts:
        for word in content_words(text, function_words):
            public[word] = public.get(word, False) or audience == "public"
    ordered = tuple(sorted(public))
    known = {word: row for row, word in enumerate(previous.words)} if previous else {}
    new = [word for word in ordered if word not in known]
    fresh = {word: row for row, word in enumerate(new)}
    new_vectors = np.asarray(embed(new), np.float32).reshape(len(new), -1) if new else None
    dimension = (
        new_vectors.shape[1]
        if new_vectors is not None
        else (previous.vectors.shape[1] if previous is not None and len(previous.words) else 0)
    )
    vectors = np.zeros((len(ordered), dimension), np.float32)
    for row, word in enumerate(ordered):
        if word in fresh and new_vectors is not None:
            vectors[row] = new_vectors[fresh[word]]
        elif previous is not None:
            vectors[row] = previous.vectors[known[word]]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors /= np.where(norms == 0, 1, norms)
    return Vocabulary(ordered, vectors, np.array([public[word] for word in ordered], bool))
