"""The sandbox's lock: re-entrant, counts the threads waiting for it, and lets them in between two pieces of
work (a thread that releases a plain lock takes it again before a waiting thread is scheduled)."""

from __future__ import annotations

import threading
import time

from lab.kernel.lock import CallLock


def test_it_is_re_entrant_and_counts_waiting_threads():
    lock = CallLock()
    with lock, lock:
        entered = threading.Event()

        def wait_for_it() -> None:
            with lock:
                entered.set()

        waiter = threading.Thread(target=wait_for_it)
        waiter.start()
        for _ in range(2000):
            if lock.waiting:
                break
            time.sleep(0.001)
        assert lock.waiting == 1 and not entered.is_set()
    waiter.join(5)
    assert entered.is_set() and lock.waiting == 0
    assert lock.acquire(blocking=False)
    lock.release()


def _slices_and_a_call(lock: CallLock, let_in: bool) -> int:
    """Slices of work under the lock, back to back; another thread's call arrives during the first. How many
    slices ran before the call got the lock."""
    done_slices: list[int] = []
    served_after: list[int] = []
    started = threading.Event()

    def call() -> None:
        started.wait()
        with lock:
            served_after.append(len(done_slices))

    caller = threading.Thread(target=call)
    caller.start()
    for number in range(40):
        with lock:
            if number == 0:
                started.set()
                for _ in range(5000):  # until the call waits for the lock
                    if lock.waiting:
                        break
                    time.sleep(0.001)
            deadline = time.perf_counter() + 0.005
            while time.perf_counter() < deadline:  # work, holding the interpreter
                pass
            done_slices.append(number)
        if let_in:
            lock.let_waiting_in()
    caller.join(10)
    return served_after[0]


def test_a_waiting_call_gets_the_lock_between_two_slices():
    assert _slices_and_a_call(CallLock(), let_in=True) == 1


def test_let_waiting_in_returns_at_once_when_nobody_waits():
    lock = CallLock()
    started = time.perf_counter()
    lock.let_waiting_in(limit=5)
    assert time.perf_counter() - started < 1
