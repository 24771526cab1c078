"""Every change the lab makes to moto -- and to the libraries under it -- in one place, made by `apply()`.

Importing this module only sets moto's environment (config.MOTO_ENVIRONMENT, which moto reads as it loads, so
it is imported before moto); `apply()` makes every patch in PATCHES (each says what it changes and
why), once per process: EmbeddedBackend.start() calls it before the sandbox touches moto. A patch of a module
the start does not need (`Patch.after_import`: moto's IAM, DynamoDB) is made as that module is first imported,
so that the start does not import it only to patch it. The patches are pinned
to the moto version in pyproject.toml: tests/unit/test_moto_patches.py shows, for each, the moto behaviour it
fixes or relies on -- and for the ones that answer in moto's place, that the answer is moto's own, field by
field -- so an upgrade that changes what a patch relies on fails there.
"""

from __future__ import annotations

import bisect
import copy
import copyreg
import gzip
import importlib.abc
import importlib.machinery
import os
import random
import re
import sys
import threading
import types
import uuid
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from lab import config
from lab.gateway.codec import model_files

for _name, _value in config.MOTO_ENVIRONMENT.items():
    os.environ.setdefault(_name, _value)

from moto.moto_api._internal.moto_random import MotoRandom  # noqa: E402 -- moto's generator, subclassed below
from moto.s3.models import FakeKey  # noqa: E402 -- moto's S3 object version, subclassed below
from moto.s3.utils import _VersionedKeyStore  # noqa: E402 -- moto's S3 key store, subclassed below


@dataclass(frozen=True)
class Patch:
    name: str
    changes: str  # what it replaces or wraps
    why: str
    apply: Callable[[], None]
    #: the moto module it changes, when importing that module is itself a cost the start need not pay (IAM's
    #: imports cryptography's X.509): made as soon as the module is imported, before anything uses it
    after_import: str | None = None


class _AfterImport(importlib.abc.MetaPathFinder):
    """Runs a patch right after its module is first executed, before the importer gets the module: on the
    meta path only while a patch waits (`apply()` puts it there), it finds nothing itself."""

    def __init__(self) -> None:
        self.waiting: dict[str, list[Callable[[], None]]] = {}

    def find_spec(self, name: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if name not in self.waiting:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is None or spec.loader is None:
            return None
        patches = self.waiting.pop(name)
        if not self.waiting and self in sys.meta_path:
            sys.meta_path.remove(self)
        executes = spec.loader.exec_module

        def exec_module(module: types.ModuleType) -> None:
            executes(module)
            for patch in patches:
                patch()

        spec.loader.exec_module = exec_module  # (this spec's own loader: nothing else shares it)
        return spec

    def wait_for(self, module: str, patch: Callable[[], None]) -> None:
        self.waiting.setdefault(module, []).append(patch)
        if self not in sys.meta_path:
            sys.meta_path.insert(0, self)


_AFTER_IMPORT = _AfterImport()


#: what each patch replaced, by "module.Class.name": the tests compare moto's own answers with the patches'
ORIGINALS: dict[str, Any] = {}

_apply_lock = threading.Lock()


class _Applied:
    done = False


def apply() -> None:
    """Make every patch in PATCHES, once per process (the embedded backend's start() calls this)."""
    with _apply_lock:
        if _Applied.done:
            return
        for patch in PATCHES:
            if patch.after_import is not None and patch.after_import not in sys.modules:
                _AFTER_IMPORT.wait_for(patch.after_import, patch.apply)
            else:
                patch.apply()
        _Applied.done = True


def applied() -> bool:
    return _Applied.done


def _replace(owner: Any, name: str, replacement: Any) -> None:
    label = f"{getattr(owner, '__module__', '')}.{getattr(owner, '__qualname__', getattr(owner, '__name__', ''))}"
    ORIGINALS[f"{label}.{name}".lstrip(".")] = getattr(owner, name, None)  # (None: moto had none)
    setattr(owner, name, replacement)


def original(owner: Any, name: str) -> Any:
    """What a patch replaced on `owner` (a class or module): moto's own code, for comparisons."""
    label = f"{getattr(owner, '__module__', '')}.{getattr(owner, '__qualname__', getattr(owner, '__name__', ''))}"
    return ORIGINALS[f"{label}.{name}".lstrip(".")]


# -- parsed-json-once --------------------------------------------------------------------------------------

def _load_resource(resource: str) -> object:
    from moto.utilities import utils as moto_utils

    if resource.startswith(_OFFERINGS) and sys._getframe(1).f_globals.get("__name__") == _OFFERINGS_MODULE:
        return _defer_offerings(resource)
    try:
        name = resource if resource.endswith(".gz") else f"{resource}.gz"
        return orjson.loads(gzip.decompress(moto_utils.load_resource_as_bytes(name)))
    except FileNotFoundError:
        return orjson.loads(moto_utils.load_resource_as_str(resource))


def _parse_json_once() -> None:
    import botocore.loaders
    from moto.utilities import utils as moto_utils

    # (every loader moto's sessions make reads as the gateway's own does: one parse per file, shared)
    _replace(botocore.loaders.JSONFileLoader, "_load_file", model_files.OrjsonFileLoader._load_file)
    _replace(moto_utils, "load_resource", _load_resource)


# -- services-listed-once ---------------------------------------------------------------------------------

def _services_listed_once() -> None:
    import botocore.loaders

    lists = botocore.loaders.Loader.list_available_services

    def list_available_services(self: botocore.loaders.Loader, type_name: str) -> list[str]:
        return model_files.list_available_services(self, type_name, lists)

    _replace(botocore.loaders.Loader, "list_available_services", list_available_services)


# -- seeded-uuid4 ------------------------------------------------------------------------------------------

def _seeded_uuid4() -> None:
    from moto.moto_api._internal import mock_random

    _replace(uuid, "uuid4", mock_random.uuid4)


# -- key-store-pickling, private-key-pickling ----------------------------------------------------------------

def rebuild_key_store(lists: dict[str, list[Any]]) -> Any:
    """moto's S3 key store (the sorted kind) holding these version lists."""
    store = SortedKeyStore()
    for key, versions in lists.items():
        dict.__setitem__(store, key, versions)
    return store


def reduce_key_store(store: Any) -> tuple[Any, ...]:
    # moto's S3 key store is a dict whose items() yield only the latest version of each key, so plain pickling
    # keeps one version per key; save and restore the whole version lists instead.
    return rebuild_key_store, ({key: list(versions) for key, versions in dict.items(store)},)


def load_private_key(der: bytes) -> Any:
    from cryptography.hazmat.primitives import serialization

    return serialization.load_der_private_key(der, password=None)


def reduce_private_key(key: Any) -> tuple[Any, ...]:
    from cryptography.hazmat.primitives import serialization

    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    return load_private_key, (der,)


def _key_store_pickling() -> None:
    copyreg.pickle(_VersionedKeyStore, reduce_key_store)  # (SortedKeyStore says so itself: __reduce__)


def _private_key_pickling() -> None:
    from cryptography.hazmat.bindings._rust import openssl as rust_openssl

    for module, name in (("rsa", "RSAPrivateKey"), ("ec", "ECPrivateKey"), ("ed25519", "Ed25519PrivateKey")):
        key_type = getattr(getattr(rust_openssl, module, None), name, None)
        if key_type is not None:
            copyreg.pickle(key_type, reduce_private_key)


# -- weak-instance-registry ----------------------------------------------------------------------------------

class WeakInstances:
    """moto's per-class list of the instances made (instances_tracked), holding them weakly: the list's
    operations moto and the lab use (append, remove, iterate, len), over the instances still alive. (By
    identity: some of moto's models compare by value and do not hash.)"""

    __slots__ = ("_alive", "_forget")

    def __init__(self, instances: Any = ()) -> None:
        alive: dict[int, weakref.KeyedRef] = {}

        def forget(reference: weakref.KeyedRef, alive: dict[int, weakref.KeyedRef] = alive) -> None:
            if alive.get(reference.key) is reference:
                del alive[reference.key]

        self._alive, self._forget = alive, forget
        for instance in instances:
            self.append(instance)

    def append(self, instance: Any) -> None:
        self._alive[id(instance)] = weakref.KeyedRef(instance, self._forget, id(instance))

    def remove(self, instance: Any) -> None:
        self._alive.pop(id(instance), None)

    def __iter__(self) -> Iterator[Any]:
        found = (reference() for reference in list(self._alive.values()))
        return iter([instance for instance in found if instance is not None])

    def __len__(self) -> int:
        return len(self._alive)


def _tracked_new(cls: type, *args: Any, **kwargs: Any) -> Any:
    from moto.core.common_models import BaseModel

    instance = super(BaseModel, cls).__new__(cls)
    registry = cls.__dict__.get("instances_tracked")
    if not isinstance(registry, WeakInstances):
        # (a list made by moto's metaclass with the class, or by its reset_model_data)
        registry = WeakInstances(registry or ())
        cls.instances_tracked = registry
    registry.append(instance)
    return instance


def _weak_instance_registry() -> None:
    from moto.core.common_models import BaseModel

    _replace(BaseModel, "__new__", _tracked_new)


# -- per-thread-ids, backends-seeded-by-name ----------------------------------------------------------------
# moto draws most ids from its one seeded generator (seeded-uuid4 routes uuid.uuid4 through it too), which makes
# every id a pure function of the seed and the request sequence: what lets the journal replay to the same state
# after a crash. The generator is split by thread (EmbeddedBackend.reseed seeds a thread's draws per call).

class _ThreadDraws(threading.local):
    def __init__(self) -> None:
        # This thread's generator for the calls it runs, reseeded before every use (EmbeddedBackend.reseed):
        # its first state does not matter, and seeding it from the OS costs 2.5 KB of urandom and a full
        # state mix, on each of the server's threads (one per connection).
        self.seeded = random.Random(0)
        self.generator: random.Random | None = None  # what this thread draws from now (None: _UNSEEDED)


DRAWS = _ThreadDraws()
_UNSEEDED = random.Random()  # seeded from the OS: ids of work outside any call (error answers, clients)


class _PerThreadRandom(MotoRandom):
    """moto's one shared generator, split by thread. A thread running a call draws from its own generator,
    seeded for that call; every other draw -- an error answer's request id, a client's invocation id, anything
    made outside the sandbox lock -- comes from an unseeded generator and can no longer shift the ids of the
    call in progress on another thread (nor repeat across sandboxes)."""

    def random(self) -> float:
        return (DRAWS.generator or _UNSEEDED).random()

    def getrandbits(self, k: int) -> int:
        return (DRAWS.generator or _UNSEEDED).getrandbits(k)

    def seed(self, a: Any = None, version: int = 2) -> None:
        (DRAWS.generator or _UNSEEDED).seed(a, version)

    def getstate(self) -> Any:
        return (DRAWS.generator or _UNSEEDED).getstate()

    def setstate(self, state: Any) -> None:
        (DRAWS.generator or _UNSEEDED).setstate(state)

    def randbytes(self, n: int) -> bytes:
        return (DRAWS.generator or _UNSEEDED).randbytes(n)


def _per_thread_ids() -> None:
    from moto.moto_api._internal import mock_random

    ORIGINALS["moto.moto_api._internal.mock_random.__class__"] = type(mock_random)
    mock_random.__class__ = _PerThreadRandom


def _seeded_by_name(create: Any) -> Any:
    """moto makes a region's backend on first use (IAM's with a thousand managed policies of random ids,
    EC2's with a default VPC). When that happens depends on the process (a restored service loads later, a
    service's app is made on its first call), so a creation inside a call must not draw from the call's
    generator: it draws from one seeded by what it makes, and the call's ids stay what they were."""

    def getitem(self: Any, region_name: str) -> Any:
        key = "aws" if region_name == "global" else region_name
        if dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        previous = DRAWS.generator
        DRAWS.generator = random.Random(f"backend:{self.service_name}:{self.account_id}:{key}")
        try:
            return create(self, region_name)
        finally:
            DRAWS.generator = previous

    return getitem


def _backends_seeded_by_name() -> None:
    from moto.core.base_backend import AccountSpecificBackend

    _replace(AccountSpecificBackend, "__getitem__", _seeded_by_name(AccountSpecificBackend.__getitem__))


# -- restored-services-load-first ---------------------------------------------------------------------------

class _Restoring:
    backend: Any = None  # the embedded backend with services still waiting as bytes (EmbeddedBackend.load_for)


RESTORING = _Restoring()
_BACKEND_DICT_READS = ("__getitem__", "__iter__", "__len__", "__contains__", "get", "items", "keys", "values")


def _loads_first(method: Any) -> Any:
    """A restored service waits as bytes until first used; moto's services reach into one another's state
    (every call into IAM's, S3 into KMS's, ...), and the data layer into any: whoever touches a waiting
    service's backends loads it first, so nothing is made in (or lost with) a stand-in that the load would
    replace."""

    def hooked(self: Any, *args: Any) -> Any:
        loader = RESTORING.backend
        if loader is not None and loader._pending:
            loader.load_for(self)
        return method(self, *args)

    return hooked


def _restored_services_load_first() -> None:
    from moto.core.base_backend import BackendDict

    for name in _BACKEND_DICT_READS:
        _replace(BackendDict, name, _loads_first(getattr(BackendDict, name)))


# -- quiet-backend-apps --------------------------------------------------------------------

#: environ flag: hand moto the body as bytes, never parsed as a form (see backend_app)
RAW_BODY_KEY = "lab.raw_body"


def backend_app(module: str) -> Any:
    """moto's Flask app for one service, without Flask's debug mode (see PATCHES); exceptions still propagate
    to the caller as in debug mode (NotImplementedError is how moto says it lacks an operation). A request
    flagged RAW_BODY_KEY keeps its body as bytes: S3 has no form-encoded operation, yet `curl --data-binary`
    sends an upload as application/x-www-form-urlencoded, and parsed as a form the object was stored empty and
    the body's fields read as the call's parameters (AWS stores the bytes)."""
    from moto.moto_server.werkzeug_app import BackendRequest, create_backend_app

    class RawBodyRequest(BackendRequest):
        @property
        def want_form_data_parsed(self) -> bool:
            return not self.environ.get(RAW_BODY_KEY) and super().want_form_data_parsed

    app = create_backend_app(module)
    app.debug = False
    app.config["PROPAGATE_EXCEPTIONS"] = True
    app.request_class = RawBodyRequest
    return app


def _quiet_backend_apps() -> None:
    """(the embedded backend makes its apps with backend_app: nothing to replace)"""


# -- object-events, version-deletes ----------------------------------------------------------------------------

def _weak(listener: Callable[..., Any]) -> Callable[[], Any]:
    return weakref.WeakMethod(listener) if hasattr(listener, "__self__") else (lambda: listener)


class MotoHooks:
    """Who hears about moto's S3 writes. Listeners are held weakly where they are methods: a sandbox that is
    gone stops hearing them (moto's state is one per process; several sandboxes may live in one)."""

    def __init__(self) -> None:
        self._object_events: list[Callable[[], Any]] = []
        self._version_deletes: list[Callable[[], Any]] = []

    def on_object_event(self, listener: Callable[[str, str, str, str], None]) -> None:
        """listener(event, bucket, key, version_id), event "created" or "tagged"."""
        self._object_events.append(_weak(listener))

    def on_version_delete(self, listener: Callable[[str, str, str], None]) -> None:
        """listener(bucket, key, version_id), before the version is deleted for good."""
        self._version_deletes.append(_weak(listener))

    @staticmethod
    def _call(references: list[Callable[[], Any]], *args: Any) -> None:
        dead = False
        for reference in list(references):
            live = reference()
            if live is None:
                dead = True
            else:
                live(*args)
        if dead:
            references[:] = [reference for reference in references if reference() is not None]

    def object_event(self, event: str, bucket: str, key: str, version_id: str) -> None:
        self._call(self._object_events, event, bucket, key, version_id)

    def version_deleting(self, bucket: str, key: str, version_id: str) -> None:
        self._call(self._version_deletes, bucket, key, version_id)


HOOKS = MotoHooks()


def _object_kind(event_name: Any) -> str | None:
    name = str(getattr(event_name, "value", event_name))
    return ("created" if name.startswith("s3:ObjectCreated") else
            "tagged" if name.startswith("s3:ObjectTagging") else None)


def _object_events() -> None:
    from moto.s3 import notifications

    moto_send_event = notifications.send_event
    kinds: dict[Any, str | None] = {}

    def send_event(account_id: str, event_name: Any, bucket: Any, key: Any) -> None:
        moto_send_event(account_id, event_name, bucket, key)
        event = kinds.get(event_name, "")
        if event == "":
            event = kinds[event_name] = _object_kind(event_name)
        if event is not None and key is not None and bucket is not None:
            HOOKS.object_event(event, bucket.name, key.name, key.version_id)

    _replace(notifications, "send_event", send_event)


def _version_deletes() -> None:
    from moto.s3.models import S3Backend

    moto_delete_object = S3Backend.delete_object

    def delete_object(backend: Any, bucket_name: str, key_name: str, version_id: str | None = None,
                      bypass: bool = False) -> Any:
        if version_id is not None:
            HOOKS.version_deleting(bucket_name, key_name, str(version_id))
        return moto_delete_object(backend, bucket_name, key_name, version_id=version_id, bypass=bypass)

    _replace(S3Backend, "delete_object", delete_object)


# -- sorted-key-store ------------------------------------------------------------------------------------------

class SortedKeyStore(_VersionedKeyStore):
    """moto's S3 key store that also keeps its key names sorted, for listings: new names are noted as they come
    (merged in at the next listing), a removed name drops the sorted list (made again when next asked). The
    sorted list lives in the instance's __dict__ and is never pickled (see reduce_key_store).

    It also tells watchers which keys changed (`take_changes`): a summary of the bucket kept up to date reads
    only those (lab.backends.embedded.MotoData.key_head_changes), not every key of a month of orders. Every
    change of moto's and the lab's goes through this class's methods; a bulk change (clear, update) forgets
    the watchers, who then read the whole store again."""

    _MERGE_ONE_BY_ONE = 32  # up to this many new names are inserted one by one; more are merged by a sort

    def sorted_names(self) -> list[str]:
        state = self.__dict__
        names: list[str] | None = state.get("_sorted")
        added: list[str] = state.setdefault("_added", [])
        if names is not None and len(names) + len(added) == dict.__len__(self):
            if len(added) <= self._MERGE_ONE_BY_ONE:
                for name in added:
                    bisect.insort(names, name)
            else:
                names.extend(added)
                names.sort()
            added.clear()
            return names
        # (the first listing, after a removal, or after a change that went around this class: sorted afresh)
        names = state["_sorted"] = sorted(dict.keys(self))
        added.clear()
        return names

    def _added_name(self, key: str) -> None:
        state = self.__dict__
        names = state.get("_sorted")
        if names is None:
            return
        added = state.setdefault("_added", [])
        added.append(key)
        if len(added) > max(4096, len(names)):  # nobody lists: stop keeping track until someone does
            state["_sorted"] = None
            added.clear()

    def _dropped_names(self) -> None:
        self.__dict__["_sorted"] = None

    # -- watchers: which keys changed since a watcher last asked ---------------------------------------------

    def take_changes(self, watcher: str) -> set[str] | None:
        """The keys whose versions changed since `watcher` last asked (and from now on, the ones that change
        next); None when this store does not know the watcher (its first question, another store: a bucket made
        again, a restore, a reset; or a bulk change): it reads the whole store."""
        watchers: dict[str, set[str]] = self.__dict__.setdefault("_watchers", {})
        found = watchers.get(watcher)
        watchers[watcher] = set()
        return found

    def _changed(self, key: str) -> None:
        watchers = self.__dict__.get("_watchers")
        if watchers:
            for changed in watchers.values():
                changed.add(key)

    def _forget_watchers(self) -> None:
        self.__dict__.pop("_watchers", None)

    def __setitem__(self, key: str, value: Any) -> None:
        new = not dict.__contains__(self, key)
        super().__setitem__(key, value)
        self._changed(key)
        if new:
            self._added_name(key)

    def setlist(self, key: Any, list_: Any) -> None:
        new = not dict.__contains__(self, key)
        super().setlist(key, list_)
        self._changed(key)
        if new:
            self._added_name(key)

    def append_version(self, key: str, version: Any) -> None:
        """store[key] = version (appended to the key's versions), without the KeyError moto's __setitem__
        raises and catches inside for every new key."""
        versions = dict.get(self, key)
        if versions is None:
            dict.__setitem__(self, key, [version])
            self._added_name(key)
        else:
            versions.append(version)
        self._changed(key)

    def pop(self, key: str) -> None:
        super().pop(key)
        self._changed(key)
        self._dropped_names()

    def __delitem__(self, key: str) -> None:
        dict.__delitem__(self, key)
        self._changed(key)
        self._dropped_names()

    def popitem(self) -> Any:
        found = dict.popitem(self)
        self._changed(found[0])
        self._dropped_names()
        return found

    def clear(self) -> None:
        dict.clear(self)
        self._forget_watchers()
        self._dropped_names()

    def update(self, *args: Any, **kwargs: Any) -> None:
        dict.update(self, *args, **kwargs)
        self._forget_watchers()
        self._dropped_names()

    def setdefault(self, key: str, default: Any = None) -> Any:
        found = dict.setdefault(self, key, default)
        self._changed(key)
        self._dropped_names()
        return found

    def __ior__(self, other: Any) -> Any:
        self.update(other)
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return reduce_key_store(self)


def sorted_store(store: Any) -> SortedKeyStore:
    """`store` (a bucket's keys) as a SortedKeyStore: one made before the patches were applied becomes one."""
    if type(store) is not SortedKeyStore:
        store.__class__ = SortedKeyStore
    return store


def append_version(store: Any, key: str, version: Any) -> None:
    """store[key] = version on a bucket's key store, the fast way (SortedKeyStore.append_version)."""
    sorted_store(store).append_version(key, version)


def _sorted_key_store() -> None:
    from moto.s3 import models

    # FakeBucket.__init__ makes its store from this module-level name: new buckets get the sorted kind
    _replace(models, "_VersionedKeyStore", SortedKeyStore)


def _end_of_names_starting_with(names: list[str], start: str, low: int) -> int:
    """The first index from `low` on whose name does not start with `start` (names from low on that do are
    contiguous, names being sorted)."""
    size = len(start)
    return bisect.bisect_right(names, start, lo=low, key=lambda name: name[:size])


# -- compact keys ------------------------------------------------------------------------------------------

class CompactKey(FakeKey):
    """An S3 object version the data layer writes directly (the engines' bulk writes: a month of orders is
    100,000 of them): a FakeKey whose attributes that equal a new key's live once, on this class, instead of in
    every object. moto keeps 35 attributes in a dict per version (about 1.5 KB with its buffer, lock and
    metadata); here a version holds the dozen that are its own, set in one order so that the objects share
    their attribute names (a third of the size). moto reads them and sets them as on any FakeKey: one it sets
    becomes the object's own. Pickles as a FakeKey does (its __getstate__); the defaults come back with the
    class."""

    PER_KEY = ("name", "_value_buffer", "lock", "_metadata", "last_modified", "_time_progressed", "contentsize")

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """The attributes of a new FakeKey (this moto's), made this class's attributes on first use."""
        found: dict[str, Any] | None = cls.__dict__.get("_defaults")
        if found is None:
            made = FakeKey(name="", value=b"", account_id=config.ACCOUNT_ID, region_name=config.PRIMARY_REGION)
            FakeKey.instances_tracked.remove(made)
            found = {name: value for name, value in vars(made).items() if name not in cls.PER_KEY}
            for name, value in found.items():
                setattr(cls, name, value)
            cls._defaults = found
            made.dispose()
            _DEFAULTS.update(found)
        return found

    def __setstate__(self, state: dict[str, Any]) -> None:
        type(self).defaults()  # (a restore may load one before anything made one)
        super().__setstate__(state)


def is_default(name: str, value: Any) -> bool:
    """Whether `value` is what a new key has for attribute `name` (then a CompactKey need not hold it)."""
    default = (_DEFAULTS or CompactKey.defaults()).get(name, _NO_DEFAULT)  # (asked ~17 times per order placed)
    return value is default or (type(value) in _PLAIN and type(default) is type(value) and value == default)


_NO_DEFAULT = object()
_DEFAULTS: dict[str, Any] = {}  # CompactKey.defaults(), once made
_PLAIN = frozenset({str, int, bool, float, type(None)})


# -- quick-timestamps ----------------------------------------------------------------------------------------

_ISO_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:\d\d)")


def aware_timestamp(value: Any) -> Any:
    """botocore's parse_to_aware_datetime, for what moto's models hold -- datetimes, and ISO 8601 text such
    as S3's "2026-12-07T01:08:48.000Z" -- without dateutil's parser (two thirds of serialising a page of
    1,000 S3 versions); anything else goes to botocore's."""
    if type(value) is datetime:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if type(value) is str and _ISO_TIMESTAMP.fullmatch(value):
        return datetime.fromisoformat(value).astimezone(UTC)
    return original(_serialize_module(), "parse_to_aware_datetime")(value)


def _serialize_module() -> Any:
    from moto.core import serialize

    return serialize


def _quick_timestamps() -> None:
    _replace(_serialize_module(), "parse_to_aware_datetime", aware_timestamp)


# -- rendered-listings -------------------------------------------------------------------------------------

#: the S3 listings whose answers are rendered straight to XML (pages of up to 1,000 entries)
RENDERED_OPERATIONS = frozenset({"ListObjectVersions", "ListObjectsV2"})


class _UnrenderableError(Exception):
    """Something the renderer does not do as moto's serializer does: moto's serializer answers."""


class ListingRenderer:
    """moto's S3 serializer (a restXml body written by xmltodict), for the results of the listings above:
    the same document, written straight from the result and the operation's output shape. Results it does not
    read as moto does (a key that is not a member's name, a header member, a type below it lacks) are left to
    moto's serializer. tests/unit/test_moto_patches.py compares the two, byte for byte."""

    def __init__(self, operation_model: Any) -> None:
        from moto.core.serialize import S3Serializer, TimestampSerializer

        output = operation_model.output_shape
        self.root = output.serialization.get("resultWrapper", f"{operation_model.name}Response")
        self.namespace = operation_model.metadata.get("xmlNamespace")
        self.output = output
        self.default_timestamp = S3Serializer.DEFAULT_TIMESTAMP_FORMAT
        self.timestamps = TimestampSerializer(self.default_timestamp)

    def render(self, result: Any) -> str:
        parts = ['<?xml version="1.0" encoding="utf-8"?>\n<', self.root]
        if self.namespace:
            parts.append(f" xmlns={_quote_attribute(self.namespace)}")
        inner: list[str] = []
        self._members(inner, result, self.output, top=True)
        if inner:
            parts.append(">")
            parts.extend(inner)
            parts.append(f"</{self.root}>")
        else:
            parts.append("/>")
        return "".join(parts)

    def _members(self, parts: list[str], value: Any, shape: Any, top: bool = False) -> None:
        if type(value) is not dict or not value.keys() <= shape.members.keys():
            raise _UnrenderableError
        for name, member in shape.members.items():
            found = value.get(name)
            if found is None:
                continue
            if "location" in member.serialization:
                if top:
                    raise _UnrenderableError  # (a header: moto's serializer puts it there)
                continue
            self._value(parts, found, member, member.serialization.get("name", name))

    def _value(self, parts: list[str], value: Any, shape: Any, name: str) -> None:
        kind = shape.type_name
        if shape.serialization.get("xmlNamespace") or shape.serialization.get("xmlAttribute"):
            raise _UnrenderableError
        if kind == "structure":
            inner: list[str] = []
            self._members(inner, value, shape)
            _element(parts, name, inner)
        elif kind == "list":
            self._list(parts, value, shape, name)
        elif kind == "string":
            _text(parts, name, str(value))
        elif kind in ("integer", "long"):
            _text(parts, name, str(int(value)))
        elif kind == "boolean":
            _text(parts, name, "true" if value is True or str(value).lower() == "true" else "false")
        elif kind == "timestamp":
            fmt = shape.serialization.get("timestampFormat", self.default_timestamp)
            _text(parts, name, str(self.timestamps._convert_timestamp_to_str(value, fmt)))
        else:
            raise _UnrenderableError

    def _list(self, parts: list[str], value: Any, shape: Any, name: str) -> None:
        if type(value) is not list:
            raise _UnrenderableError
        member = shape.member
        flattened = shape.serialization.get("flattened")
        item_name = name if flattened else member.serialization.get("name", "member")
        items: list[str] = []
        for item in value:
            if member.type_name == "structure":
                inner: list[str] = []
                self._members(inner, item, member)
                if inner:  # (moto leaves empty structures out of a list)
                    _element(items, item_name, inner)
            else:
                self._value(items, item, member, item_name)
        if flattened:
            parts.extend(items)
        elif items:
            _element(parts, name, items)
        else:
            parts.append(f"<{name}/>")


def _element(parts: list[str], name: str, inner: list[str]) -> None:
    if inner:
        parts.append(f"<{name}>")
        parts.extend(inner)
        parts.append(f"</{name}>")
    else:
        parts.append(f"<{name}/>")


def _text(parts: list[str], name: str, text: str) -> None:
    if text:
        parts.append(f"<{name}>{_escape(text)}</{name}>")
    else:
        parts.append(f"<{name}/>")


def _escape(text: str) -> str:
    # (xml.sax.saxutils.escape, as xmltodict's XMLGenerator writes text)
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _quote_attribute(text: str) -> str:
    from xml.sax.saxutils import quoteattr

    return quoteattr(text)


_RENDERERS: dict[int, ListingRenderer] = {}


def _asks_url_encoding(response: Any) -> bool:
    querystring = getattr(response, "querystring", None) or {}
    return (querystring.get("encoding-type") or [None])[0] == "url"


#: the members of a ListObjectVersions answer S3 URL-encodes when asked (API Reference, ListObjectVersions:
#: EncodingType), as botocore's decode_list_object_versions reads them back
_ENCODED_MEMBERS = ("KeyMarker", "NextKeyMarker", "Prefix", "Delimiter")
_ENCODED_ENTRIES = (("Versions", "Key"), ("DeleteMarkers", "Key"), ("CommonPrefixes", "Prefix"))


def _url_encode_versions(result: dict[str, Any]) -> None:
    """moto ignores ListObjectVersions' encoding-type=url (which boto3 always sends): a key holding a character
    XML cannot carry (S3 allows any UTF-8 in a key) made the whole listing unreadable to every client. The
    result is moto's own, made for this answer: encoded in place, with urllib's quote as moto's other listings
    encode (S3Key.safe_name)."""
    from urllib.parse import quote

    for name in _ENCODED_MEMBERS:
        if result.get(name):
            result[name] = quote(result[name])
    for listing, member in _ENCODED_ENTRIES:
        for entry in result.get(listing) or ():
            if type(entry) is dict and entry.get(member):
                entry[member] = quote(entry[member])
    result["EncodingType"] = "url"


def _rendered_listings() -> None:
    from moto import settings
    from moto.core.responses import ActionResult
    from moto.core.serialize import S3Serializer

    moto_execute_result = ActionResult.execute_result

    def execute_result(result: Any, context: Any) -> Any:
        operation = context.operation_model
        if (operation.name == "ListObjectVersions" and type(result) is ActionResult
                and type(result.result) is dict and _asks_url_encoding(context.response)):
            _url_encode_versions(result.result)
        if (type(result) is ActionResult and operation.name in RENDERED_OPERATIONS
                and context.serializer_class is S3Serializer and not settings.PRETTIFY_RESPONSES
                and not getattr(context.response, "RESPONSE_KEY_PATH_TO_TRANSFORMER", None)):
            renderer = _RENDERERS.get(id(operation))
            if renderer is None or renderer.output is not operation.output_shape:
                renderer = _RENDERERS[id(operation)] = ListingRenderer(operation)
            try:
                body = renderer.render(result.result)
            except _UnrenderableError:
                pass
            else:
                status = operation.http.get("responseCode", S3Serializer.DEFAULT_RESPONSE_CODE)
                return status, {"Content-Type": S3Serializer.CONTENT_TYPE}, body
        return moto_execute_result(result, context)

    _replace(ActionResult, "execute_result", execute_result)


# -- lazy-managed-policies -----------------------------------------------------------------------------------

def _loading_first(method_name: str, base: type) -> Callable[..., Any]:
    method = getattr(base, method_name)

    def loading_first(self: Any, *args: Any, **kwargs: Any) -> Any:
        self.load()
        return method(self, *args, **kwargs)

    loading_first.__name__ = method_name
    return loading_first


_LIST_METHODS = ("__iter__", "__len__", "__getitem__", "__contains__", "__reversed__", "__eq__", "__ne__",
                 "__lt__", "__le__", "__gt__", "__ge__", "__add__", "__mul__", "__rmul__", "__iadd__", "__imul__",
                 "__setitem__", "__delitem__", "__repr__", "append", "extend", "insert", "remove", "pop", "clear",
                 "index", "count", "sort", "reverse", "copy")
_DICT_METHODS = ("__iter__", "__len__", "__getitem__", "__contains__", "__reversed__", "__eq__", "__ne__",
                 "__or__", "__ior__", "__setitem__", "__delitem__", "__repr__", "get", "keys", "values", "items",
                 "pop", "popitem", "setdefault", "update", "clear", "copy")


class AwsManagedPolicies(list):
    """An IAM backend's AWS managed policies (moto's aws_managed_policies: 1,300 policies, parsed and built when
    moto makes a backend -- which every first S3 or DynamoDB call does, through IAM), made when first read."""

    def __init__(self, backend: Any) -> None:
        super().__init__()
        self._backend = backend

    @property
    def loaded(self) -> bool:
        return "_backend" not in self.__dict__

    def load(self) -> None:
        backend = self.__dict__.pop("_backend", None)
        if backend is not None:
            # The policies' ids are drawn from moto's generator: seeded by the backend they belong to, so they
            # are the same whichever call first reads them (the journal replays mutating calls only).
            from moto.moto_api._internal import mock_random

            drawing = mock_random.getstate()
            mock_random.seed(f"aws-managed-policies:{backend.account_id}:{backend.region_name}")
            try:
                list.extend(self, original(type(backend), "_init_aws_policies")(backend))
            finally:
                mock_random.setstate(drawing)


class ManagedPolicies(dict):
    """An IAM backend's managed policies by ARN (moto's managed_policies), its AWS managed ones added when
    first read."""

    def __init__(self, aws: AwsManagedPolicies) -> None:
        super().__init__()
        self._aws = aws

    @property
    def loaded(self) -> bool:
        return "_aws" not in self.__dict__

    def load(self) -> None:
        aws = self.__dict__.pop("_aws", None)
        if aws is not None:
            dict.update(self, {policy.arn: policy for policy in aws})


for _method in _LIST_METHODS:
    setattr(AwsManagedPolicies, _method, _loading_first(_method, list))
for _method in _DICT_METHODS:
    setattr(ManagedPolicies, _method, _loading_first(_method, dict))


def _lazy_managed_policies() -> None:
    from moto.iam.models import IAMBackend
    from moto.settings import load_iam_aws_managed_policies

    def init_aws_policies(backend: Any) -> Any:
        return AwsManagedPolicies(backend) if load_iam_aws_managed_policies() else []

    def init_managed_policies(backend: Any) -> Any:
        aws = backend.aws_managed_policies
        if isinstance(aws, AwsManagedPolicies) and not aws.loaded:
            return ManagedPolicies(aws)
        return original(IAMBackend, "_init_managed_policies")(backend)

    _replace(IAMBackend, "_init_aws_policies", init_aws_policies)
    _replace(IAMBackend, "_init_managed_policies", init_managed_policies)


# -- list-object-versions --------------------------------------------------------------------------------------

class ListedVersion:
    """A version as ListObjectVersions shows it: the stored object, with whether it is the key's latest
    (moto set is_latest on a deep copy of every version of the bucket)."""

    __slots__ = ("is_latest", "version")

    def __init__(self, version: Any, is_latest: bool) -> None:
        self.version, self.is_latest = version, is_latest

    def __getattr__(self, name: str) -> Any:
        return getattr(self.version, name)


def list_object_versions(backend: Any, bucket_name: str, delimiter: str | None = None, key_marker: str | None = None,
                         max_keys: int | None = 1000, prefix: str = "",
                         version_id_marker: str | None = None) -> tuple[list[Any], list[str], list[Any],
                                                                         str | None, str | None]:
    """moto's S3Backend.list_object_versions, in time proportional to the page: the versions in moto's order
    (keys by name, each key's versions newest first by last-modified time), the same markers and pages."""
    from moto.core.utils import unix_time_millis
    from moto.s3.models import FakeKey

    bucket = backend.get_bucket(bucket_name)
    if not isinstance(prefix, str):
        return original(type(backend), "list_object_versions")(
            backend, bucket_name, delimiter=delimiter, key_marker=key_marker, max_keys=max_keys, prefix=prefix,
            version_id_marker=version_id_marker)
    store = sorted_store(bucket.keys)
    names = store.sorted_names()

    def newest_first(name: str) -> list[Any]:
        return sorted(dict.__getitem__(store, name), key=lambda version: -unix_time_millis(version.last_modified))

    requested: list[Any] = []
    delete_markers: list[Any] = []
    common_prefixes: set[str] = set()
    next_key_marker: str | None = None
    next_version_id_marker: str | None = None
    last_added: Any = None

    # Where moto's walk over every version starts answering: after the version the markers name (nothing, if
    # no version has both), after the first version at or past a key marker given alone, else at the start.
    index, skip = 0, 0
    if key_marker is not None:
        index = bisect.bisect_left(names, key_marker)
        if version_id_marker:
            if index == len(names) or names[index] != key_marker:
                return [], [], [], None, None
            found = next((position for position, version in enumerate(newest_first(key_marker))
                          if version.version_id == version_id_marker), None)
            if found is None:
                return [], [], [], None, None
            skip = found + 1
        else:
            skip = 1
    while index < len(names):
        name = names[index]
        if not name.startswith(prefix):
            if name < prefix:
                index, skip = bisect.bisect_left(names, prefix, lo=index), 0
                continue
            break
        versions = newest_first(name)
        if skip >= len(versions):
            index, skip = index + 1, skip - len(versions)
            continue
        rest = name[len(prefix):]
        if delimiter and delimiter in rest:
            common = name[:len(prefix) + rest.index(delimiter) + len(delimiter)]
            # Every version of every key under this common prefix is the same step in moto's walk: show the
            # prefix (or stop at it, when the page is full), then go on after its keys.
            if common != key_marker:
                common_prefixes.add(common)
                if max_keys is not None and len(requested) + len(delete_markers) + len(common_prefixes) >= max_keys:
                    next_key_marker, next_version_id_marker = common, None
                    break
            index, skip = _end_of_names_starting_with(names, common, index), 0
            continue
        full = False
        for position in range(skip, len(versions)):
            version = versions[position]
            if max_keys is not None and len(requested) + len(delete_markers) + len(common_prefixes) >= max_keys:
                next_key_marker = last_added.name if last_added else name
                next_version_id_marker = last_added.version_id if last_added is not None else None
                full = True
                break
            last_added = version
            listed = ListedVersion(version, position == 0)
            (requested if isinstance(version, FakeKey) else delete_markers).append(listed)
        if full:
            break
        index, skip = index + 1, 0
    return requested, sorted(common_prefixes), delete_markers, next_key_marker, next_version_id_marker


def _list_object_versions() -> None:
    from moto.s3.models import S3Backend

    _replace(S3Backend, "list_object_versions", list_object_versions)


# -- list-objects-v2 -------------------------------------------------------------------------------------------

def list_objects_v2(backend: Any, bucket: Any, prefix: str | None, delimiter: str | None,
                    continuation_token: str | None, start_after: str | None,
                    max_keys: int) -> tuple[list[Any], bool, str | None]:
    """moto's S3Backend.list_objects_v2, in time proportional to the page: keys and common prefixes in name
    order after the token (or StartAfter), delete markers left out, the same tokens."""
    from moto.s3.models import FakeDeleteMarker, FakeKey, FakeTableStorageBucket, md5_hash

    tokens = backend._pagination_tokens
    if (isinstance(bucket, FakeTableStorageBucket) or max_keys < 0
            or (continuation_token and continuation_token not in tokens)):
        # (moto's own refusals and failures, as moto gives them)
        return original(type(backend), "list_objects_v2")(backend, bucket, prefix, delimiter, continuation_token,
                                                           start_after, max_keys)
    if max_keys == 0:
        return [], False, None
    after = tokens[continuation_token] if continuation_token else (start_after or None)
    store = sorted_store(bucket.keys)
    names = store.sorted_names()
    prefix = prefix or ""
    index = bisect.bisect_left(names, prefix) if prefix else 0
    if after is not None:
        index = max(index, bisect.bisect_right(names, after))
    found: list[Any] = []
    while index < len(names) and len(found) <= max_keys:
        name = names[index]
        if not name.startswith(prefix):
            break
        rest = name[len(prefix):]
        if delimiter and delimiter in rest:
            folder = prefix + rest.split(delimiter)[0] + delimiter
            if after is None or folder > after:
                found.append(folder)
            index = _end_of_names_starting_with(names, folder, index)
            continue
        latest = dict.__getitem__(store, name)[-1]
        if not isinstance(latest, FakeDeleteMarker):
            found.append(latest)
        index += 1
    if len(found) <= max_keys:
        return found, False, None
    found = found[:max_keys]
    last = found[-1]
    last_name = last.name if isinstance(last, FakeKey) else last
    token = md5_hash(last_name.encode("utf-8")).hexdigest()
    tokens[token] = last_name
    return found, True, token


def _list_objects_v2() -> None:
    from moto.s3.models import S3Backend

    _replace(S3Backend, "list_objects_v2", list_objects_v2)


# -- scan-from-sorted-keys -------------------------------------------------------------------------------------

class ItemKeyIndex:
    """A DynamoDB table's item keys in moto's scan order, for Scan: (sort key, hash key, range key) entries sorted
    by the sort key -- the hash key's cast value, or (hash, range) cast values: how moto's DynamoTypes compare.
    Items a put adds are noted and merged in at the next scan; a delete drops the index (made again when next
    asked). Kept beside the table, not in it (tables are pickled with their __dict__)."""

    __slots__ = ("added", "entries", "items")

    def __init__(self, table: Any) -> None:
        self.items = table.items  # (a restored table has new items: the index is for these)
        self.entries = sorted(((_sort_key(item), item.hash_key, item.range_key) for item in _stored_items(table)),
                              key=_first)
        self.added: list[Any] = []

    def current(self, table: Any) -> bool:
        """Brought up to date; False when it cannot be (it is made afresh then)."""
        if self.items is not table.items:
            return False
        if self.added:
            entries = self.entries
            for item in self.added:
                key = _sort_key(item)
                position = bisect.bisect_left(entries, key, key=_first)
                if position == len(entries) or entries[position][0] != key:  # (else a put over an item)
                    entries.insert(position, (key, item.hash_key, item.range_key))
            self.added.clear()
        return len(self.entries) == _item_count(table)


def _first(entry: tuple[Any, ...]) -> Any:
    return entry[0]


_KEY_INDEXES: weakref.WeakKeyDictionary[Any, ItemKeyIndex] = weakref.WeakKeyDictionary()


def _stored_items(table: Any) -> Iterator[Any]:
    if table.range_key_attr:
        for by_range in table.items.values():
            yield from by_range.values()
    else:
        yield from table.items.values()


def _item_count(table: Any) -> int:
    return sum(map(len, table.items.values())) if table.range_key_attr else len(table.items)


def _sort_key(item: Any) -> Any:
    # moto sorts by (hash_key, range_key) DynamoTypes, which compare by their cast values (a table's key types
    # are fixed, so one type throughout)
    if item.range_key is None:
        return item.hash_key.cast_value
    return item.hash_key.cast_value, item.range_key.cast_value


def _index_of(table: Any) -> ItemKeyIndex:
    index = _KEY_INDEXES.get(table)
    if index is None or not index.current(table):
        index = _KEY_INDEXES[table] = ItemKeyIndex(table)
    return index


def note_item_put(table: Any, item: Any) -> None:
    """An item was stored in `table` (moto's put_item, or the data layer's direct writes)."""
    index = _KEY_INDEXES.get(table)
    if index is not None:
        index.added.append(item)
        if len(index.added) > max(4096, len(index.entries)):  # nobody scans: stop keeping track until someone does
            del _KEY_INDEXES[table]


def _start_after(table: Any, exclusive_start_key: dict[str, Any]) -> Any:
    """The sort key of an ExclusiveStartKey that names exactly the table's key attributes with their types;
    None for anything else (moto's own scan answers those)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    wanted = {table.hash_key_attr: table.hash_key_type}
    if table.range_key_attr:
        wanted[table.range_key_attr] = table.range_key_type
    if not isinstance(exclusive_start_key, dict) or set(exclusive_start_key) != set(wanted):
        return None
    values = []
    for name in (table.hash_key_attr, table.range_key_attr):
        if name is None:
            continue
        value = exclusive_start_key[name]
        if not isinstance(value, dict) or list(value) != [wanted[name]]:
            return None
        values.append(DynamoType(value).cast_value)
    return values[0] if len(values) == 1 else tuple(values)


def scan(table: Any, filters: dict[str, Any], limit: int, exclusive_start_key: dict[str, Any],
         filter_expression: Any = None, index_name: str | None = None, consistent_read: bool = False,
         projection_expression: list[list[str]] | None = None,
         segments: tuple[None, None] | tuple[int, int] = (None, None)) -> tuple[list[Any], int, dict[str, Any] | None]:
    """moto's Table.scan of a table (not an index), from the sorted keys: the items after the
    ExclusiveStartKey in moto's order, the same limits, filters, counts and LastEvaluatedKey."""
    from moto.dynamodb.models.table import RESULT_SIZE_LIMIT

    from_start = exclusive_start_key is None
    start_after = None if from_start else _start_after(table, exclusive_start_key)
    if index_name or (start_after is None and not from_start):
        return original(type(table), "scan")(table, filters, limit, exclusive_start_key, filter_expression,
                                             index_name, consistent_read, projection_expression, segments=segments)
    entries = _index_of(table).entries
    position = 0 if from_start else bisect.bisect_right(entries, start_after, key=_first)
    items, ranged = table.items, table.range_key_attr is not None
    results: list[Any] = []
    result_size = 0
    scanned_count = 0
    last_evaluated_key = None
    for number in range(position, len(entries)):
        _, hash_key, range_key = entries[number]
        item = items[hash_key][range_key] if ranged else items[hash_key]
        if not item.is_within_segment(segments):
            continue
        # (what follows is moto's loop, as it is in Table.scan)
        reached_length_limit = len(results) == limit
        reached_size_limit = (result_size + item.size()) > RESULT_SIZE_LIMIT
        if reached_length_limit or reached_size_limit:
            last_evaluated_key = table._get_last_evaluated_key(results[-1], index_name)
            break
        passes_all_conditions = True
        for attribute_name in filters:
            attribute = item.attrs.get(attribute_name)
            (comparison_operator, comparison_objs) = filters[attribute_name]
            if attribute:
                if not attribute.compare(comparison_operator, comparison_objs):
                    passes_all_conditions = False
                    break
            elif comparison_operator == "NULL":
                continue
            else:
                passes_all_conditions = False
                break
        if passes_all_conditions:
            results.append(copy.deepcopy(item))
            result_size += item.size()
        scanned_count += 1
    if filter_expression is not None:
        results = [item for item in results if filter_expression.expr(item)]
    if projection_expression:
        results = [result.project(projection_expression) for result in results]
    return results, scanned_count, last_evaluated_key


def _scan_from_sorted_keys() -> None:
    from moto.dynamodb.models.table import Table

    moto_put_item, moto_delete_item = Table.put_item, Table.delete_item

    def put_item(table: Any, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        item = moto_put_item(table, item_attrs, *args, **kwargs)
        note_item_put(table, item)
        return item

    def delete_item(table: Any, hash_key: Any, range_key: Any) -> Any:
        item = moto_delete_item(table, hash_key, range_key)
        if item is not None:
            _KEY_INDEXES.pop(table, None)
        return item

    _replace(Table, "put_item", put_item)
    _replace(Table, "delete_item", delete_item)
    _replace(Table, "scan", scan)
    _replace(Table, "__len__", _item_count)  # DescribeTable's ItemCount: moto built a list of every item for it


# -- instance-type-offerings-per-region -------------------------------------------------------------------

_OFFERINGS = "ec2/resources/instance_type_offerings/"
_OFFERINGS_MODULE = "moto.ec2.models.instance_types"
#: location type -> region -> the file moto's import loop asked for, left for the first call that reads it
_DEFERRED_OFFERINGS: dict[str, dict[str, str]] = {}


def _defer_offerings(resource: str) -> list[Any]:
    """What moto's import loop gets for one region's offerings file (see `_OfferingsByRegion`): an empty
    list, the file noted to be read when that region is first asked for."""
    location_type, file_name = resource[len(_OFFERINGS):].split("/", 1)
    _DEFERRED_OFFERINGS.setdefault(location_type, {})[file_name.split(".")[0]] = resource
    return []


class _OfferingsByRegion(dict[str, list[dict[str, Any]]]):
    """One location type's instance type offerings by region, each region's file read on first use.

    moto reads every region's file of every location type as it is imported (90 files, 8 MB of JSON, ~40 MB
    once parsed) where the lab's calls read two regions'. moto reads this mapping with `.get(region, ...)`
    only; the rest of dict's reading methods read every file first, so none sees a region missing."""

    def __init__(self, location_type: str, loaded: dict[str, list[dict[str, Any]]], files: dict[str, str]) -> None:
        super().__init__(loaded)
        self._location_type, self._files, self._lock = location_type, files, threading.Lock()

    def _read(self, region: object) -> None:
        if region not in self._files:
            return
        with self._lock:
            resource = self._files.pop(str(region), None)
            if resource is None:
                return  # (another thread read it meanwhile)
            from moto.utilities import utils as moto_utils

            offerings = moto_utils.load_resource(resource)
            for offering in offerings:
                offering["LocationType"] = self._location_type  # (as moto's import loop does)
            dict.__setitem__(self, region, offerings)

    def _read_all(self) -> None:
        for region in list(self._files):
            self._read(region)

    def get(self, region: str, default: Any = None) -> Any:
        self._read(region)
        return dict.get(self, region, default)

    def __getitem__(self, region: str) -> list[dict[str, Any]]:
        self._read(region)
        return dict.__getitem__(self, region)

    def __contains__(self, region: object) -> bool:
        return region in self._files or dict.__contains__(self, region)

    def __len__(self) -> int:
        return dict.__len__(self) + len(self._files)

    def __iter__(self) -> Iterator[str]:
        self._read_all()
        return dict.__iter__(self)

    def keys(self) -> Any:
        self._read_all()
        return dict.keys(self)

    def values(self) -> Any:
        self._read_all()
        return dict.values(self)

    def items(self) -> Any:
        self._read_all()
        return dict.items(self)

    def __eq__(self, other: object) -> bool:
        self._read_all()
        return dict.__eq__(self, other)

    __hash__ = None  # (unhashable, as a dict is)

    def __reduce__(self) -> Any:  # pickled and copied as the plain dict it stands for
        self._read_all()
        return (dict, (dict(self),))


def _instance_type_offerings_per_region() -> None:
    offerings = importlib.import_module(_OFFERINGS_MODULE).INSTANCE_TYPE_OFFERINGS
    for location_type, by_region in list(offerings.items()):
        if isinstance(by_region, _OfferingsByRegion):
            continue
        files = _DEFERRED_OFFERINGS.pop(location_type, {})
        loaded = {region: found for region, found in by_region.items() if region not in files}
        # (the mapping itself is moto's: modules that imported it by name see the same object)
        offerings[location_type] = _OfferingsByRegion(location_type, loaded, files)


# -- rds-windows-checked-by-the-lab -----------------------------------------------------------------------

def _no_window_refusal(maintenance_window: str, backup_window: str | None) -> None:
    return None  # (lab.services.rds.windows checks both windows, with RDS's rules and messages)


def _rds_windows_checked_by_the_lab() -> None:
    importlib.import_module("moto.rds.models")
    # (from sys.modules: made right after the module runs, before its package has the attribute)
    _replace(sys.modules["moto.rds.models"], "valid_preferred_maintenance_window", _no_window_refusal)


# -- sqs-polls-answer-at-once ---------------------------------------------------------------------------------

def _sqs_polls_answer_at_once() -> None:
    from moto.sqs.models import SQSBackend

    moto_receive = SQSBackend.receive_message

    def receive_message(self: Any, queue_name: str, count: int, wait_seconds_timeout: int, *args: Any,
                        **kwargs: Any) -> Any:
        # (what arrives during a long poll on AWS is sent by another client, and the sandbox answers each call
        # whole, at one sim instant: nothing can arrive meanwhile, so the poll ends with what it found)
        return moto_receive(self, queue_name, count, 0, *args, **kwargs)

    _replace(SQSBackend, "receive_message", receive_message)


# -- ec2-not-found-names-the-id -------------------------------------------------------------------------------

def _ec2_not_found_names_the_id() -> None:
    from moto.ec2.exceptions import EC2ClientError, InvalidSnapshotIdError, InvalidVolumeIdError
    from moto.ec2.models.elastic_block_store import EBSBackend

    class SnapshotNotFoundError(InvalidSnapshotIdError):  # (still the class moto's own code may catch)
        def __init__(self, snapshot_id: str) -> None:
            EC2ClientError.__init__(self, "InvalidSnapshot.NotFound", f"The snapshot '{snapshot_id}' does not exist.")

    moto_describe_snapshots, moto_get_snapshot = EBSBackend.describe_snapshots, EBSBackend.get_snapshot
    moto_delete_snapshot, moto_describe_volumes = EBSBackend.delete_snapshot, EBSBackend.describe_volumes

    def describe_snapshots(self: Any, snapshot_ids: list[str] | None = None, filters: Any = None) -> Any:
        for snapshot_id in snapshot_ids or ():
            if snapshot_id not in self.snapshots:
                raise SnapshotNotFoundError(snapshot_id)
        return moto_describe_snapshots(self, snapshot_ids, filters)

    def get_snapshot(self: Any, snapshot_id: str) -> Any:
        if snapshot_id not in self.snapshots:
            raise SnapshotNotFoundError(snapshot_id)
        return moto_get_snapshot(self, snapshot_id)

    def delete_snapshot(self: Any, snapshot_id: str) -> Any:
        if snapshot_id not in self.snapshots:
            raise SnapshotNotFoundError(snapshot_id)
        return moto_delete_snapshot(self, snapshot_id)

    def describe_volumes(self: Any, volume_ids: list[str] | None = None, filters: Any = None) -> Any:
        for volume_id in volume_ids or ():
            if volume_id not in self.volumes:
                raise InvalidVolumeIdError(volume_id)
        return moto_describe_volumes(self, volume_ids, filters)

    for name, replacement in (("describe_snapshots", describe_snapshots), ("get_snapshot", get_snapshot),
                              ("delete_snapshot", delete_snapshot), ("describe_volumes", describe_volumes)):
        _replace(EBSBackend, name, replacement)


# -- ami-without-placeholder-snapshot --------------------------------------------------------------------------

def _ami_without_placeholder_snapshot() -> None:
    from moto.ec2.models.amis import Ami

    moto_init = Ami.__init__

    def init(self: Any, ec2_backend: Any, *args: Any, **kwargs: Any) -> None:
        moto_init(self, ec2_backend, *args, **kwargs)
        # (the AMI keeps it for the mappings moto shows of its own AMIs; the lab shows those of the AMIs it makes)
        ec2_backend.snapshots.pop(self.ebs_snapshot.id, None)

    _replace(Ami, "__init__", init)


# -- ebs-keys-follow-the-data ----------------------------------------------------------------------------------

def _ebs_keys_follow_the_data() -> None:
    import inspect

    from moto.ec2.models.elastic_block_store import EBSBackend

    moto_create_snapshot, moto_copy_snapshot = EBSBackend.create_snapshot, EBSBackend.copy_snapshot
    moto_create_volume = EBSBackend.create_volume
    volume_signature = inspect.signature(moto_create_volume)

    def create_snapshot(self: Any, volume_id: str, description: str, owner_id: str | None = None,
                        from_ami: str | None = None) -> Any:
        snapshot = moto_create_snapshot(self, volume_id, description, owner_id, from_ami)
        if snapshot.encrypted and snapshot.kms_key_id is None:
            snapshot.kms_key_id = getattr(snapshot.volume, "kms_key_id", None)
        return snapshot

    def copy_snapshot(self: Any, source_snapshot_id: str, source_region: str, description: str,
                      kms_key_id: str | None) -> Any:
        snapshot = moto_copy_snapshot(self, source_snapshot_id, source_region, description, kms_key_id)
        if snapshot.encrypted and kms_key_id is None:
            # (in its Region the copy keeps the source's key; in another, a key of that Region: the account's
            # default EBS key there)
            source = self.snapshots.get(source_snapshot_id) if source_region == self.region_name else None
            snapshot.kms_key_id = (source.kms_key_id if source is not None and source.kms_key_id
                                   else self.default_kms_key_id or self._create_default_encryption_key())
        return snapshot

    def create_volume(self: Any, *args: Any, **kwargs: Any) -> Any:
        asked = volume_signature.bind(self, *args, **kwargs)
        snapshot = self.snapshots.get(asked.arguments.get("snapshot_id") or "")
        if snapshot is not None and snapshot.encrypted and not asked.arguments.get("kms_key_id"):
            asked.arguments["encrypted"] = True
            asked.arguments["kms_key_id"] = snapshot.kms_key_id or None
        return moto_create_volume(*asked.args, **asked.kwargs)

    for name, replacement in (("create_snapshot", create_snapshot), ("copy_snapshot", copy_snapshot),
                              ("create_volume", create_volume)):
        _replace(EBSBackend, name, replacement)


# -- cloudwatch-metrics-listed-once ----------------------------------------------------------------------------

def same_dimensions(metric_dimensions: list[Any], dimensions: list[Any]) -> bool:
    """Whether two metrics have the same dimensions, in any order (moto compared every dimension with every
    other, so a metric of two or more dimensions never matched itself)."""
    return ({(d.name, d.value) for d in metric_dimensions} == {(d.name, d.value) for d in dimensions}
            and len(metric_dimensions) == len(dimensions))


def _cloudwatch_metrics_listed_once() -> None:
    _replace(sys.modules["moto.cloudwatch.models"], "are_dimensions_same", same_dimensions)


# -- s3-storage-metrics-in-their-region ------------------------------------------------------------------------

def _s3_storage_metrics_in_their_region() -> None:
    from moto.s3.models import S3Backend, s3_backends
    from moto.utilities.utils import get_partition

    moto_metrics = S3Backend.get_cloudwatch_metrics.__func__  # (a classmethod: CloudWatch asks the class)

    def get_cloudwatch_metrics(cls: Any, account_id: str, region: str) -> list[Any]:
        # (S3 publishes a bucket's daily storage metrics in the bucket's Region only)
        buckets = s3_backends[account_id][get_partition(region)].buckets
        kept = []
        for datum in moto_metrics(cls, account_id, region):
            named = next((d.value for d in datum.dimensions if d.name == "BucketName"), None)
            found = buckets.get(named) if named is not None else None
            if found is None or found.region_name == region:
                kept.append(datum)
        return kept

    _replace(S3Backend, "get_cloudwatch_metrics", classmethod(get_cloudwatch_metrics))


# -- rds-instance-defaults -------------------------------------------------------------------------------------

MOTO_PLACEHOLDER_KEY = "default_kms_key_id"
MOTO_DEFAULT_CA = "rds-ca-default"
DEFAULT_CA = "rds-ca-rsa2048-g1"  # RDS's certificate authority for new DB instances (RDS User Guide: Using SSL/TLS)


def _rds_instance_defaults() -> None:
    from moto.kms.models import kms_backends
    from moto.rds.models import DBInstance

    moto_init = DBInstance.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        moto_init(self, *args, **kwargs)
        if getattr(self, "ca_certificate_identifier", None) == MOTO_DEFAULT_CA:
            self.ca_certificate_identifier = DEFAULT_CA
        if getattr(self, "_kms_key_id", None) == MOTO_PLACEHOLDER_KEY:
            # (made with the instance, in the call that creates it: KMS makes aws/rds on its first use)
            kms = kms_backends[self.account_id][self.region]
            key_id = kms.get_key_id_from_alias("alias/aws/rds")
            self.kms_key_id = kms.keys[key_id].arn if key_id in kms.keys else None

    _replace(DBInstance, "__init__", init)


# -- iam-unique-ids ---------------------------------------------------------------------------------------------

def _iam_unique_ids() -> None:
    from moto.iam.models import Group, User
    from moto.iam.utils import generate_access_key_id_from_account_id

    for owner, prefix in ((User, "AIDA"), (Group, "AGPA")):
        moto_init = owner.__init__

        def init(self: Any, account_id: str, *args: Any, _moto_init: Any = moto_init, _prefix: str = prefix,
                 **kwargs: Any) -> None:
            _moto_init(self, account_id, *args, **kwargs)
            self.id = generate_access_key_id_from_account_id(account_id, prefix=_prefix, total_length=21)

        _replace(owner, "__init__", init)


# -- unpicklable-state-pickled --------------------------------------------------------------------------------

def tags_by_key() -> Any:
    """SSM's tags of one resource type (moto made them with a lambda, which pickle cannot name)."""
    return defaultdict(dict)


def _pickled_as(owner: type, out: Callable[[dict[str, Any]], None], back: Callable[[dict[str, Any]], None]) -> None:
    """Give `owner` a pickled form: `out` turns a copy of its __dict__ into what pickle can save, `back` turns
    the saved form into its attributes again."""

    def __getstate__(self: Any) -> dict[str, Any]:  # noqa: N807 -- pickle's own protocol names
        state = dict(self.__dict__)
        out(state)
        return state

    def __setstate__(self: Any, state: dict[str, Any]) -> None:  # noqa: N807
        back(state)
        self.__dict__.update(state)

    _replace(owner, "__getstate__", __getstate__)
    _replace(owner, "__setstate__", __setstate__)


def _lambda_storage_out(state: dict[str, Any]) -> None:
    state["_arns"] = dict(state["_arns"])  # (a WeakValueDictionary; its values are held by _functions too)
    if "_aliases" in state:
        state["_aliases"] = dict(state["_aliases"])


def _lambda_storage_back(state: dict[str, Any]) -> None:
    state["_arns"] = weakref.WeakValueDictionary(state["_arns"])
    if "_aliases" in state:
        state["_aliases"] = defaultdict(dict, state["_aliases"])


def _ssm_out(state: dict[str, Any]) -> None:
    state["_resource_tags"] = {kind: dict(tags) for kind, tags in state["_resource_tags"].items()}


def _ssm_back(state: dict[str, Any]) -> None:
    state["_resource_tags"] = defaultdict(tags_by_key, {kind: defaultdict(dict, tags)
                                                         for kind, tags in state["_resource_tags"].items()})


def _ecr_out(state: dict[str, Any]) -> None:
    state.pop("registry_scanning_configuration_update_lock", None)


def _ecr_back(state: dict[str, Any]) -> None:
    state["registry_scanning_configuration_update_lock"] = threading.RLock()


def _lambda_pickled() -> None:
    from moto.awslambda.models import LambdaStorage, LayerStorage

    _pickled_as(LambdaStorage, _lambda_storage_out, _lambda_storage_back)
    _pickled_as(LayerStorage, _lambda_storage_out, _lambda_storage_back)


def _ssm_pickled() -> None:
    from moto.ssm.models import SimpleSystemManagerBackend

    _pickled_as(SimpleSystemManagerBackend, _ssm_out, _ssm_back)


def _ecr_pickled() -> None:
    from moto.ecr.models import ECRBackend

    _pickled_as(ECRBackend, _ecr_out, _ecr_back)


# -- s3-encrypts-by-default ----------------------------------------------------------------------------------------

#: what an object stored without encryption of its own has: its bucket's default, SSE-S3 ("all Amazon S3 buckets
#: have encryption configured by default", S3 User Guide: Setting default server-side encryption behavior)
SSE_S3 = "AES256"
DEFAULT_BUCKET_ENCRYPTION = {"Rule": {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": SSE_S3},
                                      "BucketKeyEnabled": False}}


def _s3_encrypts_by_default() -> None:
    from moto.s3.models import FakeKey, S3Backend

    moto_get = S3Backend.get_bucket_encryption
    moto_headers = FakeKey.response_dict.fget

    def get_bucket_encryption(self: Any, bucket_name: str) -> dict[str, Any] | None:
        return moto_get(self, bucket_name) or copy.deepcopy(DEFAULT_BUCKET_ENCRYPTION)

    def response_dict(self: Any) -> dict[str, Any]:
        headers: dict[str, Any] = moto_headers(self)
        # (an object stored without encryption of its own has the bucket's default: SSE-S3)
        headers.setdefault("x-amz-server-side-encryption", SSE_S3)
        return headers

    _replace(S3Backend, "get_bucket_encryption", get_bucket_encryption)
    _replace(FakeKey, "response_dict", property(response_dict))


# -- object-lock-reads --------------------------------------------------------------------------------------------

#: S3's answer to GetObjectRetention and GetObjectLegalHold of a version without one (API Reference:
#: GetObjectRetention; the words and the 404 are S3's as clients see them)
NO_LOCK_OF_VERSION = ("NoSuchObjectLockConfiguration", "The specified object does not have a ObjectLock configuration")
NO_LOCK_OF_BUCKET = ("InvalidRequest", "Bucket is missing Object Lock Configuration")


def _lock_refusal(response: Any, code: str, message: str, status: int) -> Any:
    """An S3 error document as moto's serializer writes one, with S3's status."""
    from moto.core.responses import ActionResult
    from moto.s3.exceptions import S3ClientError

    _, headers, body = response.serialized(ActionResult(S3ClientError(code, message)))
    return status, headers, body


def get_object_retention(response: Any) -> Any:
    """GetObjectRetention of the version the request names (the current one without versionId): its Mode and
    RetainUntilDate, as moto keeps them on the key (lock_mode, lock_until)."""
    from moto.core.responses import ActionResult

    bucket = response.backend.get_bucket(response.bucket_name)
    if not bucket.object_lock_enabled:
        return _lock_refusal(response, *NO_LOCK_OF_BUCKET, 400)
    key, _ = response._get_key(validate_storage_class=False)
    headers = response._get_cors_headers_other()
    if key.version_id != "null":
        headers["x-amz-version-id"] = key.version_id
    if not key.lock_mode or not key.lock_until:
        return _lock_refusal(response, *NO_LOCK_OF_VERSION, 404)
    response.data["Action"] = "GetObjectRetention"
    status, serialized_headers, body = response.serialized(ActionResult(
        {"Retention": {"Mode": key.lock_mode, "RetainUntilDate": aware_timestamp(key.lock_until)}}))
    serialized_headers.update(headers)
    return status, serialized_headers, body


def _object_lock_reads() -> None:
    from moto.s3.responses import S3Response

    moto_get = S3Response._key_response_get

    def _key_response_get(self: Any, query: dict[str, Any], key_name: str) -> Any:
        if "retention" in query and not query.get("uploadId"):
            self._set_action("KEY", "GET", query)
            self._authenticate_and_authorize_s3_action(bucket_name=self.bucket_name, key_name=key_name)
            return get_object_retention(self)
        if "legal-hold" in query and not query.get("uploadId"):
            bucket = self.backend.get_bucket(self.bucket_name)
            if not bucket.object_lock_enabled:
                return _lock_refusal(self, *NO_LOCK_OF_BUCKET, 400)
            key, _ = self._get_key(validate_storage_class=False)
            if not key.lock_legal_status:  # (moto answered an empty <LegalHold/>)
                return _lock_refusal(self, *NO_LOCK_OF_VERSION, 404)
        return moto_get(self, query, key_name)

    _replace(S3Response, "_key_response_get", _key_response_get)


# -- suspended-versioning -----------------------------------------------------------------------------------------

def suspended(bucket: Any) -> bool:
    """Whether `bucket` (moto's) is versioning-suspended: moto's is_versioned is False for it, as for a bucket
    never versioned."""
    return getattr(bucket, "versioning_status", None) == "Suspended"


def replace_null_version(bucket: Any, key_name: str, new: Any) -> None:
    """`new` (a version or a delete marker whose id is null) becomes the key's current version on a
    versioning-suspended bucket, in place of the key's null version if it has one; its other versions stay."""
    versions = bucket.keys.getlist(key_name, [])
    kept = [version for version in versions if str(version.version_id) != "null"]
    if len(kept) != len(versions):
        HOOKS.version_deleting(bucket.name, key_name, "null")
    bucket.keys.setlist(key_name, [*kept, new])


def _delete_version(backend: Any, bucket: Any, key_name: str, version_id: str, bypass: bool) -> Any:
    """What moto's S3Backend.delete_object does with a version id on a versioning-enabled bucket: that version
    alone goes (refused while Object Lock holds it), the key with its last version."""
    from moto.s3.exceptions import AccessDeniedByLock
    from moto.s3.models import FakeDeleteMarker, FakeKey

    response_meta = {"version-id": version_id}
    versions = bucket.keys.getlist(key_name)
    found = next((v for v in versions if str(v.version_id) == str(version_id)), None)
    if isinstance(found, FakeKey) and found.is_locked(governance_bypass=bypass):
        raise AccessDeniedByLock
    if isinstance(found, FakeDeleteMarker) and isinstance(found.key, FakeDeleteMarker):
        response_meta["delete-marker"] = "true"
    if found is not None:
        HOOKS.version_deleting(bucket.name, key_name, str(version_id))
    latest = bucket.keys.get(key_name)
    bucket.keys.setlist(key_name, [v for v in versions if str(v.version_id) != str(version_id)])
    if not bucket.keys.getlist(key_name):
        from moto.s3 import notifications

        bucket.keys.pop(key_name)
        notifications.send_event(backend.account_id, notifications.S3NotificationEvent.OBJECT_REMOVED_DELETE_EVENT,
                                 bucket, latest)
    return True, response_meta


def _suspended_versioning() -> None:
    from moto.s3 import notifications
    from moto.s3.models import FakeDeleteMarker, S3Backend

    moto_put = S3Backend.put_object
    moto_delete = S3Backend.delete_object

    def put_object(backend: Any, bucket_name: str, key_name: str, value: bytes, *args: Any,
                   request_method: str | None = "PUT", disable_notification: bool | None = False,
                   **kwargs: Any) -> Any:
        bucket = backend.buckets.get(bucket_name)
        if bucket is None or not suspended(bucket):
            return moto_put(backend, bucket_name, key_name, value, *args, request_method=request_method,
                            disable_notification=disable_notification, **kwargs)
        # moto's put keeps the new null version alone, and disposes of (closes) every version it drops: it is
        # shown none, and the key's versions come back with the new one in the null version's place
        versions = bucket.keys.getlist(key_name, None)
        if versions:
            dict.__setitem__(bucket.keys, key_name, [])
        try:
            new_key = moto_put(backend, bucket_name, key_name, value, *args, request_method=request_method,
                               disable_notification=True, **kwargs)
        finally:
            if versions:
                dict.__setitem__(bucket.keys, key_name, versions)
        replace_null_version(bucket, key_name, new_key)
        if not disable_notification:
            events = notifications.S3NotificationEvent
            event = events.OBJECT_CREATED_POST_EVENT if request_method == "POST" else events.OBJECT_CREATED_PUT_EVENT
            notifications.send_event(backend.account_id, event, bucket, new_key)
        return new_key

    def delete_object(backend: Any, bucket_name: str, key_name: str, version_id: str | None = None,
                      bypass: bool = False) -> Any:
        bucket = backend.buckets.get(bucket_name)
        if bucket is None or not suspended(bucket) or key_name not in bucket.keys:
            return moto_delete(backend, bucket_name, key_name, version_id=version_id, bypass=bypass)
        if version_id is not None:
            return _delete_version(backend, bucket, key_name, version_id, bypass)
        marker = FakeDeleteMarker(key=bucket.keys[key_name])
        marker._version_id = "null"
        replace_null_version(bucket, key_name, marker)
        return True, {"version-id": "null", "delete-marker": "true"}

    _replace(S3Backend, "put_object", put_object)
    _replace(S3Backend, "delete_object", delete_object)


PATCHES: tuple[Patch, ...] = (
    Patch("parsed-json-once", "botocore's JSONFileLoader._load_file, moto.utilities.utils.load_resource",
          "moto makes a boto3 session per backend, each re-reading botocore's models (EC2's seven times, ~40 MB "
          "once parsed): each file is parsed once per process, by orjson (four times faster), and shared with the "
          "gateway's own session (lab.gateway.codec.model_files); a service model keeps no documentation strings "
          "(a third of its memory; botocore shows them in help texts only)",
          _parse_json_once),
    Patch("services-listed-once", "botocore's Loader.list_available_services",
          "moto makes a botocore loader for every model it loads, and each lists and stats botocore's 400-odd "
          "data folders to check the service's name (35 ms, twice on the way to ready): listed once per process "
          "and search path (lab.gateway.codec.model_files)", _services_listed_once),
    Patch("seeded-uuid4", "uuid.uuid4",
          "a few moto modules draw ids from uuid4 instead of moto's seeded generator: routed through it, every id "
          "is a function of the seed and the call sequence, so the journal replays to the same state", _seeded_uuid4),
    Patch("per-thread-ids", "the class of moto's shared generator (moto.moto_api._internal.mock_random)",
          "one generator shared by every thread: a draw outside the lock (an error answer's request id) shifted the "
          "ids of the call running on another thread, so a replay gave an acknowledged version another id. Split "
          "by thread (DRAWS), a call's ids depend on its seed alone", _per_thread_ids),
    Patch("backends-seeded-by-name", "moto.core.base_backend.AccountSpecificBackend.__getitem__",
          "a region's backend is made on first use, at a moment that depends on the process (IAM's thousand "
          "managed policies draw random ids): made from a generator seeded by its name, it leaves the ids of the "
          "call that touched it as they were", _backends_seeded_by_name),
    Patch("restored-services-load-first", "moto.core.base_backend.BackendDict's reads",
          "a restored service waits as bytes until first used; whoever reads a waiting service's backends (another "
          "service, the data layer) loads it first, so nothing is made in a stand-in the load would replace",
          _restored_services_load_first),
    Patch("key-store-pickling", "copyreg: moto's S3 key store (moto.s3.utils._VersionedKeyStore)",
          "the store's items() yield only each key's latest version: pickled as it is, it kept one version per key",
          _key_store_pickling),
    Patch("private-key-pickling", "copyreg: cryptography's RSA, EC and Ed25519 private keys",
          "moto's KMS keeps a real private key per key (for Sign/Verify); they do not pickle, so they travel as "
          "PKCS#8 DER", _private_key_pickling),
    Patch("weak-instance-registry", "moto.core.common_models.BaseModel.__new__ (instances_tracked)",
          "moto lists every model instance ever made (for its dashboard and S3's reset): every deleted or replaced "
          "object and every deep copy (ListObjectVersions copied the whole bucket per call, Scan each item) stayed "
          "alive for good. Held weakly, the instances alive are still listed", _weak_instance_registry),
    Patch("quiet-backend-apps", "moto's Flask app per service (made by backend_app) and its request class",
          "moto runs its apps in Flask's debug mode, which makes a class per request tied to the request -- body "
          "included -- in a reference cycle: freed by the garbage collector only, a 1 MiB upload stayed alive "
          "until a full collection. Debug off, exceptions still propagate (as the backend needs). A form-encoded "
          "S3 upload keeps its bytes (RAW_BODY_KEY)",
          _quiet_backend_apps),
    Patch("object-events", "moto.s3.notifications.send_event",
          "every object version moto creates or retags, whoever writes it (the gateway or an engine writing "
          "directly), is reported to the subscribed engines (HOOKS)", _object_events),
    Patch("version-deletes", "moto.s3.models.S3Backend.delete_object",
          "every deletion of a version for good is reported to the subscribed engines before it happens (HOOKS)",
          _version_deletes),
    Patch("sorted-key-store", "moto.s3.models._VersionedKeyStore (the key store new buckets get)",
          "each bucket keeps its key names sorted, updated as keys come and go, for the listings below",
          _sorted_key_store),
    Patch("quick-timestamps", "moto.core.serialize.parse_to_aware_datetime",
          "moto's serializer reads every timestamp back through botocore's parser, dateutil's for text: two "
          "thirds of serialising a page of 1,000 S3 versions. Datetimes and ISO 8601 text (what moto's models "
          "hold) are read directly, to the same instant; anything else goes to botocore's", _quick_timestamps),
    Patch("rendered-listings", "moto.core.responses.ActionResult.execute_result, for ListObjectVersions and "
          "ListObjectsV2", "moto's model-driven serializer took 0.2 ms per entry of a page of 1,000 versions (two "
          "thirds of the call, with the page found in proportion to it): those listings are written straight "
          "to the same XML document. ListObjectVersions also honours encoding-type=url, which moto ignored",
          _rendered_listings),
    Patch("lazy-managed-policies", "moto.iam.models.IAMBackend._init_aws_policies, _init_managed_policies",
          "moto parses and builds IAM's 1,300 AWS managed policies whenever it makes an IAM backend, and the "
          "first S3 or DynamoDB call of a start makes one (moto checks the caller's keys in IAM): a third of the "
          "sandbox's time to its first answer. They are made when first read", _lazy_managed_policies,
          after_import="moto.iam.models"),
    Patch("list-object-versions", "moto.s3.models.S3Backend.list_object_versions",
          "moto deep-copied and sorted every version of the bucket for one page (3 s at 100,000 versions): the "
          "same page from the sorted names, in time proportional to the page", _list_object_versions),
    Patch("list-objects-v2", "moto.s3.models.S3Backend.list_objects_v2",
          "moto listed and sorted every key of the bucket for a page of 10 (166 ms at 50,000 keys): the same "
          "page from the sorted names", _list_objects_v2),
    Patch("scan-from-sorted-keys", "moto.dynamodb.models.table.Table.scan, put_item, delete_item, __len__",
          "moto sorted every item of the table (comparing Decimals) for a page of 10: the same page from an "
          "index of the keys in moto's order, kept up to date as items come and go. The table's length "
          "(DescribeTable's ItemCount) built a list of every item (17 ms at 50,000): counted per hash key",
          _scan_from_sorted_keys,
          after_import="moto.dynamodb.models.table"),
    Patch("rds-windows-checked-by-the-lab", "moto.rds.models.valid_preferred_maintenance_window",
          "moto compared a backup window given alone with its own fixed default maintenance window (wed:06:38-07:08) "
          "and refused a CreateDBInstance RDS accepts (RDS picks a maintenance window apart from it); the lab "
          "chooses and checks both windows itself (lab.services.rds.windows), with RDS's rules",
          _rds_windows_checked_by_the_lab, after_import="moto.rds.models"),
    Patch("instance-type-offerings-per-region", "moto.ec2.models.instance_types.INSTANCE_TYPE_OFFERINGS",
          "moto parses every region's instance type offerings of every location type as EC2 is imported (90 files, "
          "~40 MB of the sandbox's memory and part of its start) where the lab's calls read two regions': each "
          "region's file is read when a call first asks for it (RunInstances, DescribeInstanceTypeOfferings, "
          "DescribeSpotPriceHistory), with the same offerings", _instance_type_offerings_per_region,
          after_import=_OFFERINGS_MODULE),
    Patch("sqs-polls-answer-at-once", "moto.sqs.models.SQSBackend.receive_message",
          "moto waits out a long poll (WaitTimeSeconds, or the queue's ReceiveMessageWaitTimeSeconds) by reading the "
          "clock, which the sandbox holds at the call's sim instant: ReceiveMessage on an empty queue never "
          "returned, and held the whole sandbox. The poll answers at once with what the queue holds",
          _sqs_polls_answer_at_once, after_import="moto.sqs.models"),
    Patch("ec2-not-found-names-the-id", "moto.ec2.models.elastic_block_store.EBSBackend.describe_snapshots, "
          "get_snapshot, delete_snapshot, describe_volumes",
          "moto's InvalidSnapshot.NotFound has no message (clients showed None) and its InvalidVolume.NotFound of "
          "DescribeVolumes printed a Python set of the ids: each names the missing id as EC2 does (\"The snapshot "
          "'snap-...' does not exist.\"), first missing one first", _ec2_not_found_names_the_id,
          after_import="moto.ec2.models.elastic_block_store"),
    Patch("ami-without-placeholder-snapshot", "moto.ec2.models.amis.Ami.__init__",
          "moto gives every AMI, its built-in ones and each a learner makes, a 15 GiB snapshot of an empty volume "
          "in the account (\"Auto-created snapshot for AMI ...\"): DescribeSnapshots showed one a learner never "
          "made beside the snapshots of the instance's own volumes. The placeholder leaves the account's snapshots",
          _ami_without_placeholder_snapshot, after_import="moto.ec2.models.amis"),
    Patch("ebs-keys-follow-the-data", "moto.ec2.models.elastic_block_store.EBSBackend.create_snapshot, "
          "copy_snapshot, create_volume",
          "an encrypted volume's snapshots, their copies and the volumes made of them showed no KmsKeyId (moto "
          "keeps it on the volume alone): a snapshot has its volume's key, a copy its source's in the same Region "
          "or the account's default EBS key of the destination Region (EC2 API Reference: CopySnapshot, "
          "KmsKeyId), and a volume of an encrypted snapshot the snapshot's key", _ebs_keys_follow_the_data,
          after_import="moto.ec2.models.elastic_block_store"),
    Patch("cloudwatch-metrics-listed-once", "moto.cloudwatch.models.are_dimensions_same",
          "moto's ListMetrics lists a metric once per name and dimensions, but its comparison of dimensions matched "
          "each against every other: a metric of two or more dimensions (S3's replication metrics: source, "
          "destination, rule) was listed once per datum published, one a minute", _cloudwatch_metrics_listed_once,
          after_import="moto.cloudwatch.models"),
    Patch("s3-storage-metrics-in-their-region", "moto.s3.models.S3Backend.get_cloudwatch_metrics",
          "moto offers every bucket's NumberOfObjects and BucketSizeBytes to CloudWatch in every Region; S3 "
          "publishes a bucket's storage metrics in the bucket's own Region", _s3_storage_metrics_in_their_region),
    Patch("rds-instance-defaults", "moto.rds.models.DBInstance.__init__",
          "an encrypted instance made without a KmsKeyId showed moto's placeholder \"default_kms_key_id\" (and its "
          "snapshots and AWS Backup recovery points with it): RDS uses the account's AWS managed key aws/rds, "
          "made in KMS on its first use, and shows its ARN; a new instance's CA is rds-ca-rsa2048-g1, not moto's "
          "rds-ca-default", _rds_instance_defaults, after_import="moto.rds.models"),
    Patch("iam-unique-ids", "moto.iam.models.User.__init__, Group.__init__",
          "moto gave users and groups 20 random lower-case characters as UserId and GroupId (and CloudTrail's "
          "principalId); IAM's unique ids are AIDA (users) or AGPA (groups) and 17 upper-case letters and digits, "
          "as moto already makes a role's AROA id", _iam_unique_ids, after_import="moto.iam.models"),
    Patch("lambda-state-pickled", "moto.awslambda.models.LambdaStorage, LayerStorage: __getstate__, __setstate__",
          "a Lambda function or layer made every later snapshot fail (a WeakValueDictionary of ARNs, aliases in a "
          "defaultdict of a lambda), so each start replayed the journal since the last good one: saved as plain "
          "dicts, rebuilt on load",
          _lambda_pickled, after_import="moto.awslambda.models"),
    Patch("ssm-state-pickled", "moto.ssm.models.SimpleSystemManagerBackend: __getstate__, __setstate__",
          "SSM's tags per resource are a defaultdict of a lambda, which pickle cannot save: any use of SSM made "
          "every snapshot fail; saved as plain dicts, rebuilt on load", _ssm_pickled, after_import="moto.ssm.models"),
    Patch("ecr-state-pickled", "moto.ecr.models.ECRBackend: __getstate__, __setstate__",
          "ECR's backend holds a lock, which pickle cannot save: any use of ECR made every snapshot fail; saved "
          "without it, a new lock on load", _ecr_pickled, after_import="moto.ecr.models"),
    Patch("s3-encrypts-by-default", "moto.s3.models.S3Backend.get_bucket_encryption, FakeKey.response_dict",
          "since January 2023 every S3 bucket encrypts with SSE-S3 unless configured otherwise: GetBucketEncryption "
          "answers that default (moto: ServerSideEncryptionConfigurationNotFoundError, also after "
          "DeleteBucketEncryption) and objects stored without encryption of their own show AES256",
          _s3_encrypts_by_default),
    Patch("object-lock-reads", "moto.s3.responses.S3Response._key_response_get, for ?retention and ?legal-hold",
          "moto has no GetObjectRetention: it answered the object itself (a GetObject), which clients failed to "
          "read (HTTP 500 at the aws CLI). It answers the version's <Retention>, and GetObjectLegalHold of a version "
          "without one, moto's empty <LegalHold/>, is S3's NoSuchObjectLockConfiguration (404) as its retention is",
          _object_lock_reads),
    Patch("suspended-versioning", "moto.s3.models.S3Backend.put_object, delete_object",
          "moto treats a versioning-suspended bucket as one never versioned: a PUT or a DELETE dropped every "
          "version of the key, a DELETE of one version id all of them. On S3 a PUT replaces only the null version, "
          "a DELETE without a version id puts a null delete marker in the null version's place, and a DELETE of a "
          "version id removes that version alone (S3 User Guide: Working with objects in a versioning-suspended "
          "bucket)", _suspended_versioning),
)
