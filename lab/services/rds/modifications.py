"""When RDS applies each ModifyDBInstance setting, and what applying it costs.

From the RDS User Guide, "Settings for DB instances" (Overview.DBInstance.Modifying.html), and the API Reference of
ModifyDBInstance (each parameter's text): without ApplyImmediately, the settings below wait in
PendingModifiedValues for the instance's next maintenance window; "If you choose to apply changes immediately, your
new changes and any changes in the pending modifications queue are applied" (same page). Every other setting the
lab passes on applies at once, whatever ApplyImmediately says (PreferredBackupWindow and PreferredMaintenanceWindow
"asynchronously, as soon as possible"; DeletionProtection, CopyTagsToSnapshot, AutoMinorVersionUpgrade,
DBParameterGroupName's association, VpcSecurityGroupIds), and BackupRetentionPeriod from one nonzero value to another
"is asynchronously applied as soon as possible".

Known difference: NewDBInstanceIdentifier and DBSubnetGroupName are applied at once by the lab even without
ApplyImmediately (AWS renames or moves the instance in the window).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Deferred:
    """A setting that waits for the maintenance window unless ApplyImmediately: its DBInstance member (the
    same name in ModifyDBInstance's input and in PendingModifiedValues) and whether applying it is an outage."""

    member: str
    outage: bool  # on a Single-AZ instance; Multi-AZ fails over instead (a shorter outage)
    storage: bool = False  # then `storage-optimization`


DEFERRED: dict[str, Deferred] = {item.member: item for item in (
    Deferred("DBInstanceClass", outage=True),  # "If you modify the DB instance class, an outage occurs"
    Deferred("EngineVersion", outage=True),  # "Changing this parameter results in an outage"
    Deferred("LicenseModel", outage=True),
    Deferred("CACertificateIdentifier", outage=True),  # the new certificate needs a restart
    Deferred("MultiAZ", outage=False),  # "Changing this parameter doesn't result in an outage"
    Deferred("AllocatedStorage", outage=False, storage=True),
    Deferred("StorageType", outage=False, storage=True),
    Deferred("Iops", outage=False, storage=True),  # "doesn't result in an outage"
    Deferred("StorageThroughput", outage=False, storage=True),
    # 0 <-> nonzero only (nonzero -> nonzero applies at once): "Enabling and disabling backups can result in a
    # brief I/O suspension ... applied during the next maintenance window unless the ApplyImmediately parameter
    # is enabled"
    Deferred("BackupRetentionPeriod", outage=True),
)}

STORAGE_MEMBERS = frozenset(member for member, item in DEFERRED.items() if item.storage)
RESTARTING = frozenset({"DBInstanceClass", "EngineVersion", "LicenseModel", "CACertificateIdentifier"})
MIN_RETENTION, MAX_RETENTION = 0, 35  # "Must be a value from 0 to 35"
STORAGE_COOLDOWN_SECONDS = 6 * 3600  # no further storage change for six hours after one (Modifying page)


def retention_message(days: object) -> str:
    """RDS's refusal of a retention outside 0-35 (InvalidParameterValue). The wording is Neptune's (same control
    plane) adapted to RDS's range; AWS does not publish RDS's."""
    return f"Invalid backup retention period: {days}. Backup retention period must be between 0 and 35."


def outage_of(members: set[str], applying: dict[str, object], retention_before: int) -> bool:
    """Whether applying `members` takes the instance down (on Single-AZ): a class or engine change, or backups
    switched on or off."""
    for member in members:
        item = DEFERRED.get(member)
        if item is None or not item.outage:
            continue
        if member == "BackupRetentionPeriod" and (int(applying.get(member) or 0) > 0) == (retention_before > 0):
            continue
        return True
    return False
