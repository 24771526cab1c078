"""The inventory: everything the checks judge, as typed models, versioned. The checks own this schema; the
lab's collector (lab.inventory, one module per service mirroring this package) fills it in.

Like AWS Config's configuration items plus data digests, for both regions: per region the configuration of
S3, DynamoDB, RDS, EC2/EBS/DLM, AWS Backup and CloudTrail; globally IAM and Route 53; and the lab's own parts
(the ledger of orders, the drills, the fault injections, the clock). Data digests are summaries whose size does
not grow with the world's age: an object count and which ledger invoices a bucket holds, the order ids a table or
a database holds as runs (`IdSet`), the ledger as runs.

Parts: a collector reads only the parts asked for (`services`, named as in PARTS); a check declares the parts it
reads, and says so when they were not collected. A data part (s3.objects, dynamodb.items, rds.orders) comes with
its service.

Versions: SCHEMA_VERSION is 2.0. Exports of schema 1.0 (full object listings, the ledger order by order) are
read by `load` (checks.inventory.migrate turns them into 2.0), so old exports are graded as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from checks.inventory.backup import Backup
from checks.inventory.base import IdSet, Model, to_builtins
from checks.inventory.cloudtrail import CloudTrail
from checks.inventory.dynamodb import DynamoDB
from checks.inventory.ec2 import EC2
from checks.inventory.iam import IAM
from checks.inventory.lab import Clock, Drill, Faults, Ledger
from checks.inventory.rds import RDS
from checks.inventory.route53 import Route53
from checks.inventory.s3 import S3

SCHEMA_VERSION = "2.0"
READABLE_VERSIONS = ("1.0", "2.0")  # 1.0: migrated when loaded

REGION_SERVICES = ("s3", "dynamodb", "rds", "ec2", "backup", "cloudtrail")
GLOBAL_SERVICES = ("iam", "route53")
#: data digests, each read with its service: the objects of the buckets, the items of the tables, the orders
#: of the DB instances (what the recovery checks compare with the ledger)
DATA_PARTS = {"s3.objects": "s3", "dynamodb.items": "dynamodb", "rds.orders": "rds"}
LAB_PARTS = ("orders", "drills")
PARTS = (*REGION_SERVICES, *GLOBAL_SERVICES, *DATA_PARTS, *LAB_PARTS)


class CollectionError(Model):
    """A part that could not be read (the rest still is)."""

    service: str
    region: str | None = None
    part: str = ""
    error: str = ""


class Region(Model):
    s3: S3 = msgspec.field(default_factory=S3)
    dynamodb: DynamoDB = msgspec.field(default_factory=DynamoDB)
    rds: RDS = msgspec.field(default_factory=RDS)
    ec2: EC2 = msgspec.field(default_factory=EC2)
    backup: Backup = msgspec.field(default_factory=Backup)
    cloudtrail: CloudTrail = msgspec.field(default_factory=CloudTrail)


class Global(Model):
    iam: IAM = msgspec.field(default_factory=IAM)
    route53: Route53 = msgspec.field(default_factory=Route53)


class Inventory(Model):
    schema_version: str = SCHEMA_VERSION
    collected_at: str | None = None  # sim time
    collected_epoch: float = 0.0
    account_id: str = ""
    services: list[str] = msgspec.field(default_factory=list)  # the parts collected (PARTS)
    errors: list[CollectionError] = msgspec.field(default_factory=list)
    regions: dict[str, Region] = msgspec.field(default_factory=dict)
    global_: Global = msgspec.field(default_factory=Global, name="global")
    orders: Ledger = msgspec.field(default_factory=Ledger)
    drills: list[Drill] = msgspec.field(default_factory=list)
    faults: Faults = msgspec.field(default_factory=Faults)
    clock: Clock | None = None


class SchemaError(ValueError):
    """A document that is not an inventory of a readable schema; the message says what is wrong."""


def normalise_parts(parts: Iterable[str] | None) -> set[str]:
    """The parts asked for (None: every part), each data part with its service; ValueError for unknown ones."""
    if parts is None:
        return set(PARTS)
    chosen = set(parts)
    unknown = sorted(chosen - set(PARTS))
    if unknown:
        raise ValueError(f"unknown inventory part(s) {', '.join(unknown)}; the parts are {', '.join(PARTS)}")
    return chosen | {DATA_PARTS[part] for part in chosen if part in DATA_PARTS}


_ENCODER = msgspec.json.Encoder(order="sorted")
_DECODER = msgspec.json.Decoder(Inventory)


def dumps(inventory: Inventory) -> bytes:
    """The inventory as JSON (keys sorted: the same inventory, the same bytes)."""
    return _ENCODER.encode(inventory)


def loads(text: bytes | str) -> Inventory:
    """An inventory from JSON of schema 2.0 or 1.0; SchemaError names what is wrong."""
    try:
        return _DECODER.decode(text)
    except msgspec.ValidationError as exc:  # (JSON, but not of schema 2.0: maybe an older one)
        first_error = exc
    except msgspec.DecodeError as exc:
        raise SchemaError(f"not JSON: {exc}") from exc
    try:
        document = msgspec.json.decode(text)
    except msgspec.DecodeError as exc:
        raise SchemaError(f"not JSON: {exc}") from exc
    if isinstance(document, dict) and _major(document.get("schema_version")) == "1":
        return load(document)
    raise SchemaError(f"not an inventory of schema {SCHEMA_VERSION}: {first_error}")


def load(document: Mapping[str, Any] | Inventory) -> Inventory:
    """An inventory from decoded JSON (a dict) of schema 2.0 or 1.0; SchemaError names what is wrong."""
    if isinstance(document, Inventory):
        return document
    if not isinstance(document, Mapping):
        raise SchemaError(f"an inventory is a JSON object, not {type(document).__name__}")
    version = _major(document.get("schema_version"))
    if version == "1":
        from checks.inventory.migrate import from_1_0

        document = from_1_0(document)
    elif version != _major(SCHEMA_VERSION):
        raise SchemaError(f"inventory schema {document.get('schema_version')!r} is not one of "
                          f"{', '.join(READABLE_VERSIONS)}")
    try:
        return msgspec.convert(document, Inventory)
    except msgspec.ValidationError as exc:
        raise SchemaError(f"not an inventory of schema {SCHEMA_VERSION}: {exc}") from exc


def _major(version: Any) -> str:
    return str(version or "").split(".")[0]


__all__ = [
    "DATA_PARTS",
    "GLOBAL_SERVICES",
    "LAB_PARTS",
    "PARTS",
    "REGION_SERVICES",
    "SCHEMA_VERSION",
    "CollectionError",
    "Global",
    "IdSet",
    "Inventory",
    "Region",
    "SchemaError",
    "dumps",
    "load",
    "loads",
    "normalise_parts",
    "to_builtins",
]
