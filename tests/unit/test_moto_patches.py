"""Every patch in lab.backends.moto_patches, against moto: the behaviour it fixes or relies on, and for the
patches that answer in moto's place, the same answers as moto's own code, field by field. Pinned to the moto
version in pyproject.toml: an upgrade that changes what a patch relies on fails here."""

from __future__ import annotations

import gc
import io
import json
import pickle
import random
import subprocess
import sys
import uuid
import weakref
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import time_machine
from moto.core.common_models import BaseModel
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.s3.models import FakeDeleteMarker, FakeKey, S3Backend, s3_backends
from moto.s3.utils import _VersionedKeyStore

from lab import config
from lab.backends import moto_patches
from lab.backends.embedded import MotoData, _store_items
from lab.backends.moto_patches import HOOKS, PATCHES, SortedKeyStore, original
from lab.gateway.codec import model_files

ACCOUNT, REGION = config.ACCOUNT_ID, config.PRIMARY_REGION
START = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="module", autouse=True)
def _patched() -> None:
    moto_patches.apply()


def test_patches_of_modules_the_start_does_not_need_are_made_when_they_are_imported():
    """apply() does not import moto's IAM (cryptography's X.509 with it) nor DynamoDB to patch them: each such
    patch is made as its module is first imported, before any importer sees the module. In a fresh process,
    since this one imported them long ago."""
    script = (
        "import sys\n"
        "from lab.backends import moto_patches\n"
        "moto_patches.apply()\n"
        "assert 'moto.iam.models' not in sys.modules and 'moto.dynamodb.models.table' not in sys.modules\n"
        "assert 'moto.rds.models' not in sys.modules and 'moto.sqs.models' not in sys.modules\n"
        "assert 'cryptography.x509' not in sys.modules\n"
        "from moto.iam.models import IAMBackend\n"
        "from moto.dynamodb.models.table import Table\n"
        "assert IAMBackend._init_aws_policies is not moto_patches.original(IAMBackend, '_init_aws_policies')\n"
        "assert Table.scan is not moto_patches.original(Table, 'scan')\n"
        "from moto.iam.models import User\n"
        "assert User.__init__ is not moto_patches.original(User, '__init__')\n"
        "import moto.rds.models as rds\n"
        "assert rds.valid_preferred_maintenance_window is moto_patches._no_window_refusal\n"
        "from moto.sqs.models import SQSBackend\n"
        "assert SQSBackend.receive_message is not moto_patches.original(SQSBackend, 'receive_message')\n"
        "from moto.ec2.models.elastic_block_store import EBSBackend\n"
        "assert EBSBackend.get_snapshot is not moto_patches.original(EBSBackend, 'get_snapshot')\n"
        "from moto.ec2.models.amis import Ami\n"
        "assert Ami.__init__ is not moto_patches.original(Ami, '__init__')\n"
        "import moto.cloudwatch.models as cloudwatch\n"
        "assert cloudwatch.are_dimensions_same is moto_patches.same_dimensions\n"
        "from moto.rds.models import DBInstance\n"
        "from moto.ssm.models import SimpleSystemManagerBackend\n"
        "assert '__getstate__' in SimpleSystemManagerBackend.__dict__\n"
        "from moto.awslambda.models import LambdaStorage\n"
        "from moto.ecr.models import ECRBackend\n"
        "assert '__setstate__' in LambdaStorage.__dict__ and '__setstate__' in ECRBackend.__dict__\n"
        "assert DBInstance.__init__ is not moto_patches.original(DBInstance, '__init__')\n"
        "assert not any(isinstance(f, moto_patches._AfterImport) for f in sys.meta_path)\n"
        "print('ok')\n"
    )
    waiting = {patch.after_import for patch in PATCHES if patch.after_import}
    assert waiting == {"moto.iam.models", "moto.dynamodb.models.table", "moto.rds.models",
                       "moto.ec2.models.instance_types", "moto.sqs.models", "moto.ec2.models.elastic_block_store",
                       "moto.cloudwatch.models", "moto.awslambda.models", "moto.ssm.models", "moto.ecr.models",
                       "moto.ec2.models.amis"}
    done = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def _s3() -> S3Backend:
    return s3_backends[ACCOUNT]["aws"]


@pytest.fixture()
def bucket():
    name = f"patches-{uuid.uuid4().hex[:12]}"
    _s3().create_bucket(name, REGION)
    yield name
    _s3().buckets.pop(name, None)


def test_every_patch_is_listed_once_with_what_it_changes_and_why():
    names = [patch.name for patch in PATCHES]
    assert len(names) == len(set(names))
    assert all(patch.changes and len(patch.why) > 40 for patch in PATCHES)
    moto_patches.apply()  # a second time changes nothing
    assert moto_patches.applied()
    assert original(S3Backend, "list_object_versions") is not S3Backend.list_object_versions


# -- parsed-json-once --------------------------------------------------------------------------------------

def test_each_botocore_model_is_parsed_once_and_the_ones_botocore_edits_are_copies():
    import gzip

    import botocore.loaders

    name = "dynamodb/2012-08-10/service-2"
    first, path = botocore.loaders.Loader().load_data_with_path(name)
    assert botocore.loaders.Loader().load_data_with_path(name)[0] is first  # moto's many sessions share it
    as_botocore_reads_it = json.loads(json.dumps(original(botocore.loaders.JSONFileLoader, "_load_file")(
        botocore.loaders.JSONFileLoader(), f"{path}.json.gz", gzip.open)))  # (plain dicts for OrderedDicts)
    assert as_botocore_reads_it["operations"]["PutItem"]["documentation"]
    for part in ("operations", "shapes"):
        model_files.drop_documentation(as_botocore_reads_it[part])
    assert first == {name: value for name, value in as_botocore_reads_it.items() if name != "documentation"}
    s3_model = "s3/2006-03-01/service-2"
    assert botocore.loaders.Loader().load_data_with_path(s3_model)[0] is not botocore.loaders.Loader(
    ).load_data_with_path(s3_model)[0]


def test_the_gateway_and_moto_share_one_parsed_model():
    """The gateway's own botocore session reads through the same cache as moto's loaders: EC2's model, which
    both use, is held once; S3's, which botocore edits in place when a client is made, is the gateway's own."""
    import botocore.loaders

    from lab.gateway.codec.identify import service_model

    moto_s = botocore.loaders.Loader().load_service_model("ec2", "service-2")
    assert service_model("ec2")._service_description is moto_s
    assert "documentation" not in moto_s["operations"]["RunInstances"]
    assert service_model("s3")._service_description is not botocore.loaders.Loader().load_service_model(
        "s3", "service-2")


def test_clients_and_moto_work_from_models_without_documentation():
    import boto3

    for service in ("dynamodb", "s3", "s3control", "ec2", "rds", "backup"):  # (S3's has clientContextParams)
        client = boto3.client(service, region_name=REGION, aws_access_key_id="a", aws_secret_access_key="b")
        model = client.meta.service_model
        assert model.documentation == "" and model.operation_names and model.client_context_parameters is not None
        operation = model.operation_model(model.operation_names[0])
        assert operation.documentation == ""


def test_botocore_lists_its_services_once_per_search_path(monkeypatch: pytest.MonkeyPatch):
    """A new loader (moto makes one per model it loads) answers botocore's own listing without listing the
    data folders again, each search path listed once; the answer is the caller's to change."""
    import os

    import botocore.loaders

    expected = original(botocore.loaders.Loader, "list_available_services")(botocore.loaders.Loader(), "service-2")
    assert botocore.loaders.Loader().list_available_services("service-2") == expected
    listed: list[str] = []
    listdir = os.listdir
    monkeypatch.setattr(os, "listdir", lambda path: listed.append(path) or listdir(path))
    again = botocore.loaders.Loader().list_available_services("service-2")
    assert again == expected and "dynamodb" in again and listed == []
    again.clear()
    assert botocore.loaders.Loader().list_available_services("service-2") == expected
    assert botocore.loaders.Loader().load_service_model("dynamodb", "service-2")["metadata"]["endpointPrefix"] == (
        "dynamodb")
    with pytest.raises(botocore.exceptions.UnknownServiceError):
        botocore.loaders.Loader().load_service_model("no-such-service", "service-2")
    from moto.core.utils import create_loader  # (moto's loaders search moto's own folder first)

    listing = original(botocore.loaders.Loader, "list_available_services")
    assert create_loader().list_available_services("paginators-1") == listing(create_loader(), "paginators-1")


def test_moto_resources_are_moto_s():
    from moto.utilities import utils as moto_utils

    assert moto_utils.load_resource("ec2/resources/instance_types.json") == original(
        moto_utils, "load_resource")("ec2/resources/instance_types.json")


# -- seeded-uuid4 ------------------------------------------------------------------------------------------

def test_uuid4_draws_from_moto_s_seeded_generator():
    from moto.moto_api._internal import mock_random

    mock_random.seed("patches")
    drawn = [uuid.uuid4() for _ in range(3)]
    mock_random.seed("patches")
    assert drawn == [mock_random.uuid4() for _ in range(3)]
    assert original(uuid, "uuid4")() != original(uuid, "uuid4")()  # (the OS's, unseeded)


# -- key-store-pickling, private-key-pickling ----------------------------------------------------------------

def test_a_bucket_pickles_with_every_version(bucket):
    _s3().put_bucket_versioning(bucket, "Enabled")
    for body in (b"1", b"2", b"3"):
        _s3().put_object(bucket, "k", body)
    store = _s3().buckets[bucket].keys
    loaded = pickle.loads(pickle.dumps(store))
    assert type(loaded) is SortedKeyStore
    assert [version.value for version in loaded.getlist("k")] == [b"1", b"2", b"3"]


def test_moto_s_key_store_pickled_as_it_is_keeps_one_version_per_key():
    store = _VersionedKeyStore()
    store["k"] = "v1"
    store["k"] = "v2"
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer)
    pickler.dispatch_table = {}  # (without the lab's reducer)
    pickler.dump(store)
    assert dict.items(pickle.loads(buffer.getvalue())) != dict.items(store)
    assert dict(dict.items(pickle.loads(pickle.dumps(store)))) == {"k": ["v1", "v2"]}


def test_private_keys_pickle_as_pkcs8():
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    for key in (rsa.generate_private_key(public_exponent=65537, key_size=2048), ec.generate_private_key(ec.SECP256R1()),
                ed25519.Ed25519PrivateKey.generate()):
        buffer = io.BytesIO()
        pickler = pickle.Pickler(buffer)
        pickler.dispatch_table = {}
        with pytest.raises(TypeError):
            pickler.dump(key)  # what moto's KMS keys would do without the reducer
        loaded = pickle.loads(pickle.dumps(key))
        assert loaded.public_key().public_bytes(*_raw()) == key.public_key().public_bytes(*_raw())


def _raw() -> tuple[Any, Any]:
    from cryptography.hazmat.primitives import serialization

    return serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo


def test_snapshots_naming_the_old_module_still_load():
    from lab.backends import embedded

    assert embedded._rebuild_versioned_store({"k": ["v"]}).getlist("k") == ["v"]
    assert embedded._load_private_key is moto_patches.load_private_key


# -- weak-instance-registry ----------------------------------------------------------------------------------

class TrackedModel(BaseModel):
    """A model class of moto's kind (its metaclass gives it a registry of instances)."""


def test_moto_s_registry_kept_every_instance_alive():
    made = original(BaseModel, "__new__")(TrackedModel)
    reference = weakref.ref(made)
    del made
    gc.collect()
    assert reference() is not None  # held by moto's list for good
    TrackedModel.instances_tracked.remove(reference())


def test_the_registry_lists_the_instances_alive_and_lets_the_rest_go(bucket):
    key = _s3().put_object(bucket, "k", b"x")
    assert key in list(FakeKey.instances_tracked)
    reference = weakref.ref(_s3().put_object(bucket, "k", b"y"))  # versioning off: replaces the first
    del key
    gc.collect()
    assert reference() is not None and reference() in list(FakeKey.instances_tracked)
    _s3().put_object(bucket, "k", b"z")
    gc.collect()
    assert reference() is None
    copied = weakref.ref(__import__("copy").deepcopy(_s3().buckets[bucket].keys["k"]))
    gc.collect()
    assert copied() is None  # a deep copy (moto's listings made them) goes when dropped


# -- quiet-backend-apps ---------------------------------------------------------------------------------------

def _request_objects() -> list[Any]:
    return [thing for thing in gc.get_objects() if type(thing).__name__ == "BackendRequest"]


def _put_through(app: Any, bucket: str, body: bytes) -> None:
    from werkzeug.test import EnvironBuilder

    environ = EnvironBuilder(method="PUT", path=f"/{bucket}/k", data=body, headers={
        "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, "
                         "SignedHeaders=host, Signature=0", "Host": "s3.amazonaws.com"}).get_environ()
    b"".join(app(environ, lambda status, headers, exc_info=None: None))


def _requests_left_behind(app: Any, bucket: str) -> list[Any]:
    """The request objects still alive after a 1 KiB PUT, the garbage collector off."""
    _put_through(app, bucket, b"x")
    gc.collect()
    gc.disable()
    try:
        _put_through(app, bucket, b"x" * 1024)
        return _request_objects()
    finally:
        gc.enable()




def test_moto_s_app_keeps_each_request_and_its_body_until_the_garbage_collector_runs(bucket):
    from moto.moto_server.werkzeug_app import create_backend_app

    app = create_backend_app("s3")
    assert app.debug  # moto's own setting: a class per request, in a reference cycle with it
    left = _requests_left_behind(app, bucket)
    assert left and left[0].get_data() == b"x" * 1024
    del left
    gc.collect()
    assert not _request_objects()


def test_a_request_to_a_quiet_app_is_freed_once_answered(bucket):
    app = moto_patches.backend_app("s3")
    assert not app.debug
    assert not _requests_left_behind(app, bucket)
    assert _s3().buckets[bucket].keys["k"].value == b"x" * 1024


def test_moto_s_missing_operations_still_raise_through_a_quiet_app():
    app = moto_patches.backend_app("s3")
    assert app.config["PROPAGATE_EXCEPTIONS"]  # NotImplementedError reaches the backend, which answers it


# -- object-events, version-deletes ----------------------------------------------------------------------------

class _Listener:
    def __init__(self) -> None:
        self.heard: list[tuple[Any, ...]] = []

    def __call__(self, *args: Any) -> None:
        self.heard.append(args)

    def method(self, *args: Any) -> None:
        self.heard.append(args)


def test_objects_created_and_tagged_are_reported_whoever_writes_them(bucket):
    listener = _Listener()
    HOOKS.on_object_event(listener.method)
    _s3().put_bucket_versioning(bucket, "Enabled")
    key = _s3().put_object(bucket, "k", b"x")
    _s3().put_object_tagging(key, {"a": "b"})
    direct = MotoData().put_object(REGION, bucket, "d", b"y")
    mine = [event for event in listener.heard if event[1] == bucket]
    assert mine == [("created", bucket, "k", key.version_id), ("tagged", bucket, "k", key.version_id),
                    ("created", bucket, "d", direct)]


def test_a_listener_that_is_gone_hears_nothing(bucket):
    listener = _Listener()
    HOOKS.on_object_event(listener.method)
    reference = weakref.ref(listener)
    del listener
    gc.collect()
    _s3().put_object(bucket, "k", b"x")
    assert reference() is None


def test_version_deletes_are_reported_before_they_happen(bucket):
    seen: list[tuple[str, str, str, bool]] = []

    def listener(bucket_name: str, key: str, version_id: str) -> None:
        still_there = any(v.version_id == version_id for v in _s3().buckets[bucket_name].keys.getlist(key, []))
        seen.append((bucket_name, key, version_id, still_there))

    HOOKS.on_version_delete(listener)
    _s3().put_bucket_versioning(bucket, "Enabled")
    version = _s3().put_object(bucket, "k", b"x").version_id
    _s3().delete_object(bucket, "k")  # a delete marker: no version deleted
    _s3().delete_object(bucket, "k", version_id=version)
    assert [entry for entry in seen if entry[0] == bucket] == [(bucket, "k", version, True)]


# -- sorted-key-store ------------------------------------------------------------------------------------------

def test_new_buckets_keep_their_names_sorted_as_keys_come_and_go(bucket):
    store = _s3().buckets[bucket].keys
    assert type(store) is SortedKeyStore
    rng, names = random.Random(7), set()
    assert store.sorted_names() == []
    for step in range(600):
        name = f"k{rng.randrange(200):03d}"
        if rng.random() < 0.2 and names:
            gone = rng.choice(sorted(names))
            _s3().delete_object(bucket, gone)
            names.discard(gone)
        else:
            _s3().put_object(bucket, name, b"x")
            names.add(name)
        if step % 7 == 0:
            assert store.sorted_names() == sorted(names)
    MotoData().put_object(REGION, bucket, "direct", b"y")
    names.add("direct")
    assert store.sorted_names() == sorted(names) == sorted(dict.keys(store))


def test_a_store_made_before_the_patches_becomes_a_sorted_one():
    store = _VersionedKeyStore()
    store["b"] = 1
    store["a"] = 2
    assert moto_patches.sorted_store(store).sorted_names() == ["a", "b"]
    store["c"] = 3
    del store["a"]
    assert store.sorted_names() == ["b", "c"]


# -- quick-timestamps ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    "2026-12-07T01:08:48.000Z", "2026-12-07T01:08:48Z", "2026-12-07T01:08:48.123456Z", "2026-12-07T01:08:48.5Z",
    "2026-12-07T01:08:48+02:00", "2026-12-07T01:08:48.250-05:30", "2026-12-07", "2026-12-07T01:08:48",
    "1796777339", 1796777339, 1796777339.25, datetime(2026, 12, 7, 1, 8, 48, 900), datetime(2026, 12, 7, 1, 8),
    datetime(2026, 12, 7, 1, 8, 48, 1, tzinfo=UTC), datetime(2026, 12, 7, 1, 8, tzinfo=timezone(timedelta(hours=-7))),
])
def test_timestamps_serialise_as_moto_serialises_them(value):
    from moto.core import serialize

    serializer = serialize.TimestampSerializer("iso8601")
    for kind in ("iso8601", "iso8601_zeroed", "unixtimestamp", "rfc822"):
        converter = getattr(serializer, f"_timestamp_{kind}")
        ours = converter(moto_patches.aware_timestamp(value))
        assert ours == converter(original(serialize, "parse_to_aware_datetime")(value)), kind


# -- rendered-listings -------------------------------------------------------------------------------------

def _get(app: Any, path: str, query: str) -> tuple[str, str | None, bytes]:
    from werkzeug.test import EnvironBuilder

    environ = EnvironBuilder(method="GET", path=path, query_string=query, headers={
        "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, "
                         "SignedHeaders=host, Signature=0", "Host": "s3.amazonaws.com"}).get_environ()
    answer: list[Any] = []
    body = b"".join(app(environ, lambda status, headers, exc_info=None: answer.extend([status, headers])))
    return answer[0], dict(answer[1]).get("Content-Type"), body


def test_listings_are_written_as_moto_s_serializer_writes_them(bucket, monkeypatch):
    from moto.core.responses import ActionResult

    _fill(bucket, keys=40, versions=120, seed=6)
    for name in ("odd & <key> \"quoted\" 'single'", "ünïcode/ß", "spaced key/x", "100%/a+b"):
        _s3().put_object(bucket, name, b"x")
    some = sorted(dict.keys(_s3().buckets[bucket].keys))[5]
    version = _s3().buckets[bucket].keys.getlist(some)[0].version_id
    queries = [f"versions&{q}" for q in (
        "", "max-keys=3", "max-keys=0", "prefix=docs/", "delimiter=/", "delimiter=/&prefix=docs/&max-keys=2",
        f"key-marker={some}", f"key-marker={some}&version-id-marker={version}",
        "prefix=nothing")] + [f"list-type=2&{q}" for q in (
        "", "max-keys=2", "max-keys=0", "prefix=img", "delimiter=/", "delimiter=/&fetch-owner=true",
        "start-after=docs/", "encoding-type=url&delimiter=a", "prefix=nothing")]
    app = moto_patches.backend_app("s3")
    rendered: list[str] = []
    render = moto_patches.ListingRenderer.render
    monkeypatch.setattr(moto_patches.ListingRenderer, "render",
                        lambda renderer, result: rendered.append(renderer.root) or render(renderer, result))
    ours = [_get(app, f"/{bucket}", query) for query in queries]
    assert len(rendered) == len(queries)  # (every one written by the renderer)
    monkeypatch.setattr(ActionResult, "execute_result", original(ActionResult, "execute_result"))
    moto_s = [_get(app, f"/{bucket}", query) for query in queries]
    for query, mine, theirs in zip(queries, ours, moto_s, strict=True):
        assert mine == theirs, query
    assert any(b"&lt;key&gt;" in body for _, _, body in ours)


def test_list_object_versions_url_encodes_what_it_lists_when_asked(bucket):
    """moto ignored encoding-type=url there: a key with a character XML cannot carry (S3 allows any UTF-8)
    made every version listing of the bucket unreadable. Encoded, botocore reads the keys back as they are."""
    from botocore import handlers
    from botocore.parsers import create_parser
    from moto.core.responses import get_service_model

    names = ["control\x01char", "dir/with space+plus", "100%/ünï", "dir/deep/x"]
    _s3().put_bucket_versioning(bucket, "Enabled")
    for name in names:
        _s3().put_object(bucket, name, b"x")
    _s3().delete_object(bucket, "dir/deep/x")
    app = moto_patches.backend_app("s3")
    shape = get_service_model("s3").operation_model("ListObjectVersions").output_shape
    for query, prefixes in (("", []), ("&delimiter=/&prefix=", ["100%/", "dir/"])):
        _, _, body = _get(app, f"/{bucket}", f"versions&encoding-type=url{query}")
        assert b"\x01" not in body and b"<EncodingType>url</EncodingType>" in body
        parsed = create_parser("rest-xml").parse({"status_code": 200, "headers": {}, "body": body}, shape)
        handlers.decode_list_object_versions(parsed, {"encoding_type_auto_set": True})
        listed = {v["Key"] for v in parsed.get("Versions", [])} | {m["Key"] for m in parsed.get("DeleteMarkers", [])}
        assert [p["Prefix"] for p in parsed.get("CommonPrefixes", [])] == prefixes
        assert listed == ({n for n in names if "/" not in n} if prefixes else set(names)), query
    _, _, plain = _get(app, f"/{bucket}", "versions")
    assert b"\x01" in plain  # (unasked, the keys are written as they are, as S3 does)


def test_a_listing_the_renderer_does_not_read_as_moto_does_is_left_to_moto():
    from moto.core.responses import get_service_model

    renderer = moto_patches.ListingRenderer(get_service_model("s3").operation_model("ListObjectVersions"))
    assert renderer.render({"Name": "b", "MaxKeys": 1}).startswith('<?xml version="1.0" encoding="utf-8"?>')
    for odd in ({"name": "b"}, {"Name": "b", "RequestCharged": "requester"}, {"Versions": ({"Key": "k"},)}):
        with pytest.raises(moto_patches._UnrenderableError):
            renderer.render(odd)


# -- lazy-managed-policies -----------------------------------------------------------------------------------

def _iam(account: str) -> Any:
    from moto.iam.models import iam_backends

    return iam_backends[account]["aws"]


def _policies(backend: Any) -> list[tuple[Any, ...]]:
    return sorted((p.arn, p.name, p.description, p.default_version_id, p.path, str(p.create_date),
                   [(v.version_id, v.document) for v in p.versions]) for p in backend.aws_managed_policies)


def test_managed_policies_are_made_when_first_read_and_are_moto_s(monkeypatch):
    from moto.iam.models import IAMBackend, mark_account_as_visited

    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    account = "111122223333"
    mark_account_as_visited(account, "AKIAEXAMPLE", "s3", REGION)  # (what moto does on an S3 or DynamoDB call)
    lazy = _iam(account)
    assert not lazy.aws_managed_policies.loaded and not lazy.managed_policies.loaded
    arn = "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"
    assert lazy.get_policy(arn).arn == arn  # (read: made now)
    assert lazy.managed_policies.loaded
    monkeypatch.setattr(IAMBackend, "_init_aws_policies", original(IAMBackend, "_init_aws_policies"))
    monkeypatch.setattr(IAMBackend, "_init_managed_policies", original(IAMBackend, "_init_managed_policies"))
    eager = IAMBackend(REGION, "444455556666")
    assert len(_policies(lazy)) > 1000 and _policies(lazy) == _policies(eager)
    assert sorted(lazy.managed_policies) == sorted(eager.managed_policies)


def test_managed_policy_ids_do_not_depend_on_when_they_are_first_read(monkeypatch):
    from moto.moto_api._internal import mock_random

    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    ids = []
    for account, draws in (("131313131313", 0), ("131313131313", 7)):
        _iam(account)  # (made; its policies not read)
        from moto.iam.models import iam_backends

        mock_random.seed("a call")
        for _ in range(draws):
            mock_random.random()
        after = mock_random.getstate()
        ids.append(sorted(policy.id for policy in _iam(account).aws_managed_policies))
        assert mock_random.getstate() == after  # the call's own draws go on as if nothing was made
        iam_backends[account].reset()
    assert ids[0] == ids[1]


def test_customer_policies_join_the_managed_ones_unread(monkeypatch):
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    backend = _iam("777788889999")
    made = backend.create_policy(description="", path="/", policy_document=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}),
        policy_name="mine", tags=[])
    listed = {policy.arn for policy in backend.list_policies(marker=None, max_items=5000, only_attached=False,
                                                               path_prefix="/", scope="All")[0]}
    assert made.arn in listed and len(listed) > 1000
    copied = pickle.loads(pickle.dumps(backend.managed_policies))
    assert sorted(copied) == sorted(backend.managed_policies)


def test_a_lazy_list_pickles_whole_even_unread(monkeypatch):
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    from moto.iam.models import mark_account_as_visited

    mark_account_as_visited("121212121212", "AKIAEXAMPLE", "s3", REGION)
    backend = _iam("121212121212")
    assert not backend.aws_managed_policies.loaded
    copied = pickle.loads(pickle.dumps(backend))
    assert copied.aws_managed_policies.loaded and len(copied.managed_policies) == len(copied.aws_managed_policies)


# -- list-object-versions --------------------------------------------------------------------------------------

def _fill(bucket: str, keys: int = 60, versions: int = 240, seed: int = 1) -> None:
    """Keys with and without '/', several versions each, delete markers, several versions at one instant."""
    rng = random.Random(seed)
    _s3().put_bucket_versioning(bucket, "Enabled")
    names = [rng.choice(["", "docs/", "docs/a/", "img/", "img-x/", "z/"]) + f"{rng.choice('abcdefg')}{n:02d}"
             for n in range(keys)]
    at = START
    for _ in range(versions):
        if rng.random() < 0.7:
            at += timedelta(seconds=rng.choice([0, 0, 1, 30]))  # (0: a version at the same millisecond)
        with time_machine.travel(at, tick=False):
            name = rng.choice(names)
            if rng.random() < 0.15:
                _s3().delete_object(bucket, name)
            else:
                _s3().put_object(bucket, name, rng.randbytes(rng.randrange(1, 40)))


def _shown(versions: list[Any]) -> list[tuple[Any, ...]]:
    return [(v.name, v.version_id, v.is_latest, v.last_modified,
             None if isinstance(v, FakeDeleteMarker) or isinstance(getattr(v, "version", None), FakeDeleteMarker)
             else (v.etag, v.size, v.storage_class)) for v in versions]


def _both_list_versions(bucket: str, **params: Any) -> tuple[Any, Any]:
    moto_s = original(S3Backend, "list_object_versions")(_s3(), bucket, **params)
    ours = _s3().list_object_versions(bucket, **params)
    return moto_s, ours


def _same_versions(bucket: str, **params: Any) -> tuple[Any, ...]:
    moto_s, ours = _both_list_versions(bucket, **params)
    assert _shown(ours[0]) == _shown(moto_s[0]), params
    assert ours[1] == moto_s[1], params
    assert _shown(ours[2]) == _shown(moto_s[2]), params
    assert ours[3:] == moto_s[3:], params
    return ours


def test_version_pages_are_moto_s_for_every_kind_of_request(bucket):
    _fill(bucket)
    names = sorted(dict.keys(_s3().buckets[bucket].keys))
    some_version = _s3().buckets[bucket].keys.getlist(names[3])[0].version_id
    for prefix in ("", "docs/", "img", "nothing"):
        for delimiter in (None, "/", "a"):
            for max_keys in (0, 1, 3, 10, 1000):
                _same_versions(bucket, prefix=prefix, delimiter=delimiter, max_keys=max_keys)
                for key_marker in ("", names[3], names[3] + "~", "docs/", "zzz"):
                    _same_versions(bucket, prefix=prefix, delimiter=delimiter, max_keys=max_keys,
                                   key_marker=key_marker)
                    for version_marker in (some_version, "no-such-version"):
                        _same_versions(bucket, prefix=prefix, delimiter=delimiter, max_keys=max_keys,
                                       key_marker=key_marker, version_id_marker=version_marker)


@pytest.mark.parametrize(("prefix", "delimiter"), [("", None), ("", "/"), ("docs/", "/"), ("img", None)])
def test_paging_through_versions_walks_moto_s_pages(bucket, prefix, delimiter):
    _fill(bucket, seed=2)
    key_marker = version_marker = None
    pages = 0
    while True:
        ours = _same_versions(bucket, prefix=prefix, delimiter=delimiter, max_keys=7, key_marker=key_marker,
                              version_id_marker=version_marker)
        pages += 1
        if ours[3] is None:
            break
        key_marker, version_marker = ours[3], ours[4]
    assert pages > 3


def test_listing_versions_changes_nothing_it_shows(bucket):
    _fill(bucket, keys=10, versions=40, seed=3)
    before = {name: [vars(v).copy() for v in versions] for name, versions in dict.items(_s3().buckets[bucket].keys)}
    _s3().list_object_versions(bucket)
    after = {name: [vars(v).copy() for v in versions] for name, versions in dict.items(_s3().buckets[bucket].keys)}
    assert after == before


# -- list-objects-v2 -------------------------------------------------------------------------------------------

def _entries(entries: list[Any]) -> list[Any]:
    return [(e.name, e.version_id) if isinstance(e, FakeKey) else e for e in entries]


def _same_objects(bucket: str, **params: Any) -> tuple[Any, ...]:
    found = _s3().buckets[bucket]
    args = (params.get("prefix"), params.get("delimiter"), params.get("continuation_token"),
            params.get("start_after"), params.get("max_keys", 1000))
    moto_s = original(S3Backend, "list_objects_v2")(_s3(), found, *args)
    ours = _s3().list_objects_v2(found, *args)
    assert _entries(ours[0]) == _entries(moto_s[0]), params
    assert ours[1:] == moto_s[1:], params
    return ours


def test_object_pages_are_moto_s_for_every_kind_of_request(bucket):
    _fill(bucket, seed=4)
    names = sorted(dict.keys(_s3().buckets[bucket].keys))
    for prefix in (None, "", "docs/", "img", "nothing"):
        for delimiter in (None, "/", "a"):
            for max_keys in (0, 1, 3, 10, 1000):
                for start_after in (None, "", names[5], "docs/", "docs/a/", "zzz"):
                    _same_objects(bucket, prefix=prefix, delimiter=delimiter, max_keys=max_keys,
                                  start_after=start_after)


@pytest.mark.parametrize(("prefix", "delimiter"), [(None, None), (None, "/"), ("docs/", "/"), ("img", None)])
def test_paging_through_objects_walks_moto_s_pages(bucket, prefix, delimiter):
    _fill(bucket, seed=5)
    token, pages = None, 0
    while True:
        ours = _same_objects(bucket, prefix=prefix, delimiter=delimiter, max_keys=3, continuation_token=token)
        pages += 1
        if not ours[1]:
            break
        token = ours[2]
    assert pages >= 2


def test_an_unknown_token_fails_as_moto_fails(bucket):
    _s3().put_object(bucket, "k", b"x")
    found = _s3().buckets[bucket]
    with pytest.raises(TypeError):
        original(S3Backend, "list_objects_v2")(_s3(), found, None, None, "not-a-token", None, 10)
    with pytest.raises(TypeError):
        _s3().list_objects_v2(found, None, None, "not-a-token", None, 10)


# -- scan-from-sorted-keys -------------------------------------------------------------------------------------

def _table(name: str, range_type: str | None, hash_type: str = "S") -> Table:
    backend = dynamodb_backends[ACCOUNT][REGION]
    schema = [{"AttributeName": "pk", "KeyType": "HASH"}]
    attrs = [{"AttributeName": "pk", "AttributeType": hash_type}]
    if range_type:
        schema.append({"AttributeName": "sk", "KeyType": "RANGE"})
        attrs.append({"AttributeName": "sk", "AttributeType": range_type})
    return backend.create_table(name, schema=schema, throughput=None, attr=attrs, global_indexes=None,
                                indexes=None, streams=None, billing_mode="PAY_PER_REQUEST", sse_specification=None,
                                tags=[], deletion_protection_enabled=False, warm_throughput=None)


@pytest.fixture(params=[(None, "S"), (None, "N"), ("N", "S"), ("S", "N")], ids=["S", "N", "S+N", "N+S"])
def table(request):
    range_type, hash_type = request.param
    name = f"patches-{uuid.uuid4().hex[:12]}"
    made = _table(name, range_type, hash_type)
    yield made
    dynamodb_backends[ACCOUNT][REGION].tables.pop(name, None)


def _value(kind: str, number: int) -> dict[str, str]:
    return {kind: str(number) if kind == "N" else f"v{number:03d}"}


def _item(table: Table, rng: random.Random) -> dict[str, Any]:
    item = {"pk": _value(table.hash_key_type, rng.randrange(-40, 40) if table.hash_key_type == "N"
                         else rng.randrange(40)),
            "colour": {"S": rng.choice(["red", "blue"])}, "n": {"N": str(rng.randrange(100))}}
    if table.range_key_attr:
        item["sk"] = _value(table.range_key_type, rng.randrange(5))
    return item


def _key(table: Table, item: dict[str, Any]) -> tuple[Any, Any]:
    return DynamoType(item["pk"]), DynamoType(item["sk"]) if table.range_key_attr else None


def _same_scan(table: Table, limit: int | None, start: dict[str, Any] | None, **params: Any) -> Any:
    args = (params.get("filters", {}), limit, start, params.get("filter_expression"), None, False,
            params.get("projection"))
    moto_s = original(Table, "scan")(table, *args, segments=params.get("segments", (None, None)))
    ours = table.scan(*args, segments=params.get("segments", (None, None)))
    assert [item.to_json() for item in ours[0]] == [item.to_json() for item in moto_s[0]], (limit, start, params)
    assert ours[1:] == moto_s[1:], (limit, start, params)
    return ours


def _walk(table: Table, limit: int, **params: Any) -> None:
    start = None
    while True:
        _, _, last = _same_scan(table, limit, start, **params)
        if last is None:
            break
        start = {name: value.to_json() for name, value in last.items()}


def test_scan_pages_are_moto_s_as_items_come_and_go(table):
    from moto.dynamodb.comparisons import get_filter_expression

    rng = random.Random(11)
    data = MotoData()
    for step in range(400):
        item = _item(table, rng)
        roll = rng.random()
        if roll < 0.15:
            table.delete_item(*_key(table, item))
        elif roll < 0.35:
            _store_items(table, [item])  # the data layer's direct writes
        else:
            table.put_item(item)
        if step % 40 == 0:
            for limit in (1, 3, 10, None):
                _walk(table, limit)
    data.flush_items()
    red = {"colour": ("EQ", [DynamoType({"S": "red"})])}
    expression = get_filter_expression("n > :n", {}, {":n": {"N": "50"}})
    for limit in (1, 4, 25, None):
        _walk(table, limit, filters=red)
        _walk(table, limit, filter_expression=expression)
        _walk(table, limit, projection=[["n"]])
        _walk(table, limit, segments=(1, 3))


def test_a_scan_from_a_key_that_is_not_in_the_table_starts_where_moto_s_does(table):
    rng = random.Random(12)
    for _ in range(60):
        table.put_item(_item(table, rng))
    for number in range(-45, 45, 7):
        start = {"pk": _value(table.hash_key_type, abs(number) if table.hash_key_type == "S" else number)}
        if table.range_key_attr:
            start["sk"] = _value(table.range_key_type, 2)
        _same_scan(table, 5, start)
    for odd in ({"pk": {"S": "x"}, "other": {"S": "y"}}, {"pk": {"N": "1"}, "sk": {"B": "AA=="}}, {"pk": {"S": "x"}}):
        try:
            original(Table, "scan")(table, {}, 5, odd, None, None, False, None)
        except Exception as moto_s:  # noqa: BLE001 -- whatever moto raises for it, ours raises too
            with pytest.raises(type(moto_s)):
                table.scan({}, 5, odd, None, None, False, None)
        else:
            _same_scan(table, 5, odd)


def test_a_restored_table_scans_its_own_items(table):
    rng = random.Random(13)
    for _ in range(30):
        table.put_item(_item(table, rng))
    _walk(table, 4)
    table.items = type(table.items)(dict) if table.range_key_attr else {}
    _walk(table, 4)
    assert table.scan({}, 10, None)[0] == []


def test_a_tables_length_is_moto_s_as_items_come_and_go(table):
    """DescribeTable's ItemCount (len(table)) without a list of every item: moto's count, put after put."""
    rng = random.Random(29)
    moto_len = original(Table, "__len__")
    assert len(table) == moto_len(table) == 0
    for n in range(60):
        table.put_item(_item(table, rng))
        if n % 7 == 0:
            stored = next(iter(moto_patches._stored_items(table)))
            table.delete_item(stored.hash_key, stored.range_key)
        assert len(table) == moto_len(table)
    assert table.describe(base_key="Table")["Table"]["ItemCount"] == moto_len(table) > 0


# -- rds-windows-checked-by-the-lab ---------------------------------------------------------------------------

def test_moto_no_longer_refuses_a_backup_window_for_meeting_its_own_default_maintenance_window():
    """moto refused 06:45-07:15 alone (its default maintenance window is wed:06:38-07:08); the lab's windows
    module is the one judge, and refuses what RDS refuses."""
    import moto.rds.models

    from lab.services.rds import windows

    moto_check = original(moto.rds.models, "valid_preferred_maintenance_window")
    assert "must not overlap" in moto_check("wed:06:38-wed:07:08", "06:45-07:15")
    assert moto.rds.models.valid_preferred_maintenance_window("wed:06:38-wed:07:08", "06:45-07:15") is None
    backup, maintenance = windows.default_windows(1, REGION, "db", "06:45-07:15")
    assert backup == "06:45-07:15" and not windows.overlap(backup, maintenance)
    with pytest.raises(windows.WindowError, match="must not overlap"):
        windows.validate("06:45-07:15", "wed:06:38-wed:07:08")


# -- instance-type-offerings-per-region ----------------------------------------------------------------------

def test_ec2_reads_a_region_s_instance_type_offerings_when_a_call_first_asks_for_them():
    """moto parsed all 90 offerings files as EC2 was imported; now none is read until a call asks for a
    region, and that region's offerings are moto's own, file for file. In a fresh process, since this one
    imported EC2 before the patches."""
    script = (
        "from lab.backends import moto_patches\n"
        "moto_patches.apply()\n"
        "from moto.utilities import utils\n"
        "from moto.ec2.models import instance_types\n"
        "from moto.ec2.models.instances import INSTANCE_TYPE_OFFERINGS as seen_by_run_instances\n"
        "offerings = instance_types.INSTANCE_TYPE_OFFERINGS\n"
        "assert offerings is seen_by_run_instances\n"
        "assert set(offerings) == {'region', 'availability-zone', 'availability-zone-id'}\n"
        "assert all(dict.__len__(by_region) == 0 for by_region in offerings.values())\n"
        "zones = offerings['availability-zone']\n"
        "assert 'eu-west-1' in zones and 'nowhere-1' not in zones and zones.get('nowhere-1', 'none') == 'none'\n"
        "found = zones.get('eu-west-1')\n"
        "assert dict.__len__(zones) == 1\n"
        "moto_s = moto_patches.original(utils, 'load_resource')(\n"
        "    'ec2/resources/instance_type_offerings/availability-zone/eu-west-1.json')\n"
        "assert found == [dict(o, LocationType='availability-zone') for o in moto_s] and len(found) > 100\n"
        "assert len(zones) == len(list(zones)) == dict.__len__(zones) > 20\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def test_placements_are_checked_and_types_offered_in_any_region_as_moto_does():
    """Through moto's EC2 backend, in a region the lab does not use: a zone of another region is refused at
    RunInstances, one of this region is taken, and DescribeInstanceTypeOfferings lists what moto's file holds."""
    from moto.ec2.exceptions import AvailabilityZoneNotFromRegionError
    from moto.ec2.models import ec2_backends
    from moto.utilities import utils as moto_utils

    backend = ec2_backends[ACCOUNT]["ap-southeast-2"]
    image = next(iter(backend.amis))
    with pytest.raises(AvailabilityZoneNotFromRegionError):
        backend.run_instances(image, 1, None, [], placement="us-east-1a", region_name="ap-southeast-2",
                              is_instance_type_default=True)
    made = backend.run_instances(image, 1, None, [], placement="ap-southeast-2b", region_name="ap-southeast-2",
                                 is_instance_type_default=True)
    assert made.instances[0].placement.zone == "ap-southeast-2b"
    backend.terminate_instances([made.instances[0].id])
    offered = backend.describe_instance_type_offerings("availability-zone", {"instance-type": ["t3.micro"]})
    moto_s = original(moto_utils, "load_resource")(
        "ec2/resources/instance_type_offerings/availability-zone/ap-southeast-2.json")
    assert sorted(o["Location"] for o in offered) == sorted(
        o["Location"] for o in moto_s if o["InstanceType"] == "t3.micro") != []


def test_an_ami_leaves_no_placeholder_snapshot_in_the_account():
    """moto's Ami makes a 15 GiB snapshot of an empty volume for every AMI, its built-in ones too; patched, the
    snapshot is no longer among the account's, and moto's own AMIs still show their mappings."""
    from moto.ec2.models import ec2_backends
    from moto.ec2.models.amis import Ami

    backend = ec2_backends[ACCOUNT]["ap-southeast-2"]
    assert backend.amis and not any(s.from_ami for s in backend.snapshots.values())
    builtin = next(iter(backend.amis.values()))
    assert builtin.block_device_mappings[0]["Ebs"]["SnapshotId"].startswith("snap-")

    made = backend.snapshots.copy()
    moto_s = object.__new__(Ami)
    original(Ami, "__init__")(moto_s, backend, "ami-12345678", name="moto-s")
    placeholders = {k: s for k, s in backend.snapshots.items() if k not in made}
    assert [s.description for s in placeholders.values()] == ["Auto-created snapshot for AMI ami-12345678"]
    for snapshot_id in placeholders:
        backend.snapshots.pop(snapshot_id)
    Ami(backend, "ami-87654321", name="patched")
    assert backend.snapshots.keys() == made.keys()


# -- object-lock-reads -------------------------------------------------------------------------------------------

def _locked_bucket(name: str) -> Any:
    found = _s3().buckets[name]
    _s3().put_bucket_versioning(name, "Enabled")
    _s3().put_object_lock_configuration(name, lock_enabled=True)
    return found


def test_moto_answered_get_object_retention_with_the_object_and_now_answers_the_retention(bucket, monkeypatch):
    """moto has no GetObjectRetention: GET ?retention fell through to GetObject (the object's bytes). Patched, it
    is the version's <Retention>; a version without one, and GetObjectLegalHold of a version without a hold
    (moto: an empty <LegalHold/>), are NoSuchObjectLockConfiguration, 404."""
    from moto.s3.responses import S3Response

    _locked_bucket(bucket)
    held = _s3().put_object(bucket, "k", b"the body", lock_mode="COMPLIANCE", lock_until="2030-01-02T03:04:05Z")
    plain = _s3().put_object(bucket, "k", b"plain")
    app = moto_patches.backend_app("s3")
    status, _, body = _get(app, f"/{bucket}/k", f"retention&versionId={held.version_id}")
    assert status.startswith("200") and b"<Mode>COMPLIANCE</Mode>" in body
    assert b"<RetainUntilDate>2030-01-02T03:04:05" in body and b"the body" not in body
    for query in (f"retention&versionId={plain.version_id}", "retention", "legal-hold"):
        status, _, body = _get(app, f"/{bucket}/k", query)
        assert status.startswith("404") and b"<Code>NoSuchObjectLockConfiguration</Code>" in body, query
    plain.lock_legal_status = "ON"
    assert b"<Status>ON</Status>" in _get(app, f"/{bucket}/k", "legal-hold")[2]
    monkeypatch.setattr(S3Response, "_key_response_get", original(S3Response, "_key_response_get"))
    assert _get(app, f"/{bucket}/k", f"retention&versionId={held.version_id}")[2] == b"the body"
    plain.lock_legal_status = None
    assert _get(app, f"/{bucket}/k", "legal-hold")[0].startswith("200")


def test_retention_reads_of_a_bucket_without_object_lock_are_refused(bucket):
    _s3().put_object(bucket, "k", b"x")
    app = moto_patches.backend_app("s3")
    for query in ("retention", "legal-hold"):
        status, _, body = _get(app, f"/{bucket}/k", query)
        assert status.startswith("400") and b"Bucket is missing Object Lock Configuration" in body


# -- suspended-versioning ----------------------------------------------------------------------------------------

def _history(bucket: str, key: str = "k") -> list[tuple[str, str]]:
    return [(str(v.version_id), "marker" if isinstance(v, FakeDeleteMarker) else v.value.decode())
            for v in _s3().buckets[bucket].keys.getlist(key, [])]


def test_moto_dropped_every_version_of_a_key_written_to_a_suspended_bucket(bucket):
    s3 = _s3()
    s3.put_bucket_versioning(bucket, "Enabled")
    s3.put_object(bucket, "k", b"one")
    s3.put_bucket_versioning(bucket, "Suspended")
    original(S3Backend, "put_object")(s3, bucket, "k", b"two")
    assert _history(bucket) == [("null", "two")]


def test_a_suspended_bucket_replaces_only_the_null_version(bucket):
    """PUT and DELETE on a versioning-suspended bucket write the null version (an object or a delete marker) in
    place of the key's null version alone; a DELETE of a version id removes that version alone."""
    s3 = _s3()
    listener = _Listener()
    HOOKS.on_object_event(listener.method)
    deleted: list[tuple[str, str, str]] = []
    HOOKS.on_version_delete(lambda *args: deleted.append(args))
    s3.put_bucket_versioning(bucket, "Enabled")
    one = s3.put_object(bucket, "k", b"one").version_id
    s3.put_bucket_versioning(bucket, "Suspended")
    two = s3.put_object(bucket, "k", b"two")
    assert _history(bucket) == [(one, "one"), ("null", "two")] and s3.get_object(bucket, "k") is two
    assert not two.disposed and ("created", bucket, "k", "null") in listener.heard
    s3.put_object(bucket, "k", b"three")
    assert _history(bucket) == [(one, "one"), ("null", "three")] and two.disposed
    MotoData().put_object(REGION, bucket, "k", b"direct")
    assert _history(bucket) == [(one, "one"), ("null", "direct")]
    assert s3.delete_object(bucket, "k") == (True, {"version-id": "null", "delete-marker": "true"})
    assert _history(bucket) == [(one, "one"), ("null", "marker")]
    s3.delete_object(bucket, "k")
    assert _history(bucket) == [(one, "one"), ("null", "marker")]
    assert s3.delete_object(bucket, "k", version_id=one) == (True, {"version-id": one})
    assert _history(bucket) == [("null", "marker")]
    s3.delete_object(bucket, "k", version_id="null")
    assert "k" not in s3.buckets[bucket].keys
    assert [entry for entry in deleted if entry[0] == bucket] == [(bucket, "k", "null")] * 4 + [
        (bucket, "k", one), (bucket, "k", "null")]
    s3.put_object(bucket, "never-versioned", b"x")  # (a key of its own: one null version)
    assert _history(bucket, "never-versioned") == [("null", "x")]


def test_an_encrypted_volume_s_key_follows_its_snapshots_and_the_volumes_made_of_them():
    """moto keeps the key on the volume alone: its snapshots and the volumes made of them had no KmsKeyId."""
    from moto.ec2.models import ec2_backends
    from moto.ec2.models.elastic_block_store import EBSBackend

    backend = ec2_backends[ACCOUNT]["ap-southeast-2"]
    volume = backend.create_volume(size=4, zone_name="ap-southeast-2a", encrypted=True)
    assert volume.kms_key_id
    moto_s = original(EBSBackend, "create_snapshot")(backend, volume.id, "moto's")
    assert moto_s.encrypted and moto_s.kms_key_id is None
    snapshot = backend.create_snapshot(volume.id, "patched")
    assert snapshot.kms_key_id == volume.kms_key_id
    made = backend.create_volume(size=None, zone_name="ap-southeast-2a", snapshot_id=snapshot.id)
    assert made.encrypted and made.kms_key_id == volume.kms_key_id
    copy = backend.copy_snapshot(snapshot.id, "ap-southeast-2", "same Region", None)
    assert copy.kms_key_id == volume.kms_key_id
    for made_id in (made.id, volume.id):
        backend.delete_volume(made_id)
    for snapshot_id in (moto_s.id, snapshot.id, copy.id):
        backend.snapshots.pop(snapshot_id)
