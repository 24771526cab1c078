"""Which AWS services each lab needs, and what each backend is known to lack."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The services a learner's commands and the lab's engines use, per lab (see DESIGN.md's curriculum).
LAB_SERVICES: dict[str, tuple[str, ...]] = {
    "01-aws-backup": ("backup", "kms", "iam", "rds", "dynamodb", "ec2"),
    "02-s3-crr": ("s3", "iam"),
    "03-rds-snapshot-restore": ("rds",),
    "04-dynamodb-pitr-global": ("dynamodb",),
    "05-ebs-snapshots": ("ec2", "backup"),  # scheduled through AWS Backup; a DLM policy is the other way
    "06-rds-multi-az": ("rds",),
    "07-dr-strategy": ("route53", "rds", "dynamodb", "s3"),
    "08-backup-monitoring": ("cloudtrail", "backup"),
}

# The sandbox's embedded moto answers every one of these (the lab adds behaviour on top of several).
EMBEDDED_SERVICES = frozenset(
    {"s3", "dynamodb", "dynamodbstreams", "rds", "ec2", "backup", "kms", "iam", "sts", "route53",
     "cloudtrail", "fis", "cloudwatch", "logs", "sns", "sqs", "lambda", "events", "resourcegroupstaggingapi"}
)

# LocalStack without a paid plan answers 501 "not included in your license plan" for these.
LOCALSTACK_FREE_MISSING = frozenset({"rds", "backup", "cloudtrail", "dlm", "fis"})

# Services the lab's own engines answer whole, on any backend (lab/services: backup, cloudtrail, ebs, faults).
LAB_ENGINE_SERVICES = frozenset({"backup", "cloudtrail", "dlm", "fis"})


@dataclass(frozen=True)
class Probe:
    service: str
    operation: str  # a cheap read-only call that every implementation of the service answers


PROBES: dict[str, Probe] = {
    probe.service: probe
    for probe in (
        Probe("s3", "list_buckets"),
        Probe("dynamodb", "list_tables"),
        Probe("rds", "describe_db_instances"),
        Probe("ec2", "describe_volumes"),
        Probe("backup", "list_backup_vaults"),
        Probe("kms", "list_keys"),
        Probe("iam", "list_roles"),
        Probe("route53", "list_hosted_zones"),
        Probe("cloudtrail", "describe_trails"),
        Probe("dlm", "get_lifecycle_policies"),
        Probe("fis", "list_experiment_templates"),
        Probe("sts", "get_caller_identity"),
    )
}


def services_needed() -> list[str]:
    return sorted({service for services in LAB_SERVICES.values() for service in services})


# Error codes with which an emulator says it does not implement a service or an operation at all.
UNSUPPORTED_CODES = frozenset({"NotImplemented", "UnknownOperationException", "InvalidAction"})


def unsupported_error(exc: Any) -> bool:
    """True when a botocore ClientError says the backend lacks the service or operation (HTTP 501 Not
    Implemented, as LocalStack answers for services outside its plan, or one of UNSUPPORTED_CODES), rather than
    failing or refusing this particular request."""
    response = getattr(exc, "response", None) or {}
    code = response.get("Error", {}).get("Code", "")
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return code in UNSUPPORTED_CODES or status == 501
