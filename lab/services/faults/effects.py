"""The changes injections make to the sandbox, and how each is undone.

Every effect acts through the AWS APIs in-process (`sandbox.client`, so the engines observe it as they
would a learner's call) or through the engine that owns the behaviour (replication pauses, Route 53
health, the RDS data plane). Shared conditions are reference-counted: two injections holding a region down
keep it down until both have ended.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from lab import config
from lab.kernel.engine import DatabaseAvailability, EndpointHealth, Pausable, RegionOutageAware
from lab.services.faults.model import Effect, FaultsState, Injection
from lab.services.faults.rules import FaultRule, region_outage_rule

if TYPE_CHECKING:
    from lab.services.faults.engine import Faults

log = logging.getLogger("lab.faults")

#: where a drill's attacker calls from: TEST-NET-3 (RFC 5737), an address no real client has
ATTACKER_ADDRESS = "203.0.113.77"


class EffectError(Exception):
    """An effect could not be applied; the message says what and where (FIS reports it as the action's failure)."""


def _count_up(counts: dict[str, int], key: str) -> bool:
    """Count one more holder of `key`; True when it is the first."""
    counts[key] = counts.get(key, 0) + 1
    return counts[key] == 1


def _count_down(counts: dict[str, int], key: str) -> bool:
    """Count one holder less; True when it was the last."""
    left = counts.get(key, 0) - 1
    if left <= 0:
        counts.pop(key, None)
        return True
    counts[key] = left
    return False


class Effects:
    """Applies effects on behalf of one injection and records them on it, so that `undo_all` can end them."""

    def __init__(self, engine: Faults, injection: Injection) -> None:
        self.engine = engine
        self.sandbox = engine.sandbox
        self.injection = injection

    @property
    def state(self) -> FaultsState:
        return self.engine.state

    def client(self, service: str, region: str) -> Any:
        return self.sandbox.client(service, region)

    def attacker_client(self, service: str, region: str) -> Any:
        """Calls an attacker makes with a leaked access key (the lab's own), from outside: CloudTrail records
        them with that key's principal and the attacker's address, and access policies judge them so."""
        return self.sandbox.client(service, region, from_address=ATTACKER_ADDRESS)

    def _record(self, effect: Effect) -> Effect:
        self.injection.effects.append(effect)
        return effect

    # -- API faults ----------------------------------------------------------------------------------

    def add_rule(self, rule: FaultRule) -> Effect:
        rule.source = self.injection.id
        self.state.rules.append(rule)
        return self._record(Effect("rule", rule.id, {"rule": rule.to_dict()}))

    # -- whole regions -------------------------------------------------------------------------------

    def region_down(self, region: str) -> Effect:
        """Every regional call to `region` fails, the workload's writes there fail, and engines that model
        regional health (Route 53 health checks, the RDS data plane) see the region down."""
        rule = region_outage_rule(self.state.next_id("rule"), self.injection.id, region, None)
        self.state.rules.append(rule)
        if _count_up(self.state.regions_down, region):
            for engine in self._outage_aware():
                engine.set_region_down(region, True)
        return self._record(Effect("region-down", region, {"rule": rule.id}))

    def pause_replication_touching(self, region: str, peer: str | None = None) -> Effect:
        """Pause every S3 replication and DynamoDB global-table replication into or out of `region` (only
        that between `region` and `peer`, when given)."""
        paused: list[str] = []
        for bucket in self._buckets_replicating_with(region, peer):
            self._pause("s3", bucket)
            paused.append(f"s3:{bucket}")
        for table in self._tables_replicating_with(region, peer):
            self._pause("dynamodb", table)
            paused.append(f"dynamodb:{table}")
        return self._record(Effect("replication-paused", region, {"keys": paused}))

    def _buckets_replicating_with(self, region: str, peer: str | None) -> list[str]:
        s3 = self.client("s3", config.PRIMARY_REGION)
        found: list[str] = []
        for bucket in s3.list_buckets().get("Buckets", []):
            name = bucket["Name"]
            destinations = _replication_destinations(s3, name)
            if not destinations:
                continue
            home = bucket.get("BucketRegion") or _bucket_region(s3, name)
            if _links(home, {_bucket_region(s3, dest) for dest in destinations}, region, peer):
                found.append(name)
        return sorted(found)

    def _tables_replicating_with(self, region: str, peer: str | None) -> list[str]:
        found: set[str] = set()
        for home in config.REGIONS:
            dynamodb = self.client("dynamodb", home)
            for table in dynamodb.list_tables().get("TableNames", []):
                try:
                    replicas = dynamodb.describe_table(TableName=table)["Table"].get("Replicas") or []
                except ClientError:
                    continue
                regions = {replica.get("RegionName") for replica in replicas} - {home}
                if _links(home, regions, region, peer):
                    found.add(table)
        return sorted(found)

    # -- replication ---------------------------------------------------------------------------------

    def pause_replication(self, service: str, resource: str | None) -> Effect:
        """S3 replication of a bucket, or DynamoDB global-table replication of a table (None: all of them)."""
        if self._replication(service) is None:
            raise EffectError(f"this sandbox has no {service} replication engine to pause")
        key = f"{service}:{resource or '*'}"
        self._pause(service, resource)
        return self._record(Effect("replication-paused", key, {"keys": [key]}))

    def _replication(self, service: str) -> Pausable | None:
        return next((engine for engine in self.sandbox.engines.all(Pausable)
                     if engine.replication_service == service), None)

    def _pause(self, service: str, resource: str | None) -> None:
        key = f"{service}:{resource or '*'}"
        if _count_up(self.state.paused, key):
            engine = self._replication(service)
            if engine is not None:
                engine.pause(resource)

    def _resume(self, key: str) -> None:
        if not _count_down(self.state.paused, key):
            return
        service, _, resource = key.partition(":")
        engine = self._replication(service)
        if engine is None:
            return
        engine.resume(None if resource == "*" else resource)
        if resource == "*":  # resuming everything lifts every pause: put back those other injections hold
            for other in sorted(self.state.paused):
                name, _, held = other.partition(":")
                if name == service:
                    engine.pause(None if held == "*" else held)

    # -- EC2 and EBS ---------------------------------------------------------------------------------

    def stop_instances(self, region: str, instance_ids: list[str], restart: bool) -> Effect:
        """Stop the running ones of `instance_ids`; `restart`: start them again when the injection ends."""
        ec2 = self.client("ec2", region)
        running = _instances_in_state(ec2, instance_ids, ("pending", "running"))
        if running:
            ec2.stop_instances(InstanceIds=running)
        return self._record(Effect("instances-stopped", region, {"stopped": running, "restart": restart}))

    def pause_volume_io(self, region: str, volume_ids: list[str]) -> Effect:
        for volume in volume_ids:
            _count_up(self.state.volumes_paused, volume)
        return self._record(Effect("volumes-paused", region, {"volumes": list(volume_ids)}))

    # -- RDS ------------------------------------------------------------------------------------------

    def reboot_db(self, region: str, db: str, force_failover: bool) -> Effect:
        """RebootDBInstance (with ForceFailover for a Multi-AZ instance), as FIS and an AZ failure do."""
        rds = self.client("rds", region)
        try:
            rds.reboot_db_instance(DBInstanceIdentifier=db, ForceFailover=force_failover)
        except ClientError as exc:
            raise EffectError(f"RebootDBInstance {db} in {region} failed: {exc.response['Error'].get('Code')}: "
                              f"{exc.response['Error'].get('Message')}") from exc
        return self._record(Effect("db-rebooted", f"{region}:{db}", {"force_failover": force_failover}))

    def db_unavailable(self, region: str, db: str) -> Effect:
        """The instance cannot be reached (its AZ or region is down) until the injection ends."""
        key = f"{region}:{db}"
        if _count_up(self.state.dbs_down, key):
            engine = self._rds_engine()
            if engine is not None:
                engine.set_instance_available(db, False, region=region)
        return self._record(Effect("db-unavailable", key, {"region": region, "db": db}))

    def _rds_engine(self) -> DatabaseAvailability | None:
        return self.sandbox.engines.find(DatabaseAvailability)

    # -- Route 53 -------------------------------------------------------------------------------------

    def endpoints_down(self, endpoints: list[str]) -> Effect:
        engine = self.sandbox.engines.find(EndpointHealth)
        for endpoint in endpoints:
            if _count_up(self.state.endpoints_down, endpoint) and engine is not None:
                engine.set_endpoint_down(endpoint, True)
        return self._record(Effect("endpoints-down", ",".join(endpoints), {"endpoints": list(endpoints)}))

    # -- data that stays destroyed --------------------------------------------------------------------

    def destroyed(self, store: str, detail: dict[str, Any]) -> Effect:
        return self._record(Effect("data-destroyed", store, detail))

    # -- ending ---------------------------------------------------------------------------------------

    def undo_all(self) -> list[str]:
        """Undo this injection's effects, newest first; returns what could not be undone (and why)."""
        problems: list[str] = []
        for effect in reversed(self.injection.effects):
            handler: Callable[[Effect], None] | None = getattr(self, "_undo_" + effect.kind.replace("-", "_"), None)
            if effect.undone or handler is None:  # one-shot effects (destroyed data, a reboot) stay done
                continue
            try:
                handler(effect)
            except Exception as exc:
                log.exception("undoing %s %s of %s failed", effect.kind, effect.target, self.injection.id)
                problems.append(f"{effect.kind} {effect.target}: {type(exc).__name__}: {exc}")
            effect.undone = True
        return problems

    def _undo_rule(self, effect: Effect) -> None:
        self.state.rules = [rule for rule in self.state.rules if rule.id != effect.target]

    def _undo_region_down(self, effect: Effect) -> None:
        self.state.rules = [rule for rule in self.state.rules if rule.id != effect.detail["rule"]]
        if _count_down(self.state.regions_down, effect.target):
            for engine in self._outage_aware():
                engine.set_region_down(effect.target, False)

    def _undo_replication_paused(self, effect: Effect) -> None:
        for key in effect.detail["keys"]:
            self._resume(key)

    def _undo_instances_stopped(self, effect: Effect) -> None:
        if not effect.detail.get("restart") or not effect.detail["stopped"]:
            return
        ec2 = self.client("ec2", effect.target)
        stopped = _instances_in_state(ec2, effect.detail["stopped"], ("stopping", "stopped"))
        if stopped:
            ec2.start_instances(InstanceIds=stopped)

    def _undo_volumes_paused(self, effect: Effect) -> None:
        for volume in effect.detail["volumes"]:
            _count_down(self.state.volumes_paused, volume)

    def _undo_db_unavailable(self, effect: Effect) -> None:
        if _count_down(self.state.dbs_down, effect.target):
            engine = self._rds_engine()
            if engine is not None:
                engine.set_instance_available(effect.detail["db"], True, region=effect.detail["region"])

    def _undo_endpoints_down(self, effect: Effect) -> None:
        engine = self.sandbox.engines.find(EndpointHealth)
        for endpoint in effect.detail["endpoints"]:
            if _count_down(self.state.endpoints_down, endpoint) and engine is not None:
                engine.set_endpoint_down(endpoint, False)

    def _outage_aware(self) -> list[RegionOutageAware]:
        return [engine for engine in self.sandbox.engines.all(RegionOutageAware) if engine is not self.engine]


def _links(home: str | None, others: set[str | None], region: str, peer: str | None) -> bool:
    """Does replication from `home` to `others` cross into or out of `region` (and, if given, `peer`)?"""
    if not others:
        return False
    if peer is None:
        return home == region or region in others
    return (home == region and peer in others) or (home == peer and region in others)


def _instances_in_state(ec2: Any, instance_ids: list[str], states: tuple[str, ...]) -> list[str]:
    if not instance_ids:
        return []
    found = ec2.describe_instances(InstanceIds=list(instance_ids))
    return sorted(instance["InstanceId"] for reservation in found["Reservations"]
                  for instance in reservation["Instances"] if instance["State"]["Name"] in states)


def _bucket_region(s3: Any, bucket: str) -> str | None:
    try:
        location = s3.get_bucket_location(Bucket=bucket).get("LocationConstraint")
    except ClientError:
        return None
    return location or "us-east-1"


def _replication_destinations(s3: Any, bucket: str) -> list[str]:
    try:
        rules = s3.get_bucket_replication(Bucket=bucket)["ReplicationConfiguration"].get("Rules", [])
    except ClientError:
        return []
    return sorted({rule["Destination"]["Bucket"].split(":::")[-1] for rule in rules
                   if rule.get("Destination", {}).get("Bucket")})
