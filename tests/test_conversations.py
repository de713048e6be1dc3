"""Conversation memory and the per-user question limit, with a controlled clock."""

from bot.conversations import Conversations
from bot.user_limits import QuestionLimit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_memory_is_per_user_and_chat_and_bounded_in_turns():
    memory = Conversations(turns=2, max_age_s=600, clock=Clock())
    for n in range(3):
        memory.add((1, 1), f"q{n}", f"a{n}")
    memory.add((-5, 1), "group question", "group answer")
    assert memory.history((1, 1)) == [("q1", "a1"), ("q2", "a2")]
    assert memory.history((-5, 1)) == [("group question", "group answer")]
    assert memory.history((-5, 2)) == []
    memory.forget((1, 1))
    assert memory.history((1, 1)) == []


def test_old_turns_are_forgotten():
    clock = Clock()
    memory = Conversations(turns=5, max_age_s=60, clock=clock)
    memory.add((1, 1), "old", "a")
    clock.now += 61
    memory.add((1, 1), "new", "b")
    assert memory.history((1, 1)) == [("new", "b")]


def test_the_number_of_conversations_is_bounded():
    memory = Conversations(turns=1, max_age_s=60, max_conversations=3, clock=Clock())
    for user in range(10):
        memory.add((user, user), "q", "a")
    assert len(memory) == 3 and memory.history((9, 9)) and not memory.history((0, 0))


def test_no_memory_when_turns_is_zero():
    memory = Conversations(turns=0, max_age_s=60)
    memory.add((1, 1), "q", "a")
    assert memory.history((1, 1)) == []


def test_the_question_limit_is_per_user_and_slides():
    clock = Clock()
    limit = QuestionLimit(per_minute=2, clock=clock)
    assert limit.allow(1) == 0 and limit.allow(1) == 0
    assert limit.allow(1) == 60  # the first question frees its slot in a minute
    assert limit.allow(2) == 0
    clock.now += 30
    assert limit.allow(1) == 30
    clock.now += 30
    assert limit.allow(1) == 0
