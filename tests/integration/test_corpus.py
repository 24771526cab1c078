"""Judge the result, not the method: every correct variant of the corpus passes all of its lab's configure
checks, and every near miss fails exactly the checks it names, for the reason it names.

Variants are applied to a freshly reset world in rounds: one variant per lab, from labs that touch different
resources (CONFLICTS says which may not share a round), so that the whole corpus needs few resets.
"""

from __future__ import annotations

import itertools

import pytest

from lab import exercises, grading
from tests.integration._lab_rounds import LabWorld, Variant, corpus, describe, failing, lab_shell, variant, world
from tests.integration._strategies import STRATEGIES

pytestmark = pytest.mark.integration
__all__ = ["lab_shell", "world"]  # the fixtures, imported for pytest

ROUNDS: list[list[str]] = [
    ["01-aws-backup/correct_arn_selection_extra_rule", "02-s3-crr/correct_new_dr_bucket_prefix_rules",
     "03-rds-snapshot-restore/correct_other_names_35_days", "04-dynamodb-pitr-global/correct_replica_first_loop"],
    ["01-aws-backup/near_miss_retention_6_days", "02-s3-crr/near_miss_same_region",
     "03-rds-snapshot-restore/near_miss_retention_6_days", "04-dynamodb-pitr-global/near_miss_separate_table"],
    ["01-aws-backup/near_miss_plan_without_selection", "02-s3-crr/near_miss_versioning_source_only",
     "06-rds-multi-az/correct_aws_cli"],
    ["08-backup-monitoring/correct_governance_other_names", "05-ebs-snapshots/near_miss_no_copy",
     "06-rds-multi-az/near_miss_no_backups"],
    ["08-backup-monitoring/near_miss_trail_not_logging", "05-ebs-snapshots/near_miss_weekly",
     "07-dr-strategy/correct_warm_standby"],
    ["05-ebs-snapshots/correct_backup_plan", "07-dr-strategy/near_miss_no_health_check"],
    ["08-backup-monitoring/correct_wildcard_deny_break_glass", "02-s3-crr/near_miss_tagged_rule"],
    ["08-backup-monitoring/near_miss_deny_only_from_office", "05-ebs-snapshots/near_miss_daily"],
    ["01-aws-backup/near_miss_not_resources_excludes_db", "07-dr-strategy/near_miss_health_check_watches_dr"],
    ["06-rds-multi-az/near_miss_multi_az_pending"],
    ["08-backup-monitoring/near_miss_deny_unless_mfa_by_bool"],
    # the DR strategies: each builds a whole strategy over the shop's data, alone in its world
    ["09-dr-backup-restore/correct_tag_selection_other_names"],
    ["09-dr-backup-restore/near_miss_plan_without_copy_action"],
    ["10-dr-pilot-light/correct_prefix_rule_other_names"],
    ["10-dr-pilot-light/near_miss_agent_never_installed"],
    ["11-dr-warm-standby/correct_both_records_checked"],
    ["11-dr-warm-standby/near_miss_no_health_check"],
    ["11-dr-warm-standby/near_miss_replication_without_rtc"],
    ["12-dr-active-active/correct_slower_checks_other_ids"],
    ["12-dr-active-active/near_miss_global_table_without_replica"],
]

# Variants that would change each other's verdicts. A backup plan that selects the backend volume schedules
# and copies its snapshots (lab 05's checks accept that); lab 08 judges every vault; labs 03, 06 and 07 all
# configure the orders database. The DR strategies (labs 09-12) protect the whole shop -- its database, table,
# invoices, backend and name -- so each shares a world with no other lab.
LABS = sorted(exercises.load_all([exercises.REPO_EXERCISES_DIR]))
CONFLICTS = [
    *((strategy, other) for strategy in STRATEGIES for other in LABS if other != strategy),
    ("01-aws-backup", "05-ebs-snapshots"),
    ("01-aws-backup", "08-backup-monitoring"),
    ("05-ebs-snapshots/correct_backup_plan", "08-backup-monitoring"),
    ("03-rds-snapshot-restore", "06-rds-multi-az"),
    ("03-rds-snapshot-restore", "07-dr-strategy"),
    ("06-rds-multi-az", "07-dr-strategy"),
]


def test_rounds_cover_the_corpus_without_conflicts() -> None:
    scheduled = [key for keys in ROUNDS for key in keys]
    assert sorted(scheduled) == sorted(str(v) for v in corpus("configure")), "every configure variant, once"
    for keys in ROUNDS:
        labs = [key.split("/")[0] for key in keys]
        assert len(labs) == len(set(labs)), f"one variant per lab in a round: {keys}"
        for first, second in itertools.combinations(keys, 2):
            for a, b in CONFLICTS:
                clash = (first.startswith(a) and second.startswith(b)) or (first.startswith(b) and second.startswith(a))
                assert not clash, f"{first} and {second} may not share a round"
    labs = {key.split("/")[0] for key in scheduled}
    assert labs == set(LABS), "every lab has variants"
    for lab_id in labs:
        kinds = {Variant.correct.fget(variant(key)) for key in scheduled if key.startswith(lab_id)}
        assert kinds == {True, False}, f"{lab_id} needs correct variants and near misses"


def round_id(number: int) -> str:
    """round<N>-<its labs>: -k selects the rounds of a lab by its id (e.g. -k dr-warm-standby)."""
    return "-".join([f"round{number + 1}", *dict.fromkeys(key.split("/")[0] for key in ROUNDS[number])])


@pytest.mark.parametrize("number", range(len(ROUNDS)), ids=round_id)
def test_round(lab_shell: LabWorld, number: int) -> None:
    world = lab_shell
    variants = [variant(key) for key in ROUNDS[number]]
    world.reset()
    for each in variants:
        world.apply(each)
    for each in variants:
        unsupported = each.namespace.get("unsupported")
        reason = unsupported() if unsupported is not None else None
        if reason:
            pytest.skip(f"{each}: {reason}")
    world.advance("1h")  # jobs, snapshots, replicas and copies finish
    for each in variants:
        world.apply(each, "after_wait")
    world.advance("5m")
    found = world.inventory(each.lab for each in variants)
    verdicts = []
    for each in variants:
        report = grading.evaluate(exercises.load(each.lab), found, phase="configure")
        seen = failing(report)
        if each.correct:
            ok = seen == {}
        else:
            ok = set(seen) == set(each.expect) and all(each.expect[c] in seen[c] for c in each.expect)
        expected = each.expect or "every check to pass"
        verdicts.append((ok, f"{each}: expected {expected}, got {seen}\n{describe(report)}"))
    assert all(ok for ok, _ in verdicts), "\n".join(text for ok, text in verdicts if not ok)
