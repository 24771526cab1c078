"""Recovery checks on hand-built inventories: data back after a drill, RPO/RTO against the targets."""

from __future__ import annotations

from datetime import timedelta

from checks import registry
from tests.unit.inventory_builder import ACCOUNT, EAST, NOW, WEST, Inv, ago, iso

DB, TABLE = "securecart-orders-db", "securecart-order-history"
SRC, DST = "securecart-invoices-use1", "securecart-invoices-usw2"
LAB = "03-rds-snapshot-restore"


def run(check_id, inventory, **params):
    params.setdefault("lab", LAB)
    return registry.run(check_id, inventory, params)


def verdicts(check_id, inventory, **params):
    return [(r.resource_id, r.status, r.reason) for r in run(check_id, inventory, **params)]


def copy_of(base: Inv) -> Inv:
    """A builder that starts from what `base` has built so far."""
    made = Inv()
    made.data = base.build()
    return made


def drilled(count: int = 20) -> Inv:
    """20 hourly orders, the last one 1h before NOW; the incident 30 minutes before NOW (after all of them)."""
    return Inv().orders(count).drill(lab=LAB)


# -- orders in RDS -------------------------------------------------------------------------------------

def test_orders_restored_in_a_new_instance_with_any_name():
    inv = drilled()
    inv.db(DB, order_ids=inv.order_ids(1, 2, 3)).db("whatever-i-called-it", order_ids=inv.all_order_ids(),
                                                      created=ago(minutes=10))
    result = run("RECOVERY_ORDERS_RESTORED", inv.build(), restoredOnly=True)[0]
    assert (result.resource_id, result.status, result.reason) == ("whatever-i-called-it", "PASS", "all_restored")
    assert result.evidence["missing_order_ids"] == []


def test_restored_instance_missing_the_orders_after_t_fails_and_lists_them():
    inv = drilled()
    inv.db(DB, order_ids=[]).db("restored", order_ids=inv.all_order_ids()[:15], created=ago(minutes=5))
    result = run("RECOVERY_ORDERS_RESTORED", inv.build())[0]
    assert (result.resource_id, result.status, result.reason) == ("restored", "FAIL", "orders_missing")
    assert result.evidence["missing_order_ids"] == inv.order_ids(16, 17, 18, 19, 20)
    assert "ORD-000016" in result.message and "5 of the 20" in result.message
    assert "restore-db-instance-to-point-in-time" in result.hint


def test_restored_only_ignores_the_damaged_original():
    inv = drilled()
    inv.db(DB, order_ids=inv.all_order_ids())  # created long before the incident
    assert verdicts("RECOVERY_ORDERS_RESTORED", inv.build(), restoredOnly=True) == [
        ("DB instance", "FAIL", "nothing_restored")]
    assert verdicts("RECOVERY_ORDERS_RESTORED", inv.build())[0][1:] == ("PASS", "all_restored")


def test_orders_an_earlier_drill_destroyed_are_not_this_drills_to_bring_back():
    """Lab 06 after lab 03: what lab 03's bad deploy deleted from the original is not lab 06's loss; what this
    drill's own injection destroyed still is."""
    multi_az = "06-rds-multi-az"
    inv = Inv().orders(20)
    gone = inv.order_ids(5, 6)
    inv.drill("drill-0001", lab=LAB, incident=NOW - timedelta(hours=3), injections=["inj-1"])
    inv.injection("inj-1", "drill-0001", started=NOW - timedelta(hours=3), effects=[
        {"kind": "data-destroyed", "target": "rds", "detail": {"db": DB, "orders": gone}}])
    inv.drill("drill-0002", lab=multi_az, incident=NOW - timedelta(minutes=30), injections=["inj-2"])
    inv.db(DB, order_ids=[o for o in inv.all_order_ids() if o not in gone])
    result = run("RECOVERY_ORDERS_RESTORED", copy_of(inv).build(), lab=multi_az, dbInstanceIdentifiers=[DB])[0]
    assert (result.status, result.reason, result.evidence["expected_count"]) == ("PASS", "all_restored", 18)
    inv.injection("inj-2", "drill-0002", started=NOW - timedelta(minutes=30), effects=[
        {"kind": "data-destroyed", "target": "rds", "detail": {"db": DB, "orders": inv.order_ids(19)}}])
    inv.db(DB, order_ids=[o for o in inv.all_order_ids() if o not in gone and o != "ORD-000019"])
    result = run("RECOVERY_ORDERS_RESTORED", inv.build(), lab=multi_az, dbInstanceIdentifiers=[DB])[0]
    assert (result.status, result.evidence["missing_order_ids"]) == ("FAIL", ["ORD-000019"])


def test_of_two_drills_started_at_one_instant_the_later_is_judged():
    """A drill run again in the same sim second: its lab's checks judge the new one."""
    inv = drilled()
    inv.drill("drill-0002", lab=LAB, incident=NOW - timedelta(minutes=30)).db(DB, order_ids=inv.all_order_ids())
    assert run("RECOVERY_ORDERS_RESTORED", inv.build())[0].evidence["drill"] == "drill-0002"


def test_orders_allowed_loss_within_rpo_target():
    inv = Inv().orders(20, every_minutes=1, last_at=NOW - timedelta(minutes=31)).drill(lab=LAB, targets=(3600, 300))
    inv.db("restored", order_ids=inv.all_order_ids()[:17])  # the 3 newest (1-3 minutes before) lost
    assert verdicts("RECOVERY_ORDERS_RESTORED", inv.build())[0][1:] == ("FAIL", "orders_missing")
    result = run("RECOVERY_ORDERS_RESTORED", inv.build(), withinRpoTarget=True)[0]
    assert (result.status, result.reason) == ("PASS", "restored_within_allowance")
    assert result.evidence["missing_order_ids"] == inv.order_ids(18, 19, 20)  # still reported: that is the RPO
    assert verdicts("RECOVERY_ORDERS_RESTORED", inv.build(), allowedLossSeconds="2m")[0][1] == "FAIL"


def test_orders_after_the_incident_and_refused_writes_are_not_expected():
    refused = {"rds": {"ORD-000005"}}
    inv = Inv().orders(10, refused=refused).drill(lab=LAB, incident=NOW - timedelta(hours=3))
    expected = [o for o in inv.all_order_ids()[:7] if o != "ORD-000005"]  # orders 8-10: at or after the incident
    inv.db("restored", order_ids=expected)
    assert verdicts("RECOVERY_ORDERS_RESTORED", inv.build())[0][1:] == ("PASS", "all_restored")


def test_orders_unavailable_or_unreadable_instances():
    inv = drilled()
    inv.db("restored", status="creating", order_ids=inv.all_order_ids())
    assert verdicts("RECOVERY_ORDERS_RESTORED", inv.build()) == [("DB instance", "FAIL", "nothing_restored")]
    unknown = drilled().db("restored").build()  # no order digest (no RDS data plane)
    assert verdicts("RECOVERY_ORDERS_RESTORED", unknown) == [("DB instance", "ERROR", "unreadable")]


def test_no_drill_is_not_applicable():
    assert verdicts("RECOVERY_ORDERS_RESTORED", Inv().orders(3).db(DB).build()) == [
        (LAB, "NOT_APPLICABLE", "no_drill")]
    other_lab = Inv().orders(3).drill(lab="01-aws-backup").build()
    assert verdicts("RECOVERY_ORDERS_RESTORED", other_lab)[0][1] == "NOT_APPLICABLE"


def test_the_named_drill_is_judged():
    inv = Inv().orders(20).drill("drill-0001", lab=LAB, incident=NOW - timedelta(hours=10))
    inv.drill("drill-0002", lab=LAB, incident=NOW - timedelta(minutes=5))
    inv.db("restored", order_ids=inv.all_order_ids()[:12])
    assert verdicts("RECOVERY_ORDERS_RESTORED", inv.build(), drillId="drill-0001")[0][1] == "PASS"
    assert verdicts("RECOVERY_ORDERS_RESTORED", inv.build())[0][1] == "FAIL"  # the latest drill: drill-0002


# -- items in DynamoDB ---------------------------------------------------------------------------------

def test_items_restored_in_any_table_keyed_by_order_id():
    inv = drilled().table(TABLE, order_ids=[])
    inv.table("history-restored", order_ids=inv.all_order_ids(), created=ago(minutes=2))
    inv.table("unrelated", key="sku", order_ids=[])
    assert verdicts("RECOVERY_ITEMS_RESTORED", inv.build()) == [("history-restored", "PASS", "all_restored")]


def test_items_must_be_readable_in_the_region_asked():
    inv = drilled()
    inv.table(TABLE, EAST, order_ids=inv.all_order_ids()).table(TABLE, WEST, order_ids=inv.all_order_ids()[:10])
    assert verdicts("RECOVERY_ITEMS_RESTORED", inv.build(), region=WEST)[0][1:] == ("FAIL", "orders_missing")
    assert verdicts("RECOVERY_ITEMS_RESTORED", inv.build())[0][1:] == ("PASS", "all_restored")
    creating = drilled().table("t", status="CREATING", order_ids=[]).build()
    assert verdicts("RECOVERY_ITEMS_RESTORED", creating)[0][1:] == ("FAIL", "nothing_restored")


# -- invoices in S3 ------------------------------------------------------------------------------------

def test_prior_versions_restored():
    inv = drilled(5)
    inv.bucket(SRC, versioning="Enabled", invoices=inv.invoices())
    assert verdicts("RECOVERY_PRIOR_VERSIONS_RESTORED", inv.build()) == [(SRC, "PASS", "all_restored")]
    still_encrypted = drilled(5)
    still_encrypted.bucket(SRC, versioning="Enabled", invoices=still_encrypted.invoices(corrupt={"ORD-000002"},
                                                                                   deleted={"ORD-000004"}))
    result = run("RECOVERY_PRIOR_VERSIONS_RESTORED", still_encrypted.build())[0]
    assert (result.status, result.reason) == ("FAIL", "orders_missing")
    assert result.evidence["missing_order_ids"] == ["ORD-000002", "ORD-000004"]


def test_invoices_readable_in_dr_region():
    inv = drilled(5)
    inv.bucket(SRC, versioning="Enabled", invoices=inv.invoices())
    inv.bucket("any-dr-bucket", WEST, versioning="Enabled", invoices=inv.invoices(missing={"ORD-000001"}))
    result = run("RECOVERY_INVOICES_READABLE_IN_DR_REGION", inv.build())[0]
    assert (result.resource_id, result.status, result.reason) == ("any-dr-bucket", "FAIL", "orders_missing")
    assert result.evidence["missing_order_ids"] == ["ORD-000001"]
    fixed = drilled(5)
    fixed.bucket(DST, WEST, versioning="Enabled", invoices=fixed.invoices())
    assert verdicts("RECOVERY_INVOICES_READABLE_IN_DR_REGION", fixed.build()) == [(DST, "PASS", "all_restored")]
    encrypted_replicas = drilled(5)
    encrypted_replicas.bucket(DST, WEST, invoices=encrypted_replicas.invoices(corrupt={"ORD-000003"}))
    assert verdicts("RECOVERY_INVOICES_READABLE_IN_DR_REGION", encrypted_replicas.build())[0][2] == "orders_missing"
    assert verdicts("RECOVERY_INVOICES_READABLE_IN_DR_REGION", encrypted_replicas.build(),
                    requireOriginalContent=False)[0][2] == "all_restored"


def test_invoices_in_the_source_region_do_not_count_and_truncated_listings_are_errors():
    inv = drilled(5)
    inv.bucket(SRC, invoices=inv.invoices())
    assert verdicts("RECOVERY_INVOICES_READABLE_IN_DR_REGION", inv.build()) == [
        ("bucket in us-west-2", "FAIL", "nothing_restored")]
    partial = drilled(5)
    partial.bucket(DST, WEST, invoices=partial.invoices(missing={"ORD-000005"}), truncated=True)
    assert verdicts("RECOVERY_INVOICES_READABLE_IN_DR_REGION", partial.build())[0][1:] == ("ERROR", "listing_truncated")


# -- EBS volume in the DR region -------------------------------------------------------------------------

def test_volume_recreated_in_dr_from_a_copy_of_the_lost_volume():
    inv = Inv().drill(lab="05-ebs-snapshots", injections=["inj-1"])
    inv.injection("inj-1", "drill-0001", effects=[{"kind": "data-destroyed", "target": "ebs",
                                                   "detail": {"volume": "vol-lost"}}])
    inv.snapshot("snap-a", "vol-lost").snapshot("snap-b", "vol-ffffffff", WEST, source_snapshot="snap-a")
    inv.volume("vol-new", WEST, snapshot_id="snap-b", state="available")
    assert verdicts("RECOVERY_VOLUME_IN_DR_REGION", inv.build(), lab="05-ebs-snapshots") == [
        ("vol-new", "PASS", "volume_restored")]


def test_volume_near_misses():
    base = Inv().drill(lab="05-ebs-snapshots").volume("vol-old", tags={"Name": "securecart-backend-data"})
    base.snapshot("snap-a", "vol-old").snapshot("snap-b", "vol-old", WEST, source_snapshot="snap-a")
    blank = copy_of(base).volume("vol-blank", WEST, state="available")
    assert verdicts("RECOVERY_VOLUME_IN_DR_REGION", blank.build(), lab="05-ebs-snapshots") == [
        (WEST, "FAIL", "unrelated_volumes")]
    same_region = copy_of(base).volume("vol-east", EAST, snapshot_id="snap-a", state="available")
    assert verdicts("RECOVERY_VOLUME_IN_DR_REGION", same_region.build(), lab="05-ebs-snapshots") == [
        (WEST, "FAIL", "no_volume")]
    creating = copy_of(base).volume("vol-new", WEST, snapshot_id="snap-b", state="creating")
    assert verdicts("RECOVERY_VOLUME_IN_DR_REGION", creating.build(), lab="05-ebs-snapshots") == [
        ("vol-new", "FAIL", "volume_not_ready")]


def test_volume_restored_by_aws_backup():
    inv = Inv().drill(lab="05-ebs-snapshots").volume("vol-old", tags={"Name": "securecart-backend-data"})
    inv.recovery_point(f"arn:aws:ec2:{EAST}:{ACCOUNT}:volume/vol-old", WEST, vault="dr")
    point = inv.data.regions[WEST].backup.recovery_points[0].arn
    inv.restore_job("r1", point, f"arn:aws:ec2:{WEST}:{ACCOUNT}:volume/vol-r", WEST, resource_type="EBS")
    inv.volume("vol-r", WEST, snapshot_id="snap-unknown", state="available")
    assert verdicts("RECOVERY_VOLUME_IN_DR_REGION", inv.build(), lab="05-ebs-snapshots")[0][1:] == (
        "PASS", "volume_restored")


# -- failover, deletion, RPO/RTO -------------------------------------------------------------------------

def test_db_failed_over():
    params = {"lab": "06-rds-multi-az"}
    inv = Inv().drill(lab="06-rds-multi-az", params={"az": "us-east-1a"})
    moved = copy_of(inv).db(DB, multi_az=True, az="us-east-1b")
    assert verdicts("RECOVERY_DB_FAILED_OVER", moved.build(), **params) == [(DB, "PASS", "failed_over")]
    stuck = copy_of(inv).db(DB, az="us-east-1a", status="available")
    assert verdicts("RECOVERY_DB_FAILED_OVER", stuck.build(), **params) == [(DB, "FAIL", "still_in_failed_zone")]
    down = copy_of(inv).db(DB, status="rebooting")
    assert verdicts("RECOVERY_DB_FAILED_OVER", down.build(), **params) == [(DB, "FAIL", "unavailable")]


def test_deletion_refused_recorded_and_flagged():
    lab = "08-backup-monitoring"
    base = Inv().drill(lab=lab, injections=["inj-1"])
    incident = base.data.drills[0].incident_time
    later = iso(NOW - timedelta(minutes=20))
    good = copy_of(base)
    good.injection("inj-1", "drill-0001", outcome={"recovery_points_deleted": 0,
                                                   "recovery_points_refused": {"AccessDeniedException": 3}})
    good.trail("audit").trail_event("DeleteRecoveryPoint", later, error_code="AccessDeniedException")
    good.framework("fw", ["BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED"])
    assert verdicts("RECOVERY_DELETION_REFUSED_AND_RECORDED", good.build(), lab=lab) == [
        ("recovery points", "PASS", "refused_recorded_flagged")]
    deleted = copy_of(good)
    deleted.data.faults.injections[0].outcome["recovery_points_deleted"] = 2
    assert verdicts("RECOVERY_DELETION_REFUSED_AND_RECORDED", deleted.build(), lab=lab)[0][2] == "points_deleted"
    no_trail = copy_of(good)
    no_trail.data.regions[EAST].cloudtrail.trails["audit"].logging = False
    assert verdicts("RECOVERY_DELETION_REFUSED_AND_RECORDED", no_trail.build(), lab=lab)[0][2] == "no_trail"
    unflagged = copy_of(good)
    unflagged.data.regions[EAST].backup.frameworks = []
    assert verdicts("RECOVERY_DELETION_REFUSED_AND_RECORDED", unflagged.build(), lab=lab)[0][2] == "not_flagged"
    before = copy_of(good)
    before.data.regions[EAST].cloudtrail.events[0].time = ago(days=1)
    assert incident > before.data.regions[EAST].cloudtrail.events[0].time
    assert verdicts("RECOVERY_DELETION_REFUSED_AND_RECORDED", before.build(), lab=lab)[0][2] == "not_recorded"


def test_rto_and_rpo_against_targets():
    recovered = Inv().drill(lab=LAB, status="recovered", rto=1200, rpo_span=120, rpo_count=2, targets=(3600, 300))
    assert verdicts("RECOVERY_RTO_WITHIN_TARGET", recovered.build()) == [("drill-0001", "PASS", "within_target")]
    assert verdicts("RECOVERY_RPO_WITHIN_TARGET", recovered.build()) == [("drill-0001", "PASS", "within_target")]
    assert verdicts("RECOVERY_RTO_WITHIN_TARGET", recovered.build(), targetSeconds="10m") == [
        ("drill-0001", "FAIL", "over_target")]
    slow = Inv().drill(lab=LAB, status="recovered", rto=7200, rpo_span=900, targets=(3600, 300)).build()
    assert verdicts("RECOVERY_RTO_WITHIN_TARGET", slow)[0][2] == "over_target"
    assert verdicts("RECOVERY_RPO_WITHIN_TARGET", slow)[0][2] == "over_target"
    running = Inv().drill(lab=LAB, evaluations=0).build()
    assert verdicts("RECOVERY_RTO_WITHIN_TARGET", running)[0][2] == "not_recovered"
    assert verdicts("RECOVERY_RPO_WITHIN_TARGET", running)[0][2] == "not_measured"
    ended = Inv().drill(lab=LAB, status="ended").build()
    assert verdicts("RECOVERY_RTO_WITHIN_TARGET", ended)[0][2] == "never_recovered"


# -- a promoted replica takes writes only once its promotion is over -----------------------------------

REPLICA = "securecart-orders-db-usw2"
DR_LABS = ("07-dr-strategy", "09-dr-backup-restore", "10-dr-pilot-light", "11-dr-warm-standby")


def orders_verdict(lab_id: str, inv: Inv) -> tuple[str, str]:
    """RECOVERY_ORDERS_RESTORED as lab `lab_id`'s recovery judges it (its own parameters)."""
    from lab import exercises, grading

    report = grading.evaluate(exercises.load(lab_id), inv.build(), phase="recover")
    outcome = next(o for o in report.outcomes() if o.check_id == "RECOVERY_ORDERS_RESTORED")
    return outcome.status, outcome.results[0].reason


def test_every_dr_lab_counts_the_promotion_in_its_recovery():
    """RDS UG, Promoting a read replica (USER_ReadRepl.Promote.html): the replica is rebooted and becomes
    available as a standalone instance; until then it takes no writes. The recovery of every lab whose
    orders database is a promoted replica is complete only then, so its RTO holds the promotion."""
    def world(lab_id: str, status: str, replica_of: str | None) -> Inv:
        inv = Inv().orders(20).drill(lab=lab_id, targets=(3600, 900))
        inv.db(DB, order_ids=inv.all_order_ids())
        return inv.db(REPLICA, WEST, status=status, replica_of=replica_of, order_ids=inv.all_order_ids())

    source = f"arn:aws:rds:{EAST}:{ACCOUNT}:db:{DB}"
    for lab_id in DR_LABS:
        assert orders_verdict(lab_id, world(lab_id, "available", source)) == ("FAIL", "nothing_restored"), lab_id
        for promoting in ("modifying", "rebooting"):  # PromoteReadReplica's two phases
            assert orders_verdict(lab_id, world(lab_id, promoting, None)) == ("FAIL", "nothing_restored"), \
                (lab_id, promoting)
        assert orders_verdict(lab_id, world(lab_id, "available", None)) == ("PASS", "all_restored"), lab_id
        assert orders_verdict(lab_id, world(lab_id, "backing-up", None)) == ("PASS", "all_restored"), lab_id


def test_a_promotion_under_way_is_named():
    inv = drilled().db(REPLICA, WEST, status="modifying", order_ids=drilled().all_order_ids())
    result = run("RECOVERY_ORDERS_RESTORED", inv.build(), region=WEST, writable=True)[0]
    assert (result.status, result.reason) == ("FAIL", "nothing_restored")
    assert REPLICA in result.message and "modifying" in result.message, result.message
