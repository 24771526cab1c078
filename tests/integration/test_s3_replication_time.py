"""How long S3 replication takes (the duration model), Replication Time Control's rules, and the replication
metrics S3 publishes to CloudWatch, through boto3 and the aws CLI against a sandbox."""

from __future__ import annotations

import itertools
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from tests.integration._data_plane import BIN, aws_cli, sim_now
from tests.integration.test_s3_engine import (
    EAST,
    RTC,
    WEST,
    advance,
    bucket,
    engine_events,
    replicate,
    role,
    rule,
    status,
)

NEEDS_METRICS = "Replication destination must contain both ReplicationTime and Metrics or neither."


def dimensions(source: str, target: str, rule_id: str) -> list[dict[str, str]]:
    return [{"Name": "SourceBucket", "Value": source}, {"Name": "DestinationBucket", "Value": target},
            {"Name": "RuleId", "Value": rule_id}]


def test_rtc_needs_its_metrics_block(sandbox):
    # API Reference, Destination: ReplicationTime "Must be specified together with a Metrics block"; S3's answer
    # is InvalidRequest (S3 documents no error for it: the words clients have seen).
    source, target = bucket(sandbox, EAST), bucket(sandbox, WEST)
    role_arn = role(sandbox)
    s3 = sandbox.client("s3", EAST)
    bare = rule("rtc", target, rtc=False, ReplicationTime=RTC["ReplicationTime"])
    with pytest.raises(ClientError) as refused:
        s3.put_bucket_replication(Bucket=source, ReplicationConfiguration={"Role": role_arn, "Rules": [bare]})
    assert refused.value.response["Error"] == {"Code": "InvalidRequest", "Message": NEEDS_METRICS}
    threshold = rule("late", target, rtc=False, Metrics={"Status": "Enabled", "EventThreshold": {"Minutes": 15}})
    with pytest.raises(ClientError) as refused:
        s3.put_bucket_replication(Bucket=source, ReplicationConfiguration={"Role": role_arn, "Rules": [threshold]})
    assert refused.value.response["Error"]["Message"] == ("Metrics cannot contain an event threshold when "
                                                         "ReplicationTime is not specified or Disabled")
    with pytest.raises(ClientError):
        s3.get_bucket_replication(Bucket=source)  # nothing was stored
    env = sandbox.tool_env(EAST)
    cli = subprocess.run(
        [str(BIN / "aws"), "--endpoint-url", env["AWS_ENDPOINT_URL"], "s3api", "put-bucket-replication",
         "--bucket", source, "--replication-configuration",
         f'{{"Role": "{role_arn}", "Rules": [{{"ID": "rtc", "Status": "Enabled", "Priority": 1, "Filter": {{}},'
         f' "DeleteMarkerReplication": {{"Status": "Disabled"}}, "Destination": {{"Bucket": "arn:aws:s3:::{target}",'
         ' "ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}}}}]}'],
        env=env, capture_output=True, text=True, timeout=120, check=False)
    assert cli.returncode != 0 and "InvalidRequest" in cli.stderr and NEEDS_METRICS in cli.stderr
    # Metrics alone (replication metrics without RTC) and RTC with its metrics are accepted.
    replicate(sandbox, source, role_arn, rule("metrics", target, rtc=False, Metrics={"Status": "Enabled"}))
    replicate(sandbox, source, role_arn, rule("rtc", target))
    assert s3.get_bucket_replication(Bucket=source)["ReplicationConfiguration"]["Rules"][0]["Destination"][
        "ReplicationTime"] == RTC["ReplicationTime"]


@pytest.mark.parametrize("where", ["ReplicationTime", "EventThreshold"])
@pytest.mark.parametrize("minutes", [5, 60])
def test_rtc_and_its_event_threshold_take_15_minutes_only(sandbox, where, minutes):
    """ReplicationTimeValue's Minutes, of ReplicationTime.Time and of Metrics.EventThreshold, has one valid
    value: 15 (API Reference: ReplicationTimeValue); any other is refused and nothing is stored."""
    source, target = bucket(sandbox, EAST), bucket(sandbox, WEST)
    role_arn = role(sandbox)
    s3 = sandbox.client("s3", EAST)
    time = {"Status": "Enabled", "Time": {"Minutes": minutes if where == "ReplicationTime" else 15}}
    metrics = {"Status": "Enabled", "EventThreshold": {"Minutes": minutes if where == "EventThreshold" else 15}}
    odd = rule("rtc", target, ReplicationTime=time, Metrics=metrics)
    with pytest.raises(ClientError) as refused:
        s3.put_bucket_replication(Bucket=source, ReplicationConfiguration={"Role": role_arn, "Rules": [odd]})
    assert refused.value.response["Error"]["Code"] == "InvalidArgument"
    assert "15" in refused.value.response["Error"]["Message"]
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError):
        s3.get_bucket_replication(Bucket=source)  # nothing was stored


def test_replication_takes_the_models_time_and_rtc_metrics_reach_cloudwatch(fresh_sandbox):
    fresh_sandbox.up("--no-world")  # only these buckets: every write below is the test's
    east = fresh_sandbox.client("s3", EAST)
    role_arn = role(fresh_sandbox)

    # Without RTC: "The majority of objects replicate within 15 minutes" (S3 UG: Troubleshooting replication).
    plain_source, plain_target = bucket(fresh_sandbox, EAST), bucket(fresh_sandbox, WEST)
    replicate(fresh_sandbox, plain_source, role_arn, rule("plain", plain_target, rtc=False))
    for index in range(30):
        east.put_object(Bucket=plain_source, Key=f"doc-{index}", Body=b"x" * 512)
    advance(fresh_sandbox, "15m")
    done = [status(fresh_sandbox, EAST, plain_source, f"doc-{index}") for index in range(30)]
    assert done.count("COMPLETED") >= 27 and set(done) <= {"COMPLETED", "PENDING"}
    # ... "some can take hours": made certain here by the model's tunable share of slow objects.
    fresh_sandbox.lab("durations", "set", "s3.replication.slow_share=1")
    east.put_object(Bucket=plain_source, Key="slow", Body=b"s")
    advance(fresh_sandbox, "45m")
    assert status(fresh_sandbox, EAST, plain_source, "slow") == "PENDING"
    advance(fresh_sandbox, "4h30m")
    assert status(fresh_sandbox, EAST, plain_source, "slow") == "COMPLETED"
    (slow,) = engine_events(fresh_sandbox, "ReplicationCompleted", f"s3://{plain_source}/slow")
    assert 3600 <= slow["detail"]["lag_seconds"] <= 4 * 3600 + 600
    fresh_sandbox.lab("durations", "reset", "s3.replication.slow_share")

    # With RTC: metrics per rule every minute, 15 minutes after RTC was enabled (S3 UG: Using S3 Replication
    # metrics), the pending ones in the destination's Region, failures in the source's.
    source, target = bucket(fresh_sandbox, EAST), bucket(fresh_sandbox, WEST)
    enabled_at = sim_now(fresh_sandbox)
    replicate(fresh_sandbox, source, role_arn, rule("rtc", target))
    east.put_object(Bucket=source, Key="early", Body=b"e" * 1000)
    advance(fresh_sandbox, "5m")
    assert status(fresh_sandbox, EAST, source, "early") == "COMPLETED"
    from lab.admin_client import AdminClient

    admin = AdminClient(fresh_sandbox.endpoint)
    admin.post("s3/replication", {"action": "pause", "bucket": target})
    for index in range(3):
        east.put_object(Bucket=source, Key=f"held-{index}", Body=b"h" * 2048)
    advance(fresh_sandbox, "20m")
    cloudwatch_west = fresh_sandbox.client("cloudwatch", WEST)
    window = {"StartTime": datetime.fromtimestamp(enabled_at - 600, tz=UTC),
              "EndTime": datetime.fromtimestamp(sim_now(fresh_sandbox) + 60, tz=UTC), "Period": 60}
    where = dimensions(source, target, "rtc")
    pending = cloudwatch_west.get_metric_statistics(Namespace="AWS/S3", MetricName="OperationsPendingReplication",
                                                    Dimensions=where, Statistics=["Maximum"], **window)["Datapoints"]
    assert pending, "no OperationsPendingReplication datapoints"
    first = min(point["Timestamp"] for point in pending)
    assert first >= datetime.fromtimestamp(enabled_at, tz=UTC) + timedelta(minutes=15)  # not before RTC reports
    assert max(point["Maximum"] for point in pending) == 3 and {p["Unit"] for p in pending} == {"Count"}
    stamps = sorted(point["Timestamp"] for point in pending)
    assert all(later - earlier == timedelta(minutes=1) for earlier, later in itertools.pairwise(stamps))
    bytes_pending = cloudwatch_west.get_metric_statistics(
        Namespace="AWS/S3", MetricName="BytesPendingReplication", Dimensions=where, Statistics=["Maximum"],
        **window)["Datapoints"]
    assert max(point["Maximum"] for point in bytes_pending) == 3 * 2048
    latency = cloudwatch_west.get_metric_data(MetricDataQueries=[{
        "Id": "latency", "MetricStat": {"Metric": {"Namespace": "AWS/S3", "MetricName": "ReplicationLatency",
                                                   "Dimensions": where}, "Period": 60, "Stat": "Maximum"}}],
        StartTime=window["StartTime"], EndTime=window["EndTime"])["MetricDataResults"][0]
    assert latency["Values"] and max(latency["Values"]) >= 10 * 60  # the held work is ten-odd minutes behind
    assert fresh_sandbox.client("cloudwatch", EAST).get_metric_statistics(
        Namespace="AWS/S3", MetricName="OperationsPendingReplication", Dimensions=where, Statistics=["Maximum"],
        **window)["Datapoints"] == []  # (published in the destination's Region only)
    failed = fresh_sandbox.client("cloudwatch", EAST).get_metric_statistics(
        Namespace="AWS/S3", MetricName="OperationsFailedReplication", Dimensions=where, Statistics=["Sum"],
        **window)["Datapoints"]
    assert failed and sum(point["Sum"] for point in failed) == 0

    admin.post("s3/replication", {"action": "resume", "bucket": target})
    advance(fresh_sandbox, "15m")  # (S3 hands CloudWatch the minutes in batches of five: the last ones wait)
    assert all(status(fresh_sandbox, EAST, source, f"held-{index}") == "COMPLETED" for index in range(3))
    listed = aws_cli(fresh_sandbox, WEST, "cloudwatch", "get-metric-statistics", "--namespace", "AWS/S3",
                     "--metric-name", "OperationsPendingReplication", "--statistics", "Maximum", "--period", "60",
                     "--dimensions", f"Name=SourceBucket,Value={source}", f"Name=DestinationBucket,Value={target}",
                     "Name=RuleId,Value=rtc",
                     "--start-time", str(int(sim_now(fresh_sandbox) - 540)),
                     "--end-time", str(int(sim_now(fresh_sandbox))))
    assert listed["Datapoints"] and max(point["Maximum"] for point in listed["Datapoints"]) == 0
    listed_west = cloudwatch_west.list_metrics(Namespace="AWS/S3")["Metrics"]
    names = [metric["MetricName"] for metric in listed_west if metric["MetricName"] != "NumberOfObjects"
             and metric["MetricName"] != "BucketSizeBytes"]
    # a metric (its name and dimensions) is listed once, however many minutes it was published
    assert sorted(names) == ["BytesPendingReplication", "OperationsPendingReplication", "ReplicationLatency"]
    # S3's daily storage metrics are in the bucket's own Region
    storage_west = {d["Value"] for metric in listed_west if metric["MetricName"] == "NumberOfObjects"
                    for d in metric["Dimensions"] if d["Name"] == "BucketName"}
    assert target in storage_west and source not in storage_west
    storage_east = {d["Value"] for metric in fresh_sandbox.client("cloudwatch", EAST).list_metrics(
        Namespace="AWS/S3", MetricName="NumberOfObjects")["Metrics"] for d in metric["Dimensions"]
        if d["Name"] == "BucketName"}
    assert source in storage_east and target not in storage_east


def test_a_waiter_sees_the_replica_while_the_clock_runs_fast(fresh_sandbox):
    fresh_sandbox.up("--no-world")
    source, target = bucket(fresh_sandbox, EAST), bucket(fresh_sandbox, WEST)
    replicate(fresh_sandbox, source, role(fresh_sandbox), rule("rtc", target))
    fresh_sandbox.lab("clock", "speed", "60")
    fresh_sandbox.client("s3", EAST).put_object(Bucket=source, Key="waited", Body=b"w")
    waiter = fresh_sandbox.client("s3", WEST).get_waiter("object_exists")
    waiter.wait(Bucket=target, Key="waited", WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    assert status(fresh_sandbox, WEST, target, "waited") == "REPLICA"
