"""A per-user sliding-window limit on questions, so one user cannot flood the assistant."""

import time
from collections import deque
from collections.abc import Callable


class QuestionLimit:
    """At most `per_minute` questions in any 60 seconds per user."""

    WINDOW_S = 60.0

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._per_minute = per_minute
        self._clock = clock
        self._asked: dict[int, deque[float]] = {}

    def allow(self, user_id: int) -> float:
        """0 when the question may go ahead (and is counted), else seconds until it may."""
        now = self._clock()
        asked = self._asked.setdefault(user_id, deque())
        while asked and asked[0] <= now - self.WINDOW_S:
            asked.popleft()
        if len(asked) >= self._per_minute:
            return asked[0] + self.WINDOW_S - now
        asked.append(now)
        self._forget_idle(now)
        return 0.0

    def _forget_idle(self, now: float) -> None:
        # Keeps the table as small as the number of users active in the last minute.
        if len(self._asked) > 1000:
            cutoff = now - self.WINDOW_S
            idle = [u for u, times in self._asked.items() if not times or times[-1] <= cutoff]
            for user_id in idle:
                del self._asked[user_id]
