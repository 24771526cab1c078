"""Modules renamed since a state file was written: snapshots pickle each object with its class's module, so a
world saved by an earlier layout loads into the current one through this table (and never silently breaks)."""

from __future__ import annotations

import io
import pickle
from typing import Any

RENAMED_MODULES = {
    "lab.sandbox.core": "lab.kernel.state",  # LabState
    "lab.engines._backup_audit": "lab.services.backup.audit_manager",
    "lab.engines._backup_config": "lab.services.backup.config_api",
    "lab.engines._backup_jobs": "lab.services.backup.jobs",
    "lab.engines._backup_resources": "lab.services.backup.resources",
    "lab.engines._backup_s3": "lab.services.backup.s3_backups",
    "lab.engines._backup_schedule": "lab.services.backup.schedule",
    "lab.engines._backup_state": "lab.services.backup.model",
    "lab.engines._backup_wire": "lab.gateway.codec.decode",  # (held no pickled class; the codec since)
    "lab.engines._drill_meter": "lab.services.drills.meter",
    "lab.engines._dynamodb_journal": "lab.services.dynamodb.journal",
    "lab.engines._fault_effects": "lab.services.faults.effects",
    "lab.engines._fault_rules": "lab.services.faults.rules",
    "lab.engines._fault_state": "lab.services.faults.model",
    "lab.engines._fis_actions": "lab.services.faults.fis_actions",
    "lab.engines._fis_api": "lab.services.faults.api",
    "lab.engines._fis_experiments": "lab.services.faults.fis_experiments",
    "lab.engines._fis_targets": "lab.services.faults.fis_targets",
    "lab.engines._rds_store": "lab.services.rds.store",
    "lab.engines._rds_wire": "lab.gateway.codec.decode",
    "lab.engines._route53_dns": "lab.services.route53.dns",
    "lab.engines._route53_health": "lab.services.route53.health",
    "lab.engines._s3_config": "lab.services.s3.replication",
    "lab.engines._s3_lifecycle": "lab.services.s3.lifecycle",
    "lab.engines._scenario_base": "lab.services.faults.scenarios",
    "lab.engines._scenario_data": "lab.services.faults.scenario_data",
    "lab.engines._scenario_outages": "lab.services.faults.scenario_outages",
    "lab.engines._volume_status": "lab.services.faults.api",
    "lab.engines.backup": "lab.services.backup.engine",
    "lab.engines.cloudtrail": "lab.services.cloudtrail.engine",
    "lab.engines.drills": "lab.services.drills.engine",
    "lab.engines.dynamodb": "lab.services.dynamodb.engine",
    "lab.engines.ebs": "lab.services.ebs.engine",
    "lab.engines.faults": "lab.services.faults.engine",
    "lab.engines.rds_data": "lab.services.rds.engine",
    "lab.engines.route53": "lab.services.route53.engine",
    "lab.engines.s3": "lab.services.s3.engine",
    "lab.engines.workload": "lab.services.workload.engine",
    "lab.gateway.context": "lab.kernel.context",
    "lab.sim.audit": "lab.gateway.audit",
}


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        return super().find_class(RENAMED_MODULES.get(module, module), name)


def loads(payload: bytes) -> Any:
    """pickle.loads, with classes of renamed modules found where they live now."""
    return _Unpickler(io.BytesIO(payload)).load()
