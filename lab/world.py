"""The SecureCart world: the shop's resources in two regions, seeded through the AWS APIs.

Names are fixed (DESIGN.md) so that labs, checks and docs agree. Seeding is idempotent: what exists is
left as it is.
"""

from __future__ import annotations

import copy
import logging
import random
import weakref
from datetime import UTC, datetime, timedelta
from json.encoder import encode_basestring_ascii as _json_string
from typing import Any

from botocore.exceptions import ClientError

from lab import config
from lab.backends.support import unsupported_error
from lab.kernel.port import Sandbox

log = logging.getLogger("lab.world")

APP_TAG = {"Key": "app", "Value": "securecart"}
ORDERS_DB = "securecart-orders-db"
ORDER_HISTORY_TABLE = "securecart-order-history"
INVOICES_BUCKET = "securecart-invoices-use1"
INVOICES_DR_BUCKET = "securecart-invoices-usw2"
IMAGES_BUCKET = "securecart-product-images"
LOGS_BUCKET = "securecart-logs"
BACKEND_INSTANCE = "securecart-backend"
BACKEND_VOLUME = "securecart-backend-data"
INITIAL_ORDERS = 48  # two days of hourly orders before the lab starts

PRIMARY_BUCKETS = (INVOICES_BUCKET, IMAGES_BUCKET, LOGS_BUCKET)
CUSTOMERS = ("alice", "bruno", "chen", "dara", "emeka", "farah", "goran", "hana", "ivan", "jun")


def make_order(number: int, created_at: datetime, rng: Any) -> dict[str, Any]:
    """One order; `rng` draws its customer and amount (random.Random, or anything with choice and randint)."""
    return {
        "id": number,
        "order_id": f"ORD-{number:06d}",
        "customer": rng.choice(CUSTOMERS),
        "amount": f"{rng.randint(500, 25000) / 100:.2f}",
        # (isoformat: strftime's "%Y-%m-%dT%H:%M:%SZ" at a sixth of the cost, one call per order placed)
        "created_at": created_at.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z",
    }


def initial_orders(seed: int, now: datetime, count: int = INITIAL_ORDERS) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    start = now - timedelta(hours=count)
    return [make_order(i + 1, start + timedelta(hours=i), rng) for i in range(count)]


def invoice_key(order: dict[str, Any]) -> str:
    return f"invoices/{order['created_at'][:7].replace('-', '/')}/{order['order_id']}.json"


def invoice_body(order: dict[str, Any]) -> bytes:
    """The invoice document: json.dumps(..., sort_keys=True) of its five fields, written out (one per order
    placed, and the inventory recomputes them to compare with S3's ETags)."""
    return (f'{{"amount": {_json_string(order["amount"])}, "currency": "USD", '
            f'"customer": {_json_string(order["customer"])}, "invoice_for": {_json_string(order["order_id"])}, '
            f'"issued_at": {_json_string(order["created_at"])}}}').encode()


def order_item(order: dict[str, Any]) -> dict[str, Any]:
    return {
        "order_id": {"S": order["order_id"]},
        "customer": {"S": order["customer"]},
        "amount": {"N": order["amount"]},
        "created_at": {"S": order["created_at"]},
        "status": {"S": "PLACED"},
    }


def _exists(call: Any, *not_found_codes: str) -> bool:
    try:
        call()
        return True
    except ClientError as exc:
        if exc.response["Error"]["Code"] in not_found_codes:
            return False
        raise


def seed_world(sandbox: Sandbox) -> None:
    """Create every world resource that is missing, and the initial orders in each store.

    A part whose service the backend does not offer (LocalStack's free build answers 501 for RDS) is left out
    of the world with a warning (`lab status`), and recorded in `lab.world_missing`; any other error stops
    the seeding as before.
    """
    now = datetime.fromtimestamp(int(sandbox.clock.now()), tz=UTC)
    if not sandbox.lab.orders:
        sandbox.lab.orders = initial_orders(sandbox.lab.seed, now)
    missing: list[str] = []
    for part, what, seed in (("s3", "S3 buckets and invoices", _seed_s3),
                             ("dynamodb", f"DynamoDB table {ORDER_HISTORY_TABLE}", _seed_dynamodb),
                             ("rds", f"RDS instance {ORDERS_DB}", _seed_rds),
                             ("ec2", f"EC2 instance {BACKEND_INSTANCE} and its volume", _seed_ec2)):
        try:
            seed(sandbox, sandbox.lab.orders)
        except ClientError as exc:
            if not unsupported_error(exc):
                raise
            error = exc.response.get("Error", {})
            message = (f"the SecureCart world has no {what}: the backend ({sandbox.backend_name}) does not offer "
                       f"{part} ({error.get('Code', '?')}: {error.get('Message', '')})"[:400])
            log.warning(message)
            sandbox.warnings.append(message)
            missing.append(part)
    sandbox.lab.world_missing = missing


def world_missing(lab: Any) -> list[str]:
    """The parts of the world the backend could not hold (see seed_world); [] for states saved before."""
    return list(getattr(lab, "world_missing", None) or [])


def _seed_s3(sandbox: Sandbox, orders: list[dict[str, Any]]) -> None:
    """The shop's buckets in us-east-1, the invoices' DR bucket in us-west-2 (all versioning off)."""
    east, west = config.PRIMARY_REGION, config.DR_REGION
    for region, names in ((east, PRIMARY_BUCKETS), (west, (INVOICES_DR_BUCKET,))):
        s3 = sandbox.client("s3", region)
        existing = {bucket["Name"] for bucket in s3.list_buckets()["Buckets"]}
        for name in names:
            if name in existing:
                continue
            kwargs: dict[str, Any] = {"Bucket": name}
            if region != "us-east-1":
                kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
            s3.create_bucket(**kwargs)
            s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [APP_TAG]})
    s3 = sandbox.client("s3", east)
    for order in orders:
        s3.put_object(Bucket=INVOICES_BUCKET, Key=invoice_key(order), Body=invoice_body(order),
                      ContentType="application/json")
    for product in ("mug", "tshirt", "sticker", "hoodie", "cap"):
        s3.put_object(Bucket=IMAGES_BUCKET, Key=f"products/{product}.png",
                      Body=bytes([137, 80, 78, 71]) + product.encode() * 64, ContentType="image/png")
    s3.put_object(Bucket=LOGS_BUCKET, Key="app/securecart-backend.log",
                  Body="".join(f"{o['created_at']} order {o['order_id']} placed\n" for o in orders).encode())


def _seed_dynamodb(sandbox: Sandbox, orders: list[dict[str, Any]]) -> None:
    """The order history table, PITR off."""
    dynamodb = sandbox.client("dynamodb", config.PRIMARY_REGION)
    if not _exists(lambda: dynamodb.describe_table(TableName=ORDER_HISTORY_TABLE), "ResourceNotFoundException"):
        dynamodb.create_table(
            TableName=ORDER_HISTORY_TABLE,
            KeySchema=[{"AttributeName": "order_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "order_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            Tags=[APP_TAG],
        )
    for start in range(0, len(orders), 25):
        dynamodb.batch_write_item(RequestItems={ORDER_HISTORY_TABLE: [
            {"PutRequest": {"Item": order_item(order)}} for order in orders[start:start + 25]]})


def _seed_rds(sandbox: Sandbox, orders: list[dict[str, Any]]) -> None:
    """The orders database, automated backups off, single-AZ (its rows: the rds-data engine)."""
    east = config.PRIMARY_REGION
    rds = sandbox.client("rds", east)
    if not _exists(lambda: rds.describe_db_instances(DBInstanceIdentifier=ORDERS_DB), "DBInstanceNotFound",
                   "DBInstanceNotFoundFault"):
        rds.create_db_instance(
            DBInstanceIdentifier=ORDERS_DB, Engine="postgres", EngineVersion="16.3", DBInstanceClass="db.t3.micro",
            AllocatedStorage=20, MasterUsername="securecart", MasterUserPassword="securecart-lab-only",
            DBName="orders", AvailabilityZone=f"{east}a", BackupRetentionPeriod=0, MultiAZ=False,
            StorageEncrypted=True, Tags=[APP_TAG],
        )


def _seed_ec2(sandbox: Sandbox, orders: list[dict[str, Any]]) -> None:
    """The backend instance and its data volume."""
    east = config.PRIMARY_REGION
    ec2 = sandbox.client("ec2", east)
    found = ec2.describe_instances(Filters=[
        {"Name": "tag:Name", "Values": [BACKEND_INSTANCE]},
        {"Name": "instance-state-name", "Values": ["pending", "running", "stopped"]}])
    if not any(r["Instances"] for r in found["Reservations"]):
        images = ec2.describe_images(Owners=["amazon"], Filters=[
            {"Name": "name", "Values": ["al2023-ami-2023.*-x86_64"]}])["Images"]
        image_id = max(images, key=lambda img: img["Name"])["ImageId"]  # the newest Amazon Linux 2023
        instance = ec2.run_instances(
            ImageId=image_id, InstanceType="t3.micro", MinCount=1, MaxCount=1,
            Placement={"AvailabilityZone": f"{east}a"},
            TagSpecifications=[{"ResourceType": "instance",
                                "Tags": [{"Key": "Name", "Value": BACKEND_INSTANCE}, APP_TAG]}],
        )["Instances"][0]
        volume = ec2.create_volume(
            AvailabilityZone=f"{east}a", Size=20, VolumeType="gp3", Encrypted=True,
            TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "Name", "Value": BACKEND_VOLUME}, APP_TAG]}],
        )
        ec2.attach_volume(VolumeId=volume["VolumeId"], InstanceId=instance["InstanceId"], Device="/dev/sdf")


# moto gave every AMI a placeholder snapshot owned by the account, which a learner never made; the patch
# ami-without-placeholder-snapshot keeps them out of new states, a state saved before still holds them.
_AMI_SNAPSHOT = "Auto-created snapshot for AMI"


def _count(count: Any, region: str, name: str) -> int:
    try:
        return int(count(region, name))
    except LookupError:  # deleted between listing and counting
        return 0


# The last counts of each sandbox, with the world they were counted in: counts change only when the world does
# (a state-changing call or an engine's step), and a month-old world is 100,000 objects to count.
_COUNTED: weakref.WeakKeyDictionary[Any, tuple[tuple[Any, int, int], dict[str, dict[str, int]]]] = (
    weakref.WeakKeyDictionary())


def resource_counts(sandbox: Sandbox) -> dict[str, dict[str, int]]:
    """What the sandbox holds, per region: the figures `lab status` shows (a kind whose service the backend
    does not offer is left out)."""
    lab = sandbox.lab
    world = (lab, lab.seq, getattr(sandbox.engines, "steps_run", -1))
    counted = _COUNTED.get(sandbox)
    if counted is not None and counted[0][0] is lab and counted[0][1:] == world[1:]:
        return copy.deepcopy(counted[1])
    counts = _count_everything(sandbox)
    _COUNTED[sandbox] = (world, copy.deepcopy(counts))
    return counts


def _count_everything(sandbox: Sandbox) -> dict[str, dict[str, int]]:
    data = sandbox.data  # (objects and items counted in the backend's models where it can)
    counts: dict[str, dict[str, int]] = {region: _region_counts(sandbox, data, region) for region in config.REGIONS}
    counts["orders"] = {"rds_rows": len(sandbox.lab.orders)}
    return counts


def _region_counts(sandbox: Sandbox, data: Any, region: str) -> dict[str, int]:
    s3 = sandbox.client("s3", region)
    dynamodb = sandbox.client("dynamodb", region)
    rds = sandbox.client("rds", region)
    ec2 = sandbox.client("ec2", region)
    backup = sandbox.client("backup", region)
    found: dict[str, int] = {}
    buckets = _offered(lambda: [b["Name"] for b in s3.list_buckets(BucketRegion=region)["Buckets"]])
    if buckets is not None:
        found["s3_buckets"] = len(buckets)
        found["s3_objects"] = sum(_count(data.count_objects, region, bucket) for bucket in buckets)
    tables = _offered(lambda: list(dynamodb.list_tables()["TableNames"]))
    if tables is not None:
        found["dynamodb_tables"] = len(tables)
        found["dynamodb_items"] = sum(_count(data.count_items, region, table) for table in tables)
    live = [{"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}]
    for kind, call in (
        ("rds_instances", lambda: len(rds.describe_db_instances()["DBInstances"])),
        ("rds_snapshots", lambda: len(rds.describe_db_snapshots()["DBSnapshots"])),
        ("ec2_instances", lambda: sum(len(r["Instances"])
                                      for r in ec2.describe_instances(Filters=live)["Reservations"])),
        ("ebs_volumes", lambda: len(ec2.describe_volumes()["Volumes"])),
        # (through the data layer: DescribeSnapshots looks each snapshot's tags up among all tags, and a month
        # of hourly AWS Backup is 840 snapshots)
        ("ebs_snapshots", lambda: sum(1 for snap in data.ebs_snapshots(region)
                                      if not (snap.description or "").startswith(_AMI_SNAPSHOT))),
        ("backup_vaults", lambda: len(backup.list_backup_vaults()["BackupVaultList"])),
        ("backup_plans", lambda: len(backup.list_backup_plans()["BackupPlansList"])),
    ):
        value = _offered(call)
        if value is not None:
            found[kind] = value
    return found


def _offered(call: Any) -> Any:
    """call()'s answer, or None when the backend does not offer the service it asks."""
    try:
        return call()
    except ClientError as exc:
        if unsupported_error(exc):
            return None
        raise
