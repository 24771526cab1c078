"""AWS Fault Injection Service through boto3: templates, experiments acting in sim time, AWS's states."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.integration._faults_support import advance, aws, error_of, http

pytestmark = pytest.mark.integration

ROLE_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "fis.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


@pytest.fixture
def world(sandbox: Any) -> dict[str, Any]:
    """A role for FIS and an instance with a volume of this test's own, tagged uniquely."""
    tag = uuid.uuid4().hex[:10]
    role = aws(sandbox, "iam").create_role(RoleName=f"fis-{tag}", AssumeRolePolicyDocument=ROLE_POLICY)["Role"]["Arn"]
    ec2 = aws(sandbox, "ec2")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, Placement={"AvailabilityZone": "us-east-1b"},
                                 TagSpecifications=[{"ResourceType": "instance",
                                                     "Tags": [{"Key": "fis-test", "Value": tag}]}])["Instances"][0]
    volume = ec2.create_volume(AvailabilityZone="us-east-1b", Size=8, TagSpecifications=[
        {"ResourceType": "volume", "Tags": [{"Key": "fis-test", "Value": tag}]}])["VolumeId"]
    return {"tag": tag, "role": role, "instance": instance["InstanceId"], "volume": volume}


def state_of(ec2: Any, instance_id: str) -> str:
    return ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]["State"]["Name"]


def template(fis: Any, world: dict[str, Any], actions: dict[str, Any], targets: dict[str, Any]) -> str:
    return fis.create_experiment_template(
        description=f"test {world['tag']}", roleArn=world["role"], stopConditions=[{"source": "none"}],
        targets=targets, actions=actions, tags={"test": world["tag"]})["experimentTemplate"]["id"]


def test_templates_are_stored_listed_and_validated(sandbox: Any, world: dict[str, Any]) -> None:
    fis = aws(sandbox, "fis")
    targets = {"Instances": {"resourceType": "aws:ec2:instance", "resourceTags": {"fis-test": world["tag"]},
                             "selectionMode": "ALL"}}
    actions = {"stop": {"actionId": "aws:ec2:stop-instances", "targets": {"Instances": "Instances"}}}
    template_id = template(fis, world, actions, targets)
    assert template_id.startswith("EXT")
    got = fis.get_experiment_template(id=template_id)["experimentTemplate"]
    assert got["targets"] == targets and got["actions"]["stop"]["actionId"] == "aws:ec2:stop-instances"
    assert got["tags"] == {"test": world["tag"]} and got["roleArn"] == world["role"]
    assert template_id in {t["id"] for t in fis.list_experiment_templates()["experimentTemplates"]}
    west = aws(sandbox, "fis", "us-west-2").list_experiment_templates()["experimentTemplates"]
    assert template_id not in {t["id"] for t in west}  # templates are regional
    bad = {"stop": {"actionId": "aws:ec2:stop-instances", "targets": {"Instances": "Missing"}}}
    refused = error_of(lambda: fis.create_experiment_template(
        description="bad", roleArn=world["role"], stopConditions=[{"source": "none"}], targets=targets, actions=bad))
    assert (refused["code"], refused["status"]) == ("ValidationException", 400)
    assert "not defined" in refused["message"]
    fis.delete_experiment_template(id=template_id)
    assert error_of(lambda: fis.get_experiment_template(id=template_id))["code"] == "ResourceNotFoundException"
    assert {a["id"] for a in fis.list_actions()["actions"]} >= {"aws:fis:wait", "aws:ebs:pause-volume-io"}


def test_an_experiment_acts_in_sim_time_and_reports_aws_states(sandbox: Any, world: dict[str, Any]) -> None:
    fis, ec2 = aws(sandbox, "fis"), aws(sandbox, "ec2")
    template_id = template(fis, world, actions={
        "stop": {"actionId": "aws:ec2:stop-instances", "parameters": {"startInstancesAfterDuration": "PT5M"},
                 "targets": {"Instances": "Instances"}},
        "then-wait": {"actionId": "aws:fis:wait", "parameters": {"duration": "PT2M"}, "startAfter": ["stop"]},
    }, targets={"Instances": {"resourceType": "aws:ec2:instance", "resourceTags": {"fis-test": world["tag"]},
                              "selectionMode": "COUNT(1)"}})
    experiment = fis.start_experiment(experimentTemplateId=template_id, tags={"run": "1"})["experiment"]
    assert experiment["state"]["status"] == "initiating" and experiment["id"].startswith("EXP")
    advance(sandbox, "10s")
    running = fis.get_experiment(id=experiment["id"])["experiment"]
    assert running["state"] == {"status": "running", "reason": "Experiment is running."}
    assert running["actions"]["stop"]["state"]["status"] == "running"
    assert running["actions"]["then-wait"]["state"]["status"] == "pending"
    assert state_of(ec2, world["instance"]) in ("stopping", "stopped")
    resolved = fis.list_experiment_resolved_targets(experimentId=experiment["id"])["resolvedTargets"]
    assert [r["targetInformation"]["arn"].rsplit("/", 1)[1] for r in resolved] == [world["instance"]]
    advance(sandbox, "5m")
    middle = fis.get_experiment(id=experiment["id"])["experiment"]
    assert middle["actions"]["stop"]["state"]["status"] == "completed"
    assert middle["actions"]["then-wait"]["state"]["status"] == "running"
    assert state_of(ec2, world["instance"]) in ("pending", "running")
    advance(sandbox, "2m")
    done = fis.get_experiment(id=experiment["id"])["experiment"]
    assert done["state"] == {"status": "completed", "reason": "Experiment completed."}
    stop = done["actions"]["stop"]
    assert (stop["endTime"] - stop["startTime"]).total_seconds() == 300
    assert (done["endTime"] - done["startTime"]).total_seconds() == 420
    summary = next(e for e in fis.list_experiments(experimentTemplateId=template_id)["experiments"])
    assert summary["state"]["status"] == "completed" and summary["tags"] == {"run": "1"}


def test_stopping_an_experiment_undoes_what_it_did(sandbox: Any, world: dict[str, Any]) -> None:
    fis = aws(sandbox, "fis")
    template_id = template(fis, world, actions={
        "pause": {"actionId": "aws:ebs:pause-volume-io", "parameters": {"duration": "PT30M"},
                  "targets": {"Volumes": "Volumes"}}},
        targets={"Volumes": {"resourceType": "aws:ec2:ebs-volume", "resourceArns": [
            f"arn:aws:ec2:us-east-1:000000000000:volume/{world['volume']}"], "selectionMode": "ALL"}})
    experiment_id = fis.start_experiment(experimentTemplateId=template_id)["experiment"]["id"]
    advance(sandbox, "10s")
    ec2 = aws(sandbox, "ec2")

    def status(volume: str) -> tuple[str, str]:
        item = ec2.describe_volume_status(VolumeIds=[volume])["VolumeStatuses"][0]["VolumeStatus"]
        return item["Status"], {d["Name"]: d["Status"] for d in item["Details"]}["io-enabled"]

    assert status(world["volume"]) == ("impaired", "failed")
    others = [v for v in ec2.describe_volume_status()["VolumeStatuses"] if v["VolumeId"] != world["volume"]]
    assert others and all(v["VolumeStatus"]["Status"] == "ok" for v in others)
    stopping = fis.stop_experiment(id=experiment_id)["experiment"]
    assert stopping["state"]["status"] == "stopping"
    assert stopping["actions"]["pause"]["state"]["status"] == "stopped"
    assert status(world["volume"]) == ("ok", "passed")
    advance(sandbox, "1s")
    assert fis.get_experiment(id=experiment_id)["experiment"]["state"] == {
        "status": "stopped", "reason": "Experiment stopped by user."}


def test_an_experiment_without_targets_fails_with_a_reason(sandbox: Any, world: dict[str, Any]) -> None:
    fis = aws(sandbox, "fis")
    template_id = template(fis, world, actions={
        "stop": {"actionId": "aws:ec2:stop-instances", "targets": {"Instances": "Nothing"}}},
        targets={"Nothing": {"resourceType": "aws:ec2:instance", "resourceTags": {"fis-test": "no-such-tag"},
                             "selectionMode": "ALL"}})
    experiment_id = fis.start_experiment(experimentTemplateId=template_id)["experiment"]["id"]
    advance(sandbox, "10s")
    failed = fis.get_experiment(id=experiment_id)["experiment"]
    assert failed["state"]["status"] == "failed" and "empty set" in failed["state"]["reason"]
    assert failed["state"]["error"]["code"] == "EmptyTargetResolution"
    assert failed["actions"]["stop"]["state"]["status"] == "cancelled"


def test_injected_api_errors_reach_boto3_and_throttling_is_retried(sandbox: Any, world: dict[str, Any]) -> None:
    fis = aws(sandbox, "fis", "us-west-2")
    roles = {"Roles": {"resourceType": "aws:iam:role", "resourceArns": [world["role"]], "selectionMode": "ALL"}}
    template_id = template(fis, world, targets=roles, actions={
        "throttle": {"actionId": "aws:fis:inject-api-throttle-error", "targets": {"Roles": "Roles"},
                     "parameters": {"service": "ec2", "operations": "DescribeInstances", "percentage": "100",
                                    "duration": "PT10M"}},
        "internal": {"actionId": "aws:fis:inject-api-internal-error", "targets": {"Roles": "Roles"},
                     "parameters": {"service": "ec2", "operations": "DescribeVolumes", "percentage": "100",
                                    "duration": "PT10M"}}})
    experiment_id = fis.start_experiment(experimentTemplateId=template_id)["experiment"]["id"]
    advance(sandbox, "10s")
    ec2 = aws(sandbox, "ec2", "us-west-2", Config(retries={"mode": "standard", "total_max_attempts": 2}))
    try:
        assert error_of(ec2.describe_instances) == {"code": "RequestLimitExceeded",
                                                    "message": "Request limit exceeded.", "status": 503, "retries": 1}
        assert error_of(ec2.describe_volumes)["code"] == "InternalError"
        ec2.describe_subnets()  # not named: untouched
        aws(sandbox, "ec2").describe_instances()  # another region: untouched
    finally:
        fis.stop_experiment(id=experiment_id)
    ec2.describe_instances()
    with pytest.raises(ClientError):
        aws(sandbox, "fis").get_experiment(id=experiment_id)  # experiments are regional


def test_every_other_action_acts_and_ends_with_the_experiment(sandbox: Any, world: dict[str, Any]) -> None:
    tag = world["tag"]
    rds, s3, dynamodb, ec2 = aws(sandbox, "rds"), aws(sandbox, "s3"), aws(sandbox, "dynamodb"), aws(sandbox, "ec2")
    db = rds.create_db_instance(DBInstanceIdentifier=f"fis-{tag}", Engine="postgres", DBInstanceClass="db.t3.micro",
                                AllocatedStorage=20, MasterUsername="u", MasterUserPassword="password123",
                                AvailabilityZone="us-east-1a", MultiAZ=True)["DBInstance"]
    s3.create_bucket(Bucket=f"fis-{tag}")
    s3.put_bucket_tagging(Bucket=f"fis-{tag}", Tagging={"TagSet": [{"Key": "fis-test", "Value": tag}]})
    table = dynamodb.create_table(
        TableName=f"fis-{tag}", BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}])["TableDescription"]
    reservation = ec2.describe_instances(InstanceIds=[world["instance"]])["Reservations"][0]
    address = reservation["Instances"][0]["PrivateIpAddress"]
    advance(sandbox, "15m")  # the DB instance is created (RDS refuses to reboot one that is not available)
    fis = aws(sandbox, "fis")
    by_arn = {"selectionMode": "ALL"}
    template_id = template(fis, world, targets={
        "db": {"resourceType": "aws:rds:db", "resourceArns": [db["DBInstanceArn"]], **by_arn},
        "bucket": {"resourceType": "aws:s3:bucket", "resourceTags": {"fis-test": tag}, **by_arn},
        "table": {"resourceType": "aws:dynamodb:global-table", "resourceArns": [table["TableArn"]], **by_arn},
        "zone": {"resourceType": "aws:ec2:subnet", "parameters": {"availabilityZoneIdentifier": "us-east-1b"},
                 **by_arn},
        "roles": {"resourceType": "aws:iam:role", "resourceArns": [world["role"]], **by_arn},
    }, actions={
        "failover": {"actionId": "aws:rds:reboot-db-instances", "parameters": {"forceFailover": "true"},
                     "targets": {"DBInstances": "db"}},
        "pause-s3": {"actionId": "aws:s3:bucket-pause-replication", "targets": {"Buckets": "bucket"},
                     "parameters": {"duration": "PT10M", "region": "us-west-2"}},
        "pause-table": {"actionId": "aws:dynamodb:global-table-pause-replication", "targets": {"Tables": "table"},
                        "parameters": {"duration": "PT10M"}},
        "cut": {"actionId": "aws:network:disrupt-connectivity", "targets": {"Subnets": "zone"},
                "parameters": {"duration": "PT10M", "scope": "all"}},
        "isolate": {"actionId": "aws:network:route-table-disrupt-cross-region-connectivity",
                    "targets": {"Subnets": "zone"}, "parameters": {"duration": "PT10M", "region": "us-west-2"}},
        "unavailable": {"actionId": "aws:fis:inject-api-unavailable-error", "targets": {"Roles": "roles"},
                        "parameters": {"service": "kms", "operations": "ListAliases", "percentage": "100",
                                       "duration": "PT10M"}},
    })
    experiment_id = fis.start_experiment(experimentTemplateId=template_id)["experiment"]["id"]
    advance(sandbox, "10s")
    running = fis.get_experiment(id=experiment_id)["experiment"]
    assert {name: a["state"]["status"] for name, a in running["actions"].items()} == {
        "failover": "completed", "pause-s3": "running", "pause-table": "running", "cut": "running",
        "isolate": "running", "unavailable": "running"}
    faults = http(sandbox, "GET", "/_lab/faults")[1]
    assert {f"s3:fis-{tag}", f"dynamodb:fis-{tag}"} <= set(faults["replication_paused"])
    assert address in faults["endpoints_down"]
    assert error_of(aws(sandbox, "kms").list_aliases)["code"] == "ServiceUnavailable"
    aws(sandbox, "kms").list_keys()  # only the named operation
    advance(sandbox, "4m")  # the failover, and the zones shown a couple of minutes later
    [db] = rds.describe_db_instances(DBInstanceIdentifier=f"fis-{tag}")["DBInstances"]
    assert db["AvailabilityZone"] != "us-east-1a"
    advance(sandbox, "7m")
    assert fis.get_experiment(id=experiment_id)["experiment"]["state"]["status"] == "completed"
    faults = http(sandbox, "GET", "/_lab/faults")[1]
    assert not {f"s3:fis-{tag}", f"dynamodb:fis-{tag}"} & set(faults["replication_paused"])
    assert address not in faults["endpoints_down"]
    aws(sandbox, "kms").list_aliases()
