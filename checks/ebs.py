"""EBS checks: scheduled snapshots (DLM or AWS Backup), snapshot copies in the DR region, encryption."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from checks.base import Finding, Param, check, failed, not_applicable, passed
from checks.coverage import Protectable, coverage
from checks.inventory.ec2 import DlmPolicy, DlmSchedule, Volume
from checks.schedule import describe_seconds, interval_seconds, max_interval_seconds
from checks.view import InventoryView, arn_region, scoped, tags_match

VOLUME = "AWS::EC2::Volume"
BACKEND_VOLUME_TAGS = {"Name": "securecart-backend-data"}

VOLUME_SCOPE = (
    Param("volumeIds", "string_list", [], "The volumes to check; empty: the volumes with volumeTags."),
    Param("volumeTags", "tags", dict(BACKEND_VOLUME_TAGS), "Volumes with these tags (when volumeIds is empty); "
          "empty: every volume."),
    Param("region", "string", "", "Only volumes in this region; empty: every region."),
    Param("lostVolumes", "boolean", False, "When no volume has volumeTags any more (a drill deleted it), judge the "
          "lost ones their tagged snapshots name: what protected them outlives them."),
)


def volumes_in_scope(inv: InventoryView, params: dict[str, Any]) -> list[Volume]:
    """The volumes asked for; with lostVolumes, when none with volumeTags exists any more (a drill deleted it),
    the lost volumes those tags still name: judged by what protected them (policies, snapshots, copies)."""
    chosen = []
    for volume in inv.volumes(params["region"] or None):
        if params["volumeIds"]:
            if volume.id in params["volumeIds"]:
                chosen.append(volume)
        elif tags_match(volume.tags, params["volumeTags"]):
            chosen.append(volume)
    if chosen or params["volumeIds"] or not params["volumeTags"] or not params["lostVolumes"]:
        return chosen
    return lost_volumes(inv, params["region"] or None, params["volumeTags"])


def lost_volumes(inv: InventoryView, region: str | None, volume_tags: dict[str, str]) -> list[Volume]:
    """Volumes that no longer exist, known from their snapshots carrying `volume_tags` (DLM's CopyTags, or the
    learner's own tags), as they were: their id, Region and those tags."""
    existing = {volume.id for volume in inv.volumes()}
    lost: dict[str, Volume] = {}
    for snapshot in inv.ebs_snapshots(region):
        if snapshot.volume and snapshot.volume not in existing and snapshot.source_snapshot is None \
                and tags_match(snapshot.tags, volume_tags) and snapshot.volume not in lost:
            lost[snapshot.volume] = Volume(id=snapshot.volume, region=snapshot.region,
                                           arn=f"arn:aws:ec2:{snapshot.region}:{inv.account_id}:volume/{snapshot.volume}",
                                           tags=dict(volume_tags))
    return sorted(lost.values(), key=lambda volume: (volume.region, volume.id))


def _instance_tags(inv: InventoryView, volume: Volume) -> list[dict[str, str]]:
    attached = {a.instance for a in volume.attachments or ()}
    return [instance.tags or {} for instance in inv.ec2_instances(volume.region)
            if instance.id in attached]


def _targets(policy: DlmPolicy, volume_tags: dict[str, str], instance_tags: list[dict[str, str]]) -> bool:
    """DLM targets resources of its resource types that carry any of its target tags."""
    wanted = policy.target_tags or {}
    if not wanted:
        return False

    def carries(tags: dict[str, str]) -> bool:
        return any(tags.get(key) == value for key, value in wanted.items())

    types = policy.resource_types or ["VOLUME"]
    return ("VOLUME" in types and carries(volume_tags)) or ("INSTANCE" in types and any(map(carries, instance_tags)))


def dlm_policies_for(inv: InventoryView, volume: Volume) -> list[DlmPolicy]:
    instance_tags = _instance_tags(inv, volume)
    return [policy for policy in inv.dlm_policies(volume.region)
            if policy.policy_type in (None, "EBS_SNAPSHOT_MANAGEMENT")
            and _targets(policy, volume.tags or {}, instance_tags)]


def schedule_interval(schedule: DlmSchedule) -> float | None:
    if schedule.cron:
        return max_interval_seconds(schedule.cron)
    return interval_seconds(schedule.interval, schedule.interval_unit)


def protectable(inv: InventoryView, volume: Volume) -> Protectable:
    """The volume as AWS Backup selections see it: its own ARN and tags, and those of its instances."""
    instances = {i.id: i for i in inv.ec2_instances(volume.region)}
    via = tuple((instances[a.instance].arn, instances[a.instance].tags or {})
                for a in volume.attachments or () if a.instance in instances)
    return Protectable(volume.arn, volume.region, volume.tags or {}, via)


def _no_volume(params: dict[str, Any]) -> Finding:
    if params["volumeIds"]:
        return failed(", ".join(params["volumeIds"]), "volume_missing", params["region"])
    return failed("account", "no_volume", params["region"], tags=params["volumeTags"])


_SCOPE_MESSAGES = {
    "volume_missing": "There is no volume {resource}.",
    "no_volume": "There is no EBS volume tagged {tags}.",
}
_SCOPE_HINTS = {
    "volume_missing": "Check the id with aws ec2 describe-volumes.",
    "no_volume": "Check the tags with aws ec2 describe-volumes --filters Name=tag-key,Values=Name.",
}


@check(
    id="EBS_SNAPSHOT_SCHEDULE_ENABLED", severity="HIGH", resource_type=VOLUME,
    title="EBS volumes are snapshotted on a schedule", services=("ec2", "backup"),
    params=(*VOLUME_SCOPE,
            Param("maxIntervalHours", "integer", 24, "Snapshots at least this often (hours).", minimum=1)),
    messages={
        **_SCOPE_MESSAGES,
        "dlm_schedule": "{resource} is snapshotted every {interval} by lifecycle policy {policy}.",
        "backup_plan_schedule": "{resource} is backed up every {interval} by backup plan {plan}.",
        "policy_disabled": "Lifecycle policy {policy} targets {resource} but is {state}.",
        "interval_too_long": "{resource} is snapshotted only every {interval} ({policy}); at least every "
                             "{maxIntervalHours} hours is asked.",
        "not_targeted": "No lifecycle policy targets {resource}: their target tags are {policy_tags}, the "
                        "volume's tags are {tags}.",
        "no_schedule": "Nothing snapshots {resource} on a schedule: no lifecycle policy (DLM) or backup plan "
                       "covers it.",
    },
    hints={
        **_SCOPE_HINTS,
        "policy_disabled": "aws dlm update-lifecycle-policy --policy-id {policy} --state ENABLED",
        "interval_too_long": "Use a CreateRule with Interval {maxIntervalHours} and IntervalUnit HOURS (or "
                             "shorter).",
        "not_targeted": "Make the policy's TargetTags match one of the volume's tags, e.g. "
                        "Name=securecart-backend-data.",
        "no_schedule": "aws dlm create-lifecycle-policy --execution-role-arn <role> --description daily "
                       "--state ENABLED --policy-details file://policy.json (ResourceTypes VOLUME, TargetTags, a "
                       "schedule with CreateRule and RetainRule).",
    },
)
def ebs_snapshot_schedule_enabled(inv: InventoryView, params: dict[str, Any]) -> Iterator[Finding]:
    """A Data Lifecycle Manager policy (or an AWS Backup plan) snapshots the volume on a schedule."""
    volumes = volumes_in_scope(inv, params)
    if not volumes:
        yield _no_volume(params)
        return
    limit = params["maxIntervalHours"] * 3600.0
    for volume in volumes:
        name, region = volume.id, volume.region
        evidence: dict[str, Any] = {"tags": volume.tags or {}}
        policies = dlm_policies_for(inv, volume)
        best_miss: tuple[str, dict[str, Any]] | None = None
        done = False
        for policy in policies:
            if policy.state != "ENABLED":
                best_miss = best_miss or ("policy_disabled", {"policy": policy.id, "state": policy.state})
                continue
            intervals = [i for i in (schedule_interval(s) for s in policy.schedules or ()) if i]
            if intervals and min(intervals) <= limit:
                yield passed(name, "dlm_schedule", region, policy=policy.id,
                             interval=describe_seconds(min(intervals)), **evidence)
                done = True
                break
            if intervals:
                best_miss = ("interval_too_long",
                             {"policy": policy.id, "interval": describe_seconds(min(intervals))})
        if done:
            continue
        plan_found = _backup_schedule(inv, volume, limit)
        if plan_found:
            yield passed(name, "backup_plan_schedule", region, **plan_found, **evidence)
        elif best_miss:
            yield failed(name, best_miss[0], region, **best_miss[1], **evidence)
        else:
            others = list(inv.dlm_policies(region))
            if others:
                yield failed(name, "not_targeted", region, policy_tags=[p.target_tags for p in others],
                             **evidence)
            else:
                yield failed(name, "no_schedule", region, **evidence)


def _backup_schedule(inv: InventoryView, volume: Volume, limit: float) -> dict[str, Any] | None:
    for plan, _selection in coverage(inv, protectable(inv, volume)).covering:
        for rule in plan.rules or ():
            try:
                interval = max_interval_seconds(rule.schedule)
            except ValueError:
                continue
            if interval <= limit:
                return {"plan": plan.name, "interval": describe_seconds(interval)}
    return None


def copies_in(inv: InventoryView, volume: Volume, region: str) -> list[dict[str, Any]]:
    """Snapshots in `region` that descend from the volume, and AWS Backup recovery points of it there."""
    found = []
    for snapshot in inv.ebs_snapshots(region):
        origin, _chain = inv.snapshot_origin(snapshot.id)
        if origin == volume.id:
            found.append({"kind": "snapshot", "id": snapshot.id, "ready": snapshot.state == "completed",
                          "state": snapshot.state})
    for point in inv.recovery_points(region):
        if point.resource_arn == volume.arn:
            found.append({"kind": "recovery-point", "id": point.arn, "ready": point.status == "COMPLETED",
                          "state": point.status})
    return found


def scheduled_copies(inv: InventoryView, volume: Volume, region: str) -> list[dict[str, Any]]:
    """DLM cross-region copy rules and AWS Backup copy actions that will copy the volume's backups to `region`."""
    found = []
    for policy in dlm_policies_for(inv, volume):
        for schedule in policy.schedules or ():
            for rule in schedule.cross_region_copy or ():
                if rule.target_region == region:
                    found.append({"kind": "dlm", "id": policy.id, "enabled": policy.state == "ENABLED"})
    for plan, _selection in coverage(inv, protectable(inv, volume)).covering:
        for rule in plan.rules or ():
            if any(arn_region(c.destination_vault_arn) == region for c in rule.copy_actions or ()):
                found.append({"kind": "backup-plan", "id": plan.name, "enabled": True})
    return found


@check(
    id="EBS_SNAPSHOT_CROSS_REGION_COPY", severity="HIGH", resource_type=VOLUME,
    title="EBS snapshots are copied to the DR region", services=("ec2", "backup"),
    params=(*VOLUME_SCOPE,
            Param("destinationRegion", "string", "us-west-2", "The region the copies must be in."),
            Param("acceptScheduledCopy", "boolean", True, "A cross-region copy rule that has not run yet also "
                  "counts (DLM CrossRegionCopyRules, or a backup plan's copy action).")),
    messages={
        **_SCOPE_MESSAGES,
        "copy_exists": "{resource} has a completed copy in {destinationRegion}: {copy}.",
        "copy_scheduled": "{resource} will be copied to {destinationRegion} by {copier} (no copy yet).",
        "copy_in_progress": "The copy of {resource} in {destinationRegion} ({copy}) is {state}.",
        "copy_rule_disabled": "Lifecycle policy {copier} would copy {resource} to {destinationRegion}, but it is "
                              "not ENABLED.",
        "copy_not_run": "{copier} will copy {resource} to {destinationRegion}, but no copy exists there yet.",
        "no_copy": "No snapshot of {resource} exists in {destinationRegion}, and nothing is set to copy one there.",
    },
    hints={
        **_SCOPE_HINTS,
        "copy_in_progress": "Wait (or lab clock advance 10m) and check again.",
        "copy_rule_disabled": "aws dlm update-lifecycle-policy --policy-id {copier} --state ENABLED",
        "copy_not_run": "Let the schedule run (lab clock advance 1d), or copy a snapshot now: aws ec2 copy-snapshot "
                        "--region {destinationRegion} --source-region {region} --source-snapshot-id <snap-id>",
        "no_copy": "Copy a snapshot: aws ec2 copy-snapshot --region {destinationRegion} --source-region "
                   "{region} --source-snapshot-id <snap-id>, or add CrossRegionCopyRules to the DLM schedule.",
    },
)
def ebs_snapshot_cross_region_copy(inv: InventoryView, params: dict[str, Any]) -> Iterator[Finding]:
    """A snapshot copy in the DR region lets the volume be recreated there if the primary region is lost."""
    volumes = volumes_in_scope(inv, params)
    if not volumes:
        yield _no_volume(params)
        return
    destination = params["destinationRegion"]
    for volume in volumes:
        name, region = volume.id, volume.region
        copies = copies_in(inv, volume, destination)
        ready = [c for c in copies if c["ready"]]
        scheduled = scheduled_copies(inv, volume, destination)
        evidence = {"copies": [c["id"] for c in copies], "copy_rules": [s["id"] for s in scheduled]}
        if ready:
            yield passed(name, "copy_exists", region, copy=ready[0]["id"], **evidence)
        elif copies:
            yield failed(name, "copy_in_progress", region, copy=copies[0]["id"], state=copies[0]["state"], **evidence)
        elif any(s["enabled"] for s in scheduled):
            enabled = next(s for s in scheduled if s["enabled"])
            copier = f"{enabled['kind']} {enabled['id']}"
            if params["acceptScheduledCopy"]:
                yield passed(name, "copy_scheduled", region, copier=copier, **evidence)
            else:
                yield failed(name, "copy_not_run", region, copier=copier, **evidence)
        elif scheduled:
            yield failed(name, "copy_rule_disabled", region, copier=scheduled[0]["id"], **evidence)
        else:
            yield failed(name, "no_copy", region, **evidence)


@check(
    id="ENCRYPTED_VOLUMES", source="aws-config", severity="MEDIUM", resource_type=VOLUME,
    title="EBS volumes are encrypted", services=("ec2",),
    params=(Param("volumeIds", "string_list", [], "The volumes to check; empty: every volume."),
            Param("region", "string", "", "Only volumes in this region; empty: every region.")),
    messages={"encrypted": "{resource} is encrypted.",
              "not_encrypted": "{resource} is not encrypted.",
              "volume_missing": "There is no volume {resource}.",
              "no_resources": "There are no EBS volumes to check."},
    hints={"not_encrypted": "Snapshot it, copy the snapshot with --encrypted, and create a volume from the copy.",
           "volume_missing": "Check the id with aws ec2 describe-volumes."},
)
def encrypted_volumes(inv: InventoryView, params: dict[str, Any]) -> Iterator[Finding]:
    """Encrypted volumes also give encrypted snapshots and copies."""
    chosen = scoped(inv.volumes(), params["volumeIds"], params["region"], key="id")
    if not chosen:
        yield not_applicable("account", "no_resources")
    for name, region, volume in chosen:
        if volume is None:
            yield failed(name, "volume_missing", region)
        elif volume.encrypted:
            yield passed(name, "encrypted", region)
        else:
            yield failed(name, "not_encrypted", region)
