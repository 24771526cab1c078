"""A change made without --apply-immediately is judged as not applied (issue 15): the collector carries RDS's
PendingModifiedValues and the maintenance window, and the checks judge what the instance runs with."""

from __future__ import annotations

import uuid

import pytest

from checks import registry
from lab.inventory import collect_from_endpoint
from tests.integration._rds import wait_available

pytestmark = pytest.mark.integration


def test_a_change_waiting_for_the_maintenance_window_does_not_pass(sandbox):
    rds = sandbox.client("rds")
    name = f"pending-{uuid.uuid4().hex[:8]}"
    rds.create_db_instance(DBInstanceIdentifier=name, DBInstanceClass="db.t3.micro", Engine="postgres",
                           MasterUsername="shop", MasterUserPassword="not-a-secret-1", AllocatedStorage=20,
                           BackupRetentionPeriod=0, PreferredMaintenanceWindow="sun:05:00-sun:05:30")
    wait_available(sandbox, rds, name)  # RDS modifies only an available instance
    rds.modify_db_instance(DBInstanceIdentifier=name, BackupRetentionPeriod=7, MultiAZ=True, ApplyImmediately=False)
    shown = rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]
    found = collect_from_endpoint(sandbox.endpoint, ["rds"])
    db = found.regions["us-east-1"].rds.instances[name]
    assert db.maintenance_window == "sun:05:00-sun:05:30"
    assert (shown.get("PendingModifiedValues") or {}).get("BackupRetentionPeriod") == 7
    assert db.pending.backup_retention == 7 and db.backup_retention == 0
    result = registry.run("DB_INSTANCE_BACKUP_ENABLED", found, {"dbInstanceIdentifiers": [name]})[0]
    assert (result.status, result.reason) == ("FAIL", "backups_off")
    assert "only pending until the maintenance window Sun 05:00 UTC" in result.message
    assert "--apply-immediately" in result.message
