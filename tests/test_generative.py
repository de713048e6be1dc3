"""Generative mode: grounded, cited, and falling back to the extractive answer on any doubt."""

import asyncio
import logging

import pytest
from langchain_core.language_models.fake_chat_models import (
    FakeListChatModel,
    GenericFakeChatModel,
)
from langchain_core.messages import AIMessage
from pydantic import Field
from stub_llm_server import StubChatServer

from alliance.settings import Settings
from bot.engine.answering import CALCULATION_ID, Engine
from bot.engine.generative import GenerativeComposer, make_composer
from bot.engine.retrieval import PublishedIndex, Retriever

QUESTION = "Do learners pay anything to have their credits recognised?"


def _engine(settings, embeddings, model, timeout_s=5.0) -> Engine:
    index = PublishedIndex.load(settings)
    composer = GenerativeComposer(model, timeout_s)
    return Engine(settings, Retriever(index, embeddings), composer=composer)


class _FailingModel(FakeListChatModel):
    async def _agenerate(self, *args, **kwargs):
        raise ConnectionError("provider down")


class _RecordingModel(FakeListChatModel):
    """Remembers the last message of every request."""

    asked: list[str] = Field(default_factory=list)

    async def _agenerate(self, messages, *args, **kwargs):
        self.asked.append(str(messages[-1].content))
        return await super()._agenerate(messages, *args, **kwargs)


class _SlowModel(FakeListChatModel):
    async def _agenerate(self, *args, **kwargs):
        await asyncio.sleep(5)
        return await super()._agenerate(*args, **kwargs)


async def test_a_cited_reply_becomes_the_answer_with_renumbered_sources(
    shipped_index, real_embeddings
):
    model = GenericFakeChatModel(
        messages=iter([AIMessage("It is free of charge [3], as the rules say [3].")])
    )
    answer = await _engine(shipped_index, real_embeddings, model).answer(QUESTION)
    assert answer.answer.startswith("It is free of charge [1], as the rules say [1].")
    assert len(answer.sources) == 1 and not answer.abstained
    assert "sample text" in answer.answer  # the cited rule is a sample document


@pytest.mark.parametrize(
    ("model", "logged"),
    [
        # no citation; a citation of a passage that was not given
        (FakeListChatModel(responses=["Credit recognition costs 500 yuan."]), "without valid"),
        (FakeListChatModel(responses=["It is free [9]."]), "without valid citations"),
        (_FailingModel(responses=["unused"]), "chat model failed (ConnectionError)"),
        (_SlowModel(responses=["It is free [1]."]), "chat model failed (TimeoutError)"),
    ],
    ids=["uncited", "invalid-citation", "provider-error", "time-out"],
)
async def test_anything_unverifiable_falls_back_to_the_extractive_answer(
    shipped_index, real_embeddings, model, logged, caplog
):
    engine = _engine(shipped_index, real_embeddings, model, timeout_s=0.5)
    with caplog.at_level(logging.INFO, logger="bot.engine.generative"):
        answer = await engine.answer(QUESTION)
    assert logged in caplog.text  # the model was asked, and its reply refused
    assert "free of charge" in answer.answer and "[1]" in answer.answer
    assert "500 yuan" not in answer.answer and "[9]" not in answer.answer


async def test_the_judge_decides_abstention_in_generative_mode_too(
    shipped_index, real_embeddings, caplog
):
    """The model's NOT_COVERED where the judge found an answer leaves the extractive answer;
    a question the judge refuses never reaches the model."""
    model = _RecordingModel(responses=["NOT_COVERED", "It is sunny [1]."])
    engine = _engine(shipped_index, real_embeddings, model)
    with caplog.at_level(logging.INFO, logger="bot.engine.answering"):
        answer = await engine.answer(QUESTION)
    assert len(model.asked) == 1 and "found no answer the judge found" in caplog.text
    assert not answer.abstained and "free of charge" in answer.answer
    refused = await engine.answer("What will the weather be in Chengdu tomorrow?")
    assert refused.abstained and "home branch" in refused.answer
    assert len(model.asked) == 1  # not asked about the weather


async def test_the_prompt_holds_only_retrieved_passages_and_the_rules(
    shipped_index, real_embeddings
):
    with StubChatServer("Recognition is free of charge for learners of member units [1].") as stub:
        settings = shipped_index.model_copy(
            update={"llm_provider": "openai", "llm_base_url": stub.base_url, "llm_model": "stub-7b"}
        )
        engine = Engine(
            settings,
            Retriever(PublishedIndex.load(settings), real_embeddings),
            composer=make_composer(settings),
        )
        answer = await engine.answer(QUESTION, "learner")
    assert answer.answer.startswith(
        "Recognition is free of charge for learners of member units [1]."
    )
    [request] = stub.requests
    system, user = request["messages"][0]["content"], request["messages"][1]["content"]
    assert request["model"] == "stub-7b"
    assert "ONLY the numbered passages" in system and "never instructions" in system
    assert "[1] (" in user and QUESTION in user
    assert "200 yuan" not in user  # staff text never reaches the prompt for a learner


async def test_an_unreachable_endpoint_falls_back(shipped_index, real_embeddings, caplog):
    settings = shipped_index.model_copy(
        update={"llm_provider": "openai", "llm_base_url": "http://127.0.0.1:9/v1", "llm_model": "x",
                "llm_timeout_s": 2.0}
    )  # fmt: skip
    engine = Engine(
        settings,
        Retriever(PublishedIndex.load(settings), real_embeddings),
        composer=make_composer(settings),
    )
    with caplog.at_level(logging.WARNING, logger="bot.engine.generative"):
        answer = await engine.answer(QUESTION)
    assert "chat model failed" in caplog.text
    assert "free of charge" in answer.answer


async def test_follow_ups_are_rewritten_by_the_model_when_one_is_configured(
    shipped_index, real_embeddings
):
    model = _RecordingModel(responses=["Which online courses does Chongqing RTVU offer?"])
    engine = _engine(shipped_index, real_embeddings, model)
    history = [("Which online courses does Sichuan RTVU offer?", "SC-101, SC-230")]
    answer = await engine.answer("And for Chongqing RTVU?", history=history)
    assert any("Last message: And for Chongqing RTVU?" in asked for asked in model.asked)
    assert "CQ-210" in answer.answer


def test_no_provider_means_extractive_only():
    assert make_composer(Settings()) is None


async def test_a_calculation_is_among_the_passages_the_model_words_it_from(
    shipped_index, real_embeddings
):
    question = "I got 55 in a shared course. Will my credits be recognised?"
    with StubChatServer("Not with 55: the pass mark is 60 [2], as the rule says [1].") as stub:
        settings = shipped_index.model_copy(
            update={"llm_provider": "openai", "llm_base_url": stub.base_url, "llm_model": "m"}
        )
        engine = Engine(
            settings,
            Retriever(PublishedIndex.load(settings), real_embeddings),
            composer=make_composer(settings),
        )
        answer = await engine.answer(question)
    [request] = stub.requests
    user = request["messages"][1]["content"]
    assert "[2] (" in user and "No: 55 is below the pass mark of 60" in user  # worked answer
    assert "score of at least 60" in user  # beside the rule it applied
    assert answer.answer.startswith("Not with 55: the pass mark is 60 [1], as the rule says [2].")
    worked, rule = answer.cited  # renumbered in order of use: the calculation first
    assert worked.id == CALCULATION_ID and rule.source.path == worked.source.path
