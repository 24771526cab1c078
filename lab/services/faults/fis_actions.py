"""The FIS actions the sandbox runs: their ids, targets and parameters as AWS documents them, and what each
does to the sandbox (through `Effects`, so stopping the experiment undoes it)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lab import config
from lab.gateway.codec.identify import service_model
from lab.services.faults.fis_targets import resource_id
from lab.services.faults.rules import FaultRule, fis_api_error

if TYPE_CHECKING:
    from lab.services.faults.effects import Effects

_ISO_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def parse_iso_duration(text: str) -> float:
    """'PT10M' -> 600.0; ValueError naming the value otherwise (FIS accepts ISO 8601 durations)."""
    match = _ISO_DURATION.match(str(text).strip())
    if not match or not any(match.groups()) or str(text).endswith("T"):
        raise ValueError(f"{text!r} is not an ISO 8601 duration (e.g. PT10M, PT1H, PT30S)")
    days, hours, minutes, seconds = match.groups()
    return (int(days or 0) * 86400 + int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds or 0))


@dataclass(frozen=True)
class ActionParameter:
    description: str
    required: bool = False


Runner = Callable[["Effects", dict[str, list[str]], dict[str, str], str], dict[str, Any]]


@dataclass(frozen=True)
class ActionSpec:
    id: str
    description: str
    targets: dict[str, str]  # target key in the template ("Instances") -> resource type
    parameters: dict[str, ActionParameter]
    run: Runner
    #: the parameter that says how long the action lasts (None: the action acts once and completes)
    duration_param: str | None = "duration"

    def duration(self, parameters: dict[str, str]) -> float | None:
        if self.duration_param is None or not parameters.get(self.duration_param):
            return None
        return parse_iso_duration(parameters[self.duration_param])

    def to_summary(self, region: str) -> dict[str, Any]:
        return {"id": self.id, "arn": f"arn:aws:fis:{region}:{config.ACCOUNT_ID}:action/{self.id}",
                "description": self.description,
                "targets": {key: {"resourceType": kind} for key, kind in self.targets.items()}, "tags": {}}

    def to_dict(self, region: str) -> dict[str, Any]:
        body = self.to_summary(region)
        body["parameters"] = {name: {"description": p.description, "required": p.required}
                              for name, p in self.parameters.items()}
        return body


_DURATION = ActionParameter("The duration, from one minute to 12 hours (ISO 8601, e.g. PT10M).", True)


def _ids(targets: dict[str, list[str]], key: str) -> list[str]:
    return [resource_id(arn) for arn in targets.get(key, [])]


def _stop_instances(effects: Effects, targets: dict[str, list[str]], params: dict[str, str],
                    region: str) -> dict[str, Any]:
    instances = _ids(targets, "Instances")
    restart = bool(params.get("startInstancesAfterDuration"))
    effect = effects.stop_instances(region, instances, restart=restart)
    return {"instances_stopped": effect.detail["stopped"], "restart_after": params.get("startInstancesAfterDuration")}


def _pause_volume_io(effects: Effects, targets: dict[str, list[str]], params: dict[str, str],
                     region: str) -> dict[str, Any]:
    volumes = _ids(targets, "Volumes")
    effects.pause_volume_io(region, volumes)
    return {"volumes_io_paused": volumes}


def _reboot_db_instances(effects: Effects, targets: dict[str, list[str]], params: dict[str, str],
                         region: str) -> dict[str, Any]:
    force = str(params.get("forceFailover", "false")).lower() == "true"
    databases = _ids(targets, "DBInstances")
    for db in databases:
        effects.reboot_db(region, db, force_failover=force)
    return {"databases_rebooted": databases, "force_failover": force}


def _pause_bucket_replication(effects: Effects, targets: dict[str, list[str]], params: dict[str, str],
                              region: str) -> dict[str, Any]:
    buckets = _ids(targets, "Buckets")
    for bucket in buckets:
        effects.pause_replication("s3", bucket)
    return {"buckets_paused": buckets}


def _pause_global_table_replication(effects: Effects, targets: dict[str, list[str]], params: dict[str, str],
                                    region: str) -> dict[str, Any]:
    tables = _ids(targets, "Tables")
    for table in tables:
        effects.pause_replication("dynamodb", table)
    return {"tables_paused": tables}


def _disrupt_connectivity(effects: Effects, targets: dict[str, list[str]], params: dict[str, str],
                          region: str) -> dict[str, Any]:
    """No traffic in or out of the subnets (scope all), or none across their AZ boundary (availability-zone):
    the endpoints of instances in the subnets stop answering Route 53 health checks with scope all."""
    scope = params.get("scope", "all")
    subnets = _ids(targets, "Subnets")
    ec2 = effects.client("ec2", region)
    endpoints: list[str] = []
    if subnets:
        reservations = ec2.describe_instances(Filters=[{"Name": "subnet-id", "Values": subnets}])["Reservations"]
        for instance in (i for r in reservations for i in r["Instances"]):
            endpoints += [value for value in (instance.get("PrivateIpAddress"), instance.get("PublicIpAddress"),
                                              instance.get("PublicDnsName")) if value]
    if scope == "all" and endpoints:
        effects.endpoints_down(sorted(set(endpoints)))
    return {"subnets": subnets, "scope": scope,
            "endpoints_unreachable": sorted(set(endpoints)) if scope == "all" else []}


def _disrupt_cross_region(effects: Effects, targets: dict[str, list[str]], params: dict[str, str],
                          region: str) -> dict[str, Any]:
    """The subnets' region cannot reach `region`: replication between the two regions pauses."""
    other = params["region"]
    paused = effects.pause_replication_touching(region, peer=other)
    return {"subnets": _ids(targets, "Subnets"), "isolated_from": other, "replication_paused": paused.detail["keys"]}


def _api_error(kind: str) -> Runner:
    def run(effects: Effects, targets: dict[str, list[str]], params: dict[str, str], region: str) -> dict[str, Any]:
        service = params["service"]
        protocol = service_model(service).metadata.get("protocol")
        error = fis_api_error(kind, service, protocol)
        operations = tuple(op.strip() for op in params.get("operations", "").split(",") if op.strip())
        percentage = float(params.get("percentage", "100"))
        rule = FaultRule(
            id=effects.state.next_id("rule"), source="", service=service, region=region, operations=operations,
            probability=percentage / 100.0, status_code=error.status, code=error.code, message=error.message,
            description=f"aws:fis:inject-api-{kind}-error for {', '.join(_ids(targets, 'Roles')) or 'the roles'}",
        )
        effects.add_rule(rule)
        return {"service": service, "operations": list(operations), "percentage": percentage, "code": error.code,
                "status": error.status, "roles": targets.get("Roles", [])}

    return run


def _wait(effects: Effects, targets: dict[str, list[str]], params: dict[str, str], region: str) -> dict[str, Any]:
    return {}


def _validate_api_error_params(params: dict[str, str]) -> None:
    from lab.gateway.codec.identify import service_model as model

    service = params.get("service", "")
    try:
        operations = set(model(service).operation_names)
    except Exception as exc:
        raise ValueError(f"service {service!r} is not an AWS service name") from exc
    for operation in (op.strip() for op in params.get("operations", "").split(",") if op.strip()):
        if operation not in operations:
            raise ValueError(f"{service} has no operation {operation!r}")
    try:
        percentage = float(params.get("percentage", ""))
    except ValueError as exc:
        raise ValueError(f"percentage must be a number from 1 to 100, not {params.get('percentage')!r}") from exc
    if not 0 < percentage <= 100:
        raise ValueError(f"percentage must be from 1 to 100, not {percentage:g}")


def _api_error_spec(kind: str, what: str) -> ActionSpec:
    return ActionSpec(
        f"aws:fis:inject-api-{kind}-error",
        f"Injects {what} errors into requests made by the target IAM roles to the given service's operations. "
        "In the sandbox every caller shares one identity, so the errors reach every caller in the experiment's "
        "region.",
        {"Roles": "aws:iam:role"},
        {"service": ActionParameter("The target AWS service (e.g. ec2).", True),
         "operations": ActionParameter("Comma-separated operations (e.g. DescribeInstances); empty: all.", False),
         "percentage": ActionParameter("Percentage of calls (1-100) to fail.", True),
         "duration": _DURATION},
        _api_error(kind),
    )


ACTIONS: dict[str, ActionSpec] = {
    spec.id: spec for spec in (
        ActionSpec("aws:ec2:stop-instances", "Stops the target EC2 instances, and starts them again after "
                   "startInstancesAfterDuration if given.", {"Instances": "aws:ec2:instance"},
                   {"startInstancesAfterDuration": ActionParameter("When to start the instances again (ISO 8601).")},
                   _stop_instances, duration_param="startInstancesAfterDuration"),
        ActionSpec("aws:ebs:pause-volume-io", "Pauses I/O on the target EBS volumes (DescribeVolumeStatus shows "
                   "them impaired).", {"Volumes": "aws:ec2:ebs-volume"}, {"duration": _DURATION}, _pause_volume_io),
        ActionSpec("aws:rds:reboot-db-instances", "Reboots the target DB instances; with forceFailover a Multi-AZ "
                   "instance fails over to its standby.", {"DBInstances": "aws:rds:db"},
                   {"forceFailover": ActionParameter("true to fail over a Multi-AZ instance (default false).")},
                   _reboot_db_instances, duration_param=None),
        ActionSpec("aws:s3:bucket-pause-replication", "Pauses replication from the target source buckets.",
                   {"Buckets": "aws:s3:bucket"},
                   {"duration": _DURATION,
                    "region": ActionParameter("The Region of the destination buckets.", True),
                    "destinationBuckets": ActionParameter("Comma-separated destination buckets."),
                    "prefixes": ActionParameter("Comma-separated key prefixes.")},
                   _pause_bucket_replication),
        ActionSpec("aws:dynamodb:global-table-pause-replication", "Pauses replication of the target global tables "
                   "to their replicas.", {"Tables": "aws:dynamodb:global-table"}, {"duration": _DURATION},
                   _pause_global_table_replication),
        ActionSpec("aws:network:disrupt-connectivity", "Denies traffic to and from the target subnets (scope all), "
                   "or across their Availability Zone boundary (scope availability-zone).",
                   {"Subnets": "aws:ec2:subnet"},
                   {"duration": _DURATION, "scope": ActionParameter("all (default) or availability-zone.")},
                   _disrupt_connectivity),
        ActionSpec("aws:network:route-table-disrupt-cross-region-connectivity", "Blocks traffic from the target "
                   "subnets to the given Region: replication between the two Regions pauses.",
                   {"Subnets": "aws:ec2:subnet"},
                   {"duration": _DURATION, "region": ActionParameter("The Region to isolate from.", True)},
                   _disrupt_cross_region),
        _api_error_spec("internal", "internal (HTTP 500)"),
        _api_error_spec("unavailable", "service-unavailable (HTTP 503)"),
        _api_error_spec("throttle", "throttling"),
        ActionSpec("aws:fis:wait", "Waits for the given duration.", {}, {"duration": _DURATION}, _wait),
    )
}

_SCOPES = ("all", "availability-zone")


def validate_action(name: str, action: dict[str, Any], targets: dict[str, dict[str, Any]]) -> None:
    """ValueError naming what is wrong with one action of a template (FIS's ValidationException)."""
    spec = ACTIONS.get(action.get("actionId", ""))
    if spec is None:
        raise ValueError(f"Action {name}: action id {action.get('actionId')!r} is not supported by the sandbox; "
                         f"supported: {', '.join(sorted(ACTIONS))}")
    params = action.get("parameters") or {}
    for key in params:
        if key not in spec.parameters:
            raise ValueError(f"Action {name}: {spec.id} has no parameter {key!r}; its parameters: "
                             f"{', '.join(spec.parameters) or 'none'}")
    for key, parameter in spec.parameters.items():
        if parameter.required and not params.get(key):
            raise ValueError(f"Action {name}: parameter {key!r} is required for {spec.id}")
    for key in ("duration", "startInstancesAfterDuration"):
        if params.get(key):
            seconds = parse_iso_duration(params[key])
            if not 60 <= seconds <= 43200:
                raise ValueError(f"Action {name}: {key} must be from PT1M to PT12H, not {params[key]}")
    if spec.id == "aws:network:disrupt-connectivity" and params.get("scope", "all") not in _SCOPES:
        raise ValueError(f"Action {name}: scope {params['scope']!r} is not supported by the sandbox; "
                         f"supported: {', '.join(_SCOPES)}")
    if (spec.id == "aws:network:route-table-disrupt-cross-region-connectivity"
            and params["region"] not in config.REGIONS):
        raise ValueError(f"Action {name}: region must be one of the sandbox's regions {', '.join(config.REGIONS)}")
    if (spec.id == "aws:rds:reboot-db-instances"
            and str(params.get("forceFailover", "false")).lower() not in ("true", "false")):
        raise ValueError(f"Action {name}: forceFailover must be true or false")
    if spec.id.startswith("aws:fis:inject-api-"):
        try:
            _validate_api_error_params(params)
        except ValueError as exc:
            raise ValueError(f"Action {name}: {exc}") from exc
    given = action.get("targets") or {}
    for key in given:
        if key not in spec.targets:
            raise ValueError(f"Action {name}: {spec.id} takes no target {key!r}; it takes "
                             f"{', '.join(spec.targets) or 'none'}")
    for key, resource_type in spec.targets.items():
        target_name = given.get(key)
        if target_name is None:
            raise ValueError(f"Action {name}: target {key} ({resource_type}) is required for {spec.id}")
        target = targets.get(target_name)
        if target is None:
            raise ValueError(f"Action {name}: target {target_name!r} is not defined in the template's targets")
        if target.get("resourceType") != resource_type:
            raise ValueError(f"Action {name}: target {target_name} is {target.get('resourceType')}, but {key} of "
                             f"{spec.id} must be {resource_type}")
