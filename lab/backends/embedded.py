"""The default backend: moto inside the sandbox process, called as a WSGI app (no second socket).

This is the one module that knows moto's internals; it is pinned to the moto version in pyproject.toml.
"""

from __future__ import annotations

import copyreg
import gc
import io
import itertools
import logging
import pickle
import sys
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache
from operator import itemgetter
from typing import Any

import moto
import moto.backends as moto_backends
import orjson
from moto.core.base_backend import BackendDict

from lab import config
from lab.backends import moto_patches  # (it sets moto's environment before any moto service loads)
from lab.gateway.codec.errors import not_implemented
from lab.gateway.codec.identify import service_model
from lab.kernel.context import RequestContext, Response
from lab.kernel.data import BucketState, EbsSnapshot, KeyHead, ObjectVersion

log = logging.getLogger("lab.backends.embedded")

_FORM_TYPE = "application/x-www-form-urlencoded"


def _forget_stand_in(loaded: Any, live: Any) -> None:
    """moto lists the services in use (BackendDict._instances: what the tagging API's GetResources and a reset
    walk); a restored BackendDict that registered itself while it was unpickled holds the same accounts as
    the live one it was copied into, and would list every resource a second time."""
    instances = BackendDict._instances
    instances[:] = [each for each in instances if each is not loaded]
    if dict.__len__(live) and not any(each is live for each in instances):
        instances.append(live)



MOTO_VERSION = moto.__version__

# Snapshots written before the patches moved to lab.backends.moto_patches name these functions here: kept so
# that such a snapshot still loads (pickle finds a function by its module and name).
_rebuild_versioned_store = moto_patches.rebuild_key_store
_load_private_key = moto_patches.load_private_key


def _rebuild_key(changed: dict[str, Any], value: bytes) -> Any:
    """A saved S3 object version, at a fraction of the cost of FakeKey's __setstate__: a CompactKey (see
    _KeyFactory) holding the attributes that differ from a new key's, and its body in a BytesIO below the
    buffer size instead of a spooled temporary file written through the body's setter. A month-old world
    restores 100,000 of them before the first S3 call after a restart."""
    factory = _key_factory()
    key = object.__new__(factory.compact_key)
    attributes = key.__dict__
    attributes.update(changed)
    attributes["_value_buffer"] = _body_buffer(value, key._max_buffer_size)
    attributes["contentsize"] = len(value)
    attributes["lock"] = factory.lock
    return key


_ABSENT = object()


def _reduce_key(key: Any) -> tuple[Any, ...]:
    state = key.__getstate__()
    value = state.pop("value")
    if isinstance(value, str):
        value = value.encode()
    defaults = _key_factory().defaults
    changed = {name: item for name, item in state.items() if defaults.get(name, _ABSENT) is not item
               and (type(item) is not type(defaults.get(name, _ABSENT)) or defaults[name] != item)}
    return _rebuild_key, (changed, value)


def _rebuild_item_attributes(items: dict[str, Any]) -> Any:
    """moto's LimitedSizeDict of an item's attributes, without re-checking the item's size per attribute
    (quadratic; the item passed it when it was written): pickle would call its __setitem__ for each."""
    from moto.dynamodb.models.dynamo_type import LimitedSizeDict

    made = LimitedSizeDict.__new__(LimitedSizeDict)
    dict.update(made, items)
    return made


def _reduce_item_attributes(attributes: dict[str, Any]) -> tuple[Any, ...]:
    return _rebuild_item_attributes, (dict(attributes),)


def _register_fast_reducers() -> None:
    """Once moto's S3 and DynamoDB models are loaded: save their objects in the forms above."""
    s3_models, dynamo_types = sys.modules.get("moto.s3.models"), sys.modules.get("moto.dynamodb.models.dynamo_type")
    if s3_models is not None and s3_models.FakeKey not in copyreg.dispatch_table:
        copyreg.pickle(s3_models.FakeKey, _reduce_key)
        copyreg.pickle(moto_patches.CompactKey, _reduce_key)
    if dynamo_types is not None and dynamo_types.LimitedSizeDict not in copyreg.dispatch_table:
        copyreg.pickle(dynamo_types.LimitedSizeDict, _reduce_item_attributes)



# botocore service name -> moto module, where they differ beyond dropping dashes.
_MOTO_NAME_OVERRIDES = {
    "lambda": "awslambda",
    "iot-data": "iotdata",
    "neptune": "rds",
    "docdb": "rds",
    "cloudwatch": "cloudwatch",
    "monitoring": "cloudwatch",
}

_MOTO_MODULES = frozenset(moto_backends.list_of_moto_modules())


# S3 sub-resources (the `?name` markers of botocore's request URIs) that moto's S3 ignores: it answers
# them with the plain bucket listing, which a client would misread as success. tests/unit pins this set
# against moto's source.
MOTO_S3_UNHANDLED_SUBRESOURCES = frozenset({
    "abac", "analytics", "annotation", "default-storage-class", "intelligent-tiering", "metadataAnnotationTable",
    "metadataConfiguration", "metadataInventoryTable", "metadataJournalTable", "metadataTable", "metrics", "part",
    "renameObject",
    "requestPayment", "session", "torrent",
})


@cache
def s3_subresources(operation: str) -> frozenset[str]:
    uri = service_model("s3").operation_model(operation).http["requestUri"]
    query = uri.split("?", 1)[1] if "?" in uri else ""
    return frozenset(part.split("=", 1)[0] for part in query.split("&") if part)


def moto_implements(service: str, operation: str | None) -> bool:
    if service == "s3" and operation:
        return not (s3_subresources(operation) & MOTO_S3_UNHANDLED_SUBRESOURCES)
    return True


def moto_module_for(service: str) -> str | None:
    name = _MOTO_NAME_OVERRIDES.get(service, service.replace("-", ""))
    return name if name in _MOTO_MODULES else None


class EmbeddedBackend:
    name = "embedded"
    persistent = True
    template_version = f"moto-{MOTO_VERSION}"  # a cached seeded world is valid for this moto only

    def __init__(self) -> None:
        self.data = MotoData()
        self._apps: dict[str, Any] = {}
        self._apps_lock = threading.Lock()
        self.touched: set[str] = set()
        # Restored services still as pickled bytes: unpickling imports the service's moto modules (the
        # bulk of a cold start), so each is loaded on its first use or by the warm-up after start.
        self._pending: dict[str, bytes] = {}
        self._load_lock = threading.RLock()
        self._pending_dicts: dict[int, str | None] = {}  # id(BackendDict) -> its module, when waiting
        self.load_failures: dict[str, str] = {}
        self.on_load_failure: Any = None  # called (module, message) when a restored service cannot load

    def start(self) -> None:
        """Make the lab's changes to moto (lab.backends.moto_patches), once per process. Loading a service's
        backend stays lazy in moto (0.2-0.3 s the first time)."""
        moto_patches.apply()

    def stop(self) -> None:
        return None

    def _app(self, module: str) -> Any:
        app = self._apps.get(module)
        if app is None:
            with self._apps_lock:
                app = self._apps.get(module)
                if app is None:
                    app = moto_patches.backend_app(module)
                    self._apps[module] = app
        return app

    def dispatch(self, ctx: RequestContext) -> None:
        identity = ctx.identity
        module = moto_module_for(identity.service) if identity and identity.service else None
        if module is None or not moto_implements(identity.service, identity.operation):
            ctx.response = not_implemented(identity, detail="backend: embedded moto", request_id=ctx.request_id)
            return
        self.materialize(module)
        self.touched.add(module)
        self.data.flush_items()  # (any service: moto's services read one another's state)
        body = ctx.body
        environ = dict(ctx.environ)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        if identity.service == "s3" and environ.get("CONTENT_TYPE", "").lower().startswith(_FORM_TYPE):
            environ[moto_patches.RAW_BODY_KEY] = True
        captured: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            captured["status"] = int(status.split(" ", 1)[0])
            captured["headers"] = headers

        try:
            chunks = self._app(module)(environ, start_response)
            data = b"".join(chunks)
            if hasattr(chunks, "close"):
                chunks.close()
        except NotImplementedError:
            ctx.response = not_implemented(identity, detail="backend: embedded moto", request_id=ctx.request_id)
            return
        status = captured["status"]
        # The gateway sets Content-Length from the body it sends; a HEAD answer keeps moto's (the object's size).
        dropped = ("server", "date") if ctx.method == "HEAD" else ("content-length", "server", "date")
        headers = [(k, v) for k, v in captured["headers"] if k.lower() not in dropped]
        if _is_unrecognised(status, data, headers):
            # moto answers routes it has no handler for with an HTML page that botocore retries and misreads.
            ctx.response = not_implemented(identity, detail="backend: embedded moto", request_id=ctx.request_id)
            return
        ctx.response = Response(status, headers, data)

    def health(self) -> dict[str, str]:
        from lab.backends.support import EMBEDDED_SERVICES

        return {service: "running" if moto_module_for(service) in self.touched else "available"
                for service in sorted(EMBEDDED_SERVICES)}

    def reset(self) -> None:
        from moto.moto_api._internal.models import moto_api_backend

        moto_api_backend.reset()
        self.touched.clear()
        self._pending.clear()
        self.data.drop_pending_items()

    # -- persistence: the journal-and-snapshot store calls these -----------------------------------

    def export_state(self) -> dict[str, Any]:
        _register_fast_reducers()
        self.data.flush_items()
        backends = dict(self._pending)  # never loaded since the restore: saved as they came
        for module in sorted(self.touched):
            backends[module] = pickle.dumps(moto_backends.get_backend(module),
                                            protocol=pickle.HIGHEST_PROTOCOL)
        return {"moto_version": MOTO_VERSION, "backends": backends}

    def import_state(self, state: dict[str, Any]) -> None:
        if state.get("moto_version") != MOTO_VERSION:
            raise ValueError(
                f"the saved state was written by moto {state.get('moto_version')}, "
                f"this sandbox runs moto {MOTO_VERSION}"
            )
        backends = state["backends"]
        if not isinstance(backends, dict) or not all(isinstance(data, bytes) for data in backends.values()):
            raise ValueError("the saved backend state is not a set of services")
        with self._load_lock:
            self.touched.clear()
            self.data.drop_pending_items()
            self._pending = dict(backends)
            self._pending_dicts.clear()
            moto_patches.RESTORING.backend = self

    def load_for(self, backend_dict: Any) -> None:
        """Load the waiting service whose moto backends `backend_dict` are (see _loads_first)."""
        key = id(backend_dict)
        module = self._pending_dicts.get(key, "")
        if module == "":
            module = None
            for name in list(self._pending):
                # Only services whose moto module is imported can be the one asked for (no import here).
                if f"moto.{name}" in sys.modules and moto_backends.get_backend(name) is backend_dict:
                    module = name
                    break
            self._pending_dicts[key] = module
        if module is not None:
            self.materialize(module)

    def materialize(self, module: str) -> None:
        """Load a restored service into moto, if it is still waiting as bytes."""
        if module not in self._pending:
            return
        with self._load_lock:
            data = self._pending.pop(module, None)
            if data is None:
                return
            live = moto_backends.get_backend(module)
            collecting = gc.isenabled()
            gc.disable()  # a collection amid a load of 100,000 objects would walk them all, for nothing
            try:
                loaded = pickle.loads(data)  # noqa: S301 -- the sandbox's own saved state
            except Exception as exc:  # noqa: BLE001 -- reported once and set aside, not raised on every call
                message = f"the saved {module} state could not be loaded ({type(exc).__name__}: {exc})"
                self.load_failures[module] = message
                log.error("%s; %s starts empty", message, module)
                if self.on_load_failure is not None:
                    self.on_load_failure(module, message)
                loaded = None
            finally:
                if collecting:
                    gc.enable()
            dict.clear(live)
            if loaded is not None:
                dict.update(live, loaded)
                _forget_stand_in(loaded, live)
            self.touched.add(module)
            _register_fast_reducers()

    def import_service(self, service: str) -> None:
        """What a service's first call or first load needs besides its state: its moto code imported and
        its request app made (seconds for EC2's on a busy machine). Safe outside the sandbox lock."""
        module = moto_module_for(service) or service
        moto_backends.get_backend(module)
        self._app(module)

    def materialize_all(self) -> None:
        for module in sorted(self._pending):
            self.materialize(module)

    @property
    def pending(self) -> list[str]:
        return sorted(self._pending)

    @staticmethod
    def reseed(seed: str | None) -> None:
        """Seed the ids this thread draws from now on; None: this thread's call is over (see _PerThreadRandom)."""
        if seed is None:
            moto_patches.DRAWS.generator = None
            return
        moto_patches.DRAWS.seeded.seed(seed)
        moto_patches.DRAWS.generator = moto_patches.DRAWS.seeded



def _is_unrecognised(status: int, data: bytes, headers: list[tuple[str, str]]) -> bool:
    if status not in (404, 405, 500, 501):
        return False
    head = data[:200].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html"))



# -- moto objects made directly (the engines' bulk writes) ---------------------------------------------

class _KeyFactory:
    """Makes S3 objects as moto's FakeKey() does, for the engines' bulk writes, without its per-key costs:
    a fresh canned ACL, a spooled temporary file, a lock, metadata and 35 attributes per object, moto's registry
    of every key ever made. A key made here is a CompactKey: the object moto would make, whatever attributes
    this moto version has, holding only the ones that are its own (tests/unit/test_moto_direct_writes.py)."""

    def __init__(self) -> None:
        from moto.moto_api._internal import mock_random
        from moto.s3 import notifications
        from moto.s3.models import STORAGE_CLASS
        from moto.utilities.utils import LowercaseDict

        self.defaults = moto_patches.CompactKey.defaults()
        self.max_buffer_size: int = self.defaults["_max_buffer_size"]
        self.compact_key, self.lowercase_dict = moto_patches.CompactKey, LowercaseDict
        self.random, self.notifications, self.storage_classes = mock_random, notifications, STORAGE_CLASS
        # moto reads a key's lock around reading its body only, never nesting: keys written here share one
        self.lock = threading.Lock()
        self._metadata_by_type: dict[str, Any] = {}

    def version_id(self) -> str:
        """str(mock_random.uuid4()) as moto draws a new version's id, formatted here at a third of the cost."""
        bits = self.random.getrandbits(128)
        bits = (bits & ~(0xC000 << 48)) | 0x8000 << 48  # the RFC 4122 variant
        bits = (bits & ~(0xF000 << 64)) | 4 << 76  # version 4
        hex_digits = f"{bits:032x}"
        return (f"{hex_digits[:8]}-{hex_digits[8:12]}-{hex_digits[12:16]}-{hex_digits[16:20]}-"
                f"{hex_digits[20:]}")

    def metadata(self, lower_cased: dict[str, Any]) -> Any:
        """moto's LowercaseDict holding `lower_cased` (its keys lower-case already), without its per-key
        update."""
        made = object.__new__(self.lowercase_dict)
        made.store = lower_cased
        return made

    def content_type_metadata(self, content_type: str) -> Any:
        """The metadata of a key that has only a Content-Type, one object per type shared by every key made
        here: moto never edits a stored key's metadata (set_metadata runs on keys it has just made)."""
        found = self._metadata_by_type.get(content_type)
        if found is None:
            found = self._metadata_by_type[content_type] = self.metadata({"content-type": content_type})
        return found

    def shares(self, metadata: Any) -> bool:
        """Whether `metadata` is one of the shared ones (content_type_metadata)."""
        return any(metadata is shared for shared in self._metadata_by_type.values())

    def make(self, body: bytes, content_type: str, **attributes: Any) -> Any:
        # moto's utcnow() and datetime.now(), from one reading of the (sim-pinned) clock: a third the cost
        now = time.time()
        modified = datetime.fromtimestamp(now, UTC).replace(tzinfo=None)
        local = datetime.fromtimestamp(now)
        key = object.__new__(self.compact_key)
        # (set in one order, so that keys share their attribute names)
        key.name = attributes.pop("name")
        key.last_modified = modified
        key._time_progressed = modified if local == modified else local  # (equal where local time is UTC)
        key._value_buffer = _body_buffer(body, self.max_buffer_size)
        key.contentsize = len(body)
        key._metadata = self.content_type_metadata(content_type)
        key.lock = self.lock
        for name, value in attributes.items():
            if not moto_patches.is_default(name, value):
                setattr(key, name, value)
        return key


@lru_cache(maxsize=1)
def _key_factory() -> _KeyFactory:
    return _KeyFactory()


def _body_buffer(body: bytes, max_buffer_size: int) -> Any:
    """A key's body as moto keeps it: a SpooledTemporaryFile stays in memory below max_buffer_size, and a
    key's body is written once, so below that size a BytesIO is the same thing at a twentieth of the cost."""
    import tempfile

    if len(body) < max_buffer_size:
        return io.BytesIO(body)
    buffer = tempfile.SpooledTemporaryFile(max_buffer_size)  # noqa: SIM115 -- it is the key's body: moto keeps it
    buffer.write(body)
    return buffer


def _is_plainly_valid(table: Any, item: dict[str, Any]) -> bool:
    """True when moto's put_item checks would pass for certain: every key attribute present with its
    declared type, and far below DynamoDB's 400 KB item limit. Anything else goes through moto's checks."""
    for name, kind in ((table.hash_key_attr, table.hash_key_type), (table.range_key_attr, table.range_key_type)):
        if name is None:
            continue
        value = item.get(name)
        if not isinstance(value, dict) or list(value) != [kind] or not isinstance(value[kind], str):
            return False
    try:
        return len(orjson.dumps(item)) < 100_000
    except TypeError:
        return False


@cache
def _moto_backends(service: str) -> Any:
    """moto's BackendDict of a service, imported once (the bulk writes ask for it per object)."""
    return moto_backends.get_backend(service)


def _backend(backends: Any, account: str, region: str) -> Any:
    """backends[account][region]: moto's BackendDict scans all its registries on every lookup (~30 us) and
    its per-account dict checks its regions; once both exist, plain dict lookups find the same object."""
    accounts = dict.get(backends, account)
    found = dict.get(accounts, region) if accounts is not None else None
    return found if found is not None else backends[account][region]


def _store_items(table: Any, items: Iterable[dict[str, Any]]) -> None:
    """What moto's Table.put_item stores, without its per-attribute size checks (most of its cost) or its
    registry of every item ever made: the items are known valid (see _is_plainly_valid)."""
    from moto.dynamodb.models.dynamo_type import Item, LimitedSizeDict

    value_of, note_put = _dynamo_type, moto_patches.note_item_put
    hash_attr, range_attr, stream = table.hash_key_attr, table.range_key_attr, table.stream_shard
    for attrs in items:
        item = object.__new__(Item)
        values = {name: value_of(value) for name, value in attrs.items()}
        # (the key's values are the attributes' own: DynamoDB never changes an item's key attributes in place)
        item.hash_key = values[hash_attr]
        item.range_key = values[range_attr] if range_attr else None
        item.attrs = LimitedSizeDict(values)
        current = table.get_item(item.hash_key, item.range_key) if stream is not None else None
        if item.range_key is not None:
            table.items[item.hash_key][item.range_key] = item
        else:
            table.items[item.hash_key] = item
        note_put(table, item)
        if stream is not None:
            stream.add(current, item)


_NESTING_TYPES = frozenset({"L", "M"})


@cache
def _delete_marker_class() -> type:
    from moto.s3.models import FakeDeleteMarker

    return FakeDeleteMarker


@cache
def _dynamo_type_class() -> type:
    # moto's DynamoDB models load on first use, not with this module
    from moto.dynamodb.models.dynamo_type import DynamoType

    return DynamoType


def _dynamo_type(value: dict[str, Any]) -> Any:
    """moto's DynamoType(value): for every type but lists and maps its __init__ only sets these two."""
    dynamo_type = _dynamo_type_class()
    if len(value) == 1:
        for kind, inner in value.items():
            if kind not in _NESTING_TYPES:
                made = object.__new__(dynamo_type)
                made.type, made.value = kind, inner
                return made
    return dynamo_type(value)


_NAIVE_EPOCH = datetime(1970, 1, 1)  # moto's times are naive UTC: seconds since this are epoch seconds
_SECOND = timedelta(seconds=1)


def _key_head(key: str, versions: list[Any], marker: type) -> KeyHead:
    """A key's head from its versions in moto's store (oldest first; the last is the latest); `marker` is
    moto's FakeDeleteMarker."""
    latest = versions[-1]
    count = len(versions)
    # (moto keeps times naive in UTC; a FakeKey keeps its ETag once computed, unquoted, in _etag)
    modified = (latest.last_modified - _NAIVE_EPOCH) // _SECOND
    if type(latest) is marker:
        markers = 1 if count == 1 else sum(1 for v in versions if type(v) is marker)
        return tuple.__new__(KeyHead, (key, latest.version_id, None, 0, modified, count - markers, markers))
    markers = 0 if count == 1 else sum(1 for v in versions if type(v) is marker)
    return tuple.__new__(KeyHead, (key, latest.version_id, latest._etag or latest.etag.strip('"'), latest.size,
                                   modified, count - markers, markers))


class MotoData:
    """Direct writes into moto's models for the engines' bulk work (the workload, replication): about ten
    times cheaper than a call through the gateway, and identical in effect for the data they touch.

    DynamoDB items written with put_item wait in a short queue, in order, and reach moto's tables together
    before anything reads or writes DynamoDB through moto: any call dispatched to moto, any other item
    access here, saving the state. Items carry no time or id moto would draw when storing them, so the
    tables are exactly what writing each at once would make; stored together, between none of the engines'
    other work, they cost less.
    """

    account = config.ACCOUNT_ID
    # Stored together in one step (or by the next call that touches DynamoDB): 4,096 held the sandbox for a
    # tenth of a second at a time in a long advance; at this size a flush is a few milliseconds.
    PENDING_ITEMS_MAX = 256

    def __init__(self) -> None:
        self._pending_items: list[tuple[Any, dict[str, Any]]] = []
        self._item_listeners: list[Callable[[str, str, dict[str, Any]], None]] = []
        # bucket -> its keys that hold no object (the latest version is a delete marker), kept up to date from
        # the keys that changed (count_objects: `lab status` on a month of orders, 100,000 objects)
        self._hidden_keys: dict[str, set[str]] = {}
        self._counting = f"count-objects-{id(self)}"

    def flush_items(self) -> None:
        """Store the queued items in their tables (see the class docstring)."""
        pending = self._pending_items
        if pending:
            self._pending_items = []
            for table, queued in itertools.groupby(pending, key=itemgetter(0)):  # (in order, per run of a table)
                _store_items(table, [item for _, item in queued])

    def drop_pending_items(self) -> None:
        """moto's state was replaced (a reset, a restore): the queued items belonged to the old one."""
        self._pending_items = []

    def put_object(self, region: str, bucket: str, key: str, body: bytes, content_type: str | None = None,
                   storage_class: str | None = None, metadata: dict[str, str] | None = None) -> str | None:
        factory = _key_factory()
        s3 = self._s3()
        target = s3.buckets.get(bucket)
        user_metadata = {f"x-amz-meta-{name.lower()}": value for name, value in (metadata or {}).items()}
        if target is None or (storage_class is not None and storage_class not in factory.storage_classes):
            moto_s = s3.put_object(bucket, key, body, storage=storage_class)  # (raises moto's own error)
            if content_type:
                moto_s.set_metadata({"Content-Type": content_type})
            if user_metadata:
                moto_s.set_metadata(user_metadata)
            return moto_s.version_id if moto_s.version_id != "null" else None
        # What moto's S3Backend.put_object does (bucket-default encryption, versions, notifications).
        encryption = kms_key_id = bucket_key_enabled = None
        if target.encryption:
            rule = target.encryption["Rule"]
            kms_key_id = rule["ApplyServerSideEncryptionByDefault"].get("KMSMasterKeyID")
            encryption = rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"]
            bucket_key_enabled = rule.get("BucketKeyEnabled", False)
        stored = factory.make(
            body, content_type or "binary/octet-stream", name=key, bucket_name=bucket,
            region_name=s3.region_name, partition=s3.partition,  # (moto's, not the bucket's)
            _storage_class=storage_class or "STANDARD", _is_versioned=target.is_versioned,
            _version_id=factory.version_id() if target.is_versioned else "null",
            encryption=encryption, kms_key_id=kms_key_id, bucket_key_enabled=bucket_key_enabled)
        if user_metadata:  # a metadata of its own: the factory's Content-Type-only one is shared by other keys
            stored._metadata = factory.metadata({"content-type": content_type or "binary/octet-stream",
                                                 **user_metadata})
        if target.is_versioned:
            moto_patches.append_version(target.keys, key, stored)
        elif moto_patches.suspended(target):  # (a null version, in place of the key's null version only)
            moto_patches.replace_null_version(target, key, stored)
        else:
            target.keys.setlist(key, [stored])
        notifications = factory.notifications
        notifications.send_event(self.account, notifications.S3NotificationEvent.OBJECT_CREATED_PUT_EVENT,
                                 target, stored)
        return stored.version_id if stored.version_id != "null" else None

    def put_item(self, region: str, table: str, item: dict[str, Any]) -> None:
        found = _backend(_moto_backends("dynamodb"), self.account, region).tables.get(table)  # (no flush here)
        if found is None or not _is_plainly_valid(found, item):
            self._dynamodb(region).put_item(table, item)  # moto validates it and answers AWS's errors
        else:
            self._pending_items.append((found, item))
            if len(self._pending_items) >= self.PENDING_ITEMS_MAX:
                self.flush_items()
        for listener in self._item_listeners:
            listener(region, table, item)

    # -- S3 versions, for replication and lifecycle (lab.services.s3.engine) -------------------------------

    def _s3(self) -> Any:
        return _backend(_moto_backends("s3"), self.account, "aws")

    def _version(self, bucket: str, key: str, version_id: str) -> Any:
        found = self._s3().buckets.get(bucket)
        for version in (found.keys.getlist(key, []) if found is not None else []):
            if version.version_id == version_id:
                return version
        raise LookupError(f"s3://{bucket}/{key} has no version {version_id}")

    def bucket_state(self, bucket: str) -> Any:
        found = self._s3().buckets.get(bucket)
        if found is None:
            return None
        return BucketState(found.region_name, found.versioning_status, bool(found.object_lock_enabled))

    def replicate_version(self, region: str, bucket: str, key: str, version_id: str, target_region: str,
                          target_bucket: str, storage_class: str | None, kms_key_id: str | None = None) -> str:
        factory = _key_factory()
        s3 = self._s3()
        source = self._version(bucket, key, version_id)
        if not isinstance(source, moto_patches.FakeKey):
            raise LookupError(f"s3://{bucket}/{key} version {version_id} is a delete marker")
        target = s3.buckets[target_bucket]
        # A replica is the source version (same version id, last-modified time, metadata, checksums, lock) in
        # another bucket: a CompactKey (see _KeyFactory) with the source's own attributes and the replica's
        # buffer (its bytes shared with the source's) and bucket.
        metadata = source._metadata
        if not factory.shares(metadata):
            store = getattr(metadata, "store", None)
            # (moto's set_metadata(replace=True) leaves a plain dict there: lower-case it as LowercaseDict would)
            metadata = factory.metadata(dict(store) if store is not None else {
                name.lower(): value for name, value in metadata.items()})
        replica = object.__new__(factory.compact_key)
        replica.name = source.name
        replica.last_modified = source.last_modified
        replica._time_progressed = source._time_progressed
        replica._value_buffer = _body_buffer(source.value, source._max_buffer_size)
        replica.contentsize = source.contentsize
        replica._metadata = metadata
        replica.lock = factory.lock
        own = {name: value for name, value in vars(source).items() if name not in factory.compact_key.PER_KEY}
        own.update(bucket_name=target_bucket, region_name=target.region_name, _is_versioned=True, multipart=None,
                   _expiry=None, disposed=False, _storage_class=storage_class or source.storage_class)
        if kms_key_id is not None:  # (the rule's ReplicaKmsKeyID encrypts the replica)
            own.update(encryption="aws:kms", kms_key_id=kms_key_id)
        for name, value in own.items():
            if not moto_patches.is_default(name, value):
                setattr(replica, name, value)
        source_arn = source.arn
        if s3.tagger.has_tags(source_arn):
            s3.tagger.copy_tags(source_arn, replica.arn)
        moto_patches.append_version(target.keys, key, replica)
        return replica.version_id

    def set_storage_class(self, region: str, bucket: str, key: str, version_id: str, storage_class: str) -> None:
        version = self._version(bucket, key, version_id)
        if not isinstance(version, moto_patches.FakeKey):
            raise LookupError(f"s3://{bucket}/{key} version {version_id} is a delete marker")
        version.set_storage_class(storage_class)  # (moto's own check of the class)
        version.set_expiry(None)

    def set_restored(self, region: str, bucket: str, key: str, version_id: str, expiry: float | None) -> None:
        version = self._version(bucket, key, version_id)
        if not isinstance(version, moto_patches.FakeKey):
            raise LookupError(f"s3://{bucket}/{key} version {version_id} is a delete marker")
        # moto reads an archived key once its x-amz-restore says ongoing-request="false" (a set expiry and the
        # restore's state RESTORED), and shows that expiry date
        version.set_expiry(None if expiry is None else datetime.fromtimestamp(expiry, UTC).replace(tzinfo=None))
        version.status = None if expiry is None else "RESTORED"

    def replicate_delete_marker(self, region: str, bucket: str, key: str, version_id: str, target_region: str,
                                target_bucket: str) -> str:
        from moto.s3.models import FakeDeleteMarker

        source = self._version(bucket, key, version_id)
        if not isinstance(source, FakeDeleteMarker):
            raise LookupError(f"s3://{bucket}/{key} version {version_id} is not a delete marker")
        target = self._s3().buckets[target_bucket]
        marker = FakeDeleteMarker(key=target.keys.get(key) or source)
        marker._version_id = source.version_id
        marker.last_modified = source.last_modified
        target.keys[key] = marker
        return marker.version_id

    def object_tags(self, region: str, bucket: str, key: str, version_id: str) -> dict[str, str]:
        from moto.s3.models import FakeKey

        version = self._version(bucket, key, version_id)
        if not isinstance(version, FakeKey):
            return {}
        return dict(self._s3().tagger.get_tag_dict_for_resource(version.arn))

    def put_object_tags(self, region: str, bucket: str, key: str, version_id: str, tags: dict[str, str]) -> None:
        tagger = self._s3().tagger
        arn = self._version(bucket, key, version_id).arn
        tagger.delete_all_tags_for_resource(arn)
        if tags:
            tagger.tag_resource(arn, tagger.convert_dict_to_tags_input(tags))

    def list_object_versions(self, region: str, bucket: str, prefix: str = "", with_tags: bool = False) -> list[Any]:
        from moto.s3.models import FakeDeleteMarker


        s3 = self._s3()
        found = s3.buckets.get(bucket)
        if found is None:
            raise LookupError(f"no bucket {bucket}")
        tags_of = s3.tagger.get_tag_dict_for_resource
        listed: list[Any] = []
        for key, versions in dict.items(found.keys):  # the store's own items() yields only each key's latest
            if prefix and not key.startswith(prefix):
                continue
            latest = len(versions) - 1
            for position in range(latest, -1, -1):
                version = versions[position]
                marker = isinstance(version, FakeDeleteMarker)
                listed.append(ObjectVersion(
                    key, version.version_id, position == latest, marker,
                    version.last_modified.replace(tzinfo=UTC).timestamp(),
                    0 if marker else version.size,
                    dict(tags_of(version.arn)) if with_tags and not marker else None,
                    None if marker else version.etag.strip('"'),
                    "STANDARD" if marker else version.storage_class or "STANDARD",
                    None if marker else version.encryption or moto_patches.SSE_S3))
        return listed

    def delete_object_version(self, region: str, bucket: str, key: str, version_id: str) -> None:
        self._s3().delete_object(bucket, key, version_id=version_id)

    def delete_object(self, region: str, bucket: str, key: str) -> str | None:
        _, answer = self._s3().delete_object(bucket, key)
        return answer.get("version-id")

    def abort_multipart_upload(self, region: str, bucket: str, key: str, upload_id: str) -> None:
        found = self._s3().buckets.get(bucket)
        if found is None or upload_id not in found.multiparts:
            raise LookupError(f"s3://{bucket}/{key} has no upload {upload_id}")
        del found.multiparts[upload_id]

    def role_trust_policy(self, role_arn: str) -> str | None:
        from urllib.parse import unquote

        from moto.iam.models import iam_backends

        iam = _backend(iam_backends, self.account, "aws")  # (moto files its "global" IAM under "aws")
        for role in iam.get_roles():
            if role.arn == role_arn:
                document = role.assume_role_policy_document or "{}"
                return document if document.lstrip().startswith("{") else unquote(document)
        return None

    def subscribe_object_events(self, listener: Any) -> bool:
        """Every object version moto creates or retags, whoever writes it (the gateway or an engine writing
        directly), passes through moto's S3 event notifications: those reach `listener` (see
        moto_patches.HOOKS)."""
        moto_patches.HOOKS.on_object_event(listener)
        return True

    # -- DynamoDB items (lab.services.dynamodb.engine: point-in-time journal, global tables, restores) ---------

    def _dynamodb(self, region: str) -> Any:
        self.flush_items()  # every item access but put_item's own comes through here
        return _backend(_moto_backends("dynamodb"), self.account, region)

    def _table(self, region: str, table: str) -> Any:
        found = self._dynamodb(region).tables.get(table)
        if found is None:
            raise LookupError(f"no DynamoDB table {table} in {region}")
        return found

    def subscribe_item_writes(self, listener: Any) -> bool:
        """Report the items put_item writes directly (no engine observes those: they bypass the gateway)
        to listener(region, table, item)."""
        self._item_listeners.append(listener)
        return True

    def get_item(self, region: str, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        found = self._table(region, table)
        hash_key, range_key = self._key_values(found, key)
        item = found.get_item(hash_key, range_key)
        return item.to_json()["Attributes"] if item is not None else None

    def put_items(self, region: str, table: str, items: list[dict[str, Any]]) -> None:
        """Items that were valid in a table already (a restore, a replica)."""
        _store_items(self._table(region, table), items)

    def delete_items(self, region: str, table: str, keys: list[dict[str, Any]]) -> None:
        found = self._table(region, table)
        for key in keys:
            hash_key, range_key = self._key_values(found, key)
            if found.get_item(hash_key, range_key) is not None:
                found.delete_item(hash_key, range_key)

    def scan_items(self, region: str, table: str) -> list[dict[str, Any]]:
        return [item.to_json()["Attributes"] for item in self._table(region, table).all_items()]

    def count_items(self, region: str, table: str) -> int:
        found = self._table(region, table)
        return (sum(len(by_range) for by_range in found.items.values()) if found.range_key_attr
                else len(found.items))

    def count_objects(self, region: str, bucket: str) -> int:
        from moto.s3.models import FakeDeleteMarker

        found = self._s3().buckets.get(bucket)
        if found is None:
            raise LookupError(f"no bucket {bucket}")
        store = moto_patches.sorted_store(found.keys)
        changed = store.take_changes(self._counting)
        hidden = self._hidden_keys.get(bucket)
        if changed is None or hidden is None:  # (a store new to this count: every key)
            # (the store's own values() yields each key's latest version; a delete marker hides the object)
            hidden = self._hidden_keys[bucket] = {key for key, versions in dict.items(store)
                                                  if not versions or type(versions[-1]) is FakeDeleteMarker}
        else:
            for key in changed:
                versions = dict.get(store, key)
                if versions is None or (versions and type(versions[-1]) is not FakeDeleteMarker):
                    hidden.discard(key)
                else:
                    hidden.add(key)
        return dict.__len__(store) - len(hidden)

    def key_heads(self, region: str, bucket: str) -> list[KeyHead]:
        found = self._s3().buckets.get(bucket)
        if found is None:
            raise LookupError(f"no bucket {bucket}")
        from moto.s3.models import FakeDeleteMarker

        head = _key_head  # (a month of orders is 100,000 keys: a tuple each, no more)
        return [head(key, versions, FakeDeleteMarker) for key, versions in dict.items(found.keys) if versions]

    def key_head_changes(self, region: str, bucket: str, watcher: str) -> tuple[bool, list[KeyHead], list[str]]:
        from moto.s3.models import FakeDeleteMarker

        found = self._s3().buckets.get(bucket)
        if found is None:
            raise LookupError(f"no bucket {bucket}")
        store = moto_patches.sorted_store(found.keys)
        changed = store.take_changes(watcher)
        head = _key_head
        if changed is None:  # (a store new to the watcher: every key)
            return True, [head(key, versions, FakeDeleteMarker) for key, versions in dict.items(store) if versions], []
        heads, gone = [], []
        for key in changed:
            versions = dict.get(store, key)
            if versions:
                heads.append(head(key, versions, FakeDeleteMarker))
            else:
                gone.append(key)
        return False, heads, gone

    def key_values(self, region: str, table: str, attribute: str) -> list[Any]:
        found = self._table(region, table)
        if attribute == found.hash_key_attr:
            return [key.value for key in found.items]
        if attribute == found.range_key_attr:
            return [key.value for by_range in found.items.values() for key in by_range]
        raise ValueError(f"{attribute} is not a key of DynamoDB table {table}")

    @staticmethod
    def _key_values(table: Any, key: dict[str, Any]) -> tuple[Any, Any]:
        from moto.dynamodb.models.dynamo_type import DynamoType

        range_attr = table.range_key_attr
        return DynamoType(key[table.hash_key_attr]), (DynamoType(key[range_attr]) if range_attr else None)

    # -- RDS (lab.services.rds.engine) -------------------------------------------------------------------

    def create_automated_db_snapshot(self, region: str, instance_id: str, snapshot_id: str) -> bool:
        from moto.rds.models import rds_backends

        rds_backends[self.account][region].create_auto_snapshot(instance_id, snapshot_id)
        return True

    # -- AWS Backup and DLM (lab.services.backup.engine, lab.services.ebs.engine) ----------------------------------

    def read_object_version(self, region: str, bucket: str, key: str, version_id: str) -> tuple[bytes, str | None]:
        from moto.s3.models import FakeKey

        version = self._version(bucket, key, version_id)
        if not isinstance(version, FakeKey):
            raise LookupError(f"s3://{bucket}/{key} version {version_id} is a delete marker")
        return version.value, version.metadata.get("Content-Type")

    def object_history(self, region: str, bucket: str, key: str) -> list[Any]:
        from moto.s3.models import FakeDeleteMarker


        found = self._s3().buckets.get(bucket)
        if found is None:
            raise LookupError(f"no bucket {bucket}")
        versions = found.keys.getlist(key, [])
        return [ObjectVersion(key, version.version_id, position == len(versions) - 1,
                              isinstance(version, FakeDeleteMarker),
                              version.last_modified.replace(tzinfo=UTC).timestamp(),
                              0 if isinstance(version, FakeDeleteMarker) else version.size, None,
                              None if isinstance(version, FakeDeleteMarker) else version.etag.strip('"'),
                              "STANDARD" if isinstance(version, FakeDeleteMarker)
                              else version.storage_class or "STANDARD",
                              None if isinstance(version, FakeDeleteMarker)
                              else version.encryption or moto_patches.SSE_S3)
                for position, version in enumerate(versions)]

    def version_facts(self, region: str, bucket: str, key: str, version_id: str) -> tuple[int, str | None]:
        found = self._s3().buckets.get(bucket)
        if found is None:
            raise LookupError(f"no bucket {bucket}")
        for version in reversed(found.keys.getlist(key, [])):  # (the newest first: usually the one asked)
            if version.version_id == version_id:
                if type(version) is _delete_marker_class():
                    return 0, None
                return version.size, version.encryption or moto_patches.SSE_S3
        return 0, None

    def subscribe_version_deletes(self, listener: Any) -> bool:
        """moto deletes every version for good -- a DELETE naming a version, DeleteObjects, the data layer --
        through S3Backend.delete_object: `listener` hears of each before (see moto_patches.HOOKS)."""
        moto_patches.HOOKS.on_version_delete(listener)
        return True

    def _ec2(self, region: str) -> Any:
        from moto.ec2.models import ec2_backends

        return _backend(ec2_backends, self.account, region)

    def ebs_snapshots(self, region: str) -> list[EbsSnapshot]:
        ec2 = self._ec2(region)
        tags = ec2.tags  # (resource id -> tags: DescribeSnapshots looks them up one snapshot at a time, O(n^2))
        return [EbsSnapshot(snap.id, snap.volume.id if snap.volume is not None else None, snap.status, "100%",
                            (snap.start_time - _NAIVE_EPOCH).total_seconds(), bool(snap.encrypted), snap.description,
                            dict(tags.get(snap.id) or {}), snap.volume.size if snap.volume is not None else None)
                for snap in list(ec2.snapshots.values()) if snap.owner_id == self.account]

    def create_snapshot(self, region: str, volume_id: str, description: str,
                        tags: dict[str, str]) -> dict[str, Any]:
        from moto.ec2.exceptions import InvalidVolumeIdError

        ec2 = self._ec2(region)
        try:
            volume = ec2.get_volume(volume_id)
        except InvalidVolumeIdError as exc:
            raise LookupError(f"no EBS volume {volume_id} in {region}") from exc
        snapshot = ec2.create_snapshot(volume_id, description)
        if tags:
            ec2.create_tags([snapshot.id], dict(tags))
        return {"SnapshotId": snapshot.id, "VolumeSize": volume.size, "VolumeType": volume.volume_type,
                "AvailabilityZone": volume.zone.name, "Encrypted": bool(volume.encrypted),
                "KmsKeyId": volume.kms_key_id, "Iops": volume.iops, "Throughput": volume.throughput}

    def copy_snapshot(self, region: str, source_region: str, snapshot_id: str, description: str,
                      tags: dict[str, str]) -> str:
        from moto.ec2.exceptions import InvalidSnapshotIdError

        ec2 = self._ec2(region)
        try:
            copied = ec2.copy_snapshot(snapshot_id, source_region, description, None)
        except InvalidSnapshotIdError as exc:
            raise LookupError(f"no EBS snapshot {snapshot_id} in {source_region}") from exc
        if tags:
            ec2.create_tags([copied.id], dict(tags))
        return copied.id

    def delete_snapshot(self, region: str, snapshot_id: str) -> None:
        from moto.ec2.exceptions import InvalidSnapshotIdError

        try:
            self._ec2(region).delete_snapshot(snapshot_id)
        except InvalidSnapshotIdError:
            return

    def create_image(self, region: str, instance_id: str, name: str, tags: dict[str, str]) -> str:
        from moto.ec2.exceptions import InvalidInstanceIdError

        spec = [{"ResourceType": "image", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}] if tags else []
        try:
            return self._ec2(region).create_image(instance_id, name, f"AWS Backup of {instance_id}", spec).id
        except InvalidInstanceIdError as exc:
            raise LookupError(f"no EC2 instance {instance_id} in {region}") from exc

    def copy_image(self, region: str, source_region: str, image_id: str, name: str) -> str:
        from moto.ec2.exceptions import InvalidAMIIdError

        try:
            return self._ec2(region).copy_image(image_id, source_region, name, f"Copy of {image_id}").id
        except InvalidAMIIdError as exc:
            raise LookupError(f"no AMI {image_id} in {source_region}") from exc

    def deregister_image(self, region: str, image_id: str) -> None:
        from moto.ec2.exceptions import InvalidAMIIdError

        try:
            self._ec2(region).deregister_image(image_id)
        except InvalidAMIIdError:
            return
