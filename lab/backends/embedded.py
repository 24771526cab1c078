"""The default backend: moto inside the sandbox process, called as a WSGI app (no second socket).

This is the one module that knows moto's internals; it is pinned to the moto version in pyproject.toml.
"""

from __future__ import annotations

import copyreg
import io
import os
import pickle
import threading
import uuid
from functools import lru_cache
from typing import Any

from lab import config
from lab.gateway.context import RequestContext, Response
from lab.gateway.errors import not_implemented
from lab.gateway.identify import service_model

for _key, _value in config.MOTO_ENVIRONMENT.items():
    os.environ.setdefault(_key, _value)


def _parse_json_faster() -> None:
    """moto and botocore parse several MB of JSON (service models, EC2 instance types) on first use of a
    service; orjson does it about four times faster, which is most of a cold start."""
    import gzip

    import botocore.loaders
    import orjson
    from moto.utilities import utils as moto_utils

    raw: dict[str, bytes] = {}

    def load_file(self: object, full_path: str, open_method: object) -> object:
        # moto builds a fresh boto3 Session per backend, each re-reading endpoints.json and models: read
        # each file once per process, but parse it anew every time, because botocore edits loaded models
        # in place (it strips {Bucket} from S3's URIs when an S3 client is made) and callers must not share.
        if full_path not in raw:
            if not os.path.isfile(full_path):
                return None
            with open_method(full_path, "rb") as handle:  # type: ignore[operator]
                raw[full_path] = handle.read()
        return orjson.loads(raw[full_path])

    def load_resource(resource: str) -> object:
        try:
            name = resource if resource.endswith(".gz") else f"{resource}.gz"
            return orjson.loads(gzip.decompress(moto_utils.load_resource_as_bytes(name)))
        except FileNotFoundError:
            return orjson.loads(moto_utils.load_resource_as_str(resource))

    botocore.loaders.JSONFileLoader._load_file = load_file  # type: ignore[method-assign]
    moto_utils.load_resource = load_resource  # type: ignore[assignment]


_parse_json_faster()

# moto draws most ids from its seeded generator, but a few modules call uuid.uuid4() directly; routing
# those through the same generator makes every id a pure function of the seed and the request sequence,
# which is what lets the journal replay to the same state after a crash.
from moto.moto_api._internal import mock_random  # noqa: E402

uuid.uuid4 = mock_random.uuid4  # type: ignore[assignment]

import moto  # noqa: E402
import moto.backends as moto_backends  # noqa: E402
from moto.moto_server.werkzeug_app import create_backend_app  # noqa: E402

from moto.s3.utils import _VersionedKeyStore  # noqa: E402

MOTO_VERSION = moto.__version__


def _rebuild_versioned_store(lists: dict[str, list[Any]]) -> _VersionedKeyStore:
    store = _VersionedKeyStore()
    for key, versions in lists.items():
        store.setlist(key, versions)
    return store


def _reduce_versioned_store(store: _VersionedKeyStore) -> tuple[Any, ...]:
    # moto's S3 key store is a dict whose items() yield only the latest version of each key, so plain
    # pickling keeps one version per key; save and restore the whole version lists instead.
    return _rebuild_versioned_store, ({key: list(store.getlist(key)) for key in dict.keys(store)},)


copyreg.pickle(_VersionedKeyStore, _reduce_versioned_store)

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
    "abac", "analytics", "annotation", "intelligent-tiering", "metadataAnnotationTable", "metadataConfiguration",
    "metadataInventoryTable", "metadataJournalTable", "metadataTable", "metrics", "renameObject",
    "requestPayment", "session", "torrent",
})


@lru_cache(maxsize=None)
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

    def __init__(self) -> None:
        self.data = MotoData()
        self._apps: dict[str, Any] = {}
        self._apps_lock = threading.Lock()
        self.touched: set[str] = set()

    def start(self) -> None:
        # Loading a service's backend is lazy in moto (0.2-0.3 s the first time); nothing to do here.
        return None

    def stop(self) -> None:
        return None

    def _app(self, module: str) -> Any:
        app = self._apps.get(module)
        if app is None:
            with self._apps_lock:
                app = self._apps.get(module)
                if app is None:
                    app = create_backend_app(module)  # type: ignore[arg-type]
                    self._apps[module] = app
        return app

    def dispatch(self, ctx: RequestContext) -> None:
        identity = ctx.identity
        module = moto_module_for(identity.service) if identity and identity.service else None
        if module is None or not moto_implements(identity.service, identity.operation):
            ctx.response = _as_response(not_implemented(identity, detail="backend: embedded moto"))
            return
        self.touched.add(module)
        body = ctx.body
        environ = dict(ctx.environ)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
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
            ctx.response = _as_response(not_implemented(identity, detail="backend: embedded moto"))
            return
        status = captured["status"]
        # The gateway sets Content-Length from the body it sends; a HEAD answer keeps moto's (the object's size).
        dropped = ("server", "date") if ctx.method == "HEAD" else ("content-length", "server", "date")
        headers = [(k, v) for k, v in captured["headers"] if k.lower() not in dropped]
        if _is_unrecognised(status, data, headers):
            # moto answers routes it has no handler for with an HTML page that botocore retries and misreads.
            ctx.response = _as_response(not_implemented(identity, detail="backend: embedded moto"))
            return
        ctx.response = Response(status, headers, data)

    def health(self) -> dict[str, str]:
        from lab.backends.support import EMBEDDED_SERVICES

        return {service: "running" if moto_module_for(service) in self.touched else "available"
                for service in sorted(EMBEDDED_SERVICES)}

    def supported_services(self) -> set[str] | None:
        from lab.backends.support import EMBEDDED_SERVICES

        return set(EMBEDDED_SERVICES)

    def reset(self) -> None:
        from moto.moto_api._internal.models import moto_api_backend

        moto_api_backend.reset()
        self.touched.clear()

    # -- persistence: the journal-and-snapshot store calls these -----------------------------------

    def export_state(self) -> dict[str, Any]:
        return {
            "moto_version": MOTO_VERSION,
            "backends": {module: moto_backends.get_backend(module) for module in sorted(self.touched)},  # type: ignore[call-overload]
        }

    def import_state(self, state: dict[str, Any]) -> None:
        if state.get("moto_version") != MOTO_VERSION:
            raise ValueError(
                f"the saved state was written by moto {state.get('moto_version')}, this sandbox runs moto {MOTO_VERSION}"
            )
        for module, saved in state["backends"].items():
            live = moto_backends.get_backend(module)  # type: ignore[call-overload]
            live.clear()
            live.update(saved)
            self.touched.add(module)

    @staticmethod
    def reseed(seed: str) -> None:
        mock_random.seed(seed)

    @staticmethod
    def dumps(state: dict[str, Any]) -> bytes:
        return pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)


def _is_unrecognised(status: int, data: bytes, headers: list[tuple[str, str]]) -> bool:
    if status not in (404, 405, 500, 501):
        return False
    head = data[:200].lstrip().lower()
    return head.startswith(b"<!doctype html") or head.startswith(b"<html")


def _as_response(error: Any) -> Response:
    return Response(error.status, list(error.headers), error.body)


class MotoData:
    """Direct writes into moto's models for the engines' bulk work (the workload, replication): about ten
    times cheaper than a call through the gateway, and identical in effect for the data they touch."""

    account = config.ACCOUNT_ID

    def put_object(self, region: str, bucket: str, key: str, body: bytes, content_type: str | None = None,
                   storage_class: str | None = None) -> str | None:
        from moto.s3.models import s3_backends

        stored = s3_backends[self.account]["aws"].put_object(bucket, key, body, storage=storage_class)
        if content_type:
            stored.set_metadata({"Content-Type": content_type})
        return stored.version_id if stored.version_id != "null" else None

    def put_item(self, region: str, table: str, item: dict[str, Any]) -> None:
        from moto.dynamodb.models import dynamodb_backends

        dynamodb_backends[self.account][region].put_item(table, item)
