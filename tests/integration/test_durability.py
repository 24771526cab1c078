"""Durability at the edges: a full disk, a snapshot that is missing or from another moto, a template that
passes its checksum but is not a world, a read-only state dir. Every acknowledged change survives; a
refused one changes nothing; nothing saved is ever deleted."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.conftest import SandboxHandle, free_port, mounted_tmpfs, wait_for
from tests.integration._crash import NO_RETRIES


def no_retry_s3(sandbox):
    from lab import config
    from lab.awsclient import _isolated_session

    return _isolated_session().client("s3", region_name="us-east-1", endpoint_url=sandbox.endpoint,
                                      aws_access_key_id=config.DUMMY_ACCESS_KEY,
                                      aws_secret_access_key=config.DUMMY_SECRET_KEY, config=NO_RETRIES)


def fill(disk, name="filler"):
    """Take every free byte of the tmpfs (a real full disk)."""
    fd = os.open(disk / name, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        for size in (1 << 20, 4096, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass  # full at this size: go on with smaller writes
    finally:
        os.close(fd)


def kill_9(sandbox):
    pid = sandbox.pid()
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not os.path.exists(f"/proc/{pid}") or Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z")


def test_full_disk_refuses_changes_says_so_and_loses_nothing_acknowledged(tmp_path, lab_env):
    with mounted_tmpfs(tmp_path / "disk", size="6m") as disk:
        sandbox = SandboxHandle(disk / "lab", free_port(), dict(lab_env, LAB_SNAPSHOT_EVERY="6"))
        try:
            sandbox.up("--fsync", "batch")
            assert sandbox.status()["storage"]["fsync"] == "batch"
            s3 = no_retry_s3(sandbox)
            s3.create_bucket(Bucket="full-disk")
            s3.put_object(Bucket="full-disk", Key="keep", Body=b"before the disk filled")
            fill(disk)
            acknowledged, refused = {}, None
            for n in range(20):  # until the space reserved before the disk filled runs out for a big write
                body = os.urandom(100_000)
                try:
                    s3.put_object(Bucket="full-disk", Key=f"k{n}", Body=body)
                except ClientError as exc:
                    refused = exc
                    break
                acknowledged[f"k{n}"] = body
            assert refused is not None, "the disk never filled"
            assert refused.response["Error"]["Code"] == "ServiceUnavailable"
            assert refused.response["ResponseMetadata"]["HTTPStatusCode"] == 503
            assert "disk is full" in refused.response["Error"]["Message"]
            # Smaller changes go on into what is still reserved, until nothing fits: deletes of a one-letter
            # key are the smallest records, so afterwards the delete below cannot fit either.
            for size in (10_000, 1_000, 0):
                for n in range(12):
                    try:
                        s3.put_object(Bucket="full-disk", Key=f"s{size}-{n}", Body=b"s" * size)
                    except ClientError:
                        break
                    acknowledged[f"s{size}-{n}"] = b"s" * size
            for _ in range(12):
                try:
                    s3.delete_object(Bucket="full-disk", Key="k")
                except ClientError:
                    break
            with pytest.raises(ClientError) as deleting:  # refused before anything changed...
                s3.delete_object(Bucket="full-disk", Key="keep")
            assert deleting.value.response["Error"]["Code"] == "ServiceUnavailable"
            assert s3.get_object(Bucket="full-disk", Key="keep")["Body"].read() == b"before the disk filled"
            status = sandbox.status()  # ...said in lab status...
            assert status["storage"]["disk_full"] is True
            assert any("disk is full" in warning for warning in status["warnings"])
            assert "DISK FULL" in sandbox.lab("status").stdout

            (disk / "filler").unlink()  # space freed: changes are accepted again
            s3.put_object(Bucket="full-disk", Key="after", Body=b"room again")
            acknowledged["after"] = b"room again"
            assert sandbox.status()["storage"]["disk_full"] is False

            kill_9(sandbox)
            sandbox.up()
            s3 = no_retry_s3(sandbox)
            for key, body in acknowledged.items():
                assert s3.get_object(Bucket="full-disk", Key=key)["Body"].read() == body
            assert s3.get_object(Bucket="full-disk", Key="keep")["Body"].read() == b"before the disk filled"
            stored = {o["Key"] for o in s3.list_objects_v2(Bucket="full-disk").get("Contents", [])}
            assert refused.operation_name == "PutObject" and f"k{len(acknowledged) - 1}" not in stored

            # lab down on a full disk: the final snapshot fails; it says so and leaves no temp file.
            fill(disk)
            for n in range(6):  # into the journal space reserved at the start: a snapshot is due, and fails
                s3.put_object(Bucket="full-disk", Key=f"late{n}", Body=b"late")
            down = sandbox.lab("down")
            assert "could not be written" in down.stderr and "disk is full" in down.stderr
            assert "saved in" not in down.stdout and "journal" in down.stdout
            assert not (disk / "lab" / "state" / "snapshot.bin.tmp").exists()
            (disk / "filler").unlink()
            sandbox.up()
            s3 = no_retry_s3(sandbox)
            assert s3.get_object(Bucket="full-disk", Key="late5")["Body"].read() == b"late"
        finally:
            sandbox.down()


def test_unusable_snapshot_sets_its_journal_aside_instead_of_replaying_and_truncating_it(fresh_sandbox):
    """A snapshot from another moto, then a deleted snapshot: each time the journal that needs it is kept,
    byte for byte, in corrupt/ (it was once replayed onto an empty world, then truncated)."""
    from lab.sandbox.persistence import read_snapshot_file, write_snapshot_file

    state = fresh_sandbox.state_dir / "state"
    fresh_sandbox.up()
    fresh_sandbox.client("s3").create_bucket(Bucket="made-with-old-moto")
    kill_9(fresh_sandbox)
    generation, saved = read_snapshot_file(state / "snapshot.bin", with_generation=True)
    saved["backend"]["moto_version"] = "4.0.0"
    write_snapshot_file(state / "snapshot.bin", saved, generation)
    journals = {path.read_bytes() for path in state.glob("journal-*.bin")}
    assert any(len(data) > 100 for data in journals)
    result = fresh_sandbox.up()
    assert "moto 4.0.0" in result.stderr and "corrupt" in result.stderr
    assert len(list((state / "corrupt").glob("snapshot-*.bin"))) == 1
    assert journals <= {path.read_bytes() for path in (state / "corrupt").glob("journal-*.bin")}

    fresh_sandbox.client("s3").create_bucket(Bucket="answered-then-orphaned")
    kill_9(fresh_sandbox)
    journals = {path.read_bytes() for path in state.glob("journal-*.bin")}
    (state / "snapshot.bin").unlink()
    result = fresh_sandbox.up()
    assert "missing" in result.stderr and "corrupt" in result.stderr
    assert journals <= {path.read_bytes() for path in (state / "corrupt").glob("journal-*.bin")}
    names = {b["Name"] for b in fresh_sandbox.client("s3").list_buckets()["Buckets"]}
    assert not names & {"made-with-old-moto", "answered-then-orphaned"} and "securecart-invoices-use1" in names


def test_read_only_state_dir_is_a_clear_message_not_a_traceback(tmp_path, lab_env):
    from tests.conftest import run_lab

    with mounted_tmpfs(tmp_path / "readonly", size="1m", read_only=True) as folder:
        result = run_lab(["up", "--state-dir", str(folder / "lab"), "--port", str(free_port())], lab_env,
                         check=False)
        assert result.returncode == 2
        assert "cannot keep its state in" in result.stderr and "Read-only file system" in result.stderr
        assert "Traceback" not in result.stderr


def test_lab_up_after_a_crash_shows_the_replay_and_waits_for_it(tmp_path, lab_env):
    """A start that replays a long journal says how far it is, and `lab up` waits for it (it once gave up
    after 60 s while the replay went on)."""
    env = dict(lab_env, LAB_SNAPSHOT_EVERY="100000", LAB_SNAPSHOT_WORK_S="100000", LAB_UP_PROGRESS_S="0.1")
    sandbox = SandboxHandle(tmp_path / "state", free_port(), env)
    try:
        sandbox.up()
        sandbox.client("s3").create_bucket(Bucket="replayed")
        sandbox.lab("workload", "on")
        sandbox.lab("clock", "advance", "2d")
        orders = sandbox.status()["resources"]["orders"]["rds_rows"]
        kill_9(sandbox)
        result = sandbox.up()
        assert "replaying the journal" in result.stderr and "still starting after" in result.stderr
        assert "journaled changes" in result.stdout
        assert sandbox.status()["storage"]["last_replay"]["records"] >= 3
        assert sandbox.status()["resources"]["orders"]["rds_rows"] == orders
        assert "replayed" in {b["Name"] for b in sandbox.client("s3").list_buckets()["Buckets"]}
    finally:
        sandbox.down()
