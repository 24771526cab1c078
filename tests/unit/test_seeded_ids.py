"""moto's ids are a pure function of the seed and the call's place in the sequence, whatever else happens
in the process: that is what lets a journal replay to the same ids after kill -9 (issue 13, defect 3)."""

from __future__ import annotations

import threading
import uuid

from moto.iam.models import iam_backends
from moto.moto_api._internal import mock_random

from lab.backends.embedded import EmbeddedBackend
from lab.gateway.codec.errors import aws_error


def ids_of_a_call(seed: str, meanwhile=None) -> list[str]:
    """The ids a call seeded with `seed` draws; `meanwhile` runs on another thread between its draws."""
    EmbeddedBackend.reseed(seed)
    try:
        first = str(mock_random.uuid4())
        if meanwhile is not None:
            other = threading.Thread(target=meanwhile)
            other.start()
            other.join()
        return [first, str(mock_random.uuid4()), mock_random.get_random_hex(8)]
    finally:
        EmbeddedBackend.reseed(None)


def test_draws_on_other_threads_do_not_shift_a_calls_ids():
    """Error answers and in-process clients (lab status) drew uuid4 from the shared seeded generator, outside
    the lock: the next id of a call in progress came out different."""
    alone = ids_of_a_call("20260101:7")

    def noise() -> None:
        for _ in range(50):
            uuid.uuid4()  # (routed through moto's generator: botocore's invocation ids, error request ids)
            mock_random.get_random_string(20)

    assert ids_of_a_call("20260101:7", meanwhile=noise) == alone


def test_error_request_ids_do_not_repeat_across_sandboxes():
    """Two sandboxes with the same seed and history answered errors with the same request ids."""
    EmbeddedBackend.reseed("20260101:3")
    first = dict(aws_error(None, 400, "ValidationError", "bad").headers)["x-amzn-RequestId"]
    EmbeddedBackend.reseed("20260101:3")
    second = dict(aws_error(None, 400, "ValidationError", "bad").headers)["x-amzn-RequestId"]
    EmbeddedBackend.reseed(None)
    assert first != second


def test_a_backend_made_on_demand_does_not_consume_the_calls_ids():
    """After a restart every first moto call made IAM's backend (a thousand managed policies with random
    ids) from the call's generator; the process before the crash had made it earlier. The first write after
    each snapshot replayed with another VersionId."""
    account = "123456789012"
    iam_backends.pop(account, None)
    try:
        made_inside = ids_of_a_call("20260101:9", meanwhile=None)
        iam_backends.pop(account, None)
        EmbeddedBackend.reseed("20260101:9")
        try:
            first = str(mock_random.uuid4())
            assert iam_backends[account]["global"].aws_managed_policies  # made now, inside the call
            rest = [str(mock_random.uuid4()), mock_random.get_random_hex(8)]
        finally:
            EmbeddedBackend.reseed(None)
        assert [first, *rest] == made_inside
    finally:
        iam_backends.pop(account, None)
