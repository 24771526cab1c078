"""The sandbox's in-process clients: parsed answers and streamed bodies both come back whole."""

from __future__ import annotations

from lab.backends.embedded import EmbeddedBackend
from lab.sandbox.core import Sandbox


def test_in_process_client_reads_streamed_bodies(tmp_path):
    sandbox = Sandbox(EmbeddedBackend(), tmp_path, port=4599, seed_world=False)
    sandbox.boot()
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket="in-process")
    s3.put_object(Bucket="in-process", Key="a/b", Body=b"hello" * 1000)
    assert s3.get_object(Bucket="in-process", Key="a/b")["Body"].read() == b"hello" * 1000
    assert "in-process" in [b["Name"] for b in s3.list_buckets()["Buckets"]]  # moto state is per process
    sandbox.close()
