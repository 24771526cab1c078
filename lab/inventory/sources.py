"""Where the collector reads from.

- `SandboxSource`: inside the sandbox process, under its lock (one instant). Configuration through the
  sandbox's in-process AWS clients; the lab's own state read directly from its engines (AWS Backup's
  operations, the drills, the fault injections, the RDS data plane, the ledger) and the data layer
  (`sandbox.data`: bucket keys and table keys without listing every version or item). Nothing is capped.
- `EndpointSource`: from outside, over HTTP: the AWS APIs of any AWS-compatible endpoint, and the lab's admin
  API where there is one (listings capped: API_MAX_VERSIONS per bucket).

Both give the same answers for the same world (tests/integration/test_check_cli.py compares them).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from botocore.exceptions import ClientError

from checks.inventory import IdSet
from checks.inventory.base import order_number
from checks.inventory.dynamodb import Items
from checks.inventory.lab import Clock, Drill, Faults, Injection, Ledger, LedgerBuilder, epoch_of
from checks.inventory.rds import Orders
from checks.inventory.route53 import ClientAnswer
from checks.inventory.s3 import Invoices, Objects, ObjectVersion
from lab import config
from lab.inventory.collector import SourceError
from lab.inventory.convert import iso
from lab.inventory.live import NEWEST_VERSIONS, BucketDigest, Runs
from lab.kernel.api import BackendAnswer, Call, ServiceApi
from lab.kernel.data import EbsSnapshot, KeyHead
from lab.kernel.errors import AwsError

if TYPE_CHECKING:
    from lab.kernel.port import Sandbox
    from lab.sim.journal import Journal

T = TypeVar("T")

API_MAX_VERSIONS = 2_000  # per bucket, through ListObjectVersions (from outside): moto lists ~1000/s
ORDER_ID_PAGE = 10_000  # rows per SELECT (POST /_lab/sql's result cap)
ORDER_ID_PAGE_SQL = "SELECT order_id FROM orders WHERE order_id > ? ORDER BY order_id LIMIT ?"


class Source(Protocol):
    regions: Sequence[str]
    account_id: str

    def stable(self, key: tuple[str, ...], read: Callable[[], T]) -> T:
        """`read()`, for a value that changes only when the world does (a state-changing call or an engine's
        step), never with time alone: a source that can tell may keep it until then."""

    def client(self, service: str, region: str) -> Any:
        """A boto3-style client for the service's configuration reads."""

    def clock(self) -> Clock | None: ...

    def ledger(self) -> Ledger | None:
        """Every order the workload placed, with the stores that refused it (None: no lab ledger here)."""

    def invoices(self) -> Mapping[str, tuple[int | None, str, str]]:
        """The ledger's invoices: object key -> (the order's number, its id, the ETag of the original invoice)."""

    def drills(self) -> list[Drill] | None: ...

    def faults(self) -> Faults | None: ...

    def client_answer(self, name: str, record_type: str) -> ClientAnswer | None:
        """What a client resolving `name` uses now, its resolver's cache included (None: no lab resolver here)."""

    def health_verdicts(self) -> dict[str, bool] | None:
        """Each health check's status as Route 53 decides it (RequestInterval x FailureThreshold, the checkers'
        share), by id: True healthy (None: no lab Route 53 here; its checkers' latest observations are all)."""

    def objects(self, region: str, bucket: str) -> Objects:
        """A summary of the bucket's objects (its invoices judged against `invoices()`)."""

    def table_items(self, region: str, table: str, key_names: list[str]) -> Items: ...

    def ebs_snapshots(self, region: str) -> list[EbsSnapshot]:
        """The EBS snapshots the account owns (DescribeSnapshots with the owner filter)."""

    def instance_orders(self, region: str) -> dict[str, Orders] | None:
        """The orders table of each DB instance the lab's RDS data plane serves, with every order id it holds
        (None: no data plane)."""


# -- summaries shared by both sources ------------------------------------------------------------------------

def summarise_objects(heads: Iterable[KeyHead], invoices: Mapping[str, tuple[int | None, str, str]], *,
                      truncated: bool, limit: int, replication: Mapping[str, int] | None) -> Objects:
    """A bucket's summary from its keys: counts, the newest latest versions, and which ledger invoices it holds
    (readable: the current version is not a delete marker; original: and it is the original content)."""
    count = versions = markers = 0
    readable: list[int] = []
    original: list[int] = []
    readable_others: list[str] = []
    original_others: list[str] = []
    listed = heads if isinstance(heads, list) else list(heads)
    find = invoices.get
    for key, _, etag, _, _, key_versions, key_markers in listed:  # (one pass: a month of orders is 100,000 keys)
        versions += key_versions
        markers += key_markers
        if etag is None:
            continue
        count += 1
        invoice = find(key)
        if invoice is not None:
            number, order_id, original_etag = invoice
            if number is None:
                readable_others.append(order_id)
                if etag == original_etag:
                    original_others.append(order_id)
            else:
                readable.append(number)
                if etag == original_etag:
                    original.append(number)
    # (nearly in time order already: the newest keys were added last; timsort takes that in one pass)
    newest = sorted(listed, key=itemgetter(4, 0))[-NEWEST_VERSIONS:][::-1]
    return Objects(
        count=count, version_count=versions, delete_marker_count=markers, truncated=truncated, limit=limit,
        replication_pending=(replication or {}).get("PENDING", 0),
        replication_failed=(replication or {}).get("FAILED", 0), replication_status_known=replication is not None,
        newest=[ObjectVersion(key=h.key, version_id=h.version_id, etag=h.etag, size=h.size,
                              last_modified=iso(h.last_modified), latest=True, delete_marker=h.etag is None)
                for h in newest],
        invoices=Invoices(readable=IdSet.of_numbers(readable, readable_others),
                          original=IdSet.of_numbers(original, original_others)))


def digest_orders(digest: Mapping[str, Any]) -> Orders:
    return Orders(count=digest.get("orders"), min_created_at=digest.get("min_created_at"),
                  max_created_at=digest.get("max_created_at"), sha256=digest.get("order_ids_sha256"),
                  status=digest.get("status"), error=digest.get("error"), order_ids=None)


def page_order_ids(select: Callable[[str, list[Any]], list[list[Any]]]) -> list[str]:
    """Every order id of an instance, page by page: the page boundary is an order id bound as a parameter, so
    any text a learner stored there (a quote included) pages correctly."""
    ids: list[str] = []
    after = ""
    for _ in range(1000):  # bounded: 10 million orders
        page = [str(row[0]) for row in select(ORDER_ID_PAGE_SQL, [after, ORDER_ID_PAGE])]
        ids.extend(page)
        if len(page) < ORDER_ID_PAGE:
            break
        after = page[-1]
    return ids


class LedgerDigest:
    """The ledger and its invoices, kept up to date as orders are placed: the ledger only grows (an order never
    changes once placed), so each order is encoded once; a new list (a reset, a restore) starts again."""

    def __init__(self) -> None:
        self._orders: list[dict[str, Any]] | None = None
        self._seen = 0
        self._builder = LedgerBuilder()
        self._invoices: dict[str, tuple[int | None, str, str]] = {}
        self._invoice_keys: list[str] = []  # the invoices' keys in the order they were added
        self._lock = threading.Lock()

    def update(self, orders: list[dict[str, Any]]) -> None:
        with self._lock:
            if orders is not self._orders or len(orders) < self._seen:
                self._orders, self._seen = orders, 0
                self._builder, self._invoices, self._invoice_keys = LedgerBuilder(), {}, []
            for order in orders[self._seen:]:
                order_id = str(order["order_id"])
                refused = [store for store, ok in (order.get("stored") or {}).items() if ok is False]
                self._builder.add(order_id, epoch_of(str(order["created_at"])), refused)
                if "customer" in order and "amount" in order:
                    key, etag = invoice_of(order_id, order["customer"], order["amount"], order["created_at"])
                    self._invoices[key] = (order_number(order_id), order_id, etag)
                    self._invoice_keys.append(key)
            self._seen = len(orders)

    def ledger(self) -> Ledger:
        with self._lock:
            return self._builder.ledger()

    def invoices(self) -> dict[str, tuple[int | None, str, str]]:
        with self._lock:
            return self._invoices

    def invoice_keys(self, since: int) -> tuple[dict[str, tuple[int | None, str, str]], list[str], int]:
        """(the invoices, the keys of those added after the first `since`, how many were added in all): a new
        invoices map (a new ledger) starts its count again."""
        with self._lock:
            return self._invoices, self._invoice_keys[since:], len(self._invoice_keys)


def invoice_of(order_id: str, customer: str, amount: str, created_at: str) -> tuple[str, str]:
    """The key of an order's invoice in the invoices bucket and the ETag of its original content."""
    from lab import world

    order = {"order_id": order_id, "customer": customer, "amount": amount, "created_at": created_at}
    return world.invoice_key(order), hashlib.md5(world.invoice_body(order), usedforsecurity=False).hexdigest()


def drills_from(listed: Iterable[Mapping[str, Any]]) -> list[Drill]:
    import msgspec

    return [msgspec.convert(dict(drill), Drill) for drill in listed]


def client_answer_from(body: Mapping[str, Any]) -> ClientAnswer:
    """A ClientAnswer from the admin API's /_lab/dns answer (view=client)."""
    newer = body.get("nameserver")
    return ClientAnswer(name=str(body.get("name") or ""), type=str(body.get("type") or ""),
                        answer=[str(value) for value in body.get("answer") or []], ttl=body.get("ttl"),
                        nameserver_answer=[str(value) for value in newer.get("answer") or []] if newer else None,
                        kept_until=body.get("kept_until"))


def faults_from(listing: Mapping[str, Any]) -> Faults:
    import msgspec

    return Faults(injections=[msgspec.convert(dict(i), Injection) for i in listing.get("injections", [])],
                  regions_down=list(listing.get("regions_down", [])))


def order_ids_of(values: Iterable[Any]) -> IdSet:
    return IdSet.of(str(value) for value in values)


# -- inside the sandbox --------------------------------------------------------------------------------------

class Digests:
    """The data digests of one sandbox, kept between collections while the world has not changed: the ledger
    (encoded once per order), bucket and table digests (until the next state-changing call or engine step), the
    order ids of a DB instance (while its rows are the same version)."""

    def __init__(self) -> None:
        self.ledger = LedgerDigest()
        self.lock = threading.Lock()
        self._world: tuple[Any, int, int] | None = None  # (the lab state, its request sequence, steps played)
        self._by_world: dict[tuple[str, ...], Any] = {}
        self._by_rows: dict[tuple[Any, ...], IdSet] = {}
        self._buckets: dict[tuple[str, str], BucketDigest] = {}  # kept up to date from what changed since
        self._by_instance: dict[tuple[str, str], _KeptIds] = {}  # (region, instance) -> its order ids

    def bucket(self, region: str, bucket: str) -> BucketDigest:
        found = self._buckets.get((region, bucket))
        if found is None:
            found = self._buckets[(region, bucket)] = BucketDigest(region, bucket)
        return found

    def for_world(self, sandbox: Sandbox) -> dict[tuple[str, ...], Any]:
        """The digests of the world as it is now (an empty map once anything changed it)."""
        lab = sandbox.lab
        world = (lab, lab.seq, sandbox.engines.steps_run)
        if self._world is None or self._world[0] is not lab:
            # Another world (a reset, a restore): its DB instances may have the same names, histories and
            # positions as the old world's, with other rows.
            self._by_rows, self._by_instance = {}, {}
        if self._world is None or self._world[0] is not lab or self._world[1:] != world[1:]:
            self._world, self._by_world = world, {}
        return self._by_world

    def order_ids(self, rows: tuple[Any, ...], read: Callable[[], IdSet]) -> IdSet:
        found = self._by_rows.get(rows)
        if found is None:
            if len(self._by_rows) >= 64:
                self._by_rows.clear()
            found = self._by_rows[rows] = read()
        return found

    def instance_order_ids(self, instance: tuple[str, str], history: str, position: int, journal: Journal | None,
                           read: Callable[[], IdSet]) -> IdSet:
        """The order ids of a DB instance whose rows are the first `position` changes of `history`: read whole
        once, then kept up to date from the changes journaled since while those are only the shop's orders (each
        adds its order id: a journaled change succeeded); any other change (a learner's SQL) reads them again."""
        from lab.services.rds.store import ORDER

        known = self._by_instance.get(instance)
        if known is not None and known.history == history and known.position == position:
            return known.ids()
        if (known is not None and known.history == history and known.position < position and journal is not None
                and len(journal) >= position and all(what == ORDER for what in journal.whats[known.position:position])):
            for value in journal.values[known.position:position]:
                known.add(str(value[1]))
            known.position = position
            return known.ids()
        kept = self._by_instance[instance] = _KeptIds(history, position, self.order_ids(
            (*instance, history, position), read))
        return kept.ids()


class _KeptIds:
    """A DB instance's order ids at (history, position), changed one order at a time (numbered ids as runs)."""

    def __init__(self, history: str, position: int, ids: IdSet) -> None:
        self.history = history
        self.position = position
        self.numbers = Runs()
        for first, last in ids.runs:
            self.numbers.firsts.append(first)
            self.numbers.lasts.append(last)
        self.others = set(ids.others)
        self._ids: IdSet | None = ids

    def add(self, order_id: str) -> None:
        number = order_number(order_id)
        if number is None:
            self.others.add(order_id)
        else:
            self.numbers.add(number)
        self._ids = None

    def ids(self) -> IdSet:
        if self._ids is None:
            self._ids = IdSet(runs=self.numbers.runs(), others=sorted(self.others))
        return self._ids


class SandboxSource:
    """Direct reads inside the sandbox (call with the sandbox lock held: one consistent instant)."""

    def __init__(self, sandbox: Sandbox, digests: Digests) -> None:
        self.sandbox = sandbox
        self.regions = config.REGIONS
        self.account_id = config.ACCOUNT_ID
        self._digests = digests
        self._ledger = digests.ledger
        self._ledger_read = False
        self._world = digests.for_world(sandbox)
        self._backup_api: ServiceApi | None = None  # the lab's AWS Backup, read in-process

    def stable(self, key: tuple[str, ...], read: Callable[[], T]) -> T:
        if key not in self._world:
            self._world[key] = read()
        return self._world[key]

    def client(self, service: str, region: str) -> Any:
        if service == "backup":
            from lab.services.backup.api import BackupApi
            from lab.services.backup.engine import Backup

            if self.sandbox.engines.find(Backup) is not None:
                if self._backup_api is None:
                    self._backup_api = BackupApi(self.sandbox)
                return OperationsClient(self._backup_api, region)
        return self.sandbox.client(service, region)

    def clock(self) -> Clock:
        described = self.sandbox.clock.describe()
        return Clock(now=str(described["now"]), epoch=float(described["epoch"]),
                     speed=float(described["speed"]), paused=bool(described["paused"]))

    def _read_ledger(self) -> None:
        if not self._ledger_read:
            self._ledger.update(self.sandbox.lab.orders)
            self._ledger_read = True

    def ledger(self) -> Ledger:
        self._read_ledger()
        return self._ledger.ledger()

    def invoices(self) -> Mapping[str, tuple[int | None, str, str]]:
        self._read_ledger()
        return self._ledger.invoices()

    def drills(self) -> list[Drill] | None:
        from lab.services.drills.engine import Drills, drill_dict

        engine = self.sandbox.engines.find(Drills)
        if engine is None:
            return None
        return drills_from(drill_dict(engine, drill)
                           for drill in sorted(engine.state.drills.values(), key=lambda d: d.id))

    def faults(self) -> Faults | None:
        from lab.services.faults.engine import Faults as FaultsEngine

        engine = self.sandbox.engines.find(FaultsEngine)
        return faults_from(engine.listing(include_ended=True)) if engine is not None else None

    def client_answer(self, name: str, record_type: str) -> ClientAnswer | None:
        from lab.services.route53.engine import Route53

        engine = self.sandbox.engines.find(Route53)
        if engine is None:
            return None
        seen = engine.client_view(name, record_type)
        body: dict[str, Any] = seen.answer.to_dict()
        if seen.kept_until is not None:
            body.update(nameserver=seen.current.to_dict(), kept_until=seen.kept_until)
        return client_answer_from(body)

    def health_verdicts(self) -> dict[str, bool] | None:
        from lab.services.route53.engine import Route53

        engine = self.sandbox.engines.find(Route53)
        if engine is None:
            return None
        return {check_id: engine.health(check_id).healthy for check_id in engine.state.checks}

    def objects(self, region: str, bucket: str) -> Objects:
        from lab.services.s3.engine import S3

        def read() -> Objects:
            engine = self.sandbox.engines.find(S3)
            self._read_ledger()
            return self._digests.bucket(region, bucket).objects(
                self.sandbox.data, self._ledger, engine.replication_counts(bucket) if engine else None)

        return self.stable(("s3.objects", region, bucket), read)

    def ebs_snapshots(self, region: str) -> list[EbsSnapshot]:
        return self.sandbox.data.ebs_snapshots(region)

    def table_items(self, region: str, table: str, key_names: list[str]) -> Items:
        def read() -> Items:
            data = self.sandbox.data
            return Items(count=data.count_items(region, table),
                         order_ids=order_ids_of(data.key_values(region, table, "order_id"))
                         if "order_id" in key_names else None)

        return self.stable(("dynamodb.items", region, table, *key_names), read)

    def instance_orders(self, region: str) -> dict[str, Orders] | None:
        from lab.services.rds.engine import RdsData
        from lab.services.rds.store import SqlError

        engine = self.sandbox.engines.find(RdsData)
        if engine is None:
            return None
        found = {}
        for name, digest in engine.digests().get(region, {}).items():
            orders = digest_orders(digest)
            if not digest.get("orders"):
                orders.order_ids = IdSet() if digest.get("orders") == 0 else None
            else:
                def read(name: str = name) -> IdSet:
                    return order_ids_of(page_order_ids(
                        lambda sql, parameters: _rows(engine.run_sql(region, name, sql, False, parameters))))

                try:
                    # (a cheap read first: an instance that cannot be reached answers no order ids)
                    engine.run_sql(region, name, "SELECT 1", False)
                    history, position = digest.get("rows_version") or [None, None]
                    if history is None or position is None:
                        orders.order_ids = read()
                    else:
                        found_history = engine.store.histories.get(history)
                        orders.order_ids = self._digests.instance_order_ids(
                            (region, name), history, position,
                            found_history.journal if found_history is not None else None, read)
                except (SqlError, LookupError, ValueError, SourceError) as exc:
                    # (the words the admin route would have answered: the same evidence in and out)
                    orders.error = f"order ids could not be read: POST /_lab/sql: {exc}"
            found[name] = orders
        return found


def _rows(result: Any) -> list[list[Any]]:
    if result is None:
        raise SourceError("the statement would write")
    return [list(row) for row in result.rows]


class OperationsClient:
    """A lab service's operations (its ServiceApi) called in-process as a boto3 client would call them over the
    wire, without encoding and parsing every answer (a month of hourly backups is thousands of recovery points
    and jobs). Errors come back as botocore's ClientError, as from a client."""

    def __init__(self, api: ServiceApi, region: str) -> None:
        self.api = api
        self.region = region
        self._operations = api.operations()

    def call(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        handler = self._operations.get(operation)
        if handler is None:
            raise SourceError(f"{type(self.api).__name__} has no operation {operation}")
        try:
            answer = handler(Call.in_process(self.api.service, operation, self.region, dict(params)))
        except AwsError as exc:
            raise ClientError({"Error": {"Code": exc.code, "Message": exc.message},
                               "ResponseMetadata": {"HTTPStatusCode": exc.status}}, operation) from exc
        if isinstance(answer, BackendAnswer):
            raise SourceError(f"{type(self.api).__name__}.{operation} forwards to the backend: read it with a client")
        return {key: value for key, value in (answer or {}).items() if value is not None}

    def __getattr__(self, name: str) -> Callable[..., dict[str, Any]]:
        operation = "".join(part.capitalize() for part in name.split("_"))
        return lambda **params: self.call(operation, params)

    def get_paginator(self, name: str) -> Any:
        client = self

        class Paginator:
            def paginate(self, **params: Any) -> Iterable[dict[str, Any]]:
                operation = "".join(part.capitalize() for part in name.split("_"))
                # (in-process there is no wire to spare: one page, instead of one pass over every item per page)
                size = (params.pop("PaginationConfig", None) or {}).get("PageSize")
                params.setdefault("MaxResults", size or 1_000_000)
                token = None
                while True:
                    answer = client.call(operation, {**params, **({"NextToken": token} if token else {})})
                    yield answer
                    token = answer.get("NextToken")
                    if not token:
                        return

        return Paginator()


# -- from outside --------------------------------------------------------------------------------------------

class EndpointSource:
    """The AWS APIs of `endpoint` (and its lab admin API, where it has one), from another process."""

    def __init__(self, endpoint: str, *, allow_remote: bool = False) -> None:
        from lab.admin_client import AdminClient

        self.endpoint = endpoint
        self.allow_remote = allow_remote
        self.regions = config.REGIONS
        self.account_id = config.ACCOUNT_ID
        self.admin = AdminClient(endpoint, allow_remote=allow_remote)
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self._orders: list[dict[str, Any]] | None = None
        self._digest = LedgerDigest()

    def stable(self, key: tuple[str, ...], read: Callable[[], T]) -> T:
        return read()  # (from outside, the world's changes cannot be seen)

    def client(self, service: str, region: str) -> Any:
        from lab.awsclient import client

        with self._lock:  # boto3 sessions are not thread-safe: make clients one at a time
            if (service, region) not in self._clients:
                self._clients[(service, region)] = client(service, region, self.endpoint,
                                                          allow_remote=self.allow_remote)
            return self._clients[(service, region)]

    def get(self, path: str) -> Any:
        try:
            with self._lock:  # the admin client keeps one connection
                return self.admin.get(path)
        except Exception as exc:
            raise SourceError(f"GET /_lab/{path}: {exc}") from exc

    def post(self, path: str, body: Mapping[str, Any]) -> Any:
        with self._lock:
            return self.admin.post(path, dict(body))

    def clock(self) -> Clock | None:
        import msgspec

        answer = self.get("clock")
        return msgspec.convert({k: answer.get(k) for k in ("now", "epoch", "speed", "paused")}, Clock)

    def _order_list(self) -> list[dict[str, Any]]:
        if self._orders is None:
            try:
                self._orders = list(self.get("orders").get("orders", []))
            except SourceError:
                self._orders = []
            self._digest.update(self._orders)
        return self._orders

    def ledger(self) -> Ledger | None:
        answer = self.get("orders")  # raises SourceError where there is no lab admin API
        self._orders = list(answer.get("orders", []))
        self._digest.update(self._orders)
        return self._digest.ledger()

    def invoices(self) -> Mapping[str, tuple[int | None, str, str]]:
        self._order_list()
        return self._digest.invoices()

    def drills(self) -> list[Drill] | None:
        return drills_from(self.get("drills").get("drills", []))

    def faults(self) -> Faults | None:
        return faults_from(self.get("faults?all=1"))

    def client_answer(self, name: str, record_type: str) -> ClientAnswer | None:
        from urllib.parse import urlencode

        return client_answer_from(self.get("dns?" + urlencode({"name": name, "type": record_type, "view": "client"})))

    def health_verdicts(self) -> dict[str, bool] | None:
        try:
            checks = self.get("route53/health").get("checks") or {}
        except SourceError:
            return None  # (no lab admin API: another backend)
        return {str(check_id): bool(seen.get("healthy")) for check_id, seen in checks.items()}

    def objects(self, region: str, bucket: str) -> Objects:
        s3 = self.client("s3", region)
        by_key: dict[str, list[tuple[bool, float, str | None, str | None, int]]] = {}
        listed, truncated = 0, False
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            for entry in page.get("Versions", []):
                by_key.setdefault(entry["Key"], []).append((
                    entry["IsLatest"], entry["LastModified"].timestamp(), entry["VersionId"],
                    entry.get("ETag", "").strip('"') or None, entry.get("Size", 0)))
            for entry in page.get("DeleteMarkers", []):
                by_key.setdefault(entry["Key"], []).append((
                    entry["IsLatest"], entry["LastModified"].timestamp(), entry["VersionId"], None, -1))
            listed += len(page.get("Versions", [])) + len(page.get("DeleteMarkers", []))
            if listed >= API_MAX_VERSIONS:
                truncated = bool(page.get("IsTruncated")) or listed > API_MAX_VERSIONS
                break
        heads = []
        for key, versions in by_key.items():
            latest = max(versions, key=lambda v: (v[0], v[1]))
            markers = sum(1 for v in versions if v[4] < 0)
            heads.append(KeyHead(key, latest[2], latest[3] if latest[4] >= 0 else None, max(latest[4], 0),
                                 int(latest[1] // 1), len(versions) - markers, markers))
        return summarise_objects(heads, self.invoices(), truncated=truncated, limit=API_MAX_VERSIONS,
                                 replication=None)

    def ebs_snapshots(self, region: str) -> list[EbsSnapshot]:
        found = []
        # moto lists ~1300 public snapshots for OwnerIds=["self"]; the owner filter is what keeps this fast.
        owned = [{"Name": "owner-id", "Values": [self.account_id]}]
        for page in self.client("ec2", region).get_paginator("describe_snapshots").paginate(Filters=owned):
            for snap in page.get("Snapshots", []):
                found.append(EbsSnapshot(
                    snap["SnapshotId"], snap.get("VolumeId"), snap.get("State"), snap.get("Progress"),
                    snap["StartTime"].timestamp(), bool(snap.get("Encrypted")), snap.get("Description"),
                    {tag["Key"]: tag["Value"] for tag in snap.get("Tags", [])}, snap.get("VolumeSize")))
        return found

    def table_items(self, region: str, table: str, key_names: list[str]) -> Items:
        dynamodb = self.client("dynamodb", region)
        projection = ", ".join(f"#k{i}" for i in range(len(key_names)))
        names = {f"#k{i}": key for i, key in enumerate(key_names)}
        items: list[dict[str, Any]] = []
        for page in dynamodb.get_paginator("scan").paginate(TableName=table, ProjectionExpression=projection,
                                                            ExpressionAttributeNames=names):
            items.extend(page.get("Items", []))
        if "order_id" not in key_names:
            return Items(count=len(items))
        return Items(count=len(items), order_ids=order_ids_of(
            next(iter(item["order_id"].values())) for item in items if isinstance(item.get("order_id"), Mapping)))

    def instance_orders(self, region: str) -> dict[str, Orders] | None:
        answer = self.get("rds/digests")
        found = {}
        for name, digest in ((answer.get("regions") or {}).get(region) or {}).items():
            orders = digest_orders(digest)
            if not digest.get("orders"):
                orders.order_ids = IdSet() if digest.get("orders") == 0 else None
            else:
                try:
                    orders.order_ids = order_ids_of(page_order_ids(
                        lambda sql, parameters, name=name: self.post("sql", {
                            "instance": name, "region": region, "sql": sql, "parameters": parameters}).get("rows", [])))
                except Exception as exc:  # noqa: BLE001 -- an instance that cannot answer keeps its digest
                    orders.error = f"order ids could not be read: {exc}"
            found[name] = orders
        return found


__all__ = ["API_MAX_VERSIONS", "EndpointSource", "KeyHead", "LedgerDigest", "OperationsClient", "SandboxSource",
           "Source"]
