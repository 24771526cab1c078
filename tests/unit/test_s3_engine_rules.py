"""The s3 engine's pure parts: replication configuration (parse, checks, rule choice, trust), lifecycle rules."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import botocore.serialize
import pytest

from lab.gateway.codec.decode import decode_answer, decode_request
from lab.gateway.codec.encode import encode_output
from lab.gateway.codec.identify import service_model
from lab.kernel.data import ObjectVersion
from lab.kernel.errors import AwsError
from lab.services.s3.lifecycle import DAY, due_actions, due_at, next_midnight, parse_lifecycle, upload_due
from lab.services.s3.metrics import RuleMetrics, minute_datums, next_minute, sync_rule_metrics
from lab.services.s3.replication import (
    ConfigError,
    build_replication,
    check_replication,
    choose_targets,
    draws,
    role_document_trusts_s3,
    trusts_s3,
)
from lab.sim.durations import Durations

ROLE = "arn:aws:iam::000000000000:role/replication"
T0 = datetime(2025, 3, 10, 15, 30, tzinfo=UTC).timestamp()


def request_body(operation: str, member: str, document: dict) -> bytes:
    """The XML body boto3 sends for `operation` with `document` as its payload."""
    serializer = botocore.serialize.create_serializer("rest-xml", include_validation=False)
    return serializer.serialize_to_request({"Bucket": "b", member: document},
                                           service_model("s3").operation_model(operation))["body"]


def put_params(operation: str, member: str, document: dict) -> dict:
    """What the gateway's codec reads from that body (the engine's and the API's view of the request)."""
    return decode_request("s3", operation, "rest-xml", "/b", "", {}, request_body(operation, member, document),
                          bucket="b")


def read_back(operation: str, output: dict) -> dict:
    """The codec's answer carrying `output`, read as boto3 reads it."""
    response = encode_output("s3", operation, "rest-xml", output, "req-1")
    return decode_answer("s3", operation, "rest-xml", response.status, response.headers, response.body)


def rule(rule_id: str, bucket: str = "dst", priority: int = 1, prefix: str = "", tags: dict | None = None,
         status: str = "Enabled", delete_markers: str = "Disabled", target: dict | None = None, **extra) -> dict:
    if tags:
        rule_filter = {"And": {"Prefix": prefix, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}}
    else:
        rule_filter = {"Prefix": prefix}
    return {"ID": rule_id, "Priority": priority, "Status": status, "Filter": rule_filter,
            "DeleteMarkerReplication": {"Status": delete_markers},
            "Destination": {"Bucket": f"arn:aws:s3:::{bucket}", **(target or {})}, **extra}


def config(*rules: dict, seq: int = 1, previous=None, now: float = T0):
    document = {"Role": ROLE, "Rules": list(rules)}
    check_replication(document)
    return build_replication("src", document, previous, seq, now)


def test_the_request_body_parses_as_get_bucket_replication_answers_it():
    document = {"Role": ROLE, "Rules": [rule("r1", tags={"tier": "gold"}, prefix="docs/",
                                             target={"StorageClass": "STANDARD_IA"},
                                             SourceSelectionCriteria={"ReplicaModifications": {"Status": "Enabled"}})]}
    parsed = put_params("PutBucketReplication", "ReplicationConfiguration", document)
    assert parsed["ReplicationConfiguration"] == document
    assert read_back("GetBucketReplication", {"ReplicationConfiguration": document})["ReplicationConfiguration"] \
        == document


def test_a_body_that_is_not_xml_is_malformed():
    with pytest.raises(AwsError) as refused:
        decode_request("s3", "PutBucketReplication", "rest-xml", "/b", "replication", {},
                       b"<ReplicationConfiguration><Role>", bucket="b")
    assert refused.value.code == "MalformedXML"


@pytest.mark.parametrize("document, code, message", [
    ({"Role": ROLE, "Rules": [{"ID": "a", "Status": "Enabled", "Filter": {"Prefix": ""},
                               "Destination": {"Bucket": "arn:aws:s3:::dst"}}]},
     "InvalidRequest", "DeleteMarkerReplication must be specified for this version of Cross Region Replication "
                       "configuration schema."),
    ({"Role": ROLE, "Rules": [rule("a", tags={"k": "v"}, delete_markers="Enabled")]},
     "InvalidRequest", "Delete marker replication is not supported if any Tag filter is specified."),
    ({"Role": ROLE, "Rules": [rule("a"), rule("a", priority=2)]}, "InvalidArgument", "Rule Id must be unique"),
    ({"Role": ROLE, "Rules": [{**rule("a"), "Destination": {"Bucket": "dst"}}]}, "InvalidArgument", None),
])
def test_configurations_s3_refuses(document, code, message):
    with pytest.raises(ConfigError) as refused:
        check_replication(document)
    assert refused.value.code == code
    if message:
        assert refused.value.message == message


def test_rules_without_ids_get_stable_ids_and_v1_rules_replicate_delete_markers():
    document = {"Role": ROLE, "Rules": [{"Status": "Enabled", "Prefix": "logs/",
                                         "Destination": {"Bucket": "arn:aws:s3:::dst"}}]}
    first = build_replication("src", document, None, 7, T0)
    again = build_replication("src", document, None, 7, T0)
    assert first.rules[0].id == again.rules[0].id and first.rules[0].id
    assert first.document["Rules"][0]["ID"] == first.rules[0].id
    assert first.rules[0].delete_markers and first.rules[0].prefix == "logs/"


def test_highest_priority_rule_wins_per_destination_and_each_destination_gets_one():
    replication = config(rule("low", priority=1, target={"StorageClass": "STANDARD"}),
                         rule("high", priority=5, prefix="docs/", target={"StorageClass": "GLACIER"}),
                         rule("other", bucket="dr", priority=2))
    targets = choose_targets(replication.rules, "docs/a.pdf", {}, written_seq=2)
    assert [(t.bucket, t.rule_id, t.storage_class) for t in targets] == [("dr", "other", None),
                                                                        ("dst", "high", "GLACIER")]
    assert [t.rule_id for t in choose_targets(replication.rules, "img/a.png", {}, written_seq=2)] == ["other", "low"]


def test_filters_disabled_rules_and_versions_older_than_the_rule():
    replication = config(rule("tagged", prefix="docs/", tags={"tier": "gold", "team": "a"}),
                         rule("off", bucket="dr", status="Disabled"), seq=10)
    assert choose_targets(replication.rules, "docs/x", {"tier": "gold", "team": "a", "z": "1"}, 11)
    assert not choose_targets(replication.rules, "docs/x", {"tier": "gold"}, 11)
    assert not choose_targets(replication.rules, "other/x", {"tier": "gold", "team": "a"}, 11)
    assert not choose_targets(replication.rules, "docs/x", {"tier": "gold", "team": "a"}, 10)  # written before


def test_delete_markers_follow_only_rules_that_replicate_them():
    replication = config(rule("on", prefix="on/", delete_markers="Enabled"), rule("off", prefix="off/"))
    assert [t.rule_id for t in choose_targets(replication.rules, "on/a", {}, 2, delete_marker=True)] == ["on"]
    assert choose_targets(replication.rules, "off/a", {}, 2, delete_marker=True) == ()


def test_a_rule_put_again_unchanged_keeps_its_creation_but_a_changed_one_starts_anew():
    first = config(rule("a"), rule("b", bucket="dr"), seq=3, now=T0)
    second = config(rule("a"), rule("b", bucket="elsewhere"), seq=9, previous=first, now=T0 + 60)
    assert second.rules[0].created_seq == 3 and second.rules[0].created_at == T0
    assert second.rules[1].created_seq == 9


def test_replication_time_control_threshold():
    replication = config(rule("rtc", target={"ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}},
                                                  "Metrics": {"Status": "Enabled",
                                                              "EventThreshold": {"Minutes": 15}}}))
    assert choose_targets(replication.rules, "k", {}, 2)[0].rtc_minutes == 15


RTC = {"ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}}, "Metrics": {"Status": "Enabled"}}


BOTH_OR_NEITHER = "Replication destination must contain both ReplicationTime and Metrics or neither."


@pytest.mark.parametrize("target, code, message", [
    ({"ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}}}, "InvalidRequest", BOTH_OR_NEITHER),
    ({"ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}}, "Metrics": {"Status": "Disabled"}},
     "InvalidRequest", BOTH_OR_NEITHER),
    ({"Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": 15}}}, "InvalidArgument",
     "Metrics cannot contain an event threshold when ReplicationTime is not specified or Disabled"),
])
def test_replication_time_control_needs_its_metrics_block(target, code, message):
    # API Reference, Destination: ReplicationTime "Must be specified together with a Metrics block".
    with pytest.raises(ConfigError) as refused:
        check_replication({"Role": ROLE, "Rules": [rule("rtc", target=target)]})
    assert (refused.value.code, refused.value.message, refused.value.status) == (code, message, 400)


def test_metrics_alone_and_rtc_with_metrics_are_accepted():
    replication = config(rule("metrics", target={"Metrics": {"Status": "Enabled"}}),
                         rule("rtc", bucket="dr", target=RTC))
    targets = {target.rule_id: target for target in choose_targets(replication.rules, "k", {}, 2)}
    assert targets["metrics"].metrics and targets["metrics"].rtc_minutes is None
    assert targets["rtc"].metrics and targets["rtc"].rtc_minutes == 15


def test_replication_waits_follow_the_duration_model():
    model = Durations()
    waits = {rtc: sorted(model.s3_replication(2048, rtc, draws(7, "bucket", f"v{index}", "version"))
                         for index in range(20_000)) for rtc in (True, False)}
    # RTC: "replicates most objects ... in seconds, and 99.99 percent of those objects within 15 minutes".
    assert waits[True][len(waits[True]) // 2] < 15 and waits[True][int(len(waits[True]) * 0.9999) - 1] < 900
    # Without RTC: "The majority of objects replicate within 15 minutes", some take hours.
    within = sum(1 for wait in waits[False] if wait < 900) / len(waits[False])
    assert 0.99 < within < 1 and waits[False][-1] > 3600
    assert all(wait >= model["s3.replication.base"] for wait in waits[True] + waits[False])
    # The same work waits the same (a replay), larger objects longer, and the scale shortens everything.
    assert model.s3_replication(0, True, draws(7, "b", "v1", "version")) == \
        model.s3_replication(0, True, draws(7, "b", "v1", "version"))
    assert model.s3_replication(5 * 1024 ** 3, True, (0.5, 0.5)) - model.s3_replication(0, True, (0.5, 0.5)) \
        == pytest.approx(5 * 1024 / 50)
    assert Durations({"scale": 0.1}).s3_replication(0, False, (0.5, 0.5)) == \
        pytest.approx(0.1 * model.s3_replication(0, False, (0.5, 0.5)))
    assert Durations({"s3.replication.slow_share": 0}).s3_replication(0, False, (0.5, 0.0)) < 3600


def test_replication_metrics_minute_by_minute():
    # S3 User Guide, Using S3 Replication metrics: three metrics in the destination's Region, failures in the
    # source's, nothing until 15 minutes after RTC is enabled.
    metrics: dict = {}
    replication = config(rule("rtc", target=RTC), rule("plain", bucket="dr"))
    sync_rule_metrics(metrics, "src", replication, 900, T0)
    assert list(metrics) == [("src", "rtc", "dst")]
    figures = metrics[("src", "rtc", "dst")]
    figures.pend(+1, 2048)
    figures.pend(+1, 1024)
    figures.pend(-1, 2048)
    figures.max_latency = 42.0
    figures.failed = 1
    end = next_minute(T0)
    assert list(minute_datums(("src", "rtc", "dst"), figures, end, None, "us-east-1", "us-west-2")) == []
    later = end + 900
    datums = list(minute_datums(("src", "rtc", "dst"), figures, later, later - 100, "us-east-1", "us-west-2"))
    values = {datum["MetricName"]: (region, datum["Value"], datum["Unit"]) for region, datum in datums}
    assert values == {"ReplicationLatency": ("us-west-2", 100.0, "Seconds"),
                      "BytesPendingReplication": ("us-west-2", 3072.0, "Bytes"),
                      "OperationsPendingReplication": ("us-west-2", 2.0, "Count"),
                      "OperationsFailedReplication": ("us-east-1", 1.0, "Count")}
    assert datums[0][1]["Timestamp"] == later - 60
    assert datums[0][1]["Dimensions"] == [{"Name": "SourceBucket", "Value": "src"},
                                          {"Name": "DestinationBucket", "Value": "dst"},
                                          {"Name": "RuleId", "Value": "rtc"}]
    figures.next_minute()
    assert (figures.max_ops, figures.max_bytes, figures.max_latency, figures.failed) == (1, 1024, 0.0, 0)
    sync_rule_metrics(metrics, "src", replication, 900, T0 + 5000)  # unchanged: keeps its figures
    assert metrics[("src", "rtc", "dst")] is figures and figures.since == T0 + 900
    sync_rule_metrics(metrics, "src", None, 900, T0 + 5000)
    assert metrics == {}
    assert RuleMetrics(0.0).pending_ops == 0


S3_TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
                                                    "Action": "sts:AssumeRole"}]}


@pytest.mark.parametrize("policy, trusted", [
    (S3_TRUST, True),
    ({"Statement": {"Effect": "Allow", "Principal": {"Service": ["ec2.amazonaws.com", "s3.amazonaws.com"]},
                    "Action": ["sts:*"]}}, True),
    ({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*"}]}, True),
    ({"Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
     False),
    ({"Statement": [{"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "s3:GetObject"}]},
     False),
    ({"Statement": [S3_TRUST["Statement"][0], {**S3_TRUST["Statement"][0], "Effect": "Deny"}]}, False),
    ({}, False),
    (None, False),
])
def test_trust_policy(policy, trusted):
    assert trusts_s3(policy) is trusted


def test_trust_policy_as_iam_keeps_it():
    assert role_document_trusts_s3(json.dumps(S3_TRUST))
    assert not role_document_trusts_s3("not json")


# -- lifecycle -----------------------------------------------------------------------------------------

def lifecycle(*rules: dict):
    params = put_params("PutBucketLifecycleConfiguration", "LifecycleConfiguration", {"Rules": list(rules)})
    return parse_lifecycle(params["LifecycleConfiguration"])


def version(key, vid, modified, latest=False, marker=False, size=100, tags=None):
    return ObjectVersion(key, vid, latest, marker, modified, size, tags)


def test_midnights():
    midnight = datetime(2025, 3, 11, tzinfo=UTC).timestamp()
    assert next_midnight(T0) == midnight and next_midnight(midnight) == midnight + DAY
    assert due_at(T0, 1) == midnight + DAY  # created 10 March 15:30 + 1 day -> 12 March 00:00
    assert due_at(midnight, 1) == midnight + DAY


def test_expiration_by_days_and_by_date():
    rules = lifecycle({"ID": "days", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 1}},
                      {"ID": "date", "Status": "Enabled", "Filter": {"Prefix": "old/"},
                       "Expiration": {"Date": datetime(2025, 3, 12, tzinfo=UTC)}})
    versions = [version("keep/a", "1", T0, latest=True), version("old/b", "2", T0, latest=True),
                version("tmp/c", "3", T0, latest=True)]
    assert due_actions(rules, versions, next_midnight(T0)) == []
    due = due_actions(rules, versions, next_midnight(T0) + DAY)
    assert [(a.kind, a.key, a.rule_id) for a in due] == [("expire", "old/b", "date"), ("expire", "tmp/c", "days")]


def test_noncurrent_expiration_keeps_the_newest_noncurrent_versions():
    rules = lifecycle({"ID": "nc", "Status": "Enabled", "Filter": {},
                       "NoncurrentVersionExpiration": {"NoncurrentDays": 1, "NewerNoncurrentVersions": 1}})
    line = [version("k", "v4", T0 + 3 * DAY, latest=True), version("k", "v3", T0 + 2 * DAY),
            version("k", "v2", T0 + DAY), version("k", "v1", T0)]
    # v1 became noncurrent at T0+1d, v2 at T0+2d; v3 is kept as the one newer noncurrent version.
    assert [a.version_id for a in due_actions(rules, line, due_at(T0 + DAY, 1))] == ["v1"]
    assert [a.version_id for a in due_actions(rules, line, due_at(T0 + 2 * DAY, 1))] == ["v2", "v1"]


def test_expired_delete_marker_is_removed_once_alone():
    rules = lifecycle({"ID": "nc", "Status": "Enabled", "Filter": {"Prefix": ""},
                       "NoncurrentVersionExpiration": {"NoncurrentDays": 1}},
                      {"ID": "dm", "Status": "Enabled", "Filter": {"Prefix": ""},
                       "Expiration": {"ExpiredObjectDeleteMarker": True}})
    line = [version("k", "m", T0 + DAY, latest=True, marker=True), version("k", "v1", T0)]
    assert due_actions(rules, line, next_midnight(T0 + DAY)) == []
    actions = due_actions(rules, line, due_at(T0 + DAY, 1))
    assert [(a.kind, a.version_id) for a in actions] == [("delete-noncurrent", "v1"), ("remove-delete-marker", "m")]


def test_filters_by_tag_and_size_and_disabled_rules():
    rules = lifecycle({"ID": "t", "Status": "Enabled", "Expiration": {"Days": 1},
                       "Filter": {"And": {"Prefix": "a/", "Tags": [{"Key": "tmp", "Value": "yes"}],
                                          "ObjectSizeGreaterThan": 10}}},
                      {"ID": "off", "Status": "Disabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}})
    at = due_at(T0, 5)
    versions = [version("a/big", "1", T0, latest=True, size=50, tags={"tmp": "yes"}),
                version("a/small", "2", T0, latest=True, size=5, tags={"tmp": "yes"}),
                version("a/untagged", "3", T0, latest=True, size=50, tags={})]
    assert [a.key for a in due_actions(rules, versions, at)] == ["a/big"]


def test_abort_incomplete_multipart_upload():
    (rule_,) = lifecycle({"ID": "mpu", "Status": "Enabled", "Filter": {"Prefix": "up/"},
                          "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2}})
    assert not upload_due(rule_, "up/a", T0, due_at(T0, 2) - 1)
    assert upload_due(rule_, "up/a", T0, due_at(T0, 2))
    assert not upload_due(rule_, "other/a", T0, due_at(T0, 2))


def test_lifecycle_answer_carries_every_member_back():
    document = {"Rules": [{"ID": "nc", "Status": "Enabled",
                           "Filter": {"And": {"Prefix": "a/", "ObjectSizeGreaterThan": 10,
                                              "Tags": [{"Key": "k", "Value": "v"}]}},
                           "NoncurrentVersionExpiration": {"NoncurrentDays": 2, "NewerNoncurrentVersions": 3}}]}
    answer = read_back("GetBucketLifecycleConfiguration",
                       {**document, "TransitionDefaultMinimumObjectSize": "all_storage_classes_128K"})
    assert answer == {**document, "TransitionDefaultMinimumObjectSize": "all_storage_classes_128K"}


def test_legacy_put_bucket_lifecycle_with_a_rule_prefix():
    params = put_params("PutBucketLifecycle", "LifecycleConfiguration",
                        {"Rules": [{"ID": "legacy", "Status": "Enabled", "Prefix": "logs/",
                                    "Expiration": {"Days": 3}}]})
    (rule_,) = parse_lifecycle(params["LifecycleConfiguration"])
    assert rule_.prefix == "logs/" and rule_.expiration_days == 3


def test_a_version_status_keeps_one_peer_in_slots_and_loads_as_the_named_tuple_it_was():
    import pickle
    from typing import NamedTuple

    from lab.services.s3 import engine

    single = engine.VersionStatus(engine.REPLICA, (("source", "v1"),))
    several = engine.VersionStatus(engine.COMPLETED, (("a", "v1"), ("b", "v1")))
    none = engine.VersionStatus(engine.PENDING, ())
    assert single.peers == (("source", "v1"),) and several.peers == (("a", "v1"), ("b", "v1")) and none.peers == ()
    assert not hasattr(single, "__dict__")
    for status in (single, several, none):
        assert pickle.loads(pickle.dumps(status)) == status

    class VersionStatus(NamedTuple):  # what a snapshot saved before held
        status: str
        peers: tuple[tuple[str, str], ...]

    VersionStatus.__module__, VersionStatus.__qualname__ = engine.__name__, "VersionStatus"
    current = engine.VersionStatus
    engine.VersionStatus = VersionStatus
    try:
        saved = pickle.dumps({"v1": VersionStatus(engine.REPLICA, (("source", "v1"),))})
    finally:
        engine.VersionStatus = current
    assert pickle.loads(saved) == {"v1": single}
