"""Sliding-window counters that slow down guessing: log-ins from one address, tracking tries on one application.

Per API process and in memory: with N processes an attacker gets N times the allowance, which still turns a
guessing attack of days into one of years. A proxy's per-address limits belong in front (docs/OPERATIONS.md)."""

from __future__ import annotations

import time
from collections import defaultdict, deque

from api.errors import TooManyRequests

MAX_KEYS = 100_000  # past this many keys the oldest windows are dropped, so a flood cannot grow memory


class Window:
    def __init__(self, limit: int, seconds: float, refusal: str) -> None:
        self.limit, self.seconds, self.refusal = limit, seconds, refusal
        self._hits: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, key: str) -> int:
        hits = self._hits.get(key)
        if hits is None:
            return 0
        since = time.monotonic() - self.seconds
        while hits and hits[0] < since:
            hits.popleft()
        return len(hits)

    def check(self, key: str) -> None:
        """Raises TooManyRequests (429) once `limit` hits fell within the window."""
        if self._recent(key) >= self.limit:
            raise TooManyRequests(self.refusal)

    def hit(self, key: str) -> None:
        if key not in self._hits and len(self._hits) >= MAX_KEYS:
            self._hits.pop(next(iter(self._hits)))
        self._hits[key].append(time.monotonic())
