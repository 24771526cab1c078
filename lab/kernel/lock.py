"""The sandbox's lock: every state change happens under it. Re-entrant, and it knows how many threads wait for
it, so that long work done in slices (a clock advance) can let those calls in between two slices: a released
lock alone does not, as the thread that released it takes it again before a waiting thread is even scheduled."""

from __future__ import annotations

import threading
import time
from types import TracebackType


class CallLock:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._counting = threading.Lock()
        self._waiting = 0

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if self._lock.acquire(False):  # (free, or this thread's already)
            return True
        if not blocking:
            return False
        with self._counting:
            self._waiting += 1
        try:
            return self._lock.acquire(True, timeout)
        finally:
            with self._counting:
                self._waiting -= 1

    def release(self) -> None:
        self._lock.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.release()

    @property
    def waiting(self) -> int:
        """How many threads wait for the lock now."""
        return self._waiting

    def let_waiting_in(self, limit: float = 0.1) -> None:
        """Wait (not holding the lock) until no thread waits for it any more, or `limit` seconds: each thread
        waiting gets its turn before the caller takes the lock again."""
        deadline = time.monotonic() + limit
        while self._waiting and time.monotonic() < deadline:
            time.sleep(0.0005)
