"""Engines: the behaviours AWS has that emulators lack, acted out on the sim clock. One per service package.

An engine
  - keeps its state in `self.state`, a picklable object stored in the lab state (saved with snapshots);
  - observes every AWS call answered through the gateway (`observe`, e.g. S3 PutObject queues a replication);
  - acts in sim time: `next_due()` says when it next has work, `run_due(now)` does it. The clock plays engines
    in time order, ties broken by `order`, so the same seed and the same calls give the same world;
  - reads time only from `self.sandbox.clock`, and acts on resources through `self.sandbox.client(...)` (the AWS
    APIs, in-process, as the service it simulates: `acting_as`) or the data port `self.sandbox.data`.
Engines find each other by the Protocols below (`sandbox.engines.find(Pausable)`), never by name.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar, runtime_checkable

from lab.kernel.errors import AwsError

if TYPE_CHECKING:
    from lab.kernel.context import Identity, RequestContext
    from lab.kernel.port import Sandbox

T = TypeVar("T")


class Engine:
    #: unique key of the engine's state in the lab state, and its name in events
    name: ClassVar[str] = ""
    #: tie-break when two engines are due at the same sim time (lower runs first)
    order: ClassVar[int] = 100
    #: the AWS service principal the engine acts as in CloudTrail ("backup.amazonaws.com"); None: the lab itself
    service_principal: ClassVar[str | None] = None

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    # -- state -------------------------------------------------------------------------------------

    def initial_state(self) -> Any:
        """The engine's state in a fresh world (picklable)."""
        return {}

    @property
    def state(self) -> Any:
        extensions = self.sandbox.lab.extensions
        try:
            return extensions[self.name]
        except KeyError:
            made = extensions[self.name] = self.initial_state()
            return made

    @state.setter
    def state(self, value: Any) -> None:
        self.sandbox.lab.extensions[self.name] = value

    # -- request path ------------------------------------------------------------------------------

    def prepare(self, ctx: RequestContext) -> None:
        """Act before a state-changing call is answered (by whoever answers it), e.g. keep what it will delete."""

    def observe(self, ctx: RequestContext) -> None:
        """See every answered AWS call (ctx.response is set); react to what changed."""

    # -- time --------------------------------------------------------------------------------------

    def next_due(self) -> float | None:
        """Sim time of the next thing this engine will do, or None."""
        return None

    def run_due(self, now: float) -> None:
        """Do everything due at or before `now` (sim time)."""

    # -- helpers -----------------------------------------------------------------------------------

    def now(self) -> float:
        return self.sandbox.clock.now()

    def client(self, service: str, region: str | None = None) -> Any:
        """A boto3 client served in-process, acting as this engine's AWS service (for CloudTrail)."""
        return self.sandbox.client(service, region, acting_as=self.service_principal or f"lab:{self.name}")

    def emit(self, name: str, *, kind: str = "engine", region: str | None = None, resource: str | None = None,
             **detail: Any) -> None:
        self.sandbox.events.add(self.now(), kind, self.name, name, region, resource, detail)

    def describe(self) -> dict[str, Any]:
        """A summary for `lab status` and the TUI."""
        return {}


class Engines(Protocol):
    """The sandbox's engines, found by the capability they offer."""

    engines: list[Engine]
    steps_run: int  # every step played so far (a world changes by a state-changing call or an engine's step)

    def find(self, kind: type[T]) -> T | None: ...

    def all(self, kind: type[T]) -> tuple[T, ...]: ...

    def __iter__(self) -> Iterator[Engine]: ...


# -- capabilities engines offer each other ----------------------------------------------------------------


@runtime_checkable
class Pausable(Protocol):
    """Replication that a fault can hold: S3 replication per bucket, DynamoDB global tables per table."""

    replication_service: ClassVar[str]  # the AWS service whose replication it is: "s3" | "dynamodb"

    def pause(self, resource: str | None) -> None:
        """Hold replication of `resource` (None: everything) until resumed."""

    def resume(self, resource: str | None) -> None:
        """Let it go again (None: everything)."""


@runtime_checkable
class OrderStore(Protocol):
    """Where the shop's orders live as rows (the RDS data plane)."""

    def insert_order(self, order: dict[str, Any]) -> bool:
        """Store one order in the primary database; False when it could not be written."""

    def digests(self) -> dict[str, dict[str, Any]]:
        """region -> instance id -> digest of its orders (count, sha256, ...)."""


@runtime_checkable
class DatabaseAvailability(Protocol):
    def set_instance_available(self, name: str, available: bool, region: str = ...) -> None:
        """Make a DB instance refuse (or accept again) connections, as an outage does."""


@runtime_checkable
class RegionOutageAware(Protocol):
    """An engine whose simulation changes while a region is down (replicas, health checks, databases)."""

    def set_region_down(self, region: str, down: bool) -> None: ...


@runtime_checkable
class EndpointHealth(Protocol):
    def set_endpoint_down(self, name: str, down: bool) -> None:
        """Mark an endpoint (a host name or IP a health check watches) down or up."""


@runtime_checkable
class BackupProvider(Protocol):
    """An engine that holds the data of resource types AWS Backup protects (RDS, DynamoDB, EBS, ...).

    Optional extras it may define: copy_backup(data, region) -> object, delete_backup(data),
    backup_recovery_point_arn(data) -> str | None, backup_restore_metadata(data) -> dict, backup_size(data),
    backup_job_data(data, job_id) -> object (the data of backup or copy job `job_id`, named after it: RDS's
    recovery point is the DB snapshot awsbackup:job-<id>).

    Timing (lab.services.backup.timing), each optional, in sim seconds from the duration model:
    backup_duration(data) -- how long the backup job runs after backup_resource (the service's snapshot);
    copy_duration(data, region) -- a copy job into `region` (the service's copy, cross-Region or not);
    restore_duration(data, metadata) -- how long after restore_resource the new resource is usable.
    restore_resource starts the restore: the resource it makes is in its service's creating state (an RDS
    instance `creating`, a DynamoDB table `CREATING`) and usable after restore_duration, when AWS Backup's
    restore job completes. copy_backup is called when the copy job's time has passed: the copy is complete."""

    def backup_resource_types(self) -> set[str]:
        """AWS Backup ResourceType values it protects ("RDS", "EBS", ...)."""

    def backup_resource(self, arn: str) -> object:
        """Picklable recovery data of the resource (a cheap reference is fine)."""

    def restore_resource(self, data: object, metadata: dict[str, str], region: str) -> str:
        """A NEW resource holding that data; its ARN."""


@runtime_checkable
class VolumeInitialization(Protocol):
    """EBS: how far a volume restored from a snapshot has loaded its blocks (DescribeVolumeStatus's
    InitializationStatusDetails)."""

    def volume_initialization(self, region: str, volume_id: str) -> dict[str, Any] | None:
        """{InitializationType, Progress, EstimatedTimeToCompleteInSeconds?}; None for a volume not restored
        from a snapshot."""


@runtime_checkable
class MetricSource(Protocol):
    """An engine whose AWS service publishes CloudWatch metrics that follow its own timeline (Route 53's health
    checks, one datapoint a minute): CloudWatch answers them computed from it, never stored datum by datum."""

    metric_namespace: ClassVar[str]  # "AWS/Route53"
    metric_region: ClassVar[str]  # the Region they are published in

    def metric_series(self, metric: str, dimensions: Mapping[str, str], start: float,
                      end: float) -> list[tuple[float, float]]:
        """(minute start, value) of each whole minute in [start, end) that has a datapoint; minutes ending after
        now are what they will be if nothing else happens (for planning alarm evaluations)."""

    def source_metrics(self) -> list[tuple[str, dict[str, str]]]:
        """(metric name, dimensions) of every metric it publishes now."""


@runtime_checkable
class MetricWatcher(Protocol):
    """CloudWatch: told when a MetricSource's timeline changed, to evaluate the alarms on it again."""

    def metrics_changed(self, namespace: str, region: str) -> None: ...


@runtime_checkable
class AlarmListener(Protocol):
    """An engine that reads CloudWatch alarm states (Route 53's CLOUDWATCH_METRIC health checks): told when one
    changes state."""

    def alarm_changed(self, region: str, name: str, state: str) -> None: ...


@runtime_checkable
class DrillClock(Protocol):
    """The drills: woken when a failure ends (the end may be the recovery)."""

    def wake(self, drill_id: str) -> None: ...


@dataclass(frozen=True, slots=True)
class FaultDecision:
    """What the fault rules decide for one call: slow it down, fail it with an AWS error, or neither."""

    latency_ms: int = 0
    error: AwsError | None = None


@runtime_checkable
class FaultPolicy(Protocol):
    """The fault rules the gateway consults on every call from outside the sandbox."""

    def decide(self, identity: Identity) -> FaultDecision:
        """Does this call fail or slow down? Counts it against the rules (called under the sandbox lock)."""

    def serve_chaos(self, ctx: RequestContext) -> bool:
        """Answer LocalStack's Chaos API (/_localstack/chaos/...) when `ctx` is such a call; False otherwise."""


@runtime_checkable
class ApiCallRecorder(Protocol):
    """CloudTrail: keeps a record of every AWS call the gateway answered."""

    def record(self, call: Any, resolve_principal: bool = True) -> None: ...

    def principal_for(self, access_key: str | None) -> Any:
        """Who calls with `access_key`, as the record shows it (lab.gateway.audit.Principal)."""


@runtime_checkable
class DataWriteGuard(Protocol):
    """Refuses the engines' data writes where a failure says so (a region that is down takes none)."""

    def check_data_write(self, region: str, operation: str) -> None:
        """Raise botocore's ClientError (as the API would answer) to refuse a write in `region`."""


@dataclass(frozen=True, slots=True)
class DrillPlan:
    """A lab's drill as the drills engine runs it: the incident's timeline and the lab's targets."""

    lab: str  # the lab's full id ("03-rds-snapshot-restore")
    timeline: tuple[tuple[int, str, dict[str, Any]], ...]  # (seconds after the incident, scenario, params)
    rto_seconds: int
    rpo_seconds: int


@dataclass(frozen=True, slots=True)
class DrillVerdict:
    """One evaluation of a drill's recovery: the lab's recovery checks against the sandbox now."""

    passed: bool  # every check about the data passes
    checks: tuple[dict[str, Any], ...]  # {check_id, resource_id, status, message}
    lost: Mapping[str, list[str]]  # store (orders, items, invoices) -> order ids the checks found missing


class DrillJudge(Protocol):
    """What the drills engine asks of the labs (the application layer answers; the assembly wires it in)."""

    def plan(self, lab_id: str) -> DrillPlan:
        """The drill of lab `lab_id` (a short id like "03" is fine); ValueError for none."""

    def judge(self, sandbox: Sandbox, lab_id: str, drill: Mapping[str, Any]) -> DrillVerdict:
        """Run the lab's recovery checks for `drill` (its record as GET /_lab/drills/ID shows it)."""
