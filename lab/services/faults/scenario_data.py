"""Scenarios that destroy data: an accident, an attacker, a bad deploy. They act once, through the AWS APIs
(and the RDS data plane's SQL), so that whatever protects the data on AWS -- versioning, Object Lock, vault
lock, deletion protection, point-in-time recovery -- protects it here too. What they destroy stays destroyed
until the learner recovers it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from lab import config, world
from lab.services.faults.scenarios import Param, Scenario
from lab.services.rds.engine import RdsData

if TYPE_CHECKING:
    from lab.services.faults.effects import Effects

_REGION = Param("region", "region", config.PRIMARY_REGION, "the region of the resource")
_WHICH = Param("which", "choice", "newest", "newest or oldest first", choices=("newest", "oldest"))


class AccidentalDeletion(Scenario):
    name = "accidental-deletion"
    title = "Accidental deletion"
    description = ("Someone deletes data by mistake: DynamoDB items, S3 objects (a delete marker where versioning "
                   "is on), RDS rows, or a whole EBS volume.")
    params = (
        Param("target", "choice", "items", "what is deleted", choices=("items", "objects", "rows", "volume")),
        Param("count", "int", 10, "how many items, objects or rows", minimum=1),
        Param("resource", "str", "", "the table, bucket, DB instance or volume id (empty: SecureCart's own)"),
        _REGION,
        _WHICH,
    )

    def inject(self, effects: Effects, params: Mapping[str, Any]) -> dict[str, Any]:
        target, region = params["target"], params["region"]
        if target == "items":
            deleted = _delete_items(effects, region, params["resource"] or world.ORDER_HISTORY_TABLE,
                                    params["count"], params["which"])
        elif target == "objects":
            deleted = _delete_objects(effects, region, params["resource"] or world.INVOICES_BUCKET,
                                      params["count"], params["which"])
        elif target == "rows":
            deleted = _change_orders(effects, region, params["resource"] or world.ORDERS_DB, "delete",
                                     params["count"], params["which"])
        else:
            deleted = _delete_volume(effects, region, params["resource"])
        return {"target": target, **deleted}


class Ransomware(Scenario):
    name = "ransomware"
    title = "Ransomware"
    description = ("An attacker overwrites the invoices with encrypted junk, then tries to delete their older "
                   "versions and every AWS Backup recovery point it can find. Versioning keeps the older "
                   "versions; Object Lock and a vault lock refuse the deletions; everything else is gone.")
    params = (
        Param("bucket", "str", world.INVOICES_BUCKET, "the bucket whose objects are overwritten"),
        Param("count", "int", 0, "how many objects (0: all of them)", minimum=0),
        Param("delete_versions", "bool", True, "then delete the objects' older versions"),
        Param("delete_recovery_points", "bool", True, "then delete AWS Backup recovery points in every region"),
        _REGION,
    )

    def inject(self, effects: Effects, params: Mapping[str, Any]) -> dict[str, Any]:
        region, bucket = params["region"], params["bucket"]
        s3 = effects.attacker_client("s3", region)
        keys = [obj["Key"] for obj in _objects(s3, bucket, "oldest")]
        if params["count"]:
            keys = keys[:params["count"]]
        seed = effects.sandbox.lab.seed
        for key in keys:
            junk = (b"ENCRYPTED BY RANSOMWARE -- PAY TO RECOVER\n"
                    + hashlib.sha256(f"{seed}:{key}".encode()).digest() * 16)
            s3.put_object(Bucket=bucket, Key=key, Body=junk, ContentType="application/octet-stream")
        outcome: dict[str, Any] = {"bucket": bucket, "overwritten": len(keys), "keys": keys}
        if params["delete_versions"]:
            outcome.update(_delete_old_versions(s3, bucket, set(keys)))
        if params["delete_recovery_points"]:
            outcome.update(_delete_recovery_points(effects))
        effects.destroyed("s3", {"bucket": bucket, "overwritten": len(keys),
                                 "versions_deleted": outcome.get("versions_deleted", 0),
                                 "recovery_points_deleted": outcome.get("recovery_points_deleted", 0)})
        return outcome


class BadDeploy(Scenario):
    name = "bad-deploy"
    title = "Bad deploy"
    description = ("A faulty release runs a destructive statement against the orders database at time T: the "
                   "newest orders are deleted, or altered (amounts zeroed, customers overwritten).")
    params = (
        Param("at", "duration", None, "how long from now the deploy happens (empty: now)"),
        Param("mode", "choice", "delete", "what the bad statement does", choices=("delete", "alter")),
        Param("count", "int", 20, "how many orders it touches", minimum=1),
        Param("db", "str", world.ORDERS_DB, "the DB instance"),
        _REGION,
        _WHICH,
    )
    delay_param = "at"

    def inject(self, effects: Effects, params: Mapping[str, Any]) -> dict[str, Any]:
        changed = _change_orders(effects, params["region"], params["db"], params["mode"], params["count"],
                                 params["which"])
        return {"mode": params["mode"], **changed}


# -- the acts ------------------------------------------------------------------------------------------------

def _delete_items(effects: Effects, region: str, table: str, count: int, which: str) -> dict[str, Any]:
    dynamodb = effects.client("dynamodb", region)
    try:
        schema = dynamodb.describe_table(TableName=table)["Table"]["KeySchema"]
    except ClientError as exc:
        raise ValueError(f"no DynamoDB table {table} in {region}") from exc
    key_names = [part["AttributeName"] for part in schema]
    items = [item for page in dynamodb.get_paginator("scan").paginate(TableName=table) for item in page["Items"]]
    items.sort(key=lambda item: (_text(item.get("created_at")), [_text(item.get(name)) for name in key_names]),
               reverse=which == "newest")
    chosen = [{name: item[name] for name in key_names} for item in items[:count]]
    for key in chosen:
        dynamodb.delete_item(TableName=table, Key=key)
    deleted = ["/".join(_text(key[name]) for name in key_names) for key in chosen]
    effects.destroyed("dynamodb", {"table": table, "region": region, "items": deleted})
    return {"resource": table, "region": region, "deleted": deleted, "count": len(deleted)}


def _delete_objects(effects: Effects, region: str, bucket: str, count: int, which: str) -> dict[str, Any]:
    s3 = effects.client("s3", region)
    keys = [obj["Key"] for obj in _objects(s3, bucket, which)][:count]
    for start in range(0, len(keys), 1000):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": key} for key in keys[start:start + 1000]],
                                                 "Quiet": True})
    effects.destroyed("s3", {"bucket": bucket, "region": region, "objects": keys})
    return {"resource": bucket, "region": region, "deleted": keys, "count": len(keys)}


# The rows a scenario changes, chosen first (to report them) and then changed by id; the ids are bound as one
# JSON array so the journaled statement stays one statement with one parameter.
_NEWEST_ORDERS = "SELECT id, order_id FROM orders ORDER BY id DESC LIMIT ?"
_OLDEST_ORDERS = "SELECT id, order_id FROM orders ORDER BY id ASC LIMIT ?"
_DELETE_ORDERS = "DELETE FROM orders WHERE id IN (SELECT value FROM json_each(?))"
_CORRUPT_ORDERS = ("UPDATE orders SET amount = 0, customer = 'corrupted-by-deploy' "
                   "WHERE id IN (SELECT value FROM json_each(?))")


def _change_orders(effects: Effects, region: str, db: str, mode: str, count: int, which: str) -> dict[str, Any]:
    engine = effects.sandbox.engines.find(RdsData)
    if engine is None:
        raise ValueError("this sandbox has no RDS data plane (engine rds-data) to run SQL on")
    select = _NEWEST_ORDERS if which == "newest" else _OLDEST_ORDERS
    found = engine.run_sql(region, db, select, write=False, parameters=[int(count)])
    rows = found.rows if found is not None else []
    ids = json.dumps([int(row[0]) for row in rows])
    if rows:
        change = _DELETE_ORDERS if mode == "delete" else _CORRUPT_ORDERS
        engine.run_sql(region, db, change, write=True, parameters=[ids])
    orders = sorted(str(row[1]) for row in rows)
    effects.destroyed("rds", {"db": db, "region": region, "mode": mode, "orders": orders})
    return {"resource": db, "region": region, "orders": orders, "count": len(orders)}


def _delete_volume(effects: Effects, region: str, volume_id: str) -> dict[str, Any]:
    ec2 = effects.client("ec2", region)
    if volume_id:
        filters: dict[str, Any] = {"VolumeIds": [volume_id]}
    else:
        filters = {"Filters": [{"Name": "tag:Name", "Values": [world.BACKEND_VOLUME]}]}
    try:
        volumes = ec2.describe_volumes(**filters)["Volumes"]
    except ClientError as exc:
        raise ValueError(f"no EBS volume {volume_id} in {region}") from exc
    if not volumes:
        raise ValueError(f"no EBS volume {volume_id or 'tagged Name=' + world.BACKEND_VOLUME} in {region}")
    volume = volumes[0]
    for attachment in volume.get("Attachments", []):
        ec2.detach_volume(VolumeId=volume["VolumeId"], InstanceId=attachment["InstanceId"], Force=True)
    ec2.delete_volume(VolumeId=volume["VolumeId"])
    detail = {"volume": volume["VolumeId"], "size_gib": volume["Size"], "az": volume["AvailabilityZone"],
              "attached_to": [a["InstanceId"] for a in volume.get("Attachments", [])],
              "tags": {tag["Key"]: tag["Value"] for tag in volume.get("Tags", [])}}
    effects.destroyed("ebs", {"region": region, **detail})
    return {"resource": volume["VolumeId"], "region": region, "deleted": [volume["VolumeId"]], "count": 1, **detail}


def _objects(s3: Any, bucket: str, which: str) -> list[dict[str, Any]]:
    try:
        found = [obj for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
                 for obj in page.get("Contents", [])]
    except ClientError as exc:
        raise ValueError(f"no S3 bucket {bucket}") from exc
    found.sort(key=lambda obj: (obj["LastModified"], obj["Key"]), reverse=which == "newest")
    return found


def _delete_old_versions(s3: Any, bucket: str, keys: set[str]) -> dict[str, Any]:
    deleted, refused = 0, {}
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for version in page.get("Versions", []):
            if version["IsLatest"] or version["Key"] not in keys:
                continue
            try:
                s3.delete_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])
                deleted += 1
            except ClientError as exc:
                code = exc.response["Error"].get("Code", "Error")
                refused[code] = refused.get(code, 0) + 1
    return {"versions_deleted": deleted, "versions_refused": refused}


def _delete_recovery_points(effects: Effects) -> dict[str, Any]:
    deleted, refused = 0, {}
    for region in config.REGIONS:
        backup = effects.attacker_client("backup", region)
        try:
            vaults = [v["BackupVaultName"] for page in backup.get_paginator("list_backup_vaults").paginate()
                      for v in page["BackupVaultList"]]
        except ClientError as exc:
            code = exc.response["Error"].get("Code", "Error")
            refused[code] = refused.get(code, 0) + 1
            continue
        for vault in vaults:
            try:
                points = [p["RecoveryPointArn"] for page in backup.get_paginator(
                    "list_recovery_points_by_backup_vault").paginate(BackupVaultName=vault)
                    for p in page.get("RecoveryPoints", [])]
            except ClientError as exc:
                code = exc.response["Error"].get("Code", "Error")
                refused[code] = refused.get(code, 0) + 1
                continue
            for arn in points:
                try:
                    backup.delete_recovery_point(BackupVaultName=vault, RecoveryPointArn=arn)
                    deleted += 1
                except ClientError as exc:
                    code = exc.response["Error"].get("Code", "Error")
                    refused[code] = refused.get(code, 0) + 1
    return {"recovery_points_deleted": deleted, "recovery_points_refused": refused}


def _text(value: Any) -> str:
    """A DynamoDB attribute value (client form) as sortable text."""
    if isinstance(value, dict) and value:
        inner = next(iter(value.values()))
        return str(inner)
    return ""
