"""S3 checks on hand-built inventories: pass, fail for the right reason, not applicable."""

from __future__ import annotations

import msgspec

from checks import registry
from checks.inventory import CollectionError
from checks.inventory.lab import Faults, Injection
from lab.inventory.s3 import replication_of
from tests.unit.inventory_builder import EAST, WEST, Inv

SRC, DST = "securecart-invoices-use1", "securecart-invoices-usw2"


def verdicts(check_id, inventory, **params):
    return [(r.resource_id, r.status, r.reason) for r in registry.run(check_id, inventory, params)]


def crr_world(**overrides) -> Inv:
    """A correct cross-region setup; overrides change one thing."""
    inv = Inv().role("crr", "s3.amazonaws.com")
    inv.bucket(SRC, EAST, versioning=overrides.get("src_versioning", "Enabled"),
               replication=overrides.get("replication", Inv.replication(DST)))
    inv.bucket(DST, overrides.get("dst_region", WEST), versioning=overrides.get("dst_versioning", "Enabled"))
    return inv


def test_versioning_pass_fail_and_suspended():
    inv = Inv().bucket("a", versioning="Enabled").bucket("b", versioning="Suspended").bucket("c").build()
    assert verdicts("S3_BUCKET_VERSIONING_ENABLED", inv) == [
        ("a", "PASS", "enabled"), ("b", "FAIL", "suspended"), ("c", "FAIL", "never_enabled")]


def test_versioning_named_buckets_only_on_source_fails_for_destination():
    inv = crr_world(dst_versioning="Off").build()
    found = verdicts("S3_BUCKET_VERSIONING_ENABLED", inv, bucketNames=[SRC, DST])
    assert found == [(SRC, "PASS", "enabled"), (DST, "FAIL", "never_enabled")]


def test_versioning_missing_bucket_and_no_buckets():
    assert verdicts("S3_BUCKET_VERSIONING_ENABLED", Inv().build(), bucketNames=["ghost"]) == [
        ("ghost", "FAIL", "bucket_missing")]
    assert verdicts("S3_BUCKET_VERSIONING_ENABLED", Inv().build()) == [("account", "NOT_APPLICABLE", "no_resources")]


def test_versioning_message_and_hint_name_the_bucket():
    result = registry.run("S3_BUCKET_VERSIONING_ENABLED", Inv().bucket("b1").build())[0]
    assert "b1" in result.message and "put-bucket-versioning --bucket b1" in result.hint


def test_versioning_collection_error_is_an_error_not_a_fail():
    inv = Inv().build()
    inv.errors = [CollectionError(service="s3", region=EAST, part="all", error="region unreachable")]
    assert verdicts("S3_BUCKET_VERSIONING_ENABLED", inv, bucketNames=["x"], region=EAST) == [
        ("x", "ERROR", "collection_failed")]


def test_replication_correct_setup_passes():
    result = registry.run("S3_BUCKET_REPLICATION_ENABLED", crr_world().build(),
                          {"bucketNames": [SRC], "deleteMarkerReplication": True, "coveredPrefix": "invoices/"})
    assert [(r.status, r.reason) for r in result] == [("PASS", "replicating")]
    assert result[0].evidence["destination_region"] == WEST


def test_replication_any_names_and_extra_rules_pass():
    configuration = Inv.replication("my-own-dr-copy", role="arn:aws:iam::000000000000:role/other-name")
    extra = msgspec.structs.replace(configuration.rules[0], id="disabled-extra", status="Disabled")
    configuration.rules.insert(0, extra)
    inv = Inv().role("other-name", "s3.amazonaws.com").bucket("my-own-src", versioning="Enabled",
                                                               replication=configuration)
    inv.bucket("my-own-dr-copy", WEST, versioning="Enabled")
    assert verdicts("S3_BUCKET_REPLICATION_ENABLED", inv.build(), bucketNames=["my-own-src"]) == [
        ("my-own-src", "PASS", "replicating")]


def test_replication_to_same_region_fails_for_that_reason():
    result = registry.run("S3_BUCKET_REPLICATION_ENABLED", crr_world(dst_region=EAST).build(), {"bucketNames": [SRC]})
    assert (result[0].status, result[0].reason) == ("FAIL", "same_region")
    assert "same region" in result[0].message
    assert verdicts("S3_BUCKET_REPLICATION_ENABLED", crr_world(dst_region=EAST).build(), bucketNames=[SRC],
                    ReplicationType="SAME-REGION") == [(SRC, "PASS", "replicating")]


def test_replication_destination_versioning_off_fails():
    assert verdicts("S3_BUCKET_REPLICATION_ENABLED", crr_world(dst_versioning="Off").build(), bucketNames=[SRC]) == [
        (SRC, "FAIL", "destination_versioning_off")]


def test_replication_reasons_for_missing_pieces():
    assert verdicts("S3_BUCKET_REPLICATION_ENABLED", crr_world(replication=None).build(), bucketNames=[SRC]) == [
        (SRC, "FAIL", "no_replication")]
    disabled = Inv.replication(DST, status="Disabled")
    assert verdicts("S3_BUCKET_REPLICATION_ENABLED", crr_world(replication=disabled).build(), bucketNames=[SRC]) == [
        (SRC, "FAIL", "rules_disabled")]
    to_nowhere = Inv.replication("no-such-bucket")
    assert verdicts("S3_BUCKET_REPLICATION_ENABLED", crr_world(replication=to_nowhere).build(), bucketNames=[SRC]) == [
        (SRC, "FAIL", "destination_missing")]
    no_role = Inv.replication(DST, role="arn:aws:iam::000000000000:role/ghost")
    assert verdicts("S3_BUCKET_REPLICATION_ENABLED", crr_world(replication=no_role).build(), bucketNames=[SRC]) == [
        (SRC, "FAIL", "role_missing")]


def test_replication_role_must_trust_s3():
    inv = crr_world()
    inv.role("crr", "ec2.amazonaws.com")
    assert verdicts("S3_BUCKET_REPLICATION_ENABLED", inv.build(), bucketNames=[SRC]) == [
        (SRC, "FAIL", "role_not_trusted")]


def test_replication_prefix_and_delete_markers():
    narrow = Inv.replication(DST, prefix="logs/")
    assert verdicts("S3_BUCKET_REPLICATION_ENABLED", crr_world(replication=narrow).build(), bucketNames=[SRC],
                    coveredPrefix="invoices/") == [(SRC, "FAIL", "prefix_not_covered")]
    wide = Inv.replication(DST, prefix="inv")
    assert verdicts("S3_BUCKET_REPLICATION_ENABLED", crr_world(replication=wide).build(), bucketNames=[SRC],
                    coveredPrefix="invoices/") == [(SRC, "PASS", "replicating")]
    no_markers = Inv.replication(DST, delete_markers="Disabled")
    assert verdicts("S3_BUCKET_REPLICATION_ENABLED", crr_world(replication=no_markers).build(), bucketNames=[SRC],
                    deleteMarkerReplication=True) == [(SRC, "FAIL", "delete_markers_not_replicated")]
    assert verdicts("S3_BUCKET_REPLICATION_ENABLED", crr_world(replication=no_markers).build(),
                    bucketNames=[SRC]) == [(SRC, "PASS", "replicating")]


def test_replication_wrong_destination():
    assert verdicts("S3_BUCKET_REPLICATION_ENABLED", crr_world().build(), bucketNames=[SRC],
                    destinationBuckets=["another"]) == [(SRC, "FAIL", "wrong_destination")]


def test_replication_time_control_when_asked_for():
    """Labs with an RPO of minutes ask for RTC: a rule without it fails, one with it (and its metrics) passes."""
    plain = crr_world().build()
    assert verdicts("S3_BUCKET_REPLICATION_ENABLED", plain, bucketNames=[SRC]) == [(SRC, "PASS", "replicating")]
    result = registry.run("S3_BUCKET_REPLICATION_ENABLED", plain,
                          {"bucketNames": [SRC], "replicationTimeControl": True})[0]
    assert (result.status, result.reason) == ("FAIL", "no_replication_time_control")
    assert "without Replication Time Control" in result.message and "rule-1" in result.message
    assert '"ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}}' in result.hint
    assert '"Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": 15}}' in result.hint
    with_rtc = crr_world(replication=Inv.replication(DST, rtc=True)).build()
    passed = registry.run("S3_BUCKET_REPLICATION_ENABLED", with_rtc,
                          {"bucketNames": [SRC], "replicationTimeControl": True})[0]
    assert (passed.status, passed.reason) == ("PASS", "replicating")
    assert passed.evidence["replication_time_control"] is True


def test_replication_time_control_needs_its_metrics_and_is_said_with_other_problems():
    no_metrics = crr_world(replication=Inv.replication(DST, rtc=True, metrics=False)).build()
    result = registry.run("S3_BUCKET_REPLICATION_ENABLED", no_metrics,
                          {"bucketNames": [SRC], "replicationTimeControl": True})[0]
    assert (result.status, result.reason) == ("FAIL", "replication_time_without_metrics")
    assert "EventThreshold" in result.hint
    # a more basic problem comes first; the missing RTC is still said
    both = registry.run("S3_BUCKET_REPLICATION_ENABLED", crr_world(dst_versioning="Off").build(),
                        {"bucketNames": [SRC], "replicationTimeControl": True})[0]
    assert both.reason == "destination_versioning_off"
    assert both.evidence["problems"] == ["destination_versioning_off", "no_replication_time_control"]
    assert "Also: Rule rule-1 replicates without Replication Time Control" in both.message


def test_object_lock():
    inv = Inv().bucket("locked", lock=Inv.lock(mode="GOVERNANCE", days=7))
    inv.bucket("open")
    assert verdicts("S3_BUCKET_DEFAULT_LOCK_ENABLED", inv.build()) == [
        ("locked", "PASS", "locked"), ("open", "FAIL", "lock_off")]
    assert verdicts("S3_BUCKET_DEFAULT_LOCK_ENABLED", inv.build(), bucketNames=["locked"], mode="COMPLIANCE") == [
        ("locked", "FAIL", "wrong_mode")]


def test_lifecycle():
    rule = {"ID": "expire-logs", "Status": "Enabled", "Filter": {"Prefix": "app/"}, "Expiration": {"Days": 30},
            "Transitions": [{"Days": 7, "StorageClass": "GLACIER"}]}
    inv = Inv().bucket("logs", lifecycle=[rule]).bucket("none").build()
    assert verdicts("S3_LIFECYCLE_POLICY_CHECK", inv) == [("logs", "PASS", "has_rule"),
                                                          ("none", "FAIL", "no_lifecycle")]
    assert verdicts("S3_LIFECYCLE_POLICY_CHECK", inv, bucketNames=["logs"], targetExpirationDays=90) == [
        ("logs", "FAIL", "no_matching_expiration")]
    assert verdicts("S3_LIFECYCLE_POLICY_CHECK", inv, bucketNames=["logs"], targetPrefix="invoices/") == [
        ("logs", "FAIL", "prefix_not_covered")]
    disabled = Inv().bucket("logs", lifecycle=[{**rule, "Status": "Disabled"}]).build()
    assert verdicts("S3_LIFECYCLE_POLICY_CHECK", disabled) == [("logs", "FAIL", "rule_disabled")]


def test_replication_messages_say_what_is_missing_and_everything_that_is():
    """Issue 15: "The replication rule only covers prefix 'invoices/' (tags replicate=yes), not invoices/."
    contradicted itself, and left out the delete markers its own evidence listed."""
    tagged = Inv.replication(DST, prefix="invoices/", tags={"replicate": "yes"}, delete_markers="Disabled")
    result = registry.run("S3_BUCKET_REPLICATION_ENABLED", crr_world(replication=tagged).build(),
                          {"bucketNames": [SRC], "coveredPrefix": "invoices/", "deleteMarkerReplication": True})[0]
    assert (result.status, result.reason) == ("FAIL", "prefix_not_covered")
    assert result.message == (
        "Rule rule-1 replicates only objects tagged replicate=yes: the keys of 'invoices/' written without that "
        "tag (the shop tags none) are not replicated. Also: Rule rule-1 does not replicate delete markers: a "
        f"deletion in {SRC} would not show in {DST}.")
    assert '{"Filter": {"Prefix": "invoices/"}}' in result.hint
    narrow = Inv.replication(DST, prefix="logs/")
    result = registry.run("S3_BUCKET_REPLICATION_ENABLED", crr_world(replication=narrow).build(),
                          {"bucketNames": [SRC], "coveredPrefix": "invoices/"})[0]
    assert result.message == ("Rule rule-1 replicates only keys that start with 'logs/', which leaves out part of "
                              "'invoices/'.")


def test_a_region_a_fault_holds_down_is_named_with_the_way_out():
    """Issue 15: after a drill's outage outlived it, a finished lab read "ERROR ... could not be read" and nothing
    pointed to `lab recover`."""
    inv = Inv().build()
    inv.errors = [CollectionError(service="s3", region=EAST, part="all", error="Could not connect to the endpoint")]
    inv.faults = Faults(regions_down=[EAST], injections=[Injection(
        id="inj-0002", name="region-outage", params={"region": EAST}, status="active", drill="drill-0001")])
    result = registry.run("S3_BUCKET_VERSIONING_ENABLED", inv, {"bucketNames": [SRC]})[0]
    assert (result.status, result.reason) == ("ERROR", "region_down")
    assert result.message == (f"{EAST} is down (fault inj-0002, region-outage from drill drill-0001), so the lab "
                              f"could not read it: The lab could not read S3 in {EAST}: Could not connect to the "
                              "endpoint")
    assert result.hint.startswith("Run lab recover")
    inv.faults = Faults()
    assert registry.run("S3_BUCKET_VERSIONING_ENABLED", inv, {"bucketNames": [SRC]})[0].reason == "collection_failed"


def backfill_world(copied: bool) -> Inv:
    inv = Inv().role("crr", "s3.amazonaws.com").orders(6, every_minutes=60)
    inv.bucket(SRC, EAST, versioning="Enabled", replication=Inv.replication(DST), invoices=inv.invoices())
    # the rule came after the first four orders: only the last two replicated, unless the old ones were copied
    inv.bucket(DST, WEST, versioning="Enabled", invoices=inv.invoices(missing=set() if copied else {
        "ORD-000001", "ORD-000002", "ORD-000003", "ORD-000004"}))
    return inv


def test_the_invoices_from_before_the_rule_are_named_until_copied():
    """Issue 15: lab 02's `aws s3 sync` step was never checked. The replication check says what the DR copy
    still lacks (the rule itself being right), and S3_REPLICA_HOLDS_EVERY_INVOICE judges it."""
    result = registry.run("S3_BUCKET_REPLICATION_ENABLED", backfill_world(copied=False).build(),
                          {"bucketNames": [SRC]})[0]
    assert (result.status, result.reason) == ("PASS", "replicating")
    assert (f"4 invoices written before the rule are not in {DST} yet: copy them once (aws s3 sync s3://{SRC} "
            f"s3://{DST} --source-region {EAST} --region {WEST})") in result.message
    done = registry.run("S3_BUCKET_REPLICATION_ENABLED", backfill_world(copied=True).build(), {"bucketNames": [SRC]})[0]
    assert done.status == "PASS" and "not in" not in done.message
    missing = registry.run("S3_REPLICA_HOLDS_EVERY_INVOICE", backfill_world(copied=False).build(), {})[0]
    assert (missing.status, missing.reason) == ("FAIL", "invoices_missing")
    assert missing.message.startswith(f"{DST} lacks 4 of the 6 invoices of {SRC}, the oldest from ")
    assert missing.hint == (f"Copy the existing objects once: aws s3 sync s3://{SRC} s3://{DST} --source-region {EAST} "
                            f"--region {WEST}")
    complete = registry.run("S3_REPLICA_HOLDS_EVERY_INVOICE", backfill_world(copied=True).build(), {})[0]
    assert (complete.status, complete.reason) == ("PASS", "complete")
    nowhere = registry.run("S3_REPLICA_HOLDS_EVERY_INVOICE", crr_world(replication=None).build(), {})[0]
    assert (nowhere.status, nowhere.reason) == ("FAIL", "no_destination")


def test_collector_reads_replication_time_control_and_metrics():
    """The collector carries what the check judges: RTC's status and minutes, and the Metrics block."""
    destination = {"Bucket": f"arn:aws:s3:::{DST}",
                   "ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}},
                   "Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": 15}}}
    rule = replication_of({"Role": "r", "Rules": [{"ID": "rtc", "Status": "Enabled", "Filter": {},
                                                   "Destination": destination}]}).rules[0]
    assert (rule.replication_time, rule.replication_time_minutes, rule.metrics) == (True, 15, True)
    plain = replication_of({"Role": "r", "Rules": [{"ID": "plain", "Status": "Enabled", "Filter": {},
                                                    "Destination": {"Bucket": f"arn:aws:s3:::{DST}"}}]}).rules[0]
    assert (plain.replication_time, plain.replication_time_minutes, plain.metrics) == (False, None, False)
