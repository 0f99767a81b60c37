"""An overall time budget: whatever an action waits for (retries, rate limits, slow
answers) asks it how much time is left, so no wait ever passes it."""

from __future__ import annotations

import math
import time
from collections.abc import Callable


class Deadline:
    """`seconds` from now, on a monotonic clock; `None` is no budget (never passes)."""

    def __init__(self, seconds: float | None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.budget = seconds
        self.clock = clock
        self.started = clock()

    def elapsed(self) -> float:
        return self.clock() - self.started

    def remaining(self) -> float:
        """Seconds left (0 once passed; infinite without a budget)."""
        if self.budget is None:
            return math.inf
        return max(self.budget - self.elapsed(), 0.0)

    @property
    def passed(self) -> bool:
        return self.remaining() <= 0

    def describe(self) -> str:
        """The budget as a person writes it: `90 s`, `2 min`."""
        return "no" if self.budget is None else seconds_text(self.budget)


def seconds_text(seconds: float) -> str:
    """`0.4 s`, `12 s`, `90 s`, `2 min`, `10 min` (from two minutes on, whole minutes)."""
    if seconds >= 120:
        return f"{round(seconds / 60)} min"
    if seconds < 10 and seconds != int(seconds):
        return f"{seconds:.1f} s"
    return f"{seconds:.0f} s"
