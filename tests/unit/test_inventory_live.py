"""A bucket's summary kept up to date from what changed (lab.inventory.live.BucketDigest) is the summary made
from every key (sources.summarise_objects), through writes, overwrites, delete markers, deleted versions and
keys, the engines' direct writes, a write a fault refuses, invoices the ledger learns of later, and a restart
(snapshot plus journal replay); so is `lab status`'s object count; the S3 engine's replication counts kept up to
date are the ones counted."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from checks.inventory.base import runs_of
from lab import world
from lab.backends.embedded import EmbeddedBackend
from lab.inventory.live import BucketDigest, Runs
from lab.inventory.sources import LedgerDigest, summarise_objects
from lab.sandbox.core import Sandbox
from lab.services.faults.engine import Faults
from lab.services.s3.engine import S3

REGION, BUCKET, PLAIN = "us-east-1", "live-digest", "live-digest-plain"


def test_runs_follow_a_set_through_random_adds_and_discards() -> None:
    chosen = random.Random(7)
    runs, expected = Runs(), set()
    for _ in range(4000):
        number = chosen.randint(0, 120)
        if chosen.random() < 0.6:
            runs.add(number)
            expected.add(number)
        else:
            runs.discard(number)
            expected.discard(number)
        assert runs.runs() == [tuple(run) for run in runs_of(sorted(expected))]


def order(number: int) -> dict[str, Any]:
    return {"order_id": f"ORD-{number:06d}", "customer": f"c{number}", "amount": f"{number}.00",
            "created_at": f"2026-01-01T00:{number // 60 % 60:02d}:{number % 60:02d}Z"}


def assert_same(digest: BucketDigest, sandbox: Sandbox, ledger: LedgerDigest, bucket: str = BUCKET) -> None:
    kept = digest.objects(sandbox.data, ledger, None)
    whole = summarise_objects(sandbox.data.key_heads(REGION, bucket), ledger.invoices(), truncated=False, limit=0,
                              replication=None)
    assert kept == whole
    # `lab status`'s object count, kept up to date the same way
    assert sandbox.data.count_objects(REGION, bucket) == whole.count


@pytest.fixture()
def sandbox(tmp_path: Path):
    box = Sandbox(EmbeddedBackend(), tmp_path, port=4597, seed_world=False)
    box.boot()
    yield box
    box.close()


def test_digest_follows_every_kind_of_change(sandbox: Sandbox) -> None:
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    s3.create_bucket(Bucket=PLAIN)
    orders = [order(n) for n in range(1, 81)]
    ledger = LedgerDigest()
    ledger.update(orders[:60])  # the last 20 orders reach the ledger after their invoices are written
    digest, plain = BucketDigest(REGION, BUCKET), BucketDigest(REGION, PLAIN)
    assert_same(digest, sandbox, ledger)
    for placed in orders[:70]:
        s3.put_object(Bucket=BUCKET, Key=world.invoice_key(placed), Body=world.invoice_body(placed))
        s3.put_object(Bucket=PLAIN, Key=world.invoice_key(placed), Body=world.invoice_body(placed))
    assert_same(digest, sandbox, ledger)  # more than the newest 50
    for placed in orders[70:]:  # the engines' direct writes
        sandbox.data.put_object(REGION, BUCKET, world.invoice_key(placed), world.invoice_body(placed))
    ledger.update(orders)
    assert_same(digest, sandbox, ledger)
    assert_same(plain, sandbox, ledger, PLAIN)
    newest = world.invoice_key(orders[-1])
    s3.put_object(Bucket=BUCKET, Key=newest, Body=b"tampered")  # the newest key, not the original any more
    s3.delete_object(Bucket=BUCKET, Key=world.invoice_key(orders[3]))  # a delete marker
    s3.put_object(Bucket=BUCKET, Key="notes/a.txt", Body=b"a")
    assert_same(digest, sandbox, ledger)
    versions = s3.list_object_versions(Bucket=BUCKET, Prefix=newest)["Versions"]
    latest = next(v["VersionId"] for v in versions if v["IsLatest"])
    s3.delete_object(Bucket=BUCKET, Key=newest, VersionId=latest)  # the original is the latest again
    marker = s3.list_object_versions(Bucket=BUCKET, Prefix=world.invoice_key(orders[3]))["DeleteMarkers"][0]
    s3.delete_object(Bucket=BUCKET, Key=world.invoice_key(orders[3]), VersionId=marker["VersionId"])
    for version in s3.list_object_versions(Bucket=BUCKET, Prefix=world.invoice_key(orders[5]))["Versions"]:
        s3.delete_object(Bucket=BUCKET, Key=world.invoice_key(orders[5]), VersionId=version["VersionId"])
    assert_same(digest, sandbox, ledger)
    for placed in orders[-55:]:  # every one of the newest keys removed: older ones are the newest now
        s3.delete_object(Bucket=PLAIN, Key=world.invoice_key(placed))
    assert_same(plain, sandbox, ledger, PLAIN)
    faults = sandbox.engines.find(Faults)
    assert faults is not None
    faults.state.regions_down[REGION] = 1  # a region down refuses the engines' writes: nothing changes
    with pytest.raises(ClientError):
        sandbox.data.put_object(REGION, BUCKET, "refused.txt", b"x")
    del faults.state.regions_down[REGION]
    assert_same(digest, sandbox, ledger)
    s3.delete_objects(Bucket=PLAIN, Delete={"Objects": [{"Key": world.invoice_key(p)} for p in orders[:10]]})
    assert_same(plain, sandbox, ledger, PLAIN)
    ledger.update([order(n) for n in range(1, 11)])  # another ledger (a reset): every key judged again
    assert_same(digest, sandbox, ledger)
    s3.delete_objects(Bucket=PLAIN, Delete={"Objects": [{"Key": k["Key"]} for k in
                                                        s3.list_objects_v2(Bucket=PLAIN).get("Contents", [])]})
    s3.delete_bucket(Bucket=PLAIN)
    s3.create_bucket(Bucket=PLAIN)  # made again: another store, read whole
    s3.put_object(Bucket=PLAIN, Key=world.invoice_key(orders[0]), Body=world.invoice_body(orders[0]))
    assert_same(plain, sandbox, ledger, PLAIN)


def test_digest_after_a_restart_from_snapshot_and_journal(tmp_path: Path) -> None:
    orders = [order(n) for n in range(1, 31)]
    ledger = LedgerDigest()
    ledger.update(orders)
    digest = BucketDigest(REGION, BUCKET)
    first = Sandbox(EmbeddedBackend(), tmp_path, port=4596, seed_world=False)
    first.boot()
    try:
        s3 = first.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        for placed in orders[:20]:
            s3.put_object(Bucket=BUCKET, Key=world.invoice_key(placed), Body=world.invoice_body(placed))
        first.snapshot("test")
        for placed in orders[20:]:  # journaled after the snapshot: replayed at the next start
            s3.put_object(Bucket=BUCKET, Key=world.invoice_key(placed), Body=world.invoice_body(placed))
        s3.delete_object(Bucket=BUCKET, Key=world.invoice_key(orders[0]))
        assert_same(digest, first, ledger)
        before = digest.objects(first.data, ledger, None)
    finally:
        first.store.close()  # as a crash leaves it: the snapshot and the journal since
    second = Sandbox(EmbeddedBackend(), tmp_path, port=4596, seed_world=False)
    second.boot()
    try:
        assert_same(digest, second, ledger)  # the restored bucket is another store: read whole once
        assert digest.objects(second.data, ledger, None) == before
        second.client("s3").put_object(Bucket=BUCKET, Key="after.txt", Body=b"1")
        assert_same(digest, second, ledger)
    finally:
        second.close()


def test_replication_counts_kept_are_the_counted_ones(sandbox: Sandbox) -> None:
    s3, west = sandbox.client("s3"), sandbox.client("s3", "us-west-2")
    s3.create_bucket(Bucket=BUCKET)
    west.create_bucket(Bucket="live-digest-dr", CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    for client, name in ((s3, BUCKET), (west, "live-digest-dr")):
        client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    role = sandbox.client("iam").create_role(RoleName="live-replication", AssumeRolePolicyDocument=(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},'
        ' "Action": "sts:AssumeRole"}]}'))["Role"]["Arn"]
    s3.put_bucket_replication(Bucket=BUCKET, ReplicationConfiguration={"Role": role, "Rules": [
        {"ID": "all", "Priority": 1, "Status": "Enabled", "Filter": {},
         "DeleteMarkerReplication": {"Status": "Disabled"},
         "Destination": {"Bucket": "arn:aws:s3:::live-digest-dr"}}]})
    engine = sandbox.engines.find(S3)
    assert engine is not None

    def counted(bucket: str) -> dict[str, int]:
        found: dict[str, int] = {}
        for record in engine.state.versions.get(bucket, {}).values():
            found[record.status] = found.get(record.status, 0) + 1
        return found

    for number in range(12):
        s3.put_object(Bucket=BUCKET, Key=f"k{number % 4}", Body=str(number).encode())
    engine.replication_counts(BUCKET)  # counted once here, then kept up to date
    sandbox.run_until(sandbox.clock.now() + 3600)
    assert engine.replication_counts(BUCKET) == counted(BUCKET) and counted(BUCKET).get("COMPLETED") == 12
    assert engine.replication_counts("live-digest-dr") == counted("live-digest-dr")
    for version in s3.list_object_versions(Bucket=BUCKET, Prefix="k1")["Versions"]:
        s3.delete_object(Bucket=BUCKET, Key="k1", VersionId=version["VersionId"])
    assert engine.replication_counts(BUCKET) == counted(BUCKET) and counted(BUCKET).get("COMPLETED") == 9


def test_instance_order_ids_follow_the_orders_journaled_since() -> None:
    """A DB instance's order ids are read whole once, then kept up to date from the orders journaled since; a
    learner's SQL in between (a DELETE) makes them read whole again."""
    from checks.inventory import IdSet
    from lab.inventory.sources import Digests
    from lab.services.rds.store import ORDER, ORDERS_SCHEMA, SQL, DataStore, History

    store = DataStore({})
    store.histories["p"] = History("p", None, 0.0)
    store.append("p", (0.0, SQL, ORDERS_SCHEMA))
    digests, reads = Digests(), []

    def place(number: int, order_id: str | None = None) -> None:
        store.append("p", (float(number), ORDER, (number, order_id or f"ORD-{number:06d}", "c", "1.00",
                                                  "2026-01-01T00:00:00Z")))

    def ids_now() -> IdSet:
        position = len(store.histories["p"].journal)

        def read() -> IdSet:
            reads.append(position)
            connection = store.connection("p", store.latest("p"))
            return IdSet.of(str(row[0]) for row in connection.execute("SELECT order_id FROM orders"))

        kept = digests.instance_order_ids(("us-east-1", "db"), "p", position, store.histories["p"].journal, read)
        connection = store.connection("p", store.latest("p"))
        assert kept == IdSet.of(str(row[0]) for row in connection.execute("SELECT order_id FROM orders"))
        return kept

    for number in range(1, 6):
        place(number)
    ids_now()
    for number in (6, 7, 9):
        place(number)
    place(10, "B'2")
    assert ids_now().runs == [(1, 7), (9, 9)] and len(reads) == 1  # kept up to date, not read again
    store.append("p", (11.0, SQL, "DELETE FROM orders WHERE id = 3"))
    place(12)
    assert ids_now().runs == [(1, 2), (4, 7), (9, 9), (12, 12)] and len(reads) == 2
