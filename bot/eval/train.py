"""`python -m bot.eval.train [--index DIR] [--seed N] [--out FILE] [--json]`: train the answer
judge on the corpus's train part, choose between its designs and every setting on the dev part,
and write it where the engine loads it (`bot/engine/judges/<backend>.npz`). The held-out part is
never read. The same seed and index give the same judge. Needs scikit-learn (the dev extra).

Designs compared (`DESIGNS`): a logistic regression over the hand-made pair features alone, a
small network that also reads the two embeddings, and that network with the known questions'
evidence too. Each is a pair model (does this sentence answer?) and, over its out-of-fold
outputs (by writer), a question model (is the question answered at all?)."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from alliance.embeddings import embedding_spec, make_embeddings, require_backend
from alliance.errors import AllianceError
from alliance.extras import missing_extra
from alliance.logging_setup import configure_logging
from alliance.settings import settings_or_exit
from bot.engine.answering import read_question
from bot.engine.judge import Judge, Layers, Selection, judge_path
from bot.engine.judge_features import Asked, Candidate, find_candidates
from bot.engine.known_questions import KnownQuestions, sentence_key
from bot.engine.results import audiences_for
from bot.engine.retrieval import PublishedIndex, Retriever
from bot.eval.corpus import CORPUS, answers, holds_fact, load_corpus, writers
from bot.eval.gold import GoldQuestion


@dataclass(frozen=True)
class Design:
    name: str
    with_embeddings: bool
    with_known: bool
    hidden: tuple[int, ...]  # hidden layer sizes of the pair model; () a logistic regression


DESIGNS = (
    Design("logistic regression, hand-made features", False, False, ()),
    Design("network, embeddings and hand-made features", True, False, (64,)),
    Design("logistic regression, hand-made features and known questions", False, True, ()),
    Design("network, hand-made features and known questions", False, True, (32,)),
    Design("network, embeddings, hand-made features and known questions", True, True, (64,)),
)
# The most answerable dev questions a threshold may refuse, per language.
MAX_REFUSED = 0.05
THRESHOLDS = np.round(np.arange(0.02, 0.98, 0.01), 2)
FLOORS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)
SELECTIONS = [
    Selection(least=least, ratio=ratio, most=most)
    for least in (0.05, 0.1, 0.2, 0.3, 0.5)
    for ratio in (0.1, 0.2, 0.3, 0.5, 0.7)
    for most in (1, 2, 3, 4, 5)
]
MAX_ANSWER_CHARS = 900
# The share of answered train questions also weighed as if their answers were new (nobody had
# asked about them): a judge that has only seen known answers refuses what a new document says.
FRESH_SHARE = 0.5
# How much the designs' comparison weighs questions about new content (answered questions
# weighed as if nobody had asked about their answers) beside the dev part as it is.
NEW_CONTENT = 0.25
SELECTION_SLACK = 0.01


@dataclass(frozen=True)
class Reading:
    """One corpus question as the engine reads it, with the sentences of the whole index that
    answer it (their keys)."""

    gold: GoldQuestion
    asked: Asked
    answer_keys: frozenset[str]

    @property
    def answered(self) -> bool:
        """Answerable, by sentences the index holds (a label that maps to none is left out)."""
        return self.gold.answerable and bool(self.answer_keys)


@dataclass(frozen=True)
class Example:
    """A reading with its candidates, as the judge weighs them, and their labels."""

    reading: Reading
    passages: list[Any]
    found: list[Candidate]
    labels: np.ndarray  # which candidates answer it
    # Weighed as if what answers it were new: no known question answered by those sentences
    # (a document added after training has none).
    fresh: bool = False

    @property
    def gold(self) -> GoldQuestion:
        return self.reading.gold

    @property
    def asked(self) -> Asked:
        return self.reading.asked

    @property
    def answered(self) -> bool:
        """One of the candidates answers it."""
        return bool(self.labels.any())

    @property
    def usable(self) -> bool:
        """Unanswerable, or answered by a candidate (else its answer was not retrieved)."""
        return not self.gold.answerable or self.answered


def readings(retriever: Retriever, questions: Sequence[GoldQuestion]) -> list[Reading]:
    every = [
        Candidate(retriever.index.passages[chunk], 0, 0, row, text)
        for row, (chunk, text) in enumerate(
            zip(retriever.index.sentences.chunk_ids, retriever.index.sentences.texts, strict=True)
        )
    ]
    found = []
    for gold in questions:
        history = [(asked, "") for asked in gold.history]
        resolved, language = read_question(retriever, gold.question, history)
        text = retriever.evidence.corrected(resolved)  # as `_answer` reads it
        readable = [
            c for c in every if c.passage.metadata.get("audience") in audiences_for(gold.role)
        ]
        labels = answers(gold, readable)
        keys = {sentence_key(c.text) for c, y in zip(readable, labels, strict=True) if y}
        found.append(Reading(gold, Asked.read(retriever, text, language), frozenset(keys)))
    return found


def known_questions(train: Sequence[Reading]) -> KnownQuestions:
    """The train part's questions, with the sentences that answer them."""
    return KnownQuestions(
        np.array([r.asked.vector for r in train], np.float32),
        np.array([r.answered for r in train], bool),
        [sorted(r.answer_keys) if r.answered else [] for r in train],
    )


def unseen(known_from: Sequence[Reading], reading: Reading, fresh: bool) -> np.ndarray:
    """The known questions a question may not see: a train question's own writer's, and when
    `fresh`, every one answered by a sentence that answers it."""
    hidden = np.zeros(len(known_from), bool)
    if reading.gold.split == "train":
        hidden |= np.array([r.gold.writer == reading.gold.writer for r in known_from])
    if fresh:
        hidden |= np.array([bool(r.answer_keys & reading.answer_keys) for r in known_from])
    return hidden


def examples(
    retriever: Retriever,
    judge: Judge,
    known_from: Sequence[Reading],
    found: Sequence[Reading],
    fresh: bool = False,
) -> list[Example]:
    """Each reading's candidates as `judge` finds them (proposed by the known questions it
    may see) and their labels; `fresh`, as if their answers were new (answered readings only)."""
    made = []
    for reading in found:
        if fresh and not reading.answered:
            continue
        hidden = unseen(known_from, reading, fresh)
        recalled = judge.recall(retriever, reading.asked.vector, hidden)
        proposed = judge.known_for(retriever).proposed(recalled) if judge.with_known else []
        passages, candidates = find_candidates(
            retriever, reading.asked, reading.gold.role, proposed=proposed
        )
        labels = np.array([sentence_key(c.text) in reading.answer_keys for c in candidates])
        made.append(Example(reading, passages, candidates, labels, fresh))
    return made


def _layers(model: Any, mean: np.ndarray, scale: np.ndarray) -> Layers:
    """A fitted scikit-learn classifier (logistic regression or MLP) as numpy layers."""
    if hasattr(model, "coefs_"):
        weights, biases = model.coefs_, model.intercepts_
    else:
        weights, biases = [model.coef_.T], [model.intercept_]
    return Layers(
        mean=mean.astype(np.float32),
        scale=scale.astype(np.float32),
        weights=tuple(np.asarray(w, np.float32) for w in weights),
        biases=tuple(np.asarray(b, np.float32) for b in biases),
    )


def _fit(inputs: np.ndarray, targets: np.ndarray, hidden: tuple[int, ...], seed: int) -> Layers:
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    mean = inputs.mean(axis=0)
    scale = inputs.std(axis=0)
    scale[scale < 1e-6] = 1.0
    standard = (inputs - mean) / scale
    if hidden:
        model: Any = MLPClassifier(
            hidden_layer_sizes=hidden,
            alpha=1e-1 if hidden[0] > 32 else 1e-3,
            max_iter=300,
            early_stopping=True,
            random_state=seed,
        )
    else:
        model = LogisticRegression(max_iter=3000, C=1.0)
    model.fit(standard, targets)
    return _layers(model, mean, scale)


_EMPTY = Layers(np.zeros(1), np.ones(1), (np.zeros((1, 1)),), (np.zeros(1),))


class Trainer:
    """Fits one design on the train part."""

    def __init__(
        self, retriever: Retriever, train: list[Reading], design: Design, seed: int
    ) -> None:
        self.retriever = retriever
        self.readings = train
        self.design = design
        self.seed = seed
        self.known = known_questions(train)
        self.scaffold = self.judge(_EMPTY, _EMPTY)
        # Every question as it is, and a share of the answered ones again as if their answers
        # were new.
        chosen = np.random.default_rng(seed).random(len(train)) < FRESH_SHARE
        renewed = [reading for reading, pick in zip(train, chosen, strict=True) if pick]
        self.train = examples(retriever, self.scaffold, train, train) + (
            examples(retriever, self.scaffold, train, renewed, fresh=True)
            if design.with_known
            else []
        )

    def judge(self, pair: Layers, question: Layers) -> Judge:
        return Judge(
            pair=pair,
            question=question,
            with_embeddings=self.design.with_embeddings,
            with_known=self.design.with_known,
            thresholds={"en": 0.5, "zh": 0.5},
            floors={"en": 0.0, "zh": 0.0},
            selection=Selection(),
            known=self.known,
            about={},
        )

    def _pair_rows(self, examples: Sequence[Example]) -> tuple[np.ndarray, np.ndarray]:
        rows, targets = [], []
        for example in examples:
            if example.usable and example.found:
                rows.append(self._features(self.scaffold, example))
                targets.append(example.labels)
        return np.vstack(rows), np.concatenate(targets)

    def _recalled(self, judge: Judge, example: Example) -> Any:
        hidden = unseen(self.readings, example.reading, example.fresh)
        return judge.recall(self.retriever, example.asked.vector, hidden)

    def _features(self, judge: Judge, example: Example) -> np.ndarray:
        recalled = self._recalled(judge, example)
        return judge.features(self.retriever, example.asked, example.found, recalled)

    def fit(self) -> Judge:
        """The pair model on every train question; the question model on the pair model's
        outputs for each writer's questions from a pair model fitted without that writer."""
        pair = _fit(*self._pair_rows(self.train), self.design.hidden, self.seed)
        summaries, answered = [], []
        for writer in sorted({e.gold.writer for e in self.train}):
            rest = [e for e in self.train if e.gold.writer != writer]
            fold = self.judge(_fit(*self._pair_rows(rest), self.design.hidden, self.seed), _EMPTY)
            for example in self.train:
                if example.gold.writer == writer and example.usable and example.found:
                    recalled = self._recalled(fold, example)
                    summaries.append(
                        fold.summary(self.retriever, example.asked, example.found, recalled)[1]
                    )
                    answered.append(example.answered)
        question = _fit(np.array(summaries), np.array(answered), (), self.seed)
        return self.judge(pair, question)


def weigh(
    judge: Judge, retriever: Retriever, example: Example, known_from: Sequence[Reading]
) -> tuple[np.ndarray, float]:
    """The pair probabilities and the question's probability of being answered (by the known
    questions `known_from` that the example may see)."""
    if not example.found:
        return np.zeros(0, np.float32), 0.0
    hidden = unseen(known_from, example.reading, example.fresh)
    recalled = judge.recall(retriever, example.asked.vector, hidden)
    probabilities, summary = judge.summary(retriever, example.asked, example.found, recalled)
    return probabilities, float(judge.question.probability(summary[None, :])[0])


def choose_thresholds(
    dev: Sequence[Example], weighed: Sequence[tuple[np.ndarray, float]]
) -> tuple[dict[str, float], dict[str, float]]:
    """Per language, the threshold on the question's probability and the floor on its best
    sentence's that together refuse the most unanswerable dev questions while refusing at most
    MAX_REFUSED of the answerable ones (the higher pair of equals)."""
    answered = np.array([w[1] for w in weighed])
    best = np.array([float(w[0].max()) if len(w[0]) else 0.0 for w in weighed])
    thresholds, floors = {}, {}
    for language in ("en", "zh"):
        mine = np.array([e.asked.language == language for e in dev])
        answerable = np.array([e.gold.answerable for e in dev]) & mine
        unanswerable = ~np.array([e.gold.answerable for e in dev]) & mine
        chosen = (-1.0, 0.0, 0.0)
        for floor in FLOORS:
            for threshold in THRESHOLDS:
                refused = (answered < threshold) | (best < floor)
                if float(np.mean(refused[answerable])) > MAX_REFUSED:
                    continue
                caught = float(np.mean(refused[unanswerable]))
                if (caught, threshold + floor) > (chosen[0], chosen[1] + chosen[2]):
                    chosen = (caught, float(threshold), float(floor))
        _, thresholds[language], floors[language] = chosen
    return thresholds, floors


def facts_held(
    judge: Judge,
    found: Sequence[Example],
    weighed: Sequence[tuple[np.ndarray, float]],
) -> tuple[float, int]:
    """The share of the answerable examples the judge answers quoting every key fact within
    the answer's length, and how many sentences it quotes in all."""
    hits = total = quoted = 0
    for example, (probabilities, answered) in zip(found, weighed, strict=True):
        if not example.gold.answerable or not example.found:
            continue
        total += 1
        if not judge.covers(probabilities, answered, example.asked.language):
            continue
        chosen = judge.choose(example.asked, example.found, probabilities)
        quoted += len(chosen)
        text = " ".join(c.text for c in chosen)
        hits += len(text) <= MAX_ANSWER_CHARS and all(
            holds_fact(fact, text) for fact in example.gold.facts
        )
    return hits / max(total, 1), quoted


def choose_selection(
    judge: Judge, dev: Sequence[Example], weighed: Sequence[tuple[np.ndarray, float]]
) -> tuple[Selection, float]:
    """The selection whose quoted sentences hold every key fact of the most answered dev
    questions, within the answer's length; of those within SELECTION_SLACK of the best, the one
    that quotes the fewest sentences (answers are read by people)."""
    scored = [
        (*facts_held(replace(judge, selection=selection), dev, weighed), selection)
        for selection in SELECTIONS
    ]
    best = max(share for share, _, _ in scored)
    share, _, fewest = min(
        (item for item in scored if item[0] >= best - SELECTION_SLACK), key=lambda i: i[1]
    )
    return fewest, share


def dev_figures(
    dev: Sequence[Example], weighed: Sequence[tuple[np.ndarray, float]], judge: Judge
) -> dict[str, Any]:
    """The judge on the dev part: the answerable refused, the unanswerable caught (by kind),
    and how often its best sentence answers."""
    figures: dict[str, Any] = {}
    for language in ("en", "zh"):
        mine = [(e, w) for e, w in zip(dev, weighed, strict=True) if e.asked.language == language]
        answerable = [(e, w) for e, w in mine if e.gold.answerable and e.answered]
        unanswerable = [(e, w) for e, w in mine if not e.gold.answerable]
        kinds: dict[str, list[bool]] = {}
        for e, w in unanswerable:
            kinds.setdefault(e.gold.category, []).append(not judge.covers(*w, e.asked.language))
        figures[language] = {
            "answerable refused": _share(
                sum(not judge.covers(*w, e.asked.language) for e, w in answerable), answerable
            ),
            "best sentence answers": _share(
                sum(bool(e.labels[int(np.argmax(w[0]))]) for e, w in answerable), answerable
            ),
            "unanswerable caught": _share(
                sum(not judge.covers(*w, e.asked.language) for e, w in unanswerable), unanswerable
            ),
            "caught by kind": {k: round(sum(v) / len(v), 3) for k, v in sorted(kinds.items())},
        }
    return figures


def _share(hits: int, of: Sequence[Any]) -> float | None:
    return round(hits / len(of), 3) if of else None


def corpus_digest() -> str:
    """A digest of the corpus files a judge is trained from: the train and dev writers'."""
    digest = hashlib.sha256()
    for writer, part in sorted(writers().items()):
        if part in ("train", "dev"):
            digest.update((CORPUS / f"{writer}.yaml").read_bytes())
    return digest.hexdigest()[:16]


def train(
    retriever: Retriever,
    seed: int,
    backend_model: str,
    questions: Sequence[GoldQuestion] | None = None,
    designs: Sequence[Design] = DESIGNS,
) -> tuple[Judge, dict[str, Any]]:
    """The best of `designs` trained on the train part of `questions` (the corpus's train and
    dev parts unless given) and tuned on their dev part, with a report of what was compared."""
    if questions is None:
        questions = load_corpus(("train", "dev"))
    found = readings(retriever, questions)
    train_part = [r for r in found if r.gold.split == "train"]
    dev_part = [r for r in found if r.gold.split == "dev"]
    compared = []
    for design in designs:
        judge = Trainer(retriever, train_part, design, seed).fit()
        dev = examples(retriever, judge, train_part, dev_part)
        weighed = [weigh(judge, retriever, e, train_part) for e in dev]
        thresholds, floors = choose_thresholds(dev, weighed)
        judge = replace(judge, thresholds=thresholds, floors=floors)
        selection, held = choose_selection(judge, dev, weighed)
        judge = replace(judge, selection=selection)
        figures = dev_figures(dev, weighed, judge)
        fresh = examples(retriever, judge, train_part, dev_part, fresh=True)
        fresh_weighed = [weigh(judge, retriever, e, train_part) for e in fresh]
        for language, found in dev_figures(fresh, fresh_weighed, judge).items():
            figures[language]["as if new: answerable refused"] = found["answerable refused"]
            figures[language]["as if new: best sentence answers"] = found["best sentence answers"]
        new_held, _ = facts_held(judge, fresh, fresh_weighed)
        figures["as if new: key facts quoted"] = round(new_held, 3)
        caught = float(np.mean([figures[lang]["unanswerable caught"] for lang in ("en", "zh")]))
        answerable = float(np.mean([e.gold.answerable for e in dev]))
        right = answerable * held + (1 - answerable) * caught
        right = (1 - NEW_CONTENT) * right + NEW_CONTENT * new_held
        compared.append((right, caught, held, design, judge, figures))
    # The design that handles the most dev questions right (answerable ones with their key
    # facts quoted, the others refused), questions about new content counted too.
    right, caught, held, design, judge, figures = max(compared, key=lambda c: c[0])
    about = {
        "trained on": f"bot/eval/corpus, train part ({len(train_part)} questions)",
        "settings chosen on": f"dev part ({len(dev_part)} questions)",
        "corpus": corpus_digest(),
        "embedding": backend_model,
        "seed": seed,
        "design": design.name,
        "known questions": len(judge.known),
        "dev": figures,
        "dev key facts in the quoted sentences": round(held, 3),
        "designs compared": {
            d.name: {
                "right": round(r, 3),
                "unanswerable caught": round(c, 3),
                "key facts": round(f, 3),
                "dev": fig,
            }
            for r, c, f, d, _, fig in compared
        },
    }
    return replace(judge, about=about), about


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.eval.train", description=__doc__)
    parser.add_argument("--index", type=Path, help="index folder (default: INDEX_DIR)")
    parser.add_argument("--seed", type=int, default=0, help="the networks' seed (default 0)")
    parser.add_argument("--out", type=Path, help="where to write the judge (default: packaged)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    settings = settings_or_exit("bot.eval.train", index_dir=args.index)
    configure_logging("WARNING")
    try:
        import sklearn  # noqa: F401
    except ImportError:
        print(f"bot.eval.train: {missing_extra('training the judge', 'dev', 'sklearn')}",
              file=sys.stderr)  # fmt: skip
        return 2
    try:
        require_backend(settings)
        retriever = Retriever(PublishedIndex.load(settings), make_embeddings(settings))
        judge, about = train(retriever, args.seed, embedding_spec(settings).model)
    except (AllianceError, OSError, ValueError) as exc:
        print(f"bot.eval.train: {exc}", file=sys.stderr)
        return 2
    out = args.out or judge_path(settings.embedding_backend)
    judge.save(out)
    if args.json:
        print(json.dumps(about, ensure_ascii=False))
    else:
        print(json.dumps(about, ensure_ascii=False, indent=1))
        print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
