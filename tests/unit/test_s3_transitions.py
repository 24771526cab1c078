"""S3 lifecycle transitions, their validation, and the encryption rules of replication: the pure parts
(lab/services/s3/lifecycle.py, lab/services/s3/replication.py), compared with the S3 User Guide's
"Transitioning objects using Amazon S3 Lifecycle" and "Replicating encrypted objects"."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lab.kernel.data import ObjectVersion
from lab.services.s3.lifecycle import (
    DAY,
    KIB,
    VARIES,
    due_actions,
    due_at,
    lifecycle_refusal,
    parse_lifecycle,
    waterfall_level,
)
from lab.services.s3.replication import ConfigError, build_replication, check_replication, choose_targets
from lab.sim.durations import Durations
from tests.unit.test_s3_engine_rules import lifecycle

T0 = datetime(2025, 3, 10, 15, 30, tzinfo=UTC).timestamp()
BIG = 256 * KIB
ROLE = "arn:aws:iam::000000000000:role/replication"


def version(key, vid, modified, latest=False, size=BIG, storage_class="STANDARD", marker=False, encryption=None):
    return ObjectVersion(key, vid, latest, marker, modified, size, None, None, storage_class, encryption)


def transitions(*steps: tuple[int, str], prefix: str = "", **filter_extra) -> dict:
    rule_filter = {"Prefix": prefix} if not filter_extra else {"And": {"Prefix": prefix, **filter_extra}}
    return {"ID": "t", "Status": "Enabled", "Filter": rule_filter,
            "Transitions": [{"Days": days, "StorageClass": storage_class} for days, storage_class in steps]}


# -- transitions of current versions ----------------------------------------------------------------------

def test_a_version_moves_down_the_waterfall_day_by_day():
    rules = lifecycle(transitions((30, "STANDARD_IA"), (90, "GLACIER"), (180, "DEEP_ARCHIVE")))
    current = version("k", "v1", T0, latest=True)
    assert due_actions(rules, [current], due_at(T0, 30) - DAY) == []
    (moved,) = due_actions(rules, [current], due_at(T0, 30))
    assert (moved.kind, moved.version_id, moved.storage_class, moved.rule_id) == (
        "transition", "v1", "STANDARD_IA", "t")
    in_ia = current._replace(storage_class="STANDARD_IA")
    assert due_actions(rules, [in_ia], due_at(T0, 89)) == []  # already where the due rule says
    assert [a.storage_class for a in due_actions(rules, [in_ia], due_at(T0, 90))] == ["GLACIER"]
    # A day that several transitions have reached moves it to the lowest class at once.
    assert [a.storage_class for a in due_actions(rules, [current], due_at(T0, 200))] == ["DEEP_ARCHIVE"]


def test_never_up_the_waterfall():
    rules = lifecycle(transitions((30, "STANDARD_IA")))
    archived = version("k", "v1", T0, latest=True, storage_class="GLACIER")
    assert due_actions(rules, [archived], due_at(T0, 400)) == []
    assert waterfall_level("REDUCED_REDUNDANCY") == 0 and waterfall_level("EXPRESS_ONEZONE") is None


def test_transition_by_date():
    rules = lifecycle({"ID": "d", "Status": "Enabled", "Filter": {"Prefix": ""},
                       "Transitions": [{"Date": datetime(2025, 4, 1, tzinfo=UTC), "StorageClass": "GLACIER"}]})
    current = version("k", "v1", T0, latest=True)
    assert due_actions(rules, [current], datetime(2025, 3, 31, tzinfo=UTC).timestamp()) == []
    assert [a.storage_class for a in due_actions(rules, [current], datetime(2025, 4, 1, tzinfo=UTC).timestamp())] == [
        "GLACIER"]


def test_small_objects_stay_unless_the_size_filter_or_the_default_says_otherwise():
    """Since September 2024 objects under 128 KB do not transition by default (all_storage_classes_128K);
    varies_by_storage_class lets them go to GLACIER and DEEP_ARCHIVE; a rule's ObjectSizeGreaterThan decides for
    itself (TransitionDefaultMinimumObjectSize, API Reference: PutBucketLifecycleConfiguration)."""
    small = version("k", "v1", T0, latest=True, size=4 * KIB)
    at = due_at(T0, 100)
    to_glacier = lifecycle(transitions((0, "GLACIER")))
    to_ia = lifecycle(transitions((30, "STANDARD_IA")))
    assert due_actions(to_glacier, [small], at) == []
    assert [a.storage_class for a in due_actions(to_glacier, [small], at, VARIES)] == ["GLACIER"]
    assert due_actions(to_ia, [small], at, VARIES) == []
    sized = lifecycle(transitions((30, "STANDARD_IA"), ObjectSizeGreaterThan=1024))
    assert [a.storage_class for a in due_actions(sized, [small], at)] == ["STANDARD_IA"]
    assert [a.storage_class for a in due_actions(to_ia, [small._replace(size=128 * KIB)], at)] == ["STANDARD_IA"]


def test_expiration_due_wins_over_a_transition():
    rules = lifecycle({**transitions((30, "STANDARD_IA")), "Expiration": {"Days": 60}})
    current = version("k", "v1", T0, latest=True)
    assert [a.kind for a in due_actions(rules, [current], due_at(T0, 60))] == ["expire"]


def test_delete_markers_and_disabled_rules_do_not_transition():
    rules = lifecycle({**transitions((0, "GLACIER")), "Status": "Disabled"})
    assert due_actions(rules, [version("k", "v1", T0, latest=True)], due_at(T0, 5)) == []
    rules = lifecycle(transitions((0, "GLACIER")))
    assert due_actions(rules, [version("k", "m", T0, latest=True, marker=True, size=0)], due_at(T0, 5)) == []


# -- transitions of noncurrent versions ---------------------------------------------------------------

def test_noncurrent_versions_move_after_becoming_noncurrent_keeping_the_newer_ones():
    rules = lifecycle({"ID": "nc", "Status": "Enabled", "Filter": {},
                       "NoncurrentVersionTransitions": [
                           {"NoncurrentDays": 30, "StorageClass": "STANDARD_IA", "NewerNoncurrentVersions": 1},
                           {"NoncurrentDays": 60, "StorageClass": "GLACIER"}]})
    line = [version("k", "v3", T0 + 2 * DAY, latest=True), version("k", "v2", T0 + DAY), version("k", "v1", T0)]
    # v1 became noncurrent at T0+1d, v2 at T0+2d. The newest noncurrent version (v2) stays for the IA step.
    at = due_at(T0 + DAY, 30)
    assert [(a.version_id, a.storage_class) for a in due_actions(rules, line, at)] == [("v1", "STANDARD_IA")]
    at = due_at(T0 + 2 * DAY, 60)
    assert [(a.version_id, a.storage_class) for a in due_actions(rules, line, at)] == [
        ("v2", "GLACIER"), ("v1", "GLACIER")]


def test_noncurrent_expiration_wins_over_noncurrent_transition():
    rules = lifecycle({"ID": "nc", "Status": "Enabled", "Filter": {},
                       "NoncurrentVersionTransitions": [{"NoncurrentDays": 30, "StorageClass": "GLACIER"}],
                       "NoncurrentVersionExpiration": {"NoncurrentDays": 40}})
    line = [version("k", "v2", T0 + DAY, latest=True), version("k", "v1", T0)]
    assert [a.kind for a in due_actions(rules, line, due_at(T0 + DAY, 40))] == ["delete-noncurrent"]


def test_parse_keeps_both_kinds_of_transition():
    (rule,) = parse_lifecycle({"Rules": [{"ID": "r", "Status": "Enabled", "Filter": {},
                                          "Transitions": [{"Days": 0, "StorageClass": "GLACIER_IR"}],
                                          "NoncurrentVersionTransitions": [
                                              {"NoncurrentDays": 7, "StorageClass": "DEEP_ARCHIVE",
                                               "NewerNoncurrentVersions": 2}]}]})
    assert rule.acts and rule.transitions[0].storage_class == "GLACIER_IR" and rule.transitions[0].days == 0
    assert (rule.noncurrent_transitions[0].days, rule.noncurrent_transitions[0].newer) == (7, 2)


# -- what PutBucketLifecycleConfiguration refuses ---------------------------------------------------------

@pytest.mark.parametrize("rule, code, words", [
    (transitions((29, "STANDARD_IA")), "InvalidArgument",
     "'Days' in Transition action must be greater than or equal to 30 for storageClass 'STANDARD_IA'"),
    (transitions((1, "ONEZONE_IA")), "InvalidArgument", "for storageClass 'ONEZONE_IA'"),
    ({"ID": "n", "Status": "Enabled", "Filter": {},
      "NoncurrentVersionTransitions": [{"NoncurrentDays": 10, "StorageClass": "STANDARD_IA"}]}, "InvalidArgument",
     "'NoncurrentDays' in NoncurrentVersionTransition action must be greater than or equal to 30"),
    (transitions((30, "STANDARD_IA"), (45, "GLACIER"), prefix="logs/"), "InvalidArgument",
     "for filter '(prefix=logs/)' must be 30 days more than 'Days' in the Transition action for StorageClass "
     "STANDARD_IA"),
    ({**transitions((30, "GLACIER")), "Expiration": {"Days": 30}}, "InvalidArgument",
     "'Days' in the Expiration action for filter '(prefix=)' must be greater than 'Days' in the Transition action"),
    (transitions((30, "GLACIER"), (60, "GLACIER")), "InvalidArgument", "'StorageClass' must be different"),
    (transitions((30, "STANDARD")), "MalformedXML", "did not validate against our published schema"),
    ({"ID": "n", "Status": "Enabled", "Filter": {}, "Transitions": [{"StorageClass": "GLACIER"}]},
     "InvalidArgument", "Exactly one of 'Days' or 'Date'"),
])
def test_refused_transitions(rule, code, words):
    refusal = lifecycle_refusal({"Rules": [rule]})
    assert refusal is not None and refusal.code == code and refusal.status == 400
    assert words in refusal.message


def test_accepted_transitions():
    assert lifecycle_refusal({"Rules": [transitions((30, "STANDARD_IA"), (60, "GLACIER"), (240, "DEEP_ARCHIVE"))]}) \
        is None
    assert lifecycle_refusal({"Rules": [transitions((0, "GLACIER_IR"), (0 + 1, "GLACIER"))]}) is None
    assert lifecycle_refusal({"Rules": [{"ID": "e", "Status": "Enabled", "Filter": {},
                                         "Expiration": {"Days": 1}}]}) is None


# -- replication of SSE-KMS objects ---------------------------------------------------------------------

def kms_rule(selected: str | None = "Enabled", key: str | None = "arn:aws:kms:us-west-2:000000000000:key/k") -> dict:
    rule: dict = {"ID": "kms", "Status": "Enabled", "Priority": 1, "Filter": {},
                  "DeleteMarkerReplication": {"Status": "Disabled"},
                  "Destination": {"Bucket": "arn:aws:s3:::dst"}}
    if selected:
        rule["SourceSelectionCriteria"] = {"SseKmsEncryptedObjects": {"Status": selected}}
    if key:
        rule["Destination"]["EncryptionConfiguration"] = {"ReplicaKmsKeyID": key}
    return rule


def test_kms_selection_needs_the_replica_key_and_the_converse():
    with pytest.raises(ConfigError, match="ReplicaKmsKeyID must be specified if SseKmsEncryptedObjects"):
        check_replication({"Role": ROLE, "Rules": [kms_rule(key=None)]})
    with pytest.raises(ConfigError, match="SseKmsEncryptedObjects must be specified"):
        check_replication({"Role": ROLE, "Rules": [kms_rule(selected=None)]})
    check_replication({"Role": ROLE, "Rules": [kms_rule()]})
    check_replication({"Role": ROLE, "Rules": [kms_rule(selected=None, key=None)]})


def test_kms_objects_go_only_by_rules_that_select_them_and_take_the_replica_key():
    plain = build_replication("src", {"Role": ROLE, "Rules": [kms_rule(selected=None, key=None)]}, None, 1, T0)
    assert choose_targets(plain.rules, "k", {}, 2, kms=True) == ()
    assert [t.bucket for t in choose_targets(plain.rules, "k", {}, 2)] == ["dst"]
    selecting = build_replication("src", {"Role": ROLE, "Rules": [kms_rule()]}, None, 1, T0)
    (target,) = choose_targets(selecting.rules, "k", {}, 2, kms=True)
    assert target.replica_kms_key == "arn:aws:kms:us-west-2:000000000000:key/k"
    (target,) = choose_targets(selecting.rules, "k", {}, 2)
    assert target.replica_kms_key is None  # (an SSE-S3 object keeps its own encryption)
    assert selecting.source == "src"


# -- restore durations ------------------------------------------------------------------------------------

def test_restore_durations_follow_the_tier_and_the_class():
    durations = Durations()
    assert durations.s3_restore("GLACIER", "Expedited") == 300
    assert durations.s3_restore("GLACIER", "Standard") == 5 * 3600
    assert durations.s3_restore("GLACIER", "Bulk") == 12 * 3600
    assert durations.s3_restore("DEEP_ARCHIVE", "Standard") == 12 * 3600
    assert durations.s3_restore("DEEP_ARCHIVE", "Bulk") == 48 * 3600
    assert Durations({"scale": 0.5}).s3_restore("GLACIER", "Standard") == 2.5 * 3600
