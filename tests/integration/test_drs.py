"""AWS Elastic Disaster Recovery in the sandbox: an EC2 instance replicated to us-west-2 and recovery or drill
instances launched there, through boto3 and the aws CLI against a running sandbox, each behaviour next to the
DRS page that documents it. Sim time moves with `lab clock advance`; the durations are the model's (drs.*)."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lab.admin_client import AdminClient
from lab.sim.durations import DRS_INITIATION_STEPS, Durations
from tests.conftest import SandboxHandle, quiet_sandbox
from tests.integration._data_plane import aws_cli

pytestmark = pytest.mark.integration

EAST, WEST = "us-east-1", "us-west-2"
PIT_POLICY = [{"ruleID": 1, "units": "MINUTE", "interval": 10, "retentionDuration": 60},
              {"ruleID": 2, "units": "HOUR", "interval": 1, "retentionDuration": 24},
              {"ruleID": 3, "units": "DAY", "interval": 1, "retentionDuration": 7}]
MANAGED = {"Name": "tag:AWSElasticDisasterRecoveryManaged", "Values": ["drs.amazonaws.com"]}


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, lab_env: dict[str, str]) -> Iterator[SandboxHandle]:
    with quiet_sandbox(tmp_path_factory.mktemp("drs") / "state", lab_env) as handle:
        yield handle


@pytest.fixture(scope="module")
def ready(lab: SandboxHandle) -> str:
    """DRS initialized in us-west-2 with a replication configuration template; the template's id."""
    drs = lab.client("drs", WEST)
    drs.initialize_service()
    ec2 = lab.client("ec2", WEST)
    subnet = ec2.describe_subnets(Filters=[{"Name": "availability-zone", "Values": [f"{WEST}b"]}])["Subnets"][0]
    group = ec2.describe_security_groups(GroupNames=["default"])["SecurityGroups"][0]["GroupId"]
    return drs.create_replication_configuration_template(
        stagingAreaSubnetId=subnet["SubnetId"], replicationServersSecurityGroupsIDs=[group], ebsEncryption="DEFAULT",
        bandwidthThrottling=0, stagingAreaTags={"team": "dr"}, pitPolicy=PIT_POLICY,
        tags={"purpose": "securecart-dr"})["replicationConfigurationTemplateID"]


def admin(lab: SandboxHandle) -> AdminClient:
    return AdminClient(lab.endpoint)


def advance(lab: SandboxHandle, duration: str) -> None:
    admin(lab).post("clock", {"action": "advance", "duration": duration})


def now(lab: SandboxHandle) -> float:
    return float(admin(lab).get("clock")["epoch"])


def epoch(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


def error_of(call: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response


def source_instance(lab: SandboxHandle, name: str | None = None) -> tuple[str, str]:
    """A running t3.micro in us-east-1 (its 8 GiB root disk replicates in a few minutes): (name, id)."""
    name = name or f"drs-{uuid.uuid4().hex[:8]}"
    ec2 = lab.client("ec2", EAST)
    image = max(ec2.describe_images(Owners=["amazon"], Filters=[
        {"Name": "name", "Values": ["al2023-ami-2023.*-x86_64"]}])["Images"], key=lambda i: i["Name"])["ImageId"]
    instance = ec2.run_instances(ImageId=image, InstanceType="t3.micro", MinCount=1, MaxCount=1,
                                 TagSpecifications=[{"ResourceType": "instance", "Tags": [
                                     {"Key": "Name", "Value": name}, {"Key": "team", "Value": "shop"}]}])
    advance(lab, "31s")  # `pending` until it runs (ec2.run): the agent installs on a running instance
    return name, instance["Instances"][0]["InstanceId"]


def install(lab: SandboxHandle, name: str, region: str = WEST) -> dict[str, Any]:
    result = lab.lab("drs", "install-agent", name, "--region", region, "--json")
    return json.loads(result.stdout)


def server_of(lab: SandboxHandle, server_id: str, region: str = WEST) -> dict[str, Any]:
    return lab.client("drs", region).describe_source_servers(
        filters={"sourceServerIDs": [server_id]})["items"][0]


def state_of(lab: SandboxHandle, server_id: str) -> str:
    return server_of(lab, server_id)["dataReplicationInfo"]["dataReplicationState"]


def replicating(lab: SandboxHandle) -> tuple[str, str]:
    """A fresh instance replicated to us-west-2 until CONTINUOUS: (source server id, instance id)."""
    name, instance_id = source_instance(lab)
    server_id = install(lab, name)["source_server"]
    advance(lab, "35m")
    assert state_of(lab, server_id) == "CONTINUOUS"
    return server_id, instance_id


def job_of(lab: SandboxHandle, job_id: str) -> dict[str, Any]:
    return lab.client("drs", WEST).describe_jobs(filters={"jobIDs": [job_id]})["items"][0]


def log_of(lab: SandboxHandle, job_id: str) -> list[dict[str, Any]]:
    return lab.client("drs", WEST).describe_job_log_items(jobID=job_id)["items"]


def test_every_call_before_initialize_service_is_refused_as_uninitialized(lab):
    """'the service must first be initialized for any AWS Region in which you plan to use' it
    (getting-started-initializing.html); every operation lists UninitializedAccountException."""
    response = error_of(lambda: lab.client("drs", EAST).describe_source_servers())
    assert response["Error"]["Code"] == "UninitializedAccountException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "initialize-service" in response["Error"]["Message"]
    env = lab.tool_env(EAST)
    cli = subprocess.run([str(Path(sys.executable).parent / "aws"), "--endpoint-url", env["AWS_ENDPOINT_URL"], "drs",
                          "describe-jobs", "--region", EAST], env=env, capture_output=True, text=True, timeout=60,
                         check=False)
    assert cli.returncode != 0 and "UninitializedAccountException" in cli.stderr


def test_initialize_service_creates_the_roles_and_the_agent_needs_a_template(lab):
    """InitializeService answers 204 and creates the service's IAM roles (getting-started-initializing.html);
    the installer registers a server with the region's replication settings, so it needs a template."""
    drs = lab.client("drs", EAST)
    answer = drs.initialize_service()
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 204
    role = lab.client("iam").get_role(RoleName="AWSElasticDisasterRecoveryReplicationServerRole")["Role"]
    assert role["Path"] == "/service-role/"
    assert drs.describe_source_servers()["items"] == []
    refused = lab.lab("drs", "install-agent", "securecart-backend", "--region", EAST, check=False)
    assert refused.returncode != 0 and "replication configuration template" in refused.stderr


def test_a_replication_template_takes_only_the_documented_point_in_time_policy(lab, ready):
    """The PIT policy has exactly three rules; only the DAY rule's retention (1-365) can change
    (point-in-time.html); a refusal names the field (ValidationException reason fieldValidationFailed)."""
    drs = lab.client("drs", WEST)
    template = drs.describe_replication_configuration_templates(
        replicationConfigurationTemplateIDs=[ready])["items"][0]
    assert template["arn"].endswith(f":replication-configuration-template/{ready}")
    assert template["replicationServerInstanceType"] == "t3.small" and template["tags"] == {"purpose": "securecart-dr"}
    subnet = template["stagingAreaSubnetId"]
    too_long = [*PIT_POLICY[:2], {"ruleID": 3, "units": "DAY", "interval": 1, "retentionDuration": 366}]
    for policy in (PIT_POLICY[:2] + PIT_POLICY[:1], too_long,
                   [{**PIT_POLICY[0], "retentionDuration": 30}, *PIT_POLICY[1:]]):
        response = error_of(lambda policy=policy: drs.create_replication_configuration_template(
            stagingAreaSubnetId=subnet, replicationServersSecurityGroupsIDs=[], ebsEncryption="DEFAULT",
            bandwidthThrottling=0, stagingAreaTags={}, pitPolicy=policy))
        assert response["Error"]["Code"] == "ValidationException"
        assert response["reason"] == "fieldValidationFailed" and response["fieldList"][0]["name"] == "pitPolicy"
    response = error_of(lambda: drs.create_replication_configuration_template(
        stagingAreaSubnetId="subnet-0123456789abcdef0", replicationServersSecurityGroupsIDs=[], bandwidthThrottling=0,
        ebsEncryption="DEFAULT", stagingAreaTags={}, pitPolicy=PIT_POLICY))
    assert response["fieldList"][0]["name"] == "stagingAreaSubnetId"


def test_the_agent_registers_the_instance_and_replication_goes_through_its_documented_states(lab, ready):
    """A source server for an EC2 instance records its origin (SourceCloudProperties); replication goes
    INITIATING (its steps in order), INITIAL_SYNC (replicatedStorageBytes growing), CREATING_SNAPSHOT, then
    CONTINUOUS with a lag of about a second ('RPO of seconds', What-is-RPO.html); the staging disks are EBS
    volumes in the staging subnet's zone."""
    name, instance_id = source_instance(lab)
    installed = install(lab, name)
    server_id = installed["source_server"]
    assert installed["state"] == "INITIATING" and installed["origin_region"] == EAST
    drs = lab.client("drs", WEST)
    by_hardware = drs.describe_source_servers(filters={"hardwareId": instance_id})["items"]
    assert [s["sourceServerID"] for s in by_hardware] == [server_id]
    server = by_hardware[0]
    assert server["arn"] == f"arn:aws:drs:{WEST}:000000000000:source-server/{server_id}"
    assert server["sourceCloudProperties"]["originRegion"] == EAST
    assert server["sourceProperties"]["identificationHints"]["awsInstanceID"] == instance_id
    initiation = server["dataReplicationInfo"]["dataReplicationInitiation"]
    assert [step["name"] for step in initiation["steps"]] == list(DRS_INITIATION_STEPS)
    assert initiation["steps"][0]["status"] == "IN_PROGRESS" and initiation["steps"][-1]["status"] == "NOT_STARTED"

    model = Durations()
    initiation_seconds = sum(seconds for _, seconds in model.drs_initiation())
    advance(lab, f"{int(initiation_seconds) + 30}s")
    info = server_of(lab, server_id)["dataReplicationInfo"]
    assert info["dataReplicationState"] == "INITIAL_SYNC" and info["stagingAvailabilityZone"] == f"{WEST}b"
    first = info["replicatedDisks"][0]["replicatedStorageBytes"]
    advance(lab, "2m")
    info = server_of(lab, server_id)["dataReplicationInfo"]
    disk = info["replicatedDisks"][0]
    assert first < disk["replicatedStorageBytes"] < disk["totalStorageBytes"] == 8 * 2**30
    assert epoch(info["etaDateTime"]) > now(lab)
    staging = lab.client("ec2", WEST).describe_volumes(Filters=[
        MANAGED, {"Name": "tag:AWSElasticDisasterRecoverySourceServerID", "Values": [server_id]}])["Volumes"]
    assert [v["AvailabilityZone"] for v in staging] == [f"{WEST}b"] and {"Key": "team", "Value": "dr"} in \
        staging[0]["Tags"]

    advance(lab, f"{int(model.drs_initial_sync(8)) + 10}s")
    info = server_of(lab, server_id)["dataReplicationInfo"]
    assert info["dataReplicationState"] in ("CREATING_SNAPSHOT", "CONTINUOUS")
    advance(lab, "2m")
    info = server_of(lab, server_id)["dataReplicationInfo"]
    assert info["dataReplicationState"] == "CONTINUOUS" and info["lagDuration"] == "PT1S"
    assert info["replicatedDisks"][0]["replicatedStorageBytes"] == 8 * 2**30
    listed = aws_cli(lab, WEST, "drs", "describe-source-servers", "--region", WEST, "--query",
                     f"items[?sourceServerID=='{server_id}'].dataReplicationInfo.dataReplicationState")
    assert listed == ["CONTINUOUS"]


def test_point_in_time_snapshots_every_ten_minutes_are_ebs_snapshots_kept_by_the_policy(lab, ready):
    """'1 PIT Snapshot per 10 minutes for the prior 1 hour; 1 per 1 hour for the prior 24 hours'
    (point-in-time-faq.html): each is an EBS snapshot of every staging disk; older ten-minute ones go."""
    server_id, _ = replicating(lab)
    drs = lab.client("drs", WEST)
    advance(lab, "2h")
    snapshots = drs.describe_recovery_snapshots(sourceServerID=server_id, order="DESC")["items"]
    newest = epoch(snapshots[0]["expectedTimestamp"])
    assert newest % 600 == 0 and now(lab) - newest < 600
    recent = [s for s in snapshots if newest - epoch(s["expectedTimestamp"]) <= 3600]
    older = [s for s in snapshots if newest - epoch(s["expectedTimestamp"]) > 3600]
    assert len(recent) >= 6 and older and all(epoch(s["expectedTimestamp"]) % 3600 == 0 for s in older)
    ebs = snapshots[0]["ebsSnapshots"]
    found = lab.client("ec2", WEST).describe_snapshots(SnapshotIds=ebs)["Snapshots"]
    assert len(found) == 1 and {"Key": "AWSElasticDisasterRecoverySnapshotID",
                                "Value": snapshots[0]["snapshotID"]} in found[0]["Tags"]
    ascending = drs.describe_recovery_snapshots(sourceServerID=server_id, order="ASC", maxResults=2)
    assert len(ascending["items"]) == 2 and ascending["nextToken"]
    assert epoch(ascending["items"][0]["timestamp"]) <= epoch(ascending["items"][1]["timestamp"])


def test_a_drill_launches_a_real_instance_from_the_snapshot_and_leaves_replication_alone(lab, ready):
    """StartRecovery --is-drill (202): the job goes PENDING, STARTED, COMPLETED with its log (SNAPSHOT,
    CONVERSION, LAUNCH, JOB_END); the drill instance is an EC2 instance in us-west-2 whose volumes come from the
    point-in-time snapshot, with the source's tags (copyTags); drills are 'nondisruptive ... to the replication
    process itself' (best_practices_drs.html). Its times are the duration model's."""
    server_id, _ = replicating(lab)
    started = aws_cli(lab, WEST, "drs", "start-recovery", "--region", WEST, "--is-drill", "--source-servers",
                      f"sourceServerID={server_id}", "--tags", "reason=quarterly-drill")["job"]
    assert started["status"] == "PENDING" and started["initiatedBy"] == "START_DRILL" and started["type"] == "LAUNCH"
    job_id = started["jobID"]
    model = Durations()
    advance(lab, f"{int(model.drs('job.pending') + model.drs('snapshot') + model.drs('conversion')) + 5}s")
    job = job_of(lab, job_id)
    assert job["status"] == "STARTED" and job["participatingServers"][0]["launchStatus"] == "IN_PROGRESS"
    recovery_id = job["participatingServers"][0]["recoveryInstanceID"]
    instance = lab.client("drs", WEST).describe_recovery_instances(
        filters={"recoveryInstanceIDs": [recovery_id]})["items"][0]
    assert instance["ec2InstanceState"] == "PENDING" and instance["isDrill"] is True  # still booting
    advance(lab, f"{int(model.drs('launch'))}s")
    job = job_of(lab, job_id)
    assert job["status"] == "COMPLETED" and job["participatingServers"][0]["launchStatus"] == "LAUNCHED"
    events = [item["event"] for item in log_of(lab, job_id)]
    assert events == ["JOB_START", "SNAPSHOT_START", "SNAPSHOT_END", "CONVERSION_START", "CONVERSION_END",
                      "LAUNCH_START", "JOB_END"]
    times = {item["event"]: epoch(item["logDateTime"]) for item in log_of(lab, job_id)}
    assert times["CONVERSION_END"] - times["CONVERSION_START"] == model.drs("conversion")
    assert times["JOB_END"] - times["LAUNCH_START"] == model.drs("launch")

    instance = lab.client("drs", WEST).describe_recovery_instances(
        filters={"sourceServerIDs": [server_id]})["items"][0]
    assert instance["ec2InstanceState"] == "RUNNING" and instance["recoveryInstanceID"] == recovery_id
    assert instance["originAvailabilityZone"].startswith(EAST)
    ec2 = lab.client("ec2", WEST)
    shown = ec2.describe_instances(InstanceIds=[recovery_id])["Reservations"][0]["Instances"][0]
    tags = {t["Key"]: t["Value"] for t in shown["Tags"]}
    assert tags["team"] == "shop" and tags["AWSElasticDisasterRecoverySourceServerID"] == server_id
    volume_ids = [m["Ebs"]["VolumeId"] for m in shown["BlockDeviceMappings"]]
    snapshot_ids = {v["SnapshotId"] for v in ec2.describe_volumes(VolumeIds=volume_ids)["Volumes"]}
    pits = lab.client("drs", WEST).describe_recovery_snapshots(sourceServerID=server_id)["items"]
    used = [p for p in pits if set(p["ebsSnapshots"]) == snapshot_ids]
    assert used and epoch(used[0]["timestamp"]) == times["SNAPSHOT_END"]
    server = server_of(lab, server_id)
    assert server["dataReplicationInfo"]["dataReplicationState"] == "CONTINUOUS"
    assert server["lastLaunchResult"] == "SUCCEEDED" and server["lifeCycle"]["lastLaunch"]["initiated"]["type"] == \
        "DRILL"
    assert server["recoveryInstanceId"] == recovery_id


def test_a_server_in_a_job_or_not_replicated_yet_is_refused_with_a_conflict(lab, ready):
    """StartRecovery lists ConflictException (409, with resourceId): a server already in a running job, or
    one whose initial sync has not completed (it has no snapshot to launch from)."""
    drs = lab.client("drs", WEST)
    name, _ = source_instance(lab)
    fresh = install(lab, name)["source_server"]
    response = error_of(lambda: drs.start_recovery(sourceServers=[{"sourceServerID": fresh}]))
    assert response["Error"]["Code"] == "ConflictException" and response["resourceId"] == fresh
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 409 and "not ready" in response["Error"]["Message"]
    server_id, _ = replicating(lab)
    drs.start_recovery(sourceServers=[{"sourceServerID": server_id}], isDrill=True)
    response = error_of(lambda: drs.start_recovery(sourceServers=[{"sourceServerID": server_id}]))
    assert response["Error"]["Code"] == "ConflictException" and "already in job" in response["Error"]["Message"]
    response = error_of(lambda: drs.describe_job_log_items(jobID="drsjob-00000000000000000"))
    assert response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_region_outage_stalls_replication_and_recovery_uses_the_last_data_replicated(lab, ready):
    """With the source's region down the agent is not seen: STALLED, AGENT_NOT_SEEN, the lag grows, while
    DRS in us-west-2 answers and recovers from the staging disks: the recovery instance holds the data of the
    moment the region went down (minus the lag). DRS in us-east-1 is down with its region. When the region
    is back the server works off its BACKLOG and is CONTINUOUS again."""
    server_id, _ = replicating(lab)
    injected = admin(lab).post("fail", {"scenario": "region-outage", "params": {"region": EAST}})
    down_at = now(lab)
    try:
        advance(lab, "5m")
        info = server_of(lab, server_id)["dataReplicationInfo"]
        assert info["dataReplicationState"] == "STALLED"
        assert info["dataReplicationError"]["error"] == "AGENT_NOT_SEEN"
        assert info["lagDuration"].startswith("PT5M")
        assert error_of(lambda: lab.client("drs", EAST).describe_source_servers())["ResponseMetadata"][
            "HTTPStatusCode"] == 503
        job_id = lab.client("drs", WEST).start_recovery(sourceServers=[{"sourceServerID": server_id}])["job"]["jobID"]
        advance(lab, "10m")
        assert job_of(lab, job_id)["status"] == "COMPLETED"
        instance = lab.client("drs", WEST).describe_recovery_instances(
            filters={"sourceServerIDs": [server_id]})["items"][0]
        assert instance["isDrill"] is False and instance["ec2InstanceState"] == "RUNNING"
        moment = epoch(instance["pointInTimeSnapshotDateTime"])
        assert down_at - 2 <= moment <= down_at
    finally:
        admin(lab).post("recover", {"id": injected["id"]})
    advance(lab, "1m")
    assert state_of(lab, server_id) == "BACKLOG"
    advance(lab, "5m")
    info = server_of(lab, server_id)["dataReplicationInfo"]
    assert info["dataReplicationState"] == "CONTINUOUS" and info["lagDuration"] == "PT1S"


def test_launching_again_replaces_the_previous_instance_and_terminating_ends_it(lab, ready):
    """A new launch of a server first cleans up its previous recovery instance (CLEANUP_START/END);
    TerminateRecoveryInstances runs a TERMINATE job after which the instance is terminated in EC2 and no
    longer listed; a server with a recovery instance cannot be disconnected."""
    server_id, _ = replicating(lab)
    drs = lab.client("drs", WEST)
    first = drs.start_recovery(sourceServers=[{"sourceServerID": server_id}], isDrill=True)["job"]["jobID"]
    advance(lab, "10m")
    old = job_of(lab, first)["participatingServers"][0]["recoveryInstanceID"]
    snapshot = drs.describe_recovery_snapshots(sourceServerID=server_id, order="DESC")["items"][-1]["snapshotID"]
    second = drs.start_recovery(sourceServers=[{"sourceServerID": server_id, "recoverySnapshotID": snapshot}],
                                isDrill=True)["job"]["jobID"]
    advance(lab, "10m")
    events = [item["event"] for item in log_of(lab, second)]
    assert events[:3] == ["JOB_START", "CLEANUP_START", "CLEANUP_END"] and "USING_PREVIOUS_SNAPSHOT" in events
    assert "SNAPSHOT_START" not in events
    ec2 = lab.client("ec2", WEST)
    assert ec2.describe_instances(InstanceIds=[old])["Reservations"][0]["Instances"][0]["State"]["Name"] == \
        "terminated"
    new = job_of(lab, second)["participatingServers"][0]["recoveryInstanceID"]
    response = error_of(lambda: drs.disconnect_source_server(sourceServerID=server_id))
    assert response["Error"]["Code"] == "ConflictException"
    terminate = aws_cli(lab, WEST, "drs", "terminate-recovery-instances", "--region", WEST,
                        "--recovery-instance-ids", new)["job"]
    assert terminate["type"] == "TERMINATE" and terminate["initiatedBy"] == "TERMINATE_RECOVERY_INSTANCES"
    advance(lab, "3m")
    assert job_of(lab, terminate["jobID"])["participatingServers"][0]["launchStatus"] == "TERMINATED"
    assert drs.describe_recovery_instances(filters={"sourceServerIDs": [server_id]})["items"] == []
    assert ec2.describe_instances(InstanceIds=[new])["Reservations"][0]["Instances"][0]["State"]["Name"] == \
        "terminated"


def test_disconnecting_removes_the_staging_disks_and_only_then_can_the_server_go(lab, ready):
    """DisconnectSourceServer stops replication and removes the staging resources; DeleteSourceServer needs a
    disconnected server (ConflictException otherwise)."""
    server_id, _ = replicating(lab)
    drs = lab.client("drs", WEST)
    response = error_of(lambda: drs.delete_source_server(sourceServerID=server_id))
    assert response["Error"]["Code"] == "ConflictException" and "disconnect" in response["Error"]["Message"]
    shown = drs.disconnect_source_server(sourceServerID=server_id)
    assert shown["dataReplicationInfo"]["dataReplicationState"] == "DISCONNECTED"
    staging = lab.client("ec2", WEST).describe_volumes(Filters=[
        MANAGED, {"Name": "tag:AWSElasticDisasterRecoverySourceServerID", "Values": [server_id]}])["Volumes"]
    assert staging == []
    assert drs.describe_recovery_snapshots(sourceServerID=server_id)["items"] == []
    drs.delete_source_server(sourceServerID=server_id)
    assert drs.describe_source_servers(filters={"sourceServerIDs": [server_id]})["items"] == []


def test_stop_and_start_replication_and_a_throttle_slows_the_initial_sync(lab, ready):
    """StopReplication leaves the server unprotected and deletes its snapshots; StartReplication starts it
    again from INITIATING. bandwidthThrottling (Mbps) caps the initial sync (comm-bandwidth-planning.html)."""
    server_id, _ = replicating(lab)
    drs = lab.client("drs", WEST)
    stopped = drs.stop_replication(sourceServerID=server_id)["sourceServer"]
    assert stopped["dataReplicationInfo"]["dataReplicationState"] == "STOPPED"
    assert drs.describe_recovery_snapshots(sourceServerID=server_id)["items"] == []
    again = drs.start_replication(sourceServerID=server_id)["sourceServer"]
    assert again["dataReplicationInfo"]["dataReplicationState"] == "INITIATING"
    drs.update_replication_configuration(sourceServerID=server_id, bandwidthThrottling=10)
    assert drs.get_replication_configuration(sourceServerID=server_id)["bandwidthThrottling"] == 10
    advance(lab, "20m")
    info = server_of(lab, server_id)["dataReplicationInfo"]
    assert info["dataReplicationState"] == "INITIAL_SYNC"
    throttled = Durations().drs_initial_sync(8, throttle_mbps=10)
    assert epoch(info["etaDateTime"]) - now(lab) > throttled / 2  # 10 Mbps: about two hours for 8 GiB


def test_launch_settings_and_tags_and_an_operation_the_lab_does_not_simulate(lab, ready):
    """Get/UpdateLaunchConfiguration (the EC2 launch template DRS made in us-west-2), TagResource/
    ListTagsForResource on a source server; a DRS operation the lab does not simulate answers an AWS-style
    error (never a 500)."""
    name, _ = source_instance(lab)
    server_id = install(lab, name)["source_server"]
    drs = lab.client("drs", WEST)
    launch = drs.get_launch_configuration(sourceServerID=server_id)
    assert launch["copyTags"] is True and launch["launchDisposition"] == "STARTED"
    template = lab.client("ec2", WEST).describe_launch_templates(
        LaunchTemplateIds=[launch["ec2LaunchTemplateID"]])["LaunchTemplates"]
    assert template and template[0]["LaunchTemplateName"] == f"drs-{server_id}"
    assert drs.update_launch_configuration(sourceServerID=server_id, launchDisposition="STOPPED")[
        "launchDisposition"] == "STOPPED"
    response = error_of(lambda: drs.update_launch_configuration(sourceServerID=server_id,
                                                                targetInstanceTypeRightSizingMethod="HUGE"))
    assert response["Error"]["Code"] == "ValidationException"
    arn = server_of(lab, server_id)["arn"]
    drs.tag_resource(resourceArn=arn, tags={"tier": "backend"})
    assert drs.list_tags_for_resource(resourceArn=arn)["tags"] == {"tier": "backend"}
    drs.untag_resource(resourceArn=arn, tagKeys=["tier"])
    assert drs.list_tags_for_resource(resourceArn=arn)["tags"] == {}
    response = error_of(drs.list_recovery_plans)
    assert response["ResponseMetadata"]["HTTPStatusCode"] in (400, 501)
    assert "does not implement" in response["Error"]["Message"]


def test_reverse_replication_replicates_the_recovery_instance_back_to_the_origin_region(lab, ready):
    """After a cross-Region failover, 'start a reversed replication' (failback-failover-region-region.html):
    the recovery instance becomes a source server in us-east-1 (replicationDirection FAILBACK), linked both
    ways by reversedDirectionSourceServerArn."""
    server_id, _ = replicating(lab)
    drs = lab.client("drs", WEST)
    job_id = drs.start_recovery(sourceServers=[{"sourceServerID": server_id}])["job"]["jobID"]
    advance(lab, "10m")
    recovery_id = job_of(lab, job_id)["participatingServers"][0]["recoveryInstanceID"]
    east = lab.client("drs", EAST)
    east.initialize_service()
    subnet = lab.client("ec2", EAST).describe_subnets()["Subnets"][0]["SubnetId"]
    east.create_replication_configuration_template(
        stagingAreaSubnetId=subnet, replicationServersSecurityGroupsIDs=[], ebsEncryption="DEFAULT",
        bandwidthThrottling=0, stagingAreaTags={}, pitPolicy=PIT_POLICY)
    arn = drs.reverse_replication(recoveryInstanceID=recovery_id)["reversedDirectionSourceServerArn"]
    back = east.describe_source_servers(filters={"hardwareId": recovery_id})["items"][0]
    assert back["arn"] == arn and back["replicationDirection"] == "FAILBACK"
    assert back["sourceCloudProperties"]["originRegion"] == WEST
    assert back["reversedDirectionSourceServerArn"] == server_of(lab, server_id)["arn"]
    assert server_of(lab, server_id)["reversedDirectionSourceServerArn"] == arn


def test_replication_and_jobs_survive_a_restart_at_the_same_sim_times(lab, ready):
    """The timeline is state of the engine: after lab down and up the job moves on exactly as before."""
    server_id, _ = replicating(lab)
    job_id = lab.client("drs", WEST).start_recovery(sourceServers=[{"sourceServerID": server_id}],
                                                    isDrill=True)["job"]["jobID"]
    advance(lab, "2m")
    before = log_of(lab, job_id)
    lab.down()
    lab.up()
    assert log_of(lab, job_id) == before
    advance(lab, "10m")
    after = log_of(lab, job_id)
    assert after[:len(before)] == before and after[-1]["event"] == "JOB_END"
    assert state_of(lab, server_id) == "CONTINUOUS"
