"""Recognise an incoming HTTP request as an AWS API call.

Everything is derived from botocore's service models: the signing name in the
SigV4 credential scope picks the candidate services, and each candidate's
model (X-Amz-Target prefix, query ``Action``, RPCv2 path, REST URI templates)
picks the operation.  Per-service matchers are compiled lazily, once, because
``identify()`` runs on every request.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from urllib.parse import parse_qsl, unquote, unquote_plus

import botocore.loaders
import botocore.model
import botocore.session

from lab.gateway.codec import model_files
from lab.kernel.context import Identity

__all__ = ["identify", "scope_region", "service_model", "valid_region"]

LOG = logging.getLogger(__name__)


# --------------------------------------------------------------------------
# Models

_SESSION_LOCK = threading.Lock()
_CATALOG_LOCK = threading.RLock()


class _Made:
    """What this module makes once, on first use, under its lock: botocore's session and the catalog."""

    session: botocore.session.Session | None = None
    catalog: _Catalog | None = None


def _botocore_session() -> botocore.session.Session:
    # A private session: same loader/search path (AWS_DATA_PATH, ~/.aws/models)
    # as the clients use, without touching anybody's default session.
    if _Made.session is None:
        with _SESSION_LOCK:
            if _Made.session is None:
                session = botocore.session.Session()
                session.get_component("data_loader").file_loader = model_files.OrjsonFileLoader()
                _Made.session = session
    return _Made.session


@cache
def service_model(name: str) -> botocore.model.ServiceModel:
    """botocore's ServiceModel for ``name`` (cached; raises UnknownServiceError)."""
    return _botocore_session().get_service_model(name)


_REST_PROTOCOLS = ("rest-json", "rest-xml")


def _protocols(metadata: Mapping[str, object]) -> tuple[str, ...]:
    protocols = metadata.get("protocols") or [metadata.get("protocol")]
    return tuple(p for p in protocols if isinstance(p, str))


# --------------------------------------------------------------------------
# Catalog of all services: signing name / target prefix -> services.


def _data_file(loader: botocore.loaders.Loader, name: str, type_name: str) -> str | None:
    """Path of the newest ``type_name`` file of a service, as botocore's loader finds it.

    Same order as botocore's JSONFileLoader: first search path wins, plain
    .json before .json.gz.
    """
    version = loader.determine_latest_version(name, type_name)
    for base in loader.search_paths:
        stem = os.path.join(base, name, version, type_name)
        for suffix in (".json", ".json.gz"):
            if os.path.isfile(stem + suffix):
                return stem + suffix
    return None


def _read_text(path: str, limit: int = -1) -> str:
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return f.read(limit)


def _read_head_metadata(path: str) -> dict | None:
    """The "metadata" object of a service-2 file, read from its first bytes.

    botocore's model files put "metadata" right after "version", so decoding
    the head is ~40x cheaper than loading all 400+ models (75 ms vs 3 s).
    Returns None whenever that assumption does not hold; callers then fall
    back to the full model.
    """
    head = _read_text(path, 32768)
    start = head.find('"metadata"')
    if start < 0:
        return None
    try:
        metadata, _ = json.JSONDecoder().raw_decode(head, head.find("{", start))
    except ValueError:
        return None
    if not isinstance(metadata, dict) or "endpointPrefix" not in metadata:
        return None
    return metadata


def _target_prefixes(prefix: str) -> tuple[str, ...]:
    """Every X-Amz-Target prefix (and RPCv2 ``/service/{prefix}`` name) that names a service.

    botocore's ``targetPrefix`` is the service's legacy wire name; for a few services it is a dotted,
    namespaced form (CloudTrail's ``com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101``). The SDKs
    generated from the Smithy models (JavaScript v3, Go v2, ...) send the Smithy service shape name
    instead, which is the last label (``CloudTrail_20131101``): the awsJson protocols define the target
    as "{service shape name}.{operation name}"
    (https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html). AWS answers both forms.
    """
    short = prefix.rpartition(".")[2]
    return (prefix, short) if short and short != prefix else (prefix,)


def _ordered(services: Iterable[str], preferred: str) -> tuple[str, ...]:
    # The service named like the signing name / prefix first, then alphabetical:
    # ties between candidates go to the earlier one.
    return tuple(sorted(set(services), key=lambda s: (s != preferred, s)))


_CATALOG_FOLDER = "botocore-catalog"
_CATALOG_PARTS = ("signing_name_of", "protocols", "by_signing_name", "by_target_prefix", "query_services")


def _catalog_key(loader: botocore.loaders.Loader) -> str:
    """What the catalog is made from: botocore's version, and the search paths with the times their service and
    version folders last changed (botocore's own data changes only with its version)."""
    import hashlib

    own = os.path.dirname(botocore.loaders.__file__)
    parts: list[object] = [botocore.__version__]
    for base in loader.search_paths:
        parts.append(base)
        if os.path.abspath(base).startswith(own + os.sep) or not os.path.isdir(base):
            continue
        for root, folders, _ in os.walk(base):
            parts.append((root, os.stat(root).st_mtime_ns))
            if root != base:
                folders.clear()  # (services and their versions: two levels)
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:32]


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _cached_catalog(found: object) -> dict[str, object] | None:
    """A catalog read back from the disk cache, when it has the shape the catalog keeps; else None."""
    if not isinstance(found, dict) or set(found) != set(_CATALOG_PARTS) or not _strings(found["query_services"]):
        return None
    names = found["signing_name_of"]
    if not isinstance(names, dict) or not all(isinstance(v, str) for v in names.values()):
        return None
    for part in ("protocols", "by_signing_name", "by_target_prefix"):
        listed = found[part]
        if not isinstance(listed, dict) or not all(_strings(v) for v in listed.values()):
            return None
    return found


class _Catalog:
    """Which services a signing name, an X-Amz-Target prefix or a query action may name, from the head of every
    service model botocore has (~100 ms for 400-odd models): made once per botocore version and data path, and
    kept in the user's cache dir (lab.kernel.disk_cache) for the next start."""

    def __init__(self) -> None:
        from lab.kernel import disk_cache

        loader = _botocore_session().get_component("data_loader")
        key = _catalog_key(loader)
        kept = _cached_catalog(disk_cache.read(_CATALOG_FOLDER, key))
        if kept is None:
            self._read_models(loader)
            disk_cache.write(_CATALOG_FOLDER, key, {part: getattr(self, part) for part in _CATALOG_PARTS})
        else:
            self.signing_name_of = dict(kept["signing_name_of"])
            self.protocols = {name: tuple(found) for name, found in kept["protocols"].items()}
            self.by_signing_name = {name: tuple(found) for name, found in kept["by_signing_name"].items()}
            self.by_target_prefix = {name: tuple(found) for name, found in kept["by_target_prefix"].items()}
            self.query_services = tuple(kept["query_services"])
        self._actions: dict[str, tuple[str, ...]] | None = None
        self._aliases: dict[str, tuple[str, ...]] | None = None

    def _read_models(self, loader: botocore.loaders.Loader) -> None:
        signing: dict[str, list[str]] = {}
        targets: dict[str, list[str]] = {}
        self.protocols: dict[str, tuple[str, ...]] = {}
        self.signing_name_of: dict[str, str] = {}
        for name in loader.list_available_services("service-2"):
            metadata: Mapping | None = None
            try:
                path = _data_file(loader, name, "service-2")
                metadata = _read_head_metadata(path) if path else None
            except Exception:  # noqa: BLE001 - any oddity: use the full model
                metadata = None
            if metadata is None:
                try:
                    metadata = service_model(name).metadata
                except Exception:
                    LOG.debug("skipping unloadable service model %s", name, exc_info=True)
                    continue
            sname = metadata.get("signingName") or metadata.get("endpointPrefix")
            if not sname:
                continue
            self.signing_name_of[name] = sname
            self.protocols[name] = _protocols(metadata)
            signing.setdefault(sname, []).append(name)
            if metadata.get("targetPrefix"):
                for prefix in _target_prefixes(metadata["targetPrefix"]):
                    targets.setdefault(prefix, []).append(name)
        self.by_signing_name = {k: _ordered(v, k) for k, v in signing.items()}
        self.by_target_prefix = {k: _ordered(v, "") for k, v in targets.items()}
        self.query_services = tuple(
            sorted(n for n, p in self.protocols.items() if "query" in p or "ec2" in p)
        )

    def services_for_signing_name(self, name: str) -> tuple[str, ...]:
        services = self.by_signing_name.get(name)
        if services is not None:
            return services
        # Some operations sign with a name that only the endpoint rule sets
        # know (S3: "s3express", "s3-object-lambda", "s3-outposts").  Scanned
        # once, and only when a request brings an unknown signing name.
        if self._aliases is None:
            with _CATALOG_LOCK:
                if self._aliases is None:
                    self._aliases = _rule_set_signing_names()
        return self._aliases.get(name, ())

    def services_for_action(self, action: str) -> tuple[str, ...]:
        # Only needed for unsigned query requests (e.g. STS AssumeRoleWithWebIdentity):
        # loads the ~20 query-protocol models once.
        if self._actions is None:
            with _CATALOG_LOCK:
                if self._actions is None:
                    self._actions = self._action_index()
        return self._actions.get(action, ())

    def _action_index(self) -> dict[str, tuple[str, ...]]:
        index: dict[str, list[str]] = {}
        for name in self.query_services:
            try:
                for op in service_model(name).operation_names:
                    index.setdefault(op, []).append(name)
            except Exception:
                LOG.debug("skipping %s in action index", name, exc_info=True)
        return {k: tuple(v) for k, v in index.items()}


_SIGNING_NAME_IN_RULES = re.compile(r'"signingName"\s*:\s*"([^"]+)"')


def _rule_set_signing_names() -> dict[str, tuple[str, ...]]:
    """signing name -> services, from the authSchemes of endpoint rule sets."""
    loader = _botocore_session().get_component("data_loader")
    found: dict[str, set[str]] = {}
    for name in loader.list_available_services("endpoint-rule-set-1"):
        try:
            path = _data_file(loader, name, "endpoint-rule-set-1")
            for signing_name in _SIGNING_NAME_IN_RULES.findall(_read_text(path) if path else ""):
                found.setdefault(signing_name, set()).add(name)
        except Exception:
            LOG.debug("skipping endpoint rule set of %s", name, exc_info=True)
    return {k: _ordered(v, k) for k, v in found.items()}


def _catalog() -> _Catalog:
    if _Made.catalog is None:
        with _CATALOG_LOCK:
            if _Made.catalog is None:
                _Made.catalog = _Catalog()
    return _Made.catalog


# --------------------------------------------------------------------------
# Request view with lazily parsed parts.

_FORM = "application/x-www-form-urlencoded"
_ACTION_IN_BODY = re.compile(rb"(?:^|&)Action=([^&]*)")


class _Request:
    __slots__ = ("_action", "_query", "body", "headers", "method", "path", "query_string")

    def __init__(
        self, method: str, path: str, query_string: str, headers: dict[str, str], body: bytes
    ) -> None:
        self.method = method
        self.path = path or "/"
        self.query_string = query_string
        self.headers = headers
        self.body = body
        self._query: dict[str, str] | None = None
        self._action: str | bool | None = False  # False = not computed yet

    @property
    def query(self) -> dict[str, str]:
        if self._query is None:
            self._query = (
                dict(parse_qsl(self.query_string, keep_blank_values=True))
                if self.query_string
                else {}
            )
        return self._query

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def action(self) -> str | None:
        """The query-protocol ``Action``, from the query string or a form body."""
        if self._action is False:
            action: str | None = None
            if "Action=" in self.query_string:
                action = self.query.get("Action")
            if action is None and self.body and (
                self.content_type.startswith(_FORM)
                or (not self.content_type and self.body.startswith(b"Action="))
            ):
                found = _ACTION_IN_BODY.search(self.body)
                if found:
                    action = unquote_plus(found.group(1).decode("utf-8", "replace"))
            self._action = action or None
        return self._action


# --------------------------------------------------------------------------
# Per-service matchers.

# Scores compare lexicographically: (literal segments, requirements met,
# non-greedy, literal characters).  RPC-style matches are exact and beat
# any URI-template match.
_EXACT = (1_000_000, 0, 0, 0)


@dataclass(frozen=True, slots=True)
class _Match:
    score: tuple[int, int, int, int]
    operation: str
    protocol: str
    labels: dict[str, str] | None = None
    bucket: str | None = None


@dataclass(frozen=True, slots=True)
class _Route:
    operation: str
    regex: re.Pattern[str]
    labels: tuple[str, ...]
    markers: tuple[tuple[str, str | None], ...]  # from "?versioning", "?list-type=2"
    query_members: tuple[str, ...]  # required members bound to the query string
    header_members: tuple[str, ...]  # required members bound to headers (lower case)
    score: tuple[int, int, int, int]
    sort_key: tuple
    host_prefixed: bool  # has an endpoint hostPrefix (S3 WriteGetObjectResponse)
    has_bucket: bool
    first_literal: str | None  # first path segment when it has no label

    def match(self, req: _Request, path: str) -> dict[str, str] | None:
        headers = req.headers
        for name in self.header_members:
            if name not in headers:
                return None
        if self.markers or self.query_members:
            query = req.query
            for key, value in self.markers:
                if key not in query or (value is not None and query[key] != value):
                    return None
            for key in self.query_members:
                if key not in query:
                    return None
        found = self.regex.fullmatch(path)
        if found is None:
            return None
        return dict(zip(self.labels, found.groups(), strict=True))


_LABEL = re.compile(r"\{([^}]+)\}")


def _compile_route(op: botocore.model.OperationModel) -> _Route:
    uri: str = op.http.get("requestUri", "/")
    template, _, query_part = uri.partition("?")
    markers = tuple(
        (k, v if sep else None)
        for k, sep, v in (part.partition("=") for part in query_part.split("&") if part)
    )
    greedy_end = template.endswith("+}")
    # Tolerate a missing/extra trailing slash (clients differ) except where a
    # greedy label owns the tail (an S3 key may legitimately end in "/").
    if template != "/" and template.endswith("/"):
        template = template[:-1]
    pieces = _LABEL.split(template)
    pattern: list[str] = []
    labels: list[str] = []
    for i, piece in enumerate(pieces):
        if i % 2 == 0:
            pattern.append(re.escape(piece))
        elif piece.endswith("+"):
            labels.append(piece[:-1])
            pattern.append("(.+)")
        else:
            labels.append(piece)
            pattern.append("([^/]+)")
    if not greedy_end and template != "/":
        pattern.append("/?")
    segments = [s for s in template.split("/") if s]
    literal_segments = sum(1 for s in segments if "{" not in s)
    literal_chars = sum(len(p) for p in pieces[::2])

    query_members: list[str] = []
    header_members: list[str] = []
    shape = op.input_shape
    if shape is not None:
        for member in shape.required_members:
            serialization = shape.members[member].serialization
            location = serialization.get("location")
            if location == "querystring" and "name" in serialization:
                query_members.append(serialization["name"])
            elif location == "header":
                header_members.append(serialization.get("name", member).lower())
    requirements = len(markers) + len(query_members) + len(header_members)
    score = (literal_segments, requirements, 0 if "+}" in uri else 1, literal_chars)
    return _Route(
        operation=op.name,
        regex=re.compile("".join(pattern)),
        labels=tuple(labels),
        markers=markers,
        query_members=tuple(query_members),
        header_members=tuple(header_members),
        score=score,
        # best first; deprecated aliases (GetBucketLifecycle) lose ties; then by name
        sort_key=(tuple(-x for x in score), bool(op.deprecated), op.name),
        host_prefixed=bool((op.endpoint or {}).get("hostPrefix")),
        has_bucket="Bucket" in labels,
        first_literal=None if "{" in _first_segment(template) else _first_segment(template),
    )


def _first_segment(path: str) -> str:
    """First segment of a path ("" for "/")."""
    return path[1:].split("/", 1)[0]


class _RestRoutes:
    """Routes of one HTTP method, indexed by their first literal path segment."""

    __slots__ = ("by_first", "host_prefixed", "wildcard")

    def __init__(self, routes: list[_Route]) -> None:
        routes.sort(key=lambda r: r.sort_key)
        self.by_first: dict[str, list[_Route]] = {}
        self.wildcard: list[_Route] = []
        self.host_prefixed = [r for r in routes if r.host_prefixed and not r.has_bucket]
        for route in routes:
            if route.first_literal is None:
                self.wildcard.append(route)
            else:
                self.by_first.setdefault(route.first_literal, []).append(route)

    @staticmethod
    def _first(routes: list[_Route], req: _Request, path: str) -> tuple[_Route, dict] | None:
        for route in routes:
            labels = route.match(req, path)
            if labels is not None:
                return route, labels
        return None

    def match(self, req: _Request, path: str) -> tuple[_Route, dict] | None:
        segment = _first_segment(path)
        a = self._first(self.by_first.get(segment, ()), req, path) if self.by_first else None
        b = self._first(self.wildcard, req, path)
        if a is None or (b is not None and b[0].sort_key < a[0].sort_key):
            return b
        return a


class _ServiceMatcher:
    def __init__(self, name: str) -> None:
        model = service_model(name)
        self.name = name
        self.is_s3 = name == "s3"
        self.protocols = _protocols(model.metadata) or (model.resolved_protocol,)
        self.resolved_protocol: str = model.resolved_protocol
        prefix: str | None = model.metadata.get("targetPrefix")
        self.target_prefixes = _target_prefixes(prefix) if prefix else ()
        self.operations = frozenset(model.operation_names)
        self.rest_protocol = next((p for p in self.protocols if p in _REST_PROTOCOLS), None)
        self.query_protocol = next((p for p in self.protocols if p in ("query", "ec2")), None)
        self.routes: dict[str, _RestRoutes] = {}
        if self.rest_protocol:
            by_method: dict[str, list[_Route]] = {}
            for op_name in model.operation_names:
                op = model.operation_model(op_name)
                by_method.setdefault(op.http.get("method", "POST"), []).append(_compile_route(op))
            self.routes = {m: _RestRoutes(r) for m, r in by_method.items()}

    def match(self, req: _Request, vhost_bucket: str | None) -> _Match | None:
        protocols = self.protocols
        if "smithy-rpc-v2-cbor" in protocols and req.path.startswith("/service/"):
            parts = req.path.split("/")
            if (
                len(parts) == 5
                and parts[2] in self.target_prefixes
                and parts[3] == "operation"
                and parts[4] in self.operations
            ):
                return _Match(_EXACT, parts[4], "smithy-rpc-v2-cbor")
        if "json" in protocols:
            target = req.headers.get("x-amz-target")
            if target:
                prefix, _, op = target.rpartition(".")
                if prefix in self.target_prefixes and op in self.operations:
                    return _Match(_EXACT, op, "json")
        if self.query_protocol:
            action = req.action()
            if action in self.operations:
                return _Match(_EXACT, action, self.query_protocol)
        if self.rest_protocol:
            return self._match_rest(req, vhost_bucket)
        return None

    def _match_rest(self, req: _Request, vhost_bucket: str | None) -> _Match | None:
        routes = self.routes.get(req.method)
        if routes is None:
            return None
        protocol = self.rest_protocol or ""
        if vhost_bucket is None or not self.is_s3:
            found = routes.match(req, req.path)
            if found is None:
                return None
            route, labels = found
            bucket = labels.get("Bucket") if self.is_s3 else None
            return _Match(route.score, route.operation, protocol, labels, bucket)
        # Virtual-hosted S3: match as if the bucket led the path; bucket-less
        # operations are only reachable through their own host prefix.
        best: _Match | None = None
        found = routes.match(req, "/" + vhost_bucket + req.path)
        if found:
            route, labels = found
            best = _Match(route.score, route.operation, protocol, labels, vhost_bucket)
        prefixed = _RestRoutes._first(routes.host_prefixed, req, req.path)
        if prefixed and (best is None or prefixed[0].score > best.score):
            route, labels = prefixed
            best = _Match(route.score, route.operation, protocol, labels, None)
        return best

    def detect_protocol(self, req: _Request) -> str:
        """The protocol a request used, for a service that accepts several."""
        protocols = self.protocols
        if len(protocols) == 1:
            return protocols[0]
        ctype = req.content_type
        if "smithy-rpc-v2-cbor" in protocols and (
            "smithy-protocol" in req.headers
            or ctype.startswith("application/cbor")
            or req.path.startswith("/service/")
        ):
            return "smithy-rpc-v2-cbor"
        if "json" in protocols and (
            "x-amz-target" in req.headers or ctype.startswith("application/x-amz-json")
        ):
            return "json"
        if self.query_protocol and (ctype.startswith(_FORM) or req.action()):
            return self.query_protocol
        return self.resolved_protocol


_MATCHERS: dict[str, _ServiceMatcher | None] = {}
_MATCHERS_LOCK = threading.Lock()


def _matcher(name: str) -> _ServiceMatcher | None:
    try:
        return _MATCHERS[name]
    except KeyError:
        pass
    with _MATCHERS_LOCK:
        if name not in _MATCHERS:
            try:
                _MATCHERS[name] = _ServiceMatcher(name)
            except Exception:
                LOG.debug("cannot build matcher for %s", name, exc_info=True)
                _MATCHERS[name] = None
    return _MATCHERS[name]


# --------------------------------------------------------------------------
# Signature scope and S3 virtual hosts.


def _scope_from_credential(credential: str) -> tuple[str | None, str | None]:
    """(signing name, region) from "AKID/date/region/service/aws4_request"."""
    parts = credential.strip().split("/")
    if len(parts) >= 5:
        return parts[-2] or None, parts[-3] or None
    if len(parts) == 4:  # SigV4a: AKID/date/service/aws4_request, region elsewhere
        return parts[-2] or None, None
    return None, None


def _signature_scope(
    headers: Mapping[str, str], query_string: str
) -> tuple[bool, str | None, str | None]:
    """(signed?, signing name, region) of a request."""
    auth = headers.get("authorization")
    if auth:
        start = auth.find("Credential=")
        if start >= 0:
            end = auth.find(",", start)
            name, region = _scope_from_credential(auth[start + 11 : end if end >= 0 else None])
            if region is None and auth.startswith("AWS4-ECDSA"):
                region = _first_region(headers.get("x-amz-region-set"))
            return True, name, region
        if auth.startswith("AWS "):  # SigV2 header auth: only S3 still accepts it
            return True, "s3", None
    if query_string:
        if "X-Amz-Credential=" in query_string:
            query = dict(parse_qsl(query_string, keep_blank_values=True))
            name, region = _scope_from_credential(query.get("X-Amz-Credential", ""))
            if region is None:
                region = _first_region(query.get("X-Amz-Region-Set"))
            return True, name, region
        if "AWSAccessKeyId=" in query_string and "SignatureVersion=" not in query_string:
            return True, "s3", None  # SigV2 presigned S3 URL
    return False, None, None


def _first_region(region_set: str | None) -> str | None:
    region = (region_set or "").split(",")[0].strip()
    return region if region and "*" not in region else None


_IPV4 = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")


def _vhost_bucket(host: str | None) -> str | None:
    """Bucket name of a virtual-hosted S3 request, from its Host header.

    ``bucket.s3.amazonaws.com``, ``bucket.s3.us-west-2.amazonaws.com``,
    ``bucket.s3.localhost.localstack.cloud``, ``bucket.localhost``: the first
    label is the bucket when a later label is ``s3``/``s3-*`` or ``localhost``.
    """
    if not host or host.startswith("["):
        return None
    hostname = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    if _IPV4.match(hostname):
        return None
    first, dot, rest = hostname.partition(".")
    if not dot or not first or first == "s3" or first.startswith("s3-"):
        return None  # "s3.localhost.localstack.cloud" is the endpoint itself
    for label in rest.split("."):
        if label == "s3" or label == "localhost" or label.startswith("s3-"):
            return first
    return None


def bucket_of_host(host: str | None) -> str | None:
    """The bucket a virtual-hosted S3 request names in its Host header, if any."""
    return _vhost_bucket(host)


# --------------------------------------------------------------------------
# identify()


def _unsigned_candidates(req: _Request) -> tuple[str, ...]:
    """Unsigned requests are S3 unless another service is named unambiguously."""
    catalog = _catalog()
    target = req.headers.get("x-amz-target")
    if target:
        services = catalog.by_target_prefix.get(target.rpartition(".")[0])
        if services:
            return services
    if req.path.startswith("/service/"):  # smithy RPCv2: /service/{prefix}/operation/{op}
        services = catalog.by_target_prefix.get(req.path.split("/")[2])
        if services:
            return services
    action = req.action()
    if action:
        services = catalog.services_for_action(action)
        if len(services) == 1:
            return services
        # Several query services (rds, neptune, docdb) share one wire format
        # and signing name: take the one named like that signing name.
        signing = {catalog.signing_name_of.get(s) for s in services}
        if len(signing) == 1:
            (name,) = signing
            if name in services:
                return _ordered(services, name)
    return ("s3",)


def _lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    lowered: dict[str, str] = {}
    for k, v in headers.items():
        # Tolerate raw (bytes) headers as some servers/botocore hand them over.
        if isinstance(k, bytes):
            k = k.decode("latin-1")
        if isinstance(v, bytes):
            v = v.decode("latin-1")
        lowered[k.lower()] = v
    return lowered


def _identify(
    method: str,
    path: str,
    query_string: str,
    headers: Mapping[str, str],
    body: bytes,
    default_region: str,
) -> Identity:
    lowered = _lower_headers(headers)
    if isinstance(body, str):  # tolerate a decoded body
        body = body.encode("utf-8")
    req = _Request(method.upper(), path, query_string or "", lowered, body or b"")
    signed, signing_name, region = _signature_scope(lowered, req.query_string)
    region = region or default_region
    candidates = _catalog().services_for_signing_name(signing_name or "") if signed else _unsigned_candidates(req)
    if not candidates:
        return Identity(None, region, None, None, signing_name)

    vhost = _vhost_bucket(lowered.get("host")) if "s3" in candidates else None
    best: _Match | None = None
    best_service = candidates[0]
    for name in candidates:
        matcher = _matcher(name)
        found = matcher.match(req, vhost) if matcher else None
        if found is not None and (best is None or found.score > best.score):
            best, best_service = found, name
            if found.score >= _EXACT:
                break  # an exact RPC match cannot be beaten, only tied

    is_s3 = best_service == "s3"
    if best is None:
        matcher = _matcher(best_service)
        protocol = matcher.detect_protocol(req) if matcher else None
        bucket = vhost if is_s3 else None
        if is_s3 and bucket is None:  # path style: first segment is the bucket
            bucket = unquote(_first_segment(req.path)) or None
        return Identity(best_service, region, None, protocol, signing_name, bucket)

    bucket = key = None
    if is_s3:
        labels = best.labels or {}
        bucket = unquote(best.bucket) if best.bucket else None
        if "Key" in labels:
            key = unquote(labels["Key"])
    return Identity(best_service, region, best.operation, best.protocol, signing_name, bucket, key)


def identify(
    method: str,
    path: str,
    query_string: str,
    headers: Mapping[str, str],
    body: bytes,
    default_region: str = "us-east-1",
) -> Identity:
    """Identify the AWS service, region and operation of an HTTP request.

    ``path`` is the raw (percent-encoded) URL path, ``query_string`` the raw
    query string and ``headers`` any mapping (keys are compared
    case-insensitively).  Never raises: unrecognisable requests come back with
    ``service``/``operation`` None.
    """
    try:
        return _identify(method, path, query_string, headers, body, default_region)
    except Exception:
        LOG.debug("cannot identify %s %s", method, path, exc_info=True)
        return Identity(None, default_region, None, None, None)


# --------------------------------------------------------------------------
# Regions.


@cache
def _known_regions() -> frozenset[str]:
    data = _botocore_session().get_component("data_loader").load_data("endpoints")
    return frozenset(region for partition in data.get("partitions", []) for region in partition.get("regions", {}))


def valid_region(region: str) -> bool:
    """Whether `region` is a region AWS has (any partition botocore knows)."""
    return region in _known_regions()


def scope_service(headers: Mapping[str, str], query_string: str) -> tuple[bool, str | None]:
    """(signed?, the signing name its credential scope names) of a request, read from its headers alone."""
    signed, name, _ = _signature_scope(_lower_headers(headers), query_string)
    return signed, name


def scope_region(headers: Mapping[str, str], query_string: str) -> str | None:
    """The region a SigV4 request's credential scope names, as written ("" when the scope leaves it empty);
    None when the request carries no such scope (unsigned, SigV2, SigV4a)."""
    lowered = _lower_headers(headers)
    auth = lowered.get("authorization") or ""
    start = auth.find("Credential=")
    if start >= 0 and auth.startswith("AWS4-HMAC-SHA256"):
        end = auth.find(",", start)
        credential = auth[start + 11 : end if end >= 0 else None]
    elif "X-Amz-Credential=" in query_string and "AWS4-HMAC-SHA256" in query_string:
        credential = dict(parse_qsl(query_string, keep_blank_values=True)).get("X-Amz-Credential", "")
    else:
        return None
    parts = credential.strip().split("/")
    return parts[-3] if len(parts) >= 5 else ""
