"""Per-user conversation memory (per user within a group), bounded in turns, age and users."""

import time
from collections import OrderedDict, deque
from collections.abc import Callable

Key = tuple[int, int]  # (chat id, user id)


class Conversations:
    """The recent question-answer turns of each (chat, user). The least recently active
    conversations are dropped beyond `max_conversations`, so memory stays bounded."""

    def __init__(
        self,
        turns: int,
        max_age_s: float,
        max_conversations: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._turns = turns
        self._max_age_s = max_age_s
        self._max_conversations = max_conversations
        self._clock = clock
        self._recent: OrderedDict[Key, deque[tuple[float, str, str]]] = OrderedDict()

    def history(self, key: Key) -> list[tuple[str, str]]:
        """Earlier (question, answer) turns, oldest first; turns past their age are gone."""
        turns = self._recent.get(key)
        if not turns:
            return []
        oldest = self._clock() - self._max_age_s
        while turns and turns[0][0] < oldest:
            turns.popleft()
        return [(question, answer) for _, question, answer in turns]

    def add(self, key: Key, question: str, answer: str) -> None:
        if self._turns == 0:
            return
        turns = self._recent.setdefault(key, deque(maxlen=self._turns))
        turns.append((self._clock(), question, answer))
        self._recent.move_to_end(key)
        while len(self._recent) > self._max_conversations:
            self._recent.popitem(last=False)

    def forget(self, key: Key) -> None:
        self._recent.pop(key, None)

    def __len__(self) -> int:
        return len(self._recent)
