"""The twelve labs end to end, as a learner lives them: before the reference solution every configure check
fails with a message and a hint; after `lab solve` every one passes; after the drill and the documented
recovery (`lab solve --recover`) every recovery check passes and the drill reports RPO and RTO.

Labs share a round (one reset world) when they touch different resources; the region-loss labs are
sequenced so that each one's damage reaches us-west-2 before us-east-1 goes down. The corpus's recovery
near misses run here too, just before the documented recovery they fall short of.
"""

from __future__ import annotations

import pytest

from checks import registry
from lab import exercises, grading
from lab.commands.exercises import WAIT_STEP
from lab.sim.clock import iso, parse_duration
from lab.sim.durations import Durations
from tests.integration._lab_rounds import LabWorld, corpus, describe, failing, lab_shell, variant, world
from tests.integration._strategies import STRATEGIES, build, measure

pytestmark = pytest.mark.integration
__all__ = ["lab_shell", "world"]  # the fixtures, imported for pytest

ROUNDS = {
    "backups_and_snapshots": ("01-aws-backup", "03-rds-snapshot-restore", "05-ebs-snapshots"),
    "failover_and_lockdown": ("06-rds-multi-az", "08-backup-monitoring"),
    "region_loss": ("02-s3-crr", "04-dynamodb-pitr-global", "07-dr-strategy"),
    "dr_strategies": STRATEGIES,  # each in a world of its own: they are four ways to protect the same shop
}
#: the strategies' worlds run with every duration a tenth of the model's, so that a reference script's wait is
#: over after one step of sim time (the ordering at the model's own durations is the benchmark's:
#: benchmarks/bench_dr_strategies.py)
STRATEGY_SCALE = 0.1
RECOVERY_NEAR_MISSES = ("03-rds-snapshot-restore/near_miss_restore_from_snapshot",)


def evaluate(world: LabWorld, lab_ids: tuple[str, ...], phase: str) -> dict[str, grading.Report]:
    found = world.inventory(lab_ids)
    return {lab_id: grading.evaluate(exercises.load(lab_id), found, phase=phase) for lab_id in lab_ids}


def assert_unsolved(world: LabWorld, lab_ids: tuple[str, ...]) -> None:
    for lab_id, report in evaluate(world, lab_ids, "configure").items():
        for outcome in report.outcomes():
            assert outcome.status != "PASS", f"{lab_id}: {outcome.check_id} passes before the lab is solved"
            assert outcome.message, f"{lab_id}: {outcome.check_id} says nothing"
            # Nothing to judge yet (NOT_APPLICABLE: "there are no vaults") needs no hint; a failure does.
            assert outcome.hint or outcome.status == "NOT_APPLICABLE", f"{lab_id}: {outcome.check_id} has no hint"
        assert report.score == 0 and not report.passed


def assert_solved(world: LabWorld, lab_ids: tuple[str, ...]) -> None:
    for lab_id, report in evaluate(world, lab_ids, "configure").items():
        assert failing(report) == {}, f"{lab_id} after its reference solution:\n{describe(report)}"
        assert report.percent == 100 and report.passed


def assert_recovered(world: LabWorld, drills: dict[str, dict]) -> None:
    """Recovered, and still passing now: a recovered drill's outage has ended (Route 53 failed back to the
    PRIMARY), and its checks judge what happened during it."""
    reports = evaluate(world, tuple(drills), "recover")
    for lab_id, drill in drills.items():
        record = world.drill_record(drill["id"])
        assert failing(reports[lab_id]) == {}, f"{lab_id} after its recovery:\n{describe(reports[lab_id])}"
        assert record["status"] == "recovered", record
        assert 0 <= record["rto_seconds"] <= record["targets"]["rto_seconds"]
        assert record["rpo"]["span_seconds"] <= record["targets"]["rpo_seconds"]
        assert record["compliance"] == "PolicyMet"
        assert record["result"], "the drill reports a Resilience Hub style result"


def test_rounds_cover_every_lab() -> None:
    played = [lab_id for labs in ROUNDS.values() for lab_id in labs]
    assert sorted(played) == sorted(exercises.load_all([exercises.REPO_EXERCISES_DIR]))
    assert {str(v) for v in corpus("recover")} == set(RECOVERY_NEAR_MISSES)


def test_backups_and_snapshots(lab_shell: LabWorld) -> None:
    labs = ROUNDS["backups_and_snapshots"]
    world = lab_shell
    world.reset()
    assert_unsolved(world, labs)
    for lab_id in labs:
        world.solve(lab_id)
    world.advance("1h")  # the on-demand backup job completes
    assert_solved(world, labs)
    drills = {lab_id: world.drill(lab_id) for lab_id in labs}
    world.advance("2m")

    near_miss = variant(RECOVERY_NEAR_MISSES[0])
    world.apply(near_miss)
    world.advance("1m")
    report = evaluate(world, (near_miss.lab,), "recover")[near_miss.lab]
    assert failing(report, kinds=("data",)) == {check: {reason} for check, reason in near_miss.expect.items()}, \
        describe(report)

    for lab_id, drill in drills.items():
        world.solve(lab_id, recover=True, incident_time=drill["incident_time"])
    world.advance("1h")  # restore jobs finish; the drills notice
    assert_recovered(world, drills)
    # what the steps built still protects what the drills destroyed: lab 05's lost volume is judged by its
    # policy and its copies, not found missing (nor replaced by the volume recreated in us-west-2)
    assert_solved(world, ("05-ebs-snapshots",))
    # the point-in-time restore is creating (inaccessible) for its own time: the RTO holds it
    restore = Durations().rds_restore(20)
    assert world.drill_record(drills["03-rds-snapshot-restore"]["id"])["rto_seconds"] >= restore
    # The RTO follows the duration model: lab 01's table is back only when its AWS Backup restore is done.
    backup_restore = Durations().backup_restore_pending() + Durations().dynamodb_restore(0)
    assert world.drill_record(drills["01-aws-backup"]["id"])["rto_seconds"] >= backup_restore


def test_failover_and_lockdown(world: LabWorld) -> None:
    """Played through the `lab` command itself: a step at a time, with the aws CLI for one of them, and the
    recovery with the incident time `lab solve --recover` finds on its own."""
    labs = ROUNDS["failover_and_lockdown"]
    world.reset()
    assert_unsolved(world, labs)
    first = world.handle.lab("solve", "06-rds-multi-az", "--step", "multi-az", "--tool", "cli")
    assert "step 1 (multi-az)" in first.stdout and "lab check 06-rds-multi-az" in first.stdout
    partly = evaluate(world, ("06-rds-multi-az",), "configure")["06-rds-multi-az"]
    assert [step.passed for step in partly.steps] == [True, False], describe(partly)
    world.handle.lab("solve", "06-rds-multi-az", "--step", "2")
    world.handle.lab("solve", "08-backup-monitoring")
    world.advance("1h")
    assert_solved(world, labs)
    drills = {lab_id: world.drill(lab_id) for lab_id in labs}
    world.advance("3m")  # the standby takes over; the refused deletions are on the trail
    for lab_id in labs:
        world.handle.lab("solve", lab_id, "--recover")
    world.advance("2m")
    assert_recovered(world, drills)


def test_region_loss(world: LabWorld) -> None:
    """02 and 04 first damage data (their outage follows 15 and 10 minutes later); they recover in
    us-west-2 once the damage has replicated there and us-east-1 is down. 07's own outage starts once they are
    recovered."""
    labs = ROUNDS["region_loss"]
    world.reset()
    assert_unsolved(world, labs)
    for lab_id in labs:
        world.solve(lab_id)
    world.advance("10m")
    assert_solved(world, labs)
    drills = {lab_id: world.drill(lab_id) for lab_id in ("02-s3-crr", "04-dynamodb-pitr-global")}
    # us-east-1 is down from 15 minutes on, as 02's recovery expects; by then the junk has replicated to
    # us-west-2 (without Replication Time Control most versions replicate within 15 minutes; a junk version
    # replicated after the recovery would become current again)
    world.advance("16m")
    for lab_id, drill in drills.items():
        world.solve(lab_id, recover=True, incident_time=drill["incident_time"])
    world.advance("3m")  # 02 and 04 are judged recovered; their outage ends with them
    drills["07-dr-strategy"] = world.drill("07-dr-strategy")
    world.solve("07-dr-strategy", recover=True, incident_time=drills["07-dr-strategy"]["incident_time"])
    world.advance("10m")
    # The RTO follows the duration model: the point-in-time restore in us-west-2 takes its time.
    restored = world.drill_record(drills["04-dynamodb-pitr-global"]["id"])
    assert restored["status"] == "recovered" and restored["rto_seconds"] >= Durations().dynamodb_restore(0), restored
    # ... and the meter notices the restored table's ACTIVE at once (DynamoDB's status change wakes the drill)
    events = world.admin.get("events?kind=engine&source=dynamodb&region=us-west-2")["events"]
    active = [event["time"] for event in events if event["name"] == "TableRestored"]
    assert restored["recovered_time"] == iso(active[-1]), (restored, active)
    assert_recovered(world, drills)
    # 07's RTO holds the failover reaching clients: the health check's detection (RequestInterval 10 x
    # FailureThreshold 3) plus the record's TTL (60 s) for which resolvers keep the PRIMARY's answer
    reaches_clients = Durations.route53_detection(10, 3) + 60
    # ... and the replica's promotion (modifying, then rebooting), which the recovery starts at the incident:
    # the orders database takes writes in us-west-2 only once it is over, whichever ends later
    promotion = sum(Durations().rds_promote())
    record = world.drill_record(drills["07-dr-strategy"]["id"])
    assert record["rto_seconds"] >= max(reaches_clients, promotion)
    # the meter notices the promotion's end at once (RDS's status change wakes the drill): RDS's own event of
    # the promoted instance's restart is the recovery's instant
    events = world.handle.client("rds", "us-west-2").describe_events(
        SourceType="db-instance", SourceIdentifier="securecart-orders-db-usw2", Duration=60)["Events"]
    promoted = [e["Message"] for e in events].index("Promoted Read Replica to a stand-alone database instance")
    restarted = next(e for e in events[promoted:] if e["Message"] == "DB instance restarted")
    assert record["recovered_time"] == restarted["Date"].strftime("%Y-%m-%dT%H:%M:%SZ"), (record, events)


def assert_drill_recovered(lab_id: str, record: dict) -> None:
    """The drill's own verdict: every recovery check of the world passed when it recovered (its failures end
    then, so a later evaluation would judge a world whose primary region is back); the drill's own RTO and RPO
    checks, which judge the drill's record, are what its meter then says."""
    failed = [check for check in record["last_checks"] if check["status"] not in ("PASS", "NOT_APPLICABLE")
              and registry.CHECKS[check["check_id"]].kind != "drill"]
    assert record["status"] == "recovered" and not failed, (lab_id, failed)
    assert 0 <= record["rto_seconds"] <= record["targets"]["rto_seconds"], (lab_id, record["rto_seconds"])
    assert record["rpo"]["span_seconds"] <= record["targets"]["rpo_seconds"], (lab_id, record["rpo"])
    assert record["compliance"] == "PolicyMet" and record["result"], lab_id


def near_miss_unguarded_west_record(world: LabWorld) -> None:
    """Lab 12's near miss: the us-west-2 latency record without its health check fails the routing check (Route
    53 would keep answering it were us-west-2 down); the reference solution's record is put back afterwards."""
    route53 = world.handle.client("route53")
    zone = route53.list_hosted_zones_by_name(DNSName="securecart.example.com")["HostedZones"][0]["Id"]
    records = route53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
    west = next(r for r in records if r.get("Region") == "us-west-2")
    unguarded = {key: value for key, value in west.items() if key != "HealthCheckId"}
    route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
        {"Action": "UPSERT", "ResourceRecordSet": unguarded}]})
    report = evaluate(world, ("12-dr-active-active",), "configure")["12-dr-active-active"]
    assert failing(report) == {"ROUTE53_ACTIVE_ACTIVE_CONFIGURED": {"record_without_health_check"}}, describe(report)
    route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
        {"Action": "UPSERT", "ResourceRecordSet": west}]})


#: the strategies whose drill the suite plays (Elastic Disaster Recovery's launch; DNS alone); the benchmark plays
#: all four at the model's own durations and orders them (benchmarks/README.md)
DRILLED = ("09-dr-backup-restore", "10-dr-pilot-light", "12-dr-active-active")


def test_dr_strategies(world: LabWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    """Labs 09-12 build backup and restore, pilot light, warm standby and multi-site active/active, each in a
    world of its own: unsolved first, then solved by the reference solution. The pilot light and active/active
    then meet the region outage at 11:40 the next day, recover as documented, and the drill's meter says what
    AWS's DR whitepaper does (disaster-recovery-options-in-the-cloud.html): the pilot light's RTO is Elastic
    Disaster Recovery's launch as the duration model times it, active/active loses at most a global table's
    second or two of orders."""
    monkeypatch.setenv("LAB_WAIT_TRIES", "1")  # the clock is paused: a script's second look would see the same
    measured = {}
    for lab_id in STRATEGIES:
        world.reset()
        world.admin.post("durations", {"set": {"scale": STRATEGY_SCALE}})
        assert_unsolved(world, (lab_id,))
        build(world, lab_id)
        assert_solved(world, (lab_id,))
        if lab_id == "12-dr-active-active":
            near_miss_unguarded_west_record(world)
        if lab_id in DRILLED:
            measured[lab_id] = found = measure(world, lab_id)
            assert_drill_recovered(lab_id, found.record)
    restored, pilot, active = (measured[lab_id] for lab_id in DRILLED)
    # Backup and restore: AWS Backup's restore jobs in us-west-2 take the services' own restore times (the
    # database's is the longest: PENDING, then its instance creating and backing-up), then the DNS change at the
    # recovery script's next look; the EC2 restore launches in us-west-2's network, not the copy's us-east-1 one.
    model = Durations({"scale": STRATEGY_SCALE})
    database = model.backup_restore_pending() + model.rds_restore(20) + model.rds_snapshot(0.001)
    assert database <= restored.rto_seconds <= database + parse_duration(WAIT_STEP) + 60, (database, restored)
    # (no sooner than Route 53 takes us-east-1 out of the answers: RequestInterval 10 s x FailureThreshold 3; the
    # drill took the checkers' first failed probe for the verdict and was recovered at 12 s)
    assert active.rpo_seconds <= 2 and 30 <= active.rto_seconds <= 60, active
    assert pilot.rpo_seconds <= 60, pilot  # DRS: seconds of the backend's disks; the data replicas: seconds
    # The pilot light's RTO is Elastic Disaster Recovery's launch (job, snapshot, conversion, boot) as the
    # duration model times it, and the DNS change the recovery script makes at its next look once the recovery
    # instance runs (`lab solve` moves sim time on WAIT_STEP between looks); the drill notices within a minute.
    launch = sum(model.drs(name) for name in ("job.pending", "snapshot", "conversion", "launch"))
    assert launch <= pilot.rto_seconds <= launch + parse_duration(WAIT_STEP) + 60, (launch, pilot)
