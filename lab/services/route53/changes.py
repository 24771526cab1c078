"""What Route 53 refuses in a ChangeResourceRecordSets batch and the backend takes: routing-policy fields that
do not go together, record values that are not what their type holds, a CNAME where DNS allows none, a DELETE
of a record set that is not there (or not as given), a health check that does not exist. Pure: the zone's
records and the known health checks come in; an AwsError goes out, worded as Route 53 words it (API Reference:
ChangeResourceRecordSets, Errors; Route 53 Developer Guide: Choosing between alias and non-alias records).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from typing import Any

from lab.kernel.errors import AwsError
from lab.services.route53.dns import dns_name
from lab.services.route53.propagation import record_key

ROUTING_FIELDS = ("Weight", "Region", "Failover", "GeoLocation", "MultiValueAnswer", "GeoProximityLocation",
                  "CidrRoutingConfig")
FAILOVER_VALUES = ("PRIMARY", "SECONDARY")


def check_change_batch(zone_name: str, changes: list[Mapping[str, Any]], existing: list[Mapping[str, Any]],
                       health_check_exists: Callable[[str], bool]) -> None:
    """Refuse the batch as Route 53 would, or return (the backend then applies it)."""
    zone = dns_name(zone_name)
    current = {record_key(record): record for record in existing}
    for change in changes:
        action = str(change.get("Action", ""))
        record = change.get("ResourceRecordSet") or {}
        name, kind, identifier = record_key(record)
        described = (f"[Action={action}, Name={name}., Type={kind}, "
                     f"SetIdentifier={identifier or 'null'}]")
        routing = [field for field in ROUTING_FIELDS if record.get(field) is not None]
        if routing and not identifier:
            raise AwsError("InvalidInput", f"Invalid request: Missing field 'SetIdentifier' in Change with {described}")
        if identifier and not routing:
            raise AwsError("InvalidInput", f"Invalid request: Expected exactly one of [{', '.join(ROUTING_FIELDS)}], "
                                           f"but found none in Change with {described}")
        failover = record.get("Failover")
        if failover is not None and failover not in FAILOVER_VALUES:
            raise AwsError("InvalidInput", f"Invalid request: Failover must be PRIMARY or SECONDARY, not "
                                           f"{str(failover)[:50]!r}, in Change with {described}")
        check_id = record.get("HealthCheckId")
        if check_id and action != "DELETE" and not health_check_exists(str(check_id)):
            raise AwsError("NoSuchHealthCheck", f"No health check exists with the specified ID {str(check_id)[:64]}.",
                           404)
        if action == "DELETE":
            _check_delete(record, current.get((name, kind, identifier)), name, kind)
            continue
        for value in (entry.get("Value", "") for entry in record.get("ResourceRecords") or []):
            _check_value(kind, str(value))
        if kind == "CNAME":
            if name == zone:
                raise AwsError("InvalidChangeBatch", f"[RRSet of type CNAME with DNS name {name}. is not permitted at "
                                                     f"apex in zone {zone}.]")
            other = next((key[1] for key in current if key[0] == name and key[1] != "CNAME"), None)
            if other is not None:
                raise AwsError("InvalidChangeBatch", f"[RRSet of type CNAME with DNS name {name}. is not permitted "
                                                     f"because a conflicting RRSet of type {other} with the same DNS "
                                                     f"name already exists in zone {zone}.]")
        elif any(key[0] == name and key[1] == "CNAME" for key in current) and (name, kind, identifier) not in current:
            raise AwsError("InvalidChangeBatch", f"[RRSet of type {kind} with DNS name {name}. is not permitted "
                                                 f"because a conflicting RRSet of type CNAME with the same DNS name "
                                                 f"already exists in zone {zone}.]")


def _check_delete(record: Mapping[str, Any], found: Mapping[str, Any] | None, name: str, kind: str) -> None:
    """"To delete a resource record set, you must specify all the same values that you specified when you created
    it" (API Reference: Change, DELETE)."""
    if found is None:
        raise AwsError("InvalidChangeBatch", f"[Tried to delete resource record set [name='{name}.', type='{kind}'] "
                                             "but it was not found]")
    fields = ("TTL", "ResourceRecords", "AliasTarget", "HealthCheckId", *ROUTING_FIELDS)
    if any(_comparable(record.get(field)) != _comparable(found.get(field)) for field in fields):
        raise AwsError("InvalidChangeBatch", f"[Tried to delete resource record set [name='{name}.', type='{kind}'] "
                                             "but the values provided do not match the current values]")


def _comparable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _comparable(item) for key, item in value.items() if key != "EvaluateTargetHealth"} | (
            {"DNSName": dns_name(str(value["DNSName"]))} if "DNSName" in value else {})
    if isinstance(value, list):
        return sorted((_comparable(item) for item in value), key=repr)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    return value


#: record types whose values are addresses: how to read one, and Route 53's name for a value that is not
_ADDRESSES = {"A": (ipaddress.IPv4Address, "ARRDATAIllegalIPv4Address", "IPv4"),
              "AAAA": (ipaddress.IPv6Address, "AAAARRDATAIllegalIPv6Address", "IPv6")}


def _check_value(kind: str, value: str) -> None:
    """A record's value is what its type holds: an IPv4 address for A, an IPv6 one for AAAA."""
    if kind not in _ADDRESSES:
        return
    parse, problem, family = _ADDRESSES[kind]
    try:
        parse(value)
    except ValueError:
        raise AwsError("InvalidChangeBatch", f"[Invalid Resource Record: 'FATAL problem: {problem} (Value is not a "
                                             f"valid {family} address) encountered with '{value[:100]}'']") from None
