"""Route 53 on the sim clock: changes PENDING until they have propagated, health checks that change status after
RequestInterval x FailureThreshold, and clients that keep an answer for its TTL; through boto3 and the aws CLI."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from tests.integration._data_plane import aws_cli
from tests.integration.test_route53_engine import admin, advance, answer, health_check


def zone_of(route53, domain: str) -> tuple[str, dict]:
    created = route53.create_hosted_zone(Name=domain, CallerReference=uuid.uuid4().hex)
    return created["HostedZone"]["Id"].split("/")[-1], created["ChangeInfo"]


def a_record(name: str, value: str, ttl: int = 60, **extra) -> dict:
    return {"Name": name, "Type": "A", "TTL": ttl, "ResourceRecords": [{"Value": value}], **extra}


def test_changes_are_pending_until_they_have_propagated(sandbox):
    # "Changes generally propagate to all Route 53 name servers within 60 seconds"; GetChange answers PENDING
    # until then, INSYNC after (API Reference: ChangeResourceRecordSets, GetChange).
    route53 = sandbox.client("route53")
    domain = f"{uuid.uuid4().hex[:8]}.example.lab"
    zone, created = zone_of(route53, domain)
    assert created["Status"] == "PENDING" and created["Id"].startswith("/change/C")
    first = route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={
        "Comment": "first", "Changes": [{"Action": "CREATE", "ResourceRecordSet": a_record(f"www.{domain}",
                                                                                         "10.0.0.1")}]})["ChangeInfo"]
    assert first["Status"] == "PENDING" and first["Comment"] == "first" and first["Id"] != created["Id"]
    assert route53.get_change(Id=first["Id"])["ChangeInfo"]["Status"] == "PENDING"
    # The API lists the record at once; the name servers answer it once the change is INSYNC.
    assert [r["Name"] for r in route53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
            if r["Type"] == "A"] == [f"www.{domain}."]
    pending = route53.test_dns_answer(HostedZoneId=zone, RecordName=f"www.{domain}", RecordType="A")
    assert pending["ResponseCode"] == "NXDOMAIN"
    advance(sandbox, "30s")
    assert route53.get_change(Id=first["Id"])["ChangeInfo"]["Status"] == "PENDING"
    advance(sandbox, "31s")
    insync = route53.get_change(Id=first["Id"])["ChangeInfo"]
    assert insync["Status"] == "INSYNC" and insync["SubmittedAt"] == first["SubmittedAt"]
    assert answer(route53, zone, f"www.{domain}") == ["10.0.0.1"]

    # An UPSERT: the old value until INSYNC, the new one after.
    second = route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
        {"Action": "UPSERT", "ResourceRecordSet": a_record(f"www.{domain}", "10.0.0.2")}]})["ChangeInfo"]
    assert answer(route53, zone, f"www.{domain}") == ["10.0.0.1"]
    shown = aws_cli(sandbox, "us-east-1", "route53", "get-change", "--id", second["Id"])["ChangeInfo"]
    assert shown["Status"] == "PENDING" and shown["Id"] == second["Id"]
    advance(sandbox, "61s")
    assert answer(route53, zone, f"www.{domain}") == ["10.0.0.2"]
    assert aws_cli(sandbox, "us-east-1", "route53", "get-change", "--id", second["Id"])["ChangeInfo"][
        "Status"] == "INSYNC"
    # The aws CLI's change: PENDING as well.
    third = aws_cli(sandbox, "us-east-1", "route53", "change-resource-record-sets", "--hosted-zone-id", zone,
                    "--change-batch", json.dumps({"Changes": [{"Action": "DELETE", "ResourceRecordSet": a_record(
                        f"www.{domain}", "10.0.0.2")}]}))["ChangeInfo"]
    assert third["Status"] == "PENDING"
    assert answer(route53, zone, f"www.{domain}") == ["10.0.0.2"]
    advance(sandbox, "61s")
    gone = route53.test_dns_answer(HostedZoneId=zone, RecordName=f"www.{domain}", RecordType="A")
    assert gone["ResponseCode"] == "NXDOMAIN"
    deleted = route53.delete_hosted_zone(Id=zone)["ChangeInfo"]
    assert deleted["Status"] == "PENDING" and deleted["Id"] not in (first["Id"], second["Id"], third["Id"])


@pytest.mark.parametrize("interval, threshold", [(30, 2), (10, 1)])
def test_health_changes_status_after_interval_times_threshold_both_ways(sandbox, interval, threshold):
    # FailureThreshold: "the number of consecutive health checks that an endpoint must pass or fail for Route 53
    # to change the current status of the endpoint"; RequestInterval 10 or 30 s (API Reference:
    # HealthCheckConfig). The same span both ways.
    route53 = sandbox.client("route53")
    endpoint = f"hc-{uuid.uuid4().hex[:8]}.us-east-1.securecart.lab"
    check = health_check(route53, Type="HTTPS", FullyQualifiedDomainName=endpoint, Port=443,
                         RequestInterval=interval, FailureThreshold=threshold)
    span = interval * threshold

    def healthy() -> bool:
        return admin(sandbox, "GET", "route53/health")["checks"][check]["healthy"]

    advance(sandbox, f"{span}s")
    admin(sandbox, "POST", "route53/health", {"endpoint": endpoint, "down": True})
    advance(sandbox, f"{span - 1}s")
    assert healthy() is True
    advance(sandbox, "2s")
    assert healthy() is False
    admin(sandbox, "POST", "route53/health", {"endpoint": endpoint, "down": False})
    advance(sandbox, f"{span - 1}s")
    assert healthy() is False
    advance(sandbox, "2s")
    assert healthy() is True
    changes = [event for event in admin(sandbox, "GET", "events?source=route53&limit=5000")["events"]
               if event["name"] == "HealthCheckStatusChanged" and event["resource"] == check]
    assert [event["detail"]["healthy"] for event in changes] == [False, True]


def test_a_client_keeps_its_answer_for_the_ttl_after_a_failover(sandbox):
    # TTL: "The amount of time, in seconds, that you want DNS recursive resolvers to cache information about
    # this record" (API Reference: ResourceRecordSet): with a 300 s TTL, the failover reaches a client that
    # resolved just before it detection + 300 s after the outage.
    route53 = sandbox.client("route53")
    domain = f"{uuid.uuid4().hex[:8]}.example.lab"
    name = f"shop.{domain}"
    zone, _ = zone_of(route53, domain)
    endpoint = f"ttl-{uuid.uuid4().hex[:8]}.us-east-1.securecart.lab"
    check = health_check(route53, Type="HTTPS", FullyQualifiedDomainName=endpoint, Port=443,
                         RequestInterval=10, FailureThreshold=3)
    route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
        {"Action": "CREATE", "ResourceRecordSet": a_record(name, "10.0.1.10", ttl=300, SetIdentifier="east",
                                                           Failover="PRIMARY", HealthCheckId=check)},
        {"Action": "CREATE", "ResourceRecordSet": a_record(name, "10.1.1.10", ttl=300, SetIdentifier="west",
                                                           Failover="SECONDARY")}]})
    advance(sandbox, "2m")

    def client() -> dict:
        return json.loads(sandbox.lab("dns", name, "--json").stdout)

    assert client()["answer"] == ["10.0.1.10"] and "kept_until" not in client()
    admin(sandbox, "POST", "route53/health", {"endpoint": endpoint, "down": True})
    down_at = admin(sandbox, "GET", "clock")["epoch"]
    advance(sandbox, "40s")  # detected after 30 s: the name servers answer the SECONDARY
    assert answer(route53, zone, name) == ["10.1.1.10"]
    seen = client()
    assert seen["answer"] == ["10.0.1.10"] and seen["kept_until"] == pytest.approx(down_at + 30 + 300, abs=1)
    # The inventory carries what the client holds (the recovery check judges DNS by it).
    from lab.inventory import collect_from_endpoint

    found = collect_from_endpoint(sandbox.endpoint, ["route53"])
    held = [seen for zone_ in found.global_.route53.zones.values() for seen in zone_.client_answers
            if seen.name.rstrip(".") == name]
    assert len(held) == 1 and held[0].answer == ["10.0.1.10"] and held[0].nameserver_answer == ["10.1.1.10"]
    assert held[0].ttl == 300 and held[0].kept_until == pytest.approx(down_at + 30 + 300, abs=1)
    advance(sandbox, "4m")
    assert client()["answer"] == ["10.0.1.10"]
    advance(sandbox, "1m")  # 30 s + 300 s have passed
    assert client()["answer"] == ["10.1.1.10"]
    # Back again: the same, the other way round.
    admin(sandbox, "POST", "route53/health", {"endpoint": endpoint, "down": False})
    advance(sandbox, "2m")
    assert answer(route53, zone, name) == ["10.0.1.10"]
    assert client()["answer"] == ["10.1.1.10"]
    advance(sandbox, "4m")
    assert client()["answer"] == ["10.0.1.10"]


def test_a_waiter_sees_the_change_insync_while_the_clock_runs_fast(fresh_sandbox):
    sandbox = fresh_sandbox
    sandbox.up("--no-world")
    route53 = sandbox.client("route53")
    zone, _ = zone_of(route53, "wait.example.lab")
    change = route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
        {"Action": "CREATE", "ResourceRecordSet": a_record("www.wait.example.lab", "10.9.9.9")}]})["ChangeInfo"]
    assert change["Status"] == "PENDING"
    sandbox.lab("clock", "speed", "60")
    route53.get_waiter("resource_record_sets_changed").wait(Id=change["Id"],
                                                            WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    assert route53.get_change(Id=change["Id"])["ChangeInfo"]["Status"] == "INSYNC"
    assert answer(route53, zone, "www.wait.example.lab") == ["10.9.9.9"]


def test_the_aws_cli_waiter_sees_the_change_insync_while_the_clock_runs_fast(fresh_sandbox):
    # `aws route53 wait resource-record-sets-changed` polls GetChange every 30 s until INSYNC; with the clock at
    # 600x, the 60 s of propagation pass within a tenth of a second of wall time, before its first poll.
    sandbox = fresh_sandbox
    sandbox.up("--no-world")
    route53 = sandbox.client("route53")
    zone, _ = zone_of(route53, "cli-wait.example.lab")
    change = aws_cli(sandbox, "us-east-1", "route53", "change-resource-record-sets", "--hosted-zone-id", zone,
                     "--change-batch", json.dumps({"Changes": [{"Action": "CREATE", "ResourceRecordSet": a_record(
                         "www.cli-wait.example.lab", "10.9.9.8")}]}))["ChangeInfo"]
    assert route53.get_change(Id=change["Id"])["ChangeInfo"]["Status"] == "PENDING"
    sandbox.lab("clock", "speed", "600")
    assert aws_cli(sandbox, "us-east-1", "route53", "wait", "resource-record-sets-changed", "--id",
                   change["Id"]) is None  # (exit status 0, nothing printed)
    assert route53.get_change(Id=change["Id"])["ChangeInfo"]["Status"] == "INSYNC"
    assert answer(route53, zone, "www.cli-wait.example.lab") == ["10.9.9.8"]


def test_change_batches_are_refused_as_route53_refuses_them(sandbox):
    """Route 53 API Reference, ChangeResourceRecordSets errors: a routing policy needs its SetIdentifier and a
    SetIdentifier a routing policy (InvalidInput); NoSuchHealthCheck; an A value that is no IPv4 address, a CNAME
    at the apex or beside another record, a DELETE of a record set that is not there or not as given
    (InvalidChangeBatch); GetChange of an unknown id (NoSuchChange); CreateHostedZone with a CallerReference
    already used (HostedZoneAlreadyExists)."""
    route53 = sandbox.client("route53")
    domain = f"{uuid.uuid4().hex[:8]}.example.lab"
    zone, _ = zone_of(route53, domain)

    def refused(*changes: dict) -> tuple[str, str]:
        with pytest.raises(ClientError) as raised:
            route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": list(changes)})
        return raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]

    def create(record: dict) -> dict:
        return {"Action": "CREATE", "ResourceRecordSet": record}

    code, message = refused(create(a_record(f"app.{domain}", "54.0.0.1", Failover="PRIMARY")))
    assert code == "InvalidInput" and "Missing field 'SetIdentifier'" in message
    code, message = refused(create(a_record(f"app.{domain}", "54.0.0.1", SetIdentifier="east")))
    assert code == "InvalidInput" and "Expected exactly one of" in message
    code, message = refused(create(a_record(f"app.{domain}", "54.0.0.1", SetIdentifier="east", Failover="PRIMARY",
                                            HealthCheckId="00000000-0000-0000-0000-000000000000")))
    assert code == "NoSuchHealthCheck"
    code, message = refused(create(a_record(f"app.{domain}", "not-an-ip")))
    assert code == "InvalidChangeBatch" and "ARRDATAIllegalIPv4Address" in message and "not-an-ip" in message
    code, message = refused(create({"Name": domain, "Type": "CNAME", "TTL": 60,
                                    "ResourceRecords": [{"Value": "elsewhere.example.com"}]}))
    assert code == "InvalidChangeBatch" and "not permitted at apex" in message
    route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
        create(a_record(f"www.{domain}", "54.0.0.2"))]})
    code, message = refused(create({"Name": f"www.{domain}", "Type": "CNAME", "TTL": 60,
                                    "ResourceRecords": [{"Value": "elsewhere.example.com"}]}))
    assert code == "InvalidChangeBatch" and "conflicting RRSet of type A" in message
    code, message = refused({"Action": "DELETE", "ResourceRecordSet": a_record(f"nope.{domain}", "54.0.0.3")})
    assert (code, message) == ("InvalidChangeBatch", f"[Tried to delete resource record set [name='nope.{domain}.', "
                                                     "type='A'] but it was not found]")
    code, message = refused({"Action": "DELETE", "ResourceRecordSet": a_record(f"www.{domain}", "54.0.0.9")})
    assert code == "InvalidChangeBatch" and "do not match the current values" in message
    route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
        {"Action": "DELETE", "ResourceRecordSet": a_record(f"www.{domain}", "54.0.0.2")}]})

    with pytest.raises(ClientError) as raised:
        route53.get_change(Id="C0000000BOGUS")
    assert raised.value.response["Error"]["Code"] == "NoSuchChange"
    reference = uuid.uuid4().hex
    other = route53.create_hosted_zone(Name=f"a-{domain}", CallerReference=reference)["HostedZone"]["Id"]
    with pytest.raises(ClientError) as raised:
        route53.create_hosted_zone(Name=f"b-{domain}", CallerReference=reference)
    assert raised.value.response["Error"]["Code"] == "HostedZoneAlreadyExists"
    route53.delete_hosted_zone(Id=other)
    route53.delete_hosted_zone(Id=zone)


def test_a_metric_alarm_is_evaluated_every_minute_with_history_and_sns_actions(sandbox):
    """CloudWatch User Guide, "Using Amazon CloudWatch alarms" and API Reference PutMetricAlarm: a new alarm is
    INSUFFICIENT_DATA, then evaluated; each state change is a StateUpdate in DescribeAlarmHistory and notifies the
    alarm's SNS topic."""
    cloudwatch, sns, sqs = sandbox.client("cloudwatch"), sandbox.client("sns"), sandbox.client("sqs")
    name, namespace = f"load-{uuid.uuid4().hex[:8]}", f"Custom/{uuid.uuid4().hex[:8]}"
    topic = sns.create_topic(Name=name)["TopicArn"]
    queue = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    aws_cli(sandbox, "us-east-1", "cloudwatch", "put-metric-alarm", "--alarm-name", name, "--namespace", namespace,
            "--metric-name", "Load", "--statistic", "Maximum", "--period", "60", "--evaluation-periods", "1",
            "--threshold", "50", "--comparison-operator", "GreaterThanThreshold", "--alarm-actions", topic,
            "--ok-actions", topic)
    alarm = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
    assert (alarm["StateValue"], alarm["StateReason"]) == ("INSUFFICIENT_DATA", "Unchecked: Initial alarm creation")
    cloudwatch.put_metric_data(Namespace=namespace, MetricData=[{"MetricName": "Load", "Value": 95.0}])
    advance(sandbox, "60s")
    alarm = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
    assert alarm["StateValue"] == "ALARM", alarm
    assert alarm["StateReason"].startswith("Threshold Crossed: 1 datapoint [95.0 (")
    assert alarm["StateReason"].endswith(")] was greater than the threshold (50.0).")
    data = json.loads(alarm["StateReasonData"])
    assert data["recentDatapoints"] == [95.0] and data["threshold"] == 50.0 and data["statistic"] == "Maximum"
    assert alarm["StateTransitionedTimestamp"] == alarm["StateUpdatedTimestamp"]
    assert [a["AlarmName"] for a in cloudwatch.describe_alarms(StateValue="ALARM")["MetricAlarms"]].count(name) == 1
    cloudwatch.put_metric_data(Namespace=namespace, MetricData=[{"MetricName": "Load", "Value": 10.0}])
    advance(sandbox, "60s")
    alarm = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
    assert alarm["StateValue"] == "OK" and "was not greater than the threshold (50.0)" in alarm["StateReason"]

    history = aws_cli(sandbox, "us-east-1", "cloudwatch", "describe-alarm-history", "--alarm-name", name,
                      "--history-item-type", "StateUpdate")["AlarmHistoryItems"]
    assert [item["HistorySummary"] for item in history] == ["Alarm updated from ALARM to OK",
                                                           "Alarm updated from INSUFFICIENT_DATA to ALARM"]
    assert json.loads(history[0]["HistoryData"])["newState"]["stateValue"] == "OK"
    every = cloudwatch.describe_alarm_history(AlarmName=name, ScanBy="TimestampAscending")["AlarmHistoryItems"]
    assert every[0]["HistoryItemType"] == "ConfigurationUpdate"
    assert cloudwatch.describe_alarm_history(AlarmName=name, MaxRecords=1)["NextToken"]

    messages = []
    for _ in range(5):
        messages += sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
    notices = [json.loads(json.loads(message["Body"])["Message"]) for message in messages]
    assert sorted(notice["NewStateValue"] for notice in notices) == ["ALARM", "OK"]
    assert all(notice["AlarmName"] == name and notice["Trigger"]["MetricName"] == "Load" for notice in notices)


def test_route53_health_checks_publish_their_metrics_and_an_alarm_follows_them(sandbox):
    """Route 53 Developer Guide, "Monitoring health checks using CloudWatch": HealthCheckStatus (1 healthy, 0
    unhealthy) and HealthCheckPercentageHealthy, dimension HealthCheckId, in us-east-1; an alarm on them can tell
    a CLOUDWATCH_METRIC health check (API Reference: HealthCheckConfig.AlarmIdentifier)."""
    route53, cloudwatch = sandbox.client("route53"), sandbox.client("cloudwatch")
    endpoint = f"cw-{uuid.uuid4().hex[:8]}.us-east-1.securecart.lab"
    check = health_check(route53, Type="HTTPS", FullyQualifiedDomainName=endpoint, Port=443,
                         RequestInterval=10, FailureThreshold=1)
    name = f"hc-{check}"
    cloudwatch.put_metric_alarm(AlarmName=name, Namespace="AWS/Route53", MetricName="HealthCheckStatus",
                                Dimensions=[{"Name": "HealthCheckId", "Value": check}], Statistic="Minimum",
                                Period=60, EvaluationPeriods=1, Threshold=1,
                                ComparisonOperator="LessThanThreshold")
    follower = health_check(route53, Type="CLOUDWATCH_METRIC", InsufficientDataHealthStatus="Healthy",
                            AlarmIdentifier={"Region": "us-east-1", "Name": name})
    advance(sandbox, "3m")

    def state() -> str:
        return cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["StateValue"]

    def healthy(check_id: str) -> bool:
        return admin(sandbox, "GET", "route53/health")["checks"][check_id]["healthy"]

    assert state() == "OK" and healthy(follower)
    admin(sandbox, "POST", "route53/health", {"endpoint": endpoint, "down": True})
    advance(sandbox, "2m")
    assert state() == "ALARM" and not healthy(follower)
    now = datetime.fromtimestamp(admin(sandbox, "GET", "clock")["epoch"], tz=UTC)
    found = cloudwatch.get_metric_statistics(Namespace="AWS/Route53", MetricName="HealthCheckStatus",
                                             Dimensions=[{"Name": "HealthCheckId", "Value": check}],
                                             StartTime=now - timedelta(minutes=5), EndTime=now, Period=60,
                                             Statistics=["Minimum"])["Datapoints"]
    values = [point["Minimum"] for point in sorted(found, key=lambda point: point["Timestamp"])]
    assert values[0] == 1.0 and values[-1] == 0.0 and set(values) == {0.0, 1.0}
    percent = cloudwatch.get_metric_statistics(Namespace="AWS/Route53", MetricName="HealthCheckPercentageHealthy",
                                               Dimensions=[{"Name": "HealthCheckId", "Value": check}],
                                               StartTime=now - timedelta(minutes=1), EndTime=now, Period=60,
                                               Statistics=["Average"])["Datapoints"]
    assert percent and all(point["Average"] == 0.0 for point in percent)
    listed = aws_cli(sandbox, "us-east-1", "cloudwatch", "list-metrics", "--namespace", "AWS/Route53",
                     "--dimensions", f"Name=HealthCheckId,Value={check}")["Metrics"]
    assert {metric["MetricName"] for metric in listed} == {"HealthCheckStatus", "HealthCheckPercentageHealthy"}
    admin(sandbox, "POST", "route53/health", {"endpoint": endpoint, "down": False})
    advance(sandbox, "2m")
    assert state() == "OK" and healthy(follower)
