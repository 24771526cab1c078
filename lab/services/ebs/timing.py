"""EBS snapshots, AMIs, volumes and fast snapshot restores on the sim clock (mixed into the EBS engine).

What AWS documents, and the lab does:
  - CreateSnapshot: `pending` with Progress "NN%" until every block is transferred, then `completed`. "The first
    snapshot that you create from a volume is always a full snapshot"; later ones hold the blocks changed since
    (EC2 User Guide: How Amazon EBS snapshots work). The time is `ebs.snapshot.*` of that data, which the
    volume's content model (lab.services.ebs.blocks) measures. At most five `pending` snapshots per volume
    ("ConcurrentSnapshotLimitExceeded", EC2 User Guide: Create Amazon EBS snapshots).
  - CopySnapshot: the source must be `completed`; "If you copy a snapshot to a new Region, a complete
    (non-incremental) copy is created"; later copies of the same lineage to a Region that still holds the last
    copy are incremental, a copy under another KMS key is full (EC2 User Guide: Copy an Amazon EBS snapshot);
    CompletionDurationMinutes makes a time-based copy (API Reference: CopySnapshot).
  - CreateImage: the AMI is `pending` until the snapshots of its volumes complete, plus `ami.create.base`
    (EC2 User Guide: Create an Amazon EBS-backed AMI); a snapshot a registered AMI uses cannot be deleted.
  - CreateVolume: `creating` then `available`; a volume from a snapshot is initialized lazily ("the storage
    blocks must be pulled down from Amazon S3", EBS User Guide: Initialize Amazon EBS volumes) unless fast
    snapshot restore is `enabled` for the snapshot in that zone with a volume creation credit left.
  - Fast snapshot restore: `enabling` -> `optimizing` ("60 minutes per TiB") -> `enabled`; `disabling` ->
    `disabled`; a credit bucket per snapshot and zone fills from zero at MIN(10, 1024 / size GiB) credits an
    hour up to MAX(1, that) (EBS User Guide: Amazon EBS fast snapshot restore; volume creation credits).
The backend (moto) keeps the resources as it makes them (`completed`, `available`); the EC2 API of this
package (lab.services.ebs.ec2_api) shows them as the records here say.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from lab.kernel.port import Sandbox
from lab.services.ebs.blocks import Content, Lineage, Lineages, blocks_of, gib, written
from lab.sim.durations import progress

if TYPE_CHECKING:
    from lab.sim.durations import Durations

MAX_PENDING_PER_VOLUME = 5  # "a limit of five pending snapshots for a single ... volume" (EC2 User Guide)
MAX_COPIES_PER_REGION = 20  # concurrent snapshot copies per destination Region (Amazon EBS service quotas)
FSR_REASON = "Client.UserInitiated - Lifecycle state transition"


@dataclass
class VolumeRecord:
    region: str
    volume_id: str
    size_gib: int
    content: Content  # what the volume holds at `since`
    since: float
    in_use: bool  # attached to an instance: the backend writes to it
    created: float
    available_at: float  # `creating` until then
    zone: str = ""
    source_snapshot: str | None = None
    init_started: float | None = None  # lazy loading of the snapshot's blocks, from .. to ..
    init_ends: float | None = None
    init_rate: int | None = None  # VolumeInitializationRate (MiB/s), when provisioned
    fast_restored: bool = False
    carry: float = 0.0  # blocks written but not yet a whole block


@dataclass
class SnapshotRecord:
    region: str
    snapshot_id: str
    volume_id: str | None
    size_gib: int
    content: Content
    started: float
    ends: float
    data_gib: float  # what this snapshot (or copy) transferred: full (U) or incremental (C)
    full_gib: float  # U: every block holding data
    source: tuple[str, str] | None = None  # (region, snapshot id) of a copy's source
    kms_key_id: str | None = None
    completion_minutes: int | None = None  # a time-based copy's CompletionDurationMinutes


@dataclass
class ImageRecord:
    region: str
    image_id: str
    started: float
    ends: float
    snapshots: list[str]  # snapshots the AMI uses (they cannot be deleted while it is registered)
    mappings: list[dict[str, Any]] | None = None  # BlockDeviceMappings as AWS would show them
    root_device: str | None = None  # its RootDeviceName, where the backend shows another
    source: tuple[str, str] | None = None  # a copy's source AMI and its Region (SourceImageId, SourceImageRegion)


@dataclass
class FastRestore:
    region: str
    snapshot_id: str
    zone: str
    size_gib: int
    enabling_time: float
    optimizing_time: float
    enabled_time: float
    disabling_time: float | None = None
    disabled_time: float | None = None
    credits: float = 0.0  # in the bucket at `credits_at`
    credits_at: float = 0.0

    def state(self, now: float) -> str:
        if self.disabled_time is not None and now >= self.disabled_time:
            return "disabled"
        if self.disabling_time is not None and now >= self.disabling_time:
            return "disabling"
        if now >= self.enabled_time:
            return "enabled"
        if now >= self.optimizing_time:
            return "optimizing"
        return "enabling"

    @property
    def capacity(self) -> float:
        return max(1.0, min(10.0, 1024.0 / max(self.size_gib, 1)))

    @property
    def fill_per_hour(self) -> float:
        return min(10.0, 1024.0 / max(self.size_gib, 1))

    def credits_now(self, now: float) -> float:
        return min(self.capacity, self.credits + self.fill_per_hour * max(now - self.credits_at, 0.0) / 3600.0)


# the state an instance reaches once a change ends (EC2 User Guide: Instance state changes)
REACHED = {"pending": "running", "stopping": "stopped", "shutting-down": "terminated"}


@dataclass(frozen=True)
class InstanceChange:
    """An instance on its way between states: shown as `state` until sim time `until` (the backend has it in
    REACHED[state] already)."""

    state: str  # "pending" | "stopping" | "shutting-down"
    until: float
    first: bool = False  # a launch (RunInstances, a restore): the instance has never run yet


@dataclass
class Timing:
    """The timing state of the EBS engine (in EbsState.timing)."""

    lineages: dict[str, Lineage] = field(default_factory=dict)
    volumes: dict[str, VolumeRecord] = field(default_factory=dict)  # "region/vol-..."
    snapshots: dict[str, SnapshotRecord] = field(default_factory=dict)  # "region/snap-..."
    images: dict[str, ImageRecord] = field(default_factory=dict)  # "region/ami-..."
    fast_restores: dict[str, FastRestore] = field(default_factory=dict)  # "region/snap-.../zone"
    latest_snapshot: dict[str, str] = field(default_factory=dict)  # "region/vol-..." -> its newest snapshot id
    latest_copy: dict[str, str] = field(default_factory=dict)  # "region/root lineage" -> newest copy there
    direct: dict[str, str | None] = field(default_factory=dict)  # EBS direct APIs' snapshot -> its parent
    timers: list[tuple[float, int, str, str]] = field(default_factory=list)  # heap: due, seq, kind, key
    counter: int = 0
    # "region/i-..." -> the state change an instance is in (RunInstances, StartInstances, StopInstances,
    # TerminateInstances, an AWS Backup restore) until it reaches the state the backend has it in
    instances: dict[str, InstanceChange] = field(default_factory=dict)

    def __setstate__(self, state: dict[str, Any]) -> None:
        """A state saved before a field existed gets it empty; one saved with an instance's changes kept by kind
        (launches, stops, shutdowns: sim time each ends) gets them as InstanceChanges."""
        self.__dict__.update(instances={})
        first = state.pop("first_launches", None)
        changes = {}
        for field_name, shown in (("launches", "pending"), ("stops", "stopping"), ("shutdowns", "shutting-down")):
            for name, until in state.pop(field_name, {}).items():
                # (a build without first_launches kept only AWS Backup's restores: first launches)
                changes[name] = InstanceChange(shown, until, shown == "pending" and (first is None or name in first))
        self.__dict__.update(state)
        self.instances.update(changes)

    def next_seq(self) -> int:
        self.counter += 1
        return self.counter


def key(region: str, resource_id: str) -> str:
    return f"{region}/{resource_id}"


def snapshot_state(record: SnapshotRecord, now: float) -> str:
    return "completed" if now >= record.ends else "pending"


def snapshot_progress(record: SnapshotRecord, now: float) -> str:
    return f"{progress(record.started, record.ends, now)}%"


class EbsTiming:
    """The timing side of the EBS engine: records, their statuses at a sim time, and the clock's steps."""

    if TYPE_CHECKING:  # provided by the engine
        state: Any
        sandbox: Sandbox

        def now(self) -> float: ...

        def emit(self, name: str, *, kind: str = ..., region: str | None = ..., resource: str | None = ...,
                 **detail: Any) -> None: ...

    @property
    def timing(self) -> Timing:
        return self.state.timing

    @property
    def durations(self) -> Durations:
        return self.sandbox.durations

    @property
    def lineages(self) -> Lineages:
        return Lineages(self.timing.lineages)

    def _new_lineage(self, size_gib: int, start: int = 0, parent: str | None = None) -> Lineage:
        timing = self.timing
        lineage = Lineage(f"lineage-{timing.next_seq()}", blocks_of(size_gib), start, parent)
        timing.lineages[lineage.id] = lineage
        return lineage

    def _timer(self, due: float, kind: str, name: str) -> None:
        heapq.heappush(self.timing.timers, (due, self.timing.next_seq(), kind, name))

    # -- volumes -----------------------------------------------------------------------------------

    def volume_record(self, region: str, volume_id: str, described: dict[str, Any] | None = None
                      ) -> VolumeRecord | None:
        """The volume's record, brought up to now (the backend's writes since); a volume the lab has not seen
        made is adopted from `described` (or a DescribeVolumes), empty and available."""
        found = self.timing.volumes.get(key(region, volume_id))
        if found is None:
            if described is None:
                described = self._describe_volume(region, volume_id)
                if described is None:
                    return None
            now = self.now()
            size = int(described.get("Size") or 1)
            found = VolumeRecord(region, volume_id, size, Content(self._new_lineage(size).id, 0), now,
                                 described.get("State") == "in-use", now, now,
                                 zone=described.get("AvailabilityZone", ""))
            self.timing.volumes[key(region, volume_id)] = found
        self._bring_up_to_date(found)
        return found

    def _describe_volume(self, region: str, volume_id: str) -> dict[str, Any] | None:
        try:
            volumes = self.sandbox.client("ec2", region).describe_volumes(VolumeIds=[volume_id])["Volumes"]
        except ClientError:  # no such volume: the caller says so in AWS's words
            return None
        return volumes[0] if volumes else None

    def _bring_up_to_date(self, volume: VolumeRecord) -> None:
        now = self.now()
        if now <= volume.since:
            return
        if volume.in_use:
            hours = (now - max(volume.since, volume.available_at)) / 3600.0
            blocks = volume.carry + self.durations.ebs_written_gib(hours) * blocks_of(1)
            whole = int(blocks)
            volume.carry = blocks - whole
            volume.content = Content(volume.content.lineage, volume.content.cursor + whole)
        volume.since = now

    def volume_attached(self, region: str, volume_id: str, attached: bool) -> None:
        volume = self.volume_record(region, volume_id)
        if volume is not None:
            volume.in_use = attached

    def volume_deleted(self, region: str, volume_id: str) -> None:
        self.timing.volumes.pop(key(region, volume_id), None)
        self.timing.latest_snapshot.pop(key(region, volume_id), None)

    def volume_created(self, region: str, shown: dict[str, Any], *, rate: int | None = None) -> VolumeRecord:
        """A new volume (CreateVolume's answer): `creating`, then available; from a snapshot, initialized
        lazily unless fast snapshot restore gives it its blocks at once."""
        now = self.now()
        size = int(shown.get("Size") or 1)
        zone = shown.get("AvailabilityZone", "")
        seeding = not self.sandbox.lab.world_seeded  # the world's own volumes have long existed when it starts
        available = now if seeding else now + self.durations.ebs_volume_create()
        snapshot = self.snapshot_record(region, shown["SnapshotId"]) if shown.get("SnapshotId") else None
        if snapshot is None:
            fill = min(max(self.durations["ebs.volume.seeded_fill"], 0.0), 1.0) if seeding else 0.0
            content = Content(self._new_lineage(size).id, int(blocks_of(size) * fill))
        elif blocks_of(size) == self.timing.lineages[snapshot.content.lineage].blocks:
            content = Content(self._new_lineage(size, snapshot.content.cursor, snapshot.content.lineage).id,
                              snapshot.content.cursor)
        else:  # a bigger volume: the snapshot's data, in a lineage of its own
            held = written(self.timing.lineages[snapshot.content.lineage].blocks, snapshot.content.cursor)
            content = Content(self._new_lineage(size).id, held)
        record = VolumeRecord(region, shown["VolumeId"], size, content, now, False, now, available, zone=zone,
                              source_snapshot=snapshot.snapshot_id if snapshot else None, init_rate=rate)
        if snapshot is not None:
            if rate is None and self._take_fast_restore_credit(region, snapshot.snapshot_id, zone, now):
                record.fast_restored = True
            else:
                record.init_started = available
                record.init_ends = available + self.durations.ebs_volume_initialization(snapshot.full_gib, rate)
        self.timing.volumes[key(region, record.volume_id)] = record
        self._timer(available, "volume", key(region, record.volume_id))
        return record

    def volume_state(self, volume: VolumeRecord, now: float) -> str | None:
        """`creating` while it is made; None: whatever the backend says (available, in-use)."""
        return "creating" if now < volume.available_at else None

    def volume_initialization(self, region: str, volume_id: str) -> dict[str, Any] | None:
        """DescribeVolumeStatus's InitializationStatusDetails of a volume restored from a snapshot."""
        volume = self.timing.volumes.get(key(region, volume_id))
        if volume is None or volume.source_snapshot is None:
            return None
        now = self.now()
        if volume.fast_restored or volume.init_ends is None or volume.init_started is None:
            return {"InitializationType": "default", "Progress": 100, "EstimatedTimeToCompleteInSeconds": 0}
        details: dict[str, Any] = {
            "InitializationType": "provisioned-rate" if volume.init_rate else "default",
            "Progress": progress(volume.init_started, volume.init_ends, now)}
        if volume.init_rate:  # AWS estimates the time only for provisioned-rate initialization
            details["EstimatedTimeToCompleteInSeconds"] = int(max(volume.init_ends - now, 0.0))
        return details

    # -- snapshots ---------------------------------------------------------------------------------

    def snapshot_record(self, region: str, snapshot_id: str) -> SnapshotRecord | None:
        return self.timing.snapshots.get(key(region, snapshot_id))

    def adopt_snapshot(self, region: str, shown: dict[str, Any]) -> SnapshotRecord:
        """A snapshot the lab did not see made (an AMI's own, a public one): completed, holding its whole
        volume size as data in a lineage of its own."""
        found = self.snapshot_record(region, shown["SnapshotId"])
        if found is not None:
            return found
        size = int(shown.get("VolumeSize") or 1)
        lineage = self._new_lineage(size)
        started = shown["StartTime"].timestamp() if hasattr(shown.get("StartTime"), "timestamp") else self.now()
        record = SnapshotRecord(region, shown["SnapshotId"], shown.get("VolumeId"), size,
                                Content(lineage.id, lineage.blocks), started, started, float(size), float(size),
                                kms_key_id=shown.get("KmsKeyId"))
        self.timing.snapshots[key(region, record.snapshot_id)] = record
        return record

    def pending_of_volume(self, region: str, volume_id: str) -> int:
        now = self.now()
        return sum(1 for record in self.timing.snapshots.values()
                   if record.region == region and record.volume_id == volume_id and record.source is None
                   and now < record.ends)

    def pending_copies(self, region: str) -> int:
        now = self.now()
        return sum(1 for record in self.timing.snapshots.values()
                   if record.region == region and record.source is not None and now < record.ends)

    def snapshot_data(self, volume: VolumeRecord) -> tuple[float, float]:
        """(GiB a snapshot of the volume copies now, GiB it holds in full): the changes since the volume's
        newest snapshot still there (or the snapshot it was restored from), else everything written."""
        full = gib(written(self.timing.lineages[volume.content.lineage].blocks, volume.content.cursor))
        base_id = self.timing.latest_snapshot.get(key(volume.region, volume.volume_id)) or volume.source_snapshot
        base = self.snapshot_record(volume.region, base_id) if base_id else None
        if base is None:
            return full, full
        return gib(self.lineages.changed_count(base.content, volume.content)), full

    def snapshot_taken(self, region: str, snapshot_id: str, volume_id: str) -> SnapshotRecord | None:
        """Record a snapshot just taken of a volume: `pending` for as long as its data takes."""
        volume = self.volume_record(region, volume_id)
        if volume is None:
            return None
        now = self.now()
        data, full = self.snapshot_data(volume)
        record = SnapshotRecord(region, snapshot_id, volume_id, volume.size_gib, volume.content, now,
                                now + self.durations.ebs_snapshot(data), data, full)
        self.timing.snapshots[key(region, snapshot_id)] = record
        self.timing.latest_snapshot[key(region, volume_id)] = snapshot_id
        self._timer(record.ends, "snapshot", key(region, snapshot_id))
        return record

    def copy_data(self, source: SnapshotRecord, region: str, kms_key_id: str | None) -> float:
        """GiB a copy of `source` into `region` transfers: the changes since the last copy of its lineage that is
        still there under the same key, else the whole snapshot."""
        root = self.lineages.chain(source.content.lineage)[-1].id
        previous_id = self.timing.latest_copy.get(key(region, root))
        previous = self.snapshot_record(region, previous_id) if previous_id else None
        if previous is None or (kms_key_id or None) != (previous.kms_key_id or None):
            return source.full_gib
        return gib(self.lineages.changed_count(previous.content, source.content))

    def copy_seconds(self, source: SnapshotRecord, region: str, kms_key_id: str | None = None,
                     minutes: int | None = None) -> float:
        if minutes:
            return self.durations.ebs_time_based_copy(minutes)
        return self.durations.ebs_copy(self.copy_data(source, region, kms_key_id), source.region != region)

    def copy_taken(self, region: str, copy_id: str, source: SnapshotRecord, *, kms_key_id: str | None = None,
                   minutes: int | None = None, done: bool = False) -> SnapshotRecord:
        """Record a copy of `source` made in `region`: `pending` for the copy's time (`done`: already complete,
        a copy whose time was spent elsewhere, e.g. by an AWS Backup copy job)."""
        now = self.now()
        data = self.copy_data(source, region, kms_key_id)
        ends = now if done else now + self.copy_seconds(source, region, kms_key_id, minutes)
        record = SnapshotRecord(region, copy_id, source.volume_id, source.size_gib, source.content, now, ends, data,
                                source.full_gib, (source.region, source.snapshot_id), kms_key_id, minutes)
        self.timing.snapshots[key(region, copy_id)] = record
        root = self.lineages.chain(source.content.lineage)[-1].id
        self.timing.latest_copy[key(region, root)] = copy_id
        if not done:
            self._timer(ends, "copy", key(region, copy_id))
        return record

    def snapshot_deleted(self, region: str, snapshot_id: str) -> None:
        timing = self.timing
        record = timing.snapshots.pop(key(region, snapshot_id), None)
        now = self.now()
        for restore in timing.fast_restores.values():  # "fast snapshot restore is automatically disabled"
            if restore.region == region and restore.snapshot_id == snapshot_id and restore.disabling_time is None:
                restore.disabling_time = restore.disabled_time = now
        if record is None:
            return
        latest = key(region, record.volume_id or "")
        if timing.latest_snapshot.get(latest) == snapshot_id:
            older = [r for r in timing.snapshots.values()
                     if r.region == region and r.volume_id == record.volume_id and r.source is None]
            if older:
                timing.latest_snapshot[latest] = max(older, key=lambda r: (r.started, r.snapshot_id)).snapshot_id
            else:
                timing.latest_snapshot.pop(latest, None)

    def image_using(self, region: str, snapshot_id: str) -> str | None:
        """The registered AMI that uses the snapshot, if any."""
        for image in self.timing.images.values():
            if image.region == region and snapshot_id in image.snapshots:
                return image.image_id
        return None

    # -- images ------------------------------------------------------------------------------------

    def image_created(self, region: str, image_id: str, snapshots: list[SnapshotRecord],
                      mappings: list[dict[str, Any]] | None, extra_snapshots: list[str] = ()) -> ImageRecord:
        """An AMI made from its volumes' snapshots: `pending` until the slowest completes, plus AMI creation."""
        now = self.now()
        slowest = max((record.ends - now for record in snapshots), default=0.0)
        image = ImageRecord(region, image_id, now, now + self.durations.ami_create(max(slowest, 0.0)),
                            [record.snapshot_id for record in snapshots] + list(extra_snapshots), mappings)
        self.timing.images[key(region, image_id)] = image
        self._timer(image.ends, "image", key(region, image_id))
        return image

    def image_registered(self, region: str, image_id: str, snapshot_ids: list[str], ends: float | None = None
                         ) -> ImageRecord:
        now = self.now()
        image = ImageRecord(region, image_id, now, ends if ends is not None else now, list(snapshot_ids))
        self.timing.images[key(region, image_id)] = image
        if image.ends > now:
            self._timer(image.ends, "image", key(region, image_id))
        return image

    def image_deregistered(self, region: str, image_id: str) -> None:
        self.timing.images.pop(key(region, image_id), None)

    # -- fast snapshot restore ---------------------------------------------------------------------

    def enable_fast_restore(self, region: str, snapshot: SnapshotRecord, zone: str) -> FastRestore:
        timing = self.timing
        name = f"{key(region, snapshot.snapshot_id)}/{zone}"
        found = timing.fast_restores.get(name)
        now = self.now()
        if found is not None and found.state(now) in ("enabling", "optimizing", "enabled"):
            return found
        enabling, optimizing = self.durations.ebs_fast_snapshot_restore(snapshot.size_gib)
        restore = FastRestore(region, snapshot.snapshot_id, zone, snapshot.size_gib, now, now + enabling,
                              now + enabling + optimizing, credits_at=now)
        timing.fast_restores[name] = restore
        self._timer(restore.optimizing_time, "fsr", name)
        self._timer(restore.enabled_time, "fsr", name)
        return restore

    def disable_fast_restore(self, region: str, snapshot_id: str, zone: str) -> FastRestore | None:
        restore = self.timing.fast_restores.get(f"{key(region, snapshot_id)}/{zone}")
        now = self.now()
        if restore is None or restore.disabling_time is not None:
            return restore
        enabling, _ = self.durations.ebs_fast_snapshot_restore(restore.size_gib)
        restore.disabling_time = now
        restore.disabled_time = now + enabling  # as long as enabling took (estimate)
        self._timer(restore.disabled_time, "fsr", f"{key(region, snapshot_id)}/{zone}")
        return restore

    def _take_fast_restore_credit(self, region: str, snapshot_id: str, zone: str, now: float) -> bool:
        restore = self.timing.fast_restores.get(f"{key(region, snapshot_id)}/{zone}")
        if restore is None or restore.state(now) != "enabled":
            return False
        credits = restore.credits_now(now)
        if credits < 1.0:
            return False
        restore.credits, restore.credits_at = credits - 1.0, now
        return True

    # -- the clock ---------------------------------------------------------------------------------

    def timing_next_due(self) -> float | None:
        timers = self.timing.timers
        try:
            return timers[0][0] if timers else None
        except IndexError:  # the ticker asks from another thread; a heap emptied meanwhile has nothing due
            return None

    def timing_run_due(self, now: float) -> None:
        timers = self.timing.timers
        while timers and timers[0][0] <= now:
            _, _, kind, name = heapq.heappop(timers)
            region, _, rest = name.partition("/")
            if kind == "snapshot" and name in self.timing.snapshots:
                record = self.timing.snapshots[name]
                self.emit("SnapshotCompleted", region=region, resource=rest, volume=record.volume_id,
                          data_gib=round(record.data_gib, 3))
                self.snapshot_completed(record)
            elif kind == "copy" and name in self.timing.snapshots:
                record = self.timing.snapshots[name]
                self.emit("SnapshotCopyCompleted", region=region, resource=rest,
                          source=f"{record.source[0]}/{record.source[1]}" if record.source else None,
                          data_gib=round(record.data_gib, 3))
            elif kind == "image" and name in self.timing.images:
                self.emit("ImageAvailable", region=region, resource=rest)
            elif kind == "volume" and name in self.timing.volumes:
                self.emit("VolumeAvailable", region=region, resource=rest)
            elif kind == "fsr" and name in self.timing.fast_restores:
                restore = self.timing.fast_restores[name]
                self.emit(f"FastSnapshotRestore{restore.state(now).capitalize()}", region=region,
                          resource=restore.snapshot_id, availability_zone=restore.zone)

    def snapshot_completed(self, record: SnapshotRecord) -> None:
        """A snapshot is `completed`: the engine acts on it (DLM's copies wait for it)."""
