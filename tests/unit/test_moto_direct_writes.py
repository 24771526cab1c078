"""The engines' direct writes into moto (lab.backends.embedded.MotoData) make the same objects moto's own
put_object / put_item make, and leave every refusal to moto. Pinned to the moto version in pyproject.toml:
an upgrade that changes FakeKey or Item fails here."""

from __future__ import annotations

import pickle
import uuid
from datetime import UTC, datetime

import pytest
import time_machine
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.s3.models import FakeKey, s3_backends

from lab import config
from lab.backends.embedded import MotoData

ACCOUNT, REGION = config.ACCOUNT_ID, config.PRIMARY_REGION
PINNED = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
PER_OBJECT = {"_value_buffer", "lock", "_metadata", "acl", "_version_id", "_time_progressed"}


def _s3():
    return s3_backends[ACCOUNT]["aws"]


@pytest.fixture()
def bucket():
    name = f"direct-{uuid.uuid4().hex[:12]}"
    _s3().create_bucket(name, REGION)
    yield name
    _s3().buckets.pop(name, None)


@pytest.fixture()
def table():
    name = f"direct-{uuid.uuid4().hex[:12]}"
    backend = dynamodb_backends[ACCOUNT][REGION]
    backend.create_table(name, schema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                       {"AttributeName": "sk", "KeyType": "RANGE"}],
                         throughput=None, attr=[{"AttributeName": "pk", "AttributeType": "S"},
                                                {"AttributeName": "sk", "AttributeType": "N"}],
                         global_indexes=None, indexes=None, streams=None, billing_mode="PAY_PER_REQUEST",
                         sse_specification=None, tags=[], deletion_protection_enabled=False, warm_throughput=None)
    yield name
    backend.tables.pop(name, None)


def test_a_direct_object_is_the_object_moto_makes(bucket):
    body = b'{"invoice_for": "ORD-000001"}'
    with time_machine.travel(PINNED, tick=False):
        moto_key = _s3().put_object(bucket, "by-moto.json", body)
        moto_key.set_metadata({"Content-Type": "application/json"})
        MotoData().put_object(REGION, bucket, "direct.json", body, "application/json")
    direct = _s3().buckets[bucket].keys["direct.json"]
    assert isinstance(direct, FakeKey)
    for name in set(vars(moto_key)) - PER_OBJECT - {"name"}:  # every attribute moto's key has, the same
        assert getattr(direct, name) == getattr(moto_key, name), name
    assert len(vars(direct)) < len(vars(moto_key)) / 2  # (the rest it shares with every key made so)
    assert direct.name == "direct.json" and direct.value == body and direct.etag == moto_key.etag
    assert dict(direct.metadata) == dict(moto_key.metadata) == {"content-type": "application/json"}
    assert direct.last_modified == PINNED.replace(tzinfo=None)
    assert [g.permissions for g in direct.acl.grants] == [g.permissions for g in moto_key.acl.grants]
    assert not any(tracked is direct for tracked in FakeKey.instances_tracked)
    copied = pickle.loads(pickle.dumps(direct))  # (as a snapshot saves and loads it)
    assert type(copied) is type(direct) and copied.value == body
    for name in set(vars(moto_key)) - PER_OBJECT - {"name"}:
        assert getattr(copied, name) == getattr(moto_key, name), name


def test_moto_sets_attributes_of_a_direct_object_as_its_own(bucket):
    MotoData().put_object(REGION, bucket, "a", b"1")
    MotoData().put_object(REGION, bucket, "b", b"2")
    first, second = _s3().buckets[bucket].keys["a"], _s3().buckets[bucket].keys["b"]
    _s3().put_object_legal_hold(bucket, "a", None, "ON")
    assert (first.lock_legal_status, second.lock_legal_status) == ("ON", None)
    assert first.etag != second.etag and first.value == b"1" and second.value == b"2"


def test_direct_objects_follow_the_bucket(bucket):
    data, store = MotoData(), _s3().buckets[bucket]
    assert data.put_object(REGION, bucket, "k", b"one") is None  # versioning off: replaced, no version id
    data.put_object(REGION, bucket, "k", b"two")
    assert [v.value for v in store.keys.getlist("k")] == [b"two"]

    _s3().put_bucket_versioning(bucket, "Enabled")
    _s3().put_bucket_encryption(bucket, {"Rule": {"ApplyServerSideEncryptionByDefault": {
        "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/lab"}, "BucketKeyEnabled": True}})
    first = data.put_object(REGION, bucket, "k", b"three", storage_class="STANDARD_IA")
    second = data.put_object(REGION, bucket, "k", b"four")
    assert first and second and first != second
    versions = store.keys.getlist("k")
    assert [v.value for v in versions] == [b"two", b"three", b"four"]
    assert versions[1].storage_class == "STANDARD_IA" and versions[2].storage_class == "STANDARD"
    assert (versions[2].encryption, versions[2].kms_key_id, versions[2].bucket_key_enabled) == (
        "aws:kms", "alias/lab", True)


def test_direct_object_refusals_are_moto_s(bucket):
    from moto.s3.exceptions import InvalidStorageClass, MissingBucket

    with pytest.raises(MissingBucket):
        MotoData().put_object(REGION, "no-such-bucket-direct", "k", b"x")
    with pytest.raises(InvalidStorageClass):
        MotoData().put_object(REGION, bucket, "k", b"x", storage_class="FAST")
    assert "k" not in _s3().buckets[bucket].keys


def test_a_large_direct_object_spools_like_moto_s(bucket, monkeypatch):
    body = b"x" * (FakeKey(name="", value=b"", account_id=ACCOUNT, region_name=REGION)._max_buffer_size + 1)
    MotoData().put_object(REGION, bucket, "big", body)
    stored = _s3().buckets[bucket].keys["big"]
    assert stored.value == body and stored.size == len(body)


def test_a_direct_item_is_the_item_moto_makes(table):
    backend = dynamodb_backends[ACCOUNT][REGION]
    attrs = {"pk": {"S": "ORD-1"}, "sk": {"N": "1"}, "lines": {"L": [{"M": {"sku": {"S": "mug"}}}]},
             "tags": {"SS": ["a", "b"]}}
    moto_item = backend.put_item(table, attrs)
    data = MotoData()
    data.put_item(REGION, table, {**attrs, "sk": {"N": "2"}})
    found = backend.tables[table]
    second = type(moto_item.range_key)({"N": "2"})
    assert found.get_item(moto_item.hash_key, second) is None  # queued: no one has read the table yet
    assert data.get_item(REGION, table, {"pk": {"S": "ORD-1"}, "sk": {"N": "2"}}) is not None  # a read stores it
    direct = found.get_item(moto_item.hash_key, second)
    assert type(direct) is Item and type(direct.attrs) is type(moto_item.attrs)
    assert direct.to_json()["Attributes"] == {**moto_item.to_json()["Attributes"], "sk": {"N": "2"}}
    assert not any(tracked is direct for tracked in Item.instances_tracked)
    assert direct.hash_key is direct.attrs["pk"] and direct.range_key is direct.attrs["sk"]  # (one object each)


@pytest.mark.parametrize("item, error", [
    ({"sk": {"N": "1"}}, "Missing the key pk"),
    ({"pk": {"N": "1"}, "sk": {"N": "1"}}, "Type mismatch"),
    ({"pk": {"S": "x"}, "sk": {"N": "1"}, "big": {"S": "x" * 410_000}}, "Item size has exceeded"),
])
def test_items_that_are_not_plainly_valid_get_moto_s_checks(table, item, error):
    with pytest.raises(Exception, match=error):
        MotoData().put_item(REGION, table, item)


@pytest.mark.parametrize("value", [{"S": "x"}, {"N": "1.5"}, {"B": "AAEC"}, {"BOOL": True}, {"NULL": True},
                                   {"SS": ["a", "b"]}, {"NS": ["1"]}, {"BS": ["AA=="]},
                                   {"L": [{"S": "a"}, {"M": {"n": {"N": "2"}}}]}, {"M": {"k": {"L": []}}}])
def test_direct_attribute_values_are_moto_s(value):
    from moto.dynamodb.models.dynamo_type import DynamoType

    from lab.backends.embedded import _dynamo_type

    made, expected = _dynamo_type(value), DynamoType(value)
    assert type(made) is DynamoType and vars(made).keys() == vars(expected).keys()
    assert made == expected and made.type == expected.type and made.to_json() == expected.to_json()


def test_queued_items_reach_moto_in_order_before_any_other_access(table):
    backend = dynamodb_backends[ACCOUNT][REGION]
    data = MotoData()
    key = {"pk": {"S": "k"}, "sk": {"N": "1"}}
    for version in range(3):
        data.put_item(REGION, table, {**key, "v": {"N": str(version)}})
    data.put_item(REGION, table, {**key, "v": {"N": "3"}, "big": {"S": "x" * 120_000}})  # moto's own path
    assert backend.tables[table].get_item(DynamoType(key["pk"]), DynamoType(key["sk"])).attrs["v"].value == "3"
    data.put_item(REGION, table, {**key, "v": {"N": "4"}})
    assert [item["v"]["N"] for item in data.scan_items(REGION, table)] == ["4"]
    data.put_item(REGION, table, {**key, "v": {"N": "5"}})
    data.drop_pending_items()  # moto's state replaced: what was queued for the old one goes with it
    assert [item["v"]["N"] for item in data.scan_items(REGION, table)] == ["4"]


def test_the_queue_is_bounded(table):
    data = MotoData()
    for number in range(MotoData.PENDING_ITEMS_MAX + 1):
        data.put_item(REGION, table, {"pk": {"S": f"k{number}"}, "sk": {"N": "1"}})
    assert len(data._pending_items) == 1
    assert len(dynamodb_backends[ACCOUNT][REGION].tables[table].items) == MotoData.PENDING_ITEMS_MAX


def test_version_ids_are_moto_s_draws():
    from moto.moto_api._internal import mock_random

    from lab.backends.embedded import _key_factory

    mock_random.seed("direct-writes")
    expected = [str(mock_random.uuid4()) for _ in range(200)]
    mock_random.seed("direct-writes")
    assert [_key_factory().version_id() for _ in range(200)] == expected


def test_counts_read_the_models_as_listing_would(bucket, table):
    data = MotoData()
    _s3().put_bucket_versioning(bucket, "Enabled")
    for key in ("a", "b", "c"):
        data.put_object(REGION, bucket, key, b"1")
    data.put_object(REGION, bucket, "a", b"2")  # a second version: still one object
    data.delete_object(REGION, bucket, "b")  # a delete marker hides b
    assert data.count_objects(REGION, bucket) == 2
    listed = _s3().list_objects(_s3().buckets[bucket], prefix="", delimiter=None, marker=None, max_keys=None)
    assert len(listed[0]) == 2
    for number in range(3):
        data.put_item(REGION, table, {"pk": {"S": f"k{number % 2}"}, "sk": {"N": str(number)}})
    assert data.count_items(REGION, table) == 3  # (two hash keys, three items: queued ones counted too)
    with pytest.raises(LookupError):
        data.count_objects(REGION, "no-such-bucket-direct")
    with pytest.raises(LookupError):
        data.count_items(REGION, "no-such-table-direct")


def test_a_version_s_size_is_what_moto_lists(bucket):
    data = MotoData()
    _s3().put_bucket_versioning(bucket, "Enabled")
    first = data.put_object(REGION, bucket, "k", b"12345")
    second = data.put_object(REGION, bucket, "k", b"12")
    marker = data.delete_object(REGION, bucket, "k")
    listed = {version.version_id: version.size for version in data.object_history(REGION, bucket, "k")}
    assert listed == {first: 5, second: 2, marker: 0}
    assert {version_id: data.version_facts(REGION, bucket, "k", version_id)[0] for version_id in listed} == listed
    assert data.version_facts(REGION, bucket, "k", "no-such-version")[0] == 0
    with pytest.raises(LookupError):
        data.version_facts(REGION, "no-such-bucket-direct", "k", first)


@pytest.mark.parametrize("made_by", ["moto", "data layer"])
def test_a_replica_is_its_source_in_another_bucket(made_by):
    source_bucket, target_bucket = f"direct-{uuid.uuid4().hex[:12]}", f"direct-{uuid.uuid4().hex[:12]}"
    _s3().create_bucket(source_bucket, REGION)
    _s3().create_bucket(target_bucket, "us-west-2")
    try:
        for name in (source_bucket, target_bucket):
            _s3().put_bucket_versioning(name, "Enabled")
        data = MotoData()
        if made_by == "moto":
            made = _s3().put_object(source_bucket, "k", b"body")
            made.set_metadata({"Content-Type": "text/plain", "x-amz-meta-a": "b"})
            version = made.version_id
        else:
            version = data.put_object(REGION, source_bucket, "k", b"body", "text/plain")
        source = _s3().buckets[source_bucket].keys["k"]
        assert data.replicate_version(REGION, source_bucket, "k", version, "us-west-2", target_bucket,
                                      "STANDARD_IA") == version
        replica = _s3().buckets[target_bucket].keys["k"]
        assert isinstance(replica, FakeKey) and replica is not source
        different = {"bucket_name", "region_name", "_storage_class"} | PER_OBJECT - {"_version_id"}
        for name in set(vars(FakeKey(name="", value=b"", account_id=ACCOUNT, region_name=REGION))) - different:
            assert getattr(replica, name) == getattr(source, name), name
        assert (replica.bucket_name, replica.region_name, replica.storage_class) == (
            target_bucket, "us-west-2", "STANDARD_IA")
        assert replica.value == b"body" and dict(replica.metadata) == dict(source.metadata)
    finally:
        for name in (source_bucket, target_bucket):
            _s3().buckets.pop(name, None)


def _moto_round_trip(obj):
    """What moto's own pickling makes of `obj` (its __getstate__/__setstate__, no reducer of ours)."""
    import copyreg
    import pickle

    from moto.dynamodb.models.dynamo_type import LimitedSizeDict

    saved = {kind: copyreg.dispatch_table.pop(kind) for kind in (FakeKey, LimitedSizeDict)
             if kind in copyreg.dispatch_table}
    try:
        return pickle.loads(pickle.dumps(obj))
    finally:
        copyreg.dispatch_table.update(saved)


def test_a_saved_object_loads_as_moto_would_load_it(bucket):
    """Snapshots save S3 objects in a compact form that loads several times faster (a month-old world
    restores 100,000 of them); what it loads is what moto's own __setstate__ makes."""
    import pickle

    from lab.backends.embedded import _register_fast_reducers

    _register_fast_reducers()
    with time_machine.travel(PINNED, tick=False):
        made = _s3().put_object(bucket, "by-moto.json", b"x" * 300, storage="STANDARD_IA")
        made.set_metadata({"Content-Type": "application/json", "x-amz-meta-k": "v"})
        MotoData().put_object(REGION, bucket, "direct.json", b'{"a": 1}', "application/json")
    for key in (made, _s3().buckets[bucket].keys["direct.json"]):
        ours, theirs = pickle.loads(pickle.dumps(key)), _moto_round_trip(key)
        assert isinstance(ours, FakeKey)  # (a CompactKey: the attributes a new key has live on its class)
        for name in set(vars(theirs)) - {"_value_buffer", "lock", "acl", "_metadata"}:
            assert getattr(ours, name) == getattr(theirs, name), name
        assert ours.value == theirs.value == key.value and ours.size == key.size and ours.etag == key.etag
        assert dict(ours.metadata) == dict(key.metadata) and ours.storage_class == key.storage_class


def test_a_saved_item_loads_without_moto_checking_its_size_again(table):
    import pickle

    from moto.dynamodb.models.dynamo_type import LimitedSizeDict

    from lab.backends.embedded import _register_fast_reducers

    _register_fast_reducers()
    item = Item(DynamoType({"S": "p"}), DynamoType({"N": "1"}),
                {"pk": {"S": "p"}, "sk": {"N": "1"}, "tags": {"SS": ["a", "b"]}, "doc": {"M": {"n": {"N": "2"}}}})
    loaded = pickle.loads(pickle.dumps(item))
    assert type(loaded.attrs) is LimitedSizeDict and loaded == item == _moto_round_trip(item)
    assert loaded.to_json() == item.to_json()


def test_key_heads_and_key_values_read_the_models_as_listing_would(bucket, table):
    """The inventory's bucket summary and table keys (key_heads, key_values) agree with what listing every
    version (list_object_versions) and scanning every item show."""
    from lab.kernel.data import heads_of

    data = MotoData()
    _s3().put_bucket_versioning(bucket, "Enabled")
    for key in ("a", "b", "c"):
        data.put_object(REGION, bucket, key, key.encode())
    data.put_object(REGION, bucket, "a", b"second")
    data.delete_object(REGION, bucket, "b")
    heads = {head.key: head for head in data.key_heads(REGION, bucket)}
    listed = {head.key: head for head in heads_of(data.list_object_versions(REGION, bucket))}
    assert heads == listed
    assert heads["a"].versions == 2 and heads["a"].markers == 0
    assert heads["a"].etag == "a9f0e61a137d86aa9db53465e0801612"  # md5 of the latest body, b"second"
    assert heads["b"].etag is None and heads["b"].versions == 1 and heads["b"].markers == 1
    for number in range(3):
        data.put_item(REGION, table, {"pk": {"S": f"k{number % 2}"}, "sk": {"N": str(number)}})
    assert sorted(data.key_values(REGION, table, "pk")) == ["k0", "k1"]
    assert sorted(data.key_values(REGION, table, "sk")) == ["0", "1", "2"]
    with pytest.raises(ValueError, match="not a key"):
        data.key_values(REGION, table, "other")
    with pytest.raises(LookupError):
        data.key_heads(REGION, "no-such-bucket-direct")
