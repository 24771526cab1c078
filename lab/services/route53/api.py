"""The Route 53 operations the lab answers itself: health check status and failure reasons as the sandbox's
checkers see them, TestDNSAnswer with failover applied, and changes that are PENDING until they have propagated
(ChangeResourceRecordSets, CreateHostedZone, DeleteHostedZone, GetChange). Everything else goes to the backend."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from lab.gateway import audit
from lab.kernel.api import Call, ServiceApi
from lab.kernel.errors import AwsError
from lab.services.route53.changes import check_change_batch
from lab.services.route53.dns import Answer, dns_name
from lab.services.route53.engine import GLOBAL_REGION, SERVICE, Route53
from lab.services.route53.health import ENDPOINT_TYPES, last_failures, observations
from lab.services.route53.propagation import Change, record_key

if TYPE_CHECKING:
    from lab.kernel.port import Sandbox


def _check_address(address: Any) -> None:
    """HealthCheckConfig.IPAddress: "Route 53 can't check the health of endpoints for which the IP address is in
    local, private, non-routable, or multicast ranges" (API Reference, HealthCheckConfig)."""
    if not isinstance(address, str) or not address:
        return
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        raise AwsError("InvalidInput", f"Invalid IP address {address[:100]!r} in the health check") from None
    if not parsed.is_global or parsed.is_multicast:  # (RFC 5735, 6598, 5156: private, shared, documentation, ...)
        raise AwsError("InvalidInput", f"IPAddress {address} is in a local, private, non-routable or multicast "
                                       "range: Route 53 cannot check it. Give a public address, or "
                                       "FullyQualifiedDomainName.")


def _check_alarm(config: dict[str, Any], creating: bool) -> None:
    """A CLOUDWATCH_METRIC health check follows the alarm its AlarmIdentifier names, Name and Region both
    required (API Reference: HealthCheckConfig.AlarmIdentifier, AlarmIdentifier)."""
    alarm = config.get("AlarmIdentifier")
    if alarm is None and not (creating and config.get("Type") == "CLOUDWATCH_METRIC"):
        return
    if not isinstance(alarm, dict):
        raise AwsError("InvalidInput", "Invalid parameter : AlarmIdentifier is required for a health check of type "
                                       "CLOUDWATCH_METRIC: name the CloudWatch alarm it follows (Name and Region).")
    for member in ("Name", "Region"):
        if not alarm.get(member):
            raise AwsError("InvalidInput", f"Invalid parameter : AlarmIdentifier.{member} is required (the "
                                           "CloudWatch alarm the health check follows).")


class Route53Api(ServiceApi):
    service = SERVICE
    service_principal = Route53.service_principal

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__(sandbox)
        engine = sandbox.engines.find(Route53)
        assert engine is not None, "the Route 53 API needs the Route 53 engine"
        self.engine = engine

    def check(self, call: Call) -> None:
        if call.identity.operation in ("CreateHealthCheck", "UpdateHealthCheck"):
            config = call.params.get("HealthCheckConfig") or call.params
            _check_address(config.get("IPAddress") if isinstance(config, dict) else None)
            if isinstance(config, dict):
                _check_alarm(config, creating=call.identity.operation == "CreateHealthCheck")

    def op_GetHealthCheckStatus(self, call: Call) -> dict[str, Any]:
        return self._report(call.params["HealthCheckId"], failures=False)

    def op_GetHealthCheckLastFailureReason(self, call: Call) -> dict[str, Any]:
        return self._report(call.params["HealthCheckId"], failures=True)

    def _report(self, check_id: str, failures: bool) -> dict[str, Any]:
        engine = self.engine
        tracked = engine.tracked(check_id)
        if tracked is None:
            raise AwsError("NoSuchHealthCheck", f"A health check with id {check_id} does not exist.", 404)
        kind = tracked.config.get("Type")
        if kind == "CALCULATED":
            raise AwsError("InvalidInput", "You can't use GetHealthCheckStatus to get the status of a calculated "
                                           "health check; look at its child health checks instead.")
        if kind not in ENDPOINT_TYPES:
            raise AwsError("InvalidInput", f"The sandbox reports no checker observations for {kind} health "
                                           "checks; they follow their CloudWatch alarm.")
        now = engine.now()
        points = engine.points(tracked, now)
        report = last_failures if failures else observations
        return {"HealthCheckObservations": report(points, tracked.config, tracked.created_at, now)}

    def op_TestDNSAnswer(self, call: Call) -> dict[str, Any]:
        """What Route 53's name servers answer (not a resolver's cache: no TTL is waited out here), with record
        changes once they are INSYNC."""
        params = call.params
        zone_id = str(params.get("HostedZoneId", "")).rsplit("/", 1)[-1]
        zones, by_id = self.engine.zones()
        zone = by_id.get(zone_id)
        if zone is None:
            raise AwsError("NoSuchHostedZone", f"No hosted zone found with ID: {zone_id}", 404)
        name, record_type = params.get("RecordName", ""), params.get("RecordType", "")
        resolver = self.engine.resolver(name, record_type, zones=zones)
        zone_name = dns_name(zone["Name"])
        wanted = dns_name(name)
        if wanted == zone_name or wanted.endswith("." + zone_name):
            answer = resolver.resolve(name, record_type, zone=zone_name)
        else:
            answer = Answer(name=wanted + ".", type=record_type, code="NXDOMAIN")
        return {"Nameserver": self._nameserver(zone_id), "RecordName": name, "RecordType": record_type,
                "RecordData": answer.data, "ResponseCode": answer.code, "Protocol": "UDP"}

    # -- changes: PENDING, then INSYNC once propagated (API Reference: GetChange, ChangeInfo) -----------------

    def op_ChangeResourceRecordSets(self, call: Call) -> dict[str, Any]:
        zone_id = str(call.params.get("HostedZoneId", "")).rsplit("/", 1)[-1]
        batch = call.params.get("ChangeBatch") or {}
        changes = batch.get("Changes") or []
        keys = [record_key(change.get("ResourceRecordSet") or {}) for change in changes]
        try:
            existing = self.engine.zone_records(zone_id)
        except ClientError:
            existing = None  # (the backend answers NoSuchHostedZone itself)
        zone_name = self._zone_name(zone_id)
        if existing is not None:
            check_change_batch(zone_name, changes, existing, lambda check_id: self.engine.tracked(check_id) is not None)
        before = [record for record in existing or [] if record_key(record) in set(keys)]
        output = call.forward()
        change = self.engine.record_change(zone_id, zone_name, before, keys, batch.get("Comment"))
        return {**output, "ChangeInfo": change.info(self.now())}

    def op_CreateHostedZone(self, call: Call) -> dict[str, Any]:
        reference = call.params.get("CallerReference")
        with audit.unrecorded():
            pages = self.sandbox.client(SERVICE, GLOBAL_REGION).get_paginator("list_hosted_zones").paginate()
            zones = [zone for page in pages for zone in page["HostedZones"]]
        if any(zone.get("CallerReference") == reference for zone in zones):
            # (API Reference: CreateHostedZone, "a unique string that identifies the request and that allows
            # failed CreateHostedZone requests to be retried without the risk of executing the operation twice")
            raise AwsError("HostedZoneAlreadyExists", "A hosted zone has already been created with the specified "
                                                      f"caller reference {str(reference)[:128]}.", 409)
        output = call.forward()
        zone = output.get("HostedZone") or {}
        change = self.engine.record_change(str(zone.get("Id", "")).rsplit("/", 1)[-1], zone.get("Name", ""), [], [],
                                           None)
        return {**output, "ChangeInfo": change.info(self.now())}

    def op_DeleteHostedZone(self, call: Call) -> dict[str, Any]:
        zone_id = str(call.params.get("Id", "")).rsplit("/", 1)[-1]
        zone_name = self._zone_name(zone_id)
        output = call.forward()
        change = self.engine.record_change(zone_id, zone_name, [], [], None)
        return {**output, "ChangeInfo": change.info(self.now())}

    def op_GetChange(self, call: Call) -> dict[str, Any]:
        change_id = str(call.params.get("Id", "")).rsplit("/", 1)[-1]
        found: Change | None = self.engine.state.changes.get(change_id)
        if found is not None:
            return {"ChangeInfo": found.info(self.now())}
        if self.engine.issued_change(change_id):
            return call.forward()  # (one of the oldest, no longer kept: the backend's INSYNC)
        raise AwsError("NoSuchChange", f"A change with the specified change ID {change_id[:64]} does not exist.", 404)

    def _zone_name(self, zone_id: str) -> str:
        try:
            with audit.unrecorded():
                return str(self.sandbox.client(SERVICE, GLOBAL_REGION).get_hosted_zone(Id=zone_id)["HostedZone"][
                    "Name"])
        except ClientError:
            return ""

    def _nameserver(self, zone_id: str) -> str:
        try:
            with audit.unrecorded():
                found = self.sandbox.client(SERVICE, GLOBAL_REGION).get_hosted_zone(Id=zone_id)
            return (found.get("DelegationSet") or {}).get("NameServers", ["ns-0.awsdns-00.com"])[0]
        except ClientError:
            return "ns-0.awsdns-00.com"
