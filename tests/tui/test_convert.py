"""The pure parts of the TUI: admin API bodies and inventories turned into what the screens show."""

from __future__ import annotations

from tui import convert
from tui.widgets.event_table import EventFilter
from tui.widgets.scenario_form import convert as convert_param
from tui.world import world_view

FAULTS = {
    "injections": [
        {"id": "inj-0001", "name": "region-outage", "params": {"region": "us-east-1", "duration": 1800.0},
         "status": "active", "created": "2026-01-03T10:00:00Z", "started": "2026-01-03T10:00:00Z",
         "ends_at": "2026-01-03T10:30:00Z"},
        {"id": "inj-0002", "name": "az-power-interruption", "params": {"az": "us-west-2b", "duration": 600.0},
         "status": "active", "started": "2026-01-03T10:05:00Z", "ends_at": None},
        {"id": "inj-0003", "name": "ransomware", "params": {}, "status": "ended"},
    ],
    "rules": [{"id": "rule-0001", "source": "lab", "service": "s3", "region": None, "operations": ["PutObject"],
               "probability": 0.5, "code": "SlowDown", "fails": True},
              {"id": "rule-0002", "source": "inj-0001", "service": None, "region": "us-east-1"}],
    "regions_down": ["us-east-1"],
    "replication_paused": ["s3:securecart-invoices-use1"],
    "databases_unavailable": ["us-east-1:securecart-orders-db"],
}
STATUS = {"backend": "embedded", "pid": 7, "state_dir": "/s", "regions": ["us-east-1", "us-west-2"],
          "clock": {"now": "2026-01-03T10:06:00Z", "epoch": 1767434760.0, "speed": 60.0, "paused": False},
          "engines": {"workload": {"enabled": True, "orders_per_hour": 60.0, "orders_total": 55,
                                   "failed_writes": 2}, "faults": {}}}


def test_the_sandbox_view_names_each_failure_and_each_region_state() -> None:
    view = convert.sandbox_view(STATUS, FAULTS, "http://127.0.0.1:4566")
    assert view.running and view.backend == "embedded" and view.clock.speed == 60.0
    assert view.workload.orders_total == 55 and view.workload.failed_writes == 2
    assert [f.scenario for f in view.faults] == ["region-outage", "az-power-interruption", "fault rule"]
    outage = view.faults[0]
    assert outage.regions == ("us-east-1",) and outage.summary == "until 10:30:00"
    assert view.faults[1].zones == ("us-west-2b",) and view.faults[1].regions == ()
    east, west = view.regions
    assert east.state == "outage" and "securecart-orders-db unavailable" in east.reasons
    assert west.state == "degraded" and "az-power-interruption (us-west-2b)" in west.reasons
    assert any("fault rule: s3 PutObject: SlowDown" in reason for reason in west.reasons)


def test_a_full_disk_shows_on_the_sandbox_panel_and_the_nav_bar() -> None:
    from tui.widgets.nav_bar import status_markup
    from tui.widgets.sandbox_panel import describe

    message = "the sandbox's disk is full: no room for its journal in /s/state (No space left on device)"
    view = convert.sandbox_view({**STATUS, "storage": {"disk_full": True, "disk_full_message": message}}, {},
                                "http://127.0.0.1:4566")
    assert view.storage_warning == message
    assert "disk full" in describe(view).plain and "No space left" in describe(view).plain
    assert status_markup(view).plain.startswith("disk full")
    healthy = convert.sandbox_view({**STATUS, "storage": {"disk_full": False}}, {}, "http://127.0.0.1:4566")
    assert healthy.storage_warning == "" and "disk full" not in describe(healthy).plain


def test_scenarios_events_and_drills_from_their_bodies() -> None:
    scenarios = convert.scenario_views({"scenarios": [
        {"name": "region-outage", "title": "Region outage", "description": "Everything fails.",
         "parameters": [{"name": "region", "type": "region", "default": "us-east-1", "help": "which"},
                        {"name": "count", "type": "int", "default": 10, "help": "how many"}]}]})
    region, count = scenarios[0].params
    assert scenarios[0].description == "Region outage: Everything fails."
    assert region.choices == ("us-east-1", "us-west-2") and count.type == "integer"
    batch = convert.event_batch({"events": [{"seq": 4, "time": 1.0, "kind": "api", "source": "s3.amazonaws.com",
                                             "name": "PutObject", "region": "us-east-1", "resource": "b",
                                             "detail": {"status": 200}}], "last_seq": 9})
    assert batch.last_seq == 9 and batch.events[0].detail["status"] == 200
    drill = convert.drill_view({"id": "drill-0001", "lab": "02-s3-crr", "scenario": "ransomware",
                                "status": "recovered", "incident_time": "2026-01-03T10:00:00Z",
                                "recovered_time": "2026-01-03T10:12:00Z", "rto_seconds": 720,
                                "rpo": {"count": 3, "span_seconds": 180, "per_store": {"invoices": {"count": 3}}},
                                "targets": {"rto_seconds": 900, "rpo_seconds": 300}, "compliance": "PolicyMet"},
                               None)
    assert drill.finished and drill.rto_seconds == 720.0 and drill.rpo_count == 3
    assert drill.rto_target_seconds == 900 and drill.compliance == "PolicyMet"


def test_the_world_from_an_inventory() -> None:
    versions = [{"key": "a", "version_id": "v2", "latest": True, "delete_marker": False,
                 "replication_status": "PENDING", "last_modified": "2026-01-03T10:00:00Z"},
                {"key": "a", "version_id": "v1", "latest": False, "delete_marker": False,
                 "replication_status": "COMPLETED", "last_modified": "2026-01-03T09:00:00Z"}]
    inventory = {
        "schema_version": "2.0", "collected_at": "2026-01-03T10:06:00Z",
        "regions": {
            "us-east-1": {
                "s3": {"buckets": {"inv": {"name": "inv", "region": "us-east-1", "versioning": "Enabled",
                                           "replication": {"role": "r", "rules": [
                                               {"id": "all", "status": "Enabled", "destination_bucket": "inv-dr"}]},
                                           "objects": {"count": 1, "version_count": 2, "replication_pending": 1,
                                                       "newest": versions}}}},
                "rds": {"instances": {"db": {"id": "db", "region": "us-east-1", "status": "available",
                                             "engine": "postgres", "az": "us-east-1c", "multi_az": True,
                                             "secondary_az": "us-east-1d", "orders": {"count": 42}}},
                        "snapshots": {"s1": {"id": "s1", "region": "us-east-1", "instance": "db", "type": "manual",
                                             "status": "available", "created": "2026-01-03T08:00:00Z"}}},
                "dynamodb": {"tables": {"t": {"name": "t", "region": "us-east-1", "status": "ACTIVE",
                                              "replicas": [{"region": "us-west-2", "status": "ACTIVE"}],
                                              "pitr": {"status": "ENABLED"}, "items": {"count": 5}}}},
                "backup": {"vaults": {"v": {"name": "v", "region": "us-east-1", "recovery_points": 1}},
                           "recovery_points": [{"arn": "rp-1", "region": "us-east-1", "vault": "v",
                                                "resource_arn": "arn:aws:rds:us-east-1:0:db:db",
                                                "status": "COMPLETED", "created": "2026-01-03T05:00:00Z"}],
                           "plans": {"p": {"id": "p", "region": "us-east-1", "name": "daily", "rules": [
                               {"name": "d", "target_vault": "v", "copy_actions": [
                                   {"destination_vault_arn": "arn:aws:backup:us-west-2:0:backup-vault:dr"}]}],
                               "selections": []}},
                           "copy_jobs": []},
            },
            "us-west-2": {"s3": {"buckets": {"inv-dr": {"name": "inv-dr", "region": "us-west-2",
                                                        "versioning": "Enabled", "objects": {"count": 0}}}}},
        },
    }
    world = world_view(inventory, {"replication_paused": ["dynamodb:*"]})
    east = world.region("us-east-1")
    assert east.zones == ("us-east-1c", "us-east-1d")
    database = next(r for r in east.resources if r.kind == "db-instance")
    assert database.details["order rows"] == 42 and database.details["snapshots"][0]["id"] == "s1"
    bucket = next(r for r in east.resources if r.kind == "bucket")
    assert [v["version"] for v in bucket.details["object versions"]] == ["v1", "v2"]
    vault = next(r for r in east.resources if r.kind == "vault")
    assert vault.details["points"][0]["resource"] == "db"
    links = {link.kind: link for link in world.links}
    assert (links["S3 CRR"].target_region, links["S3 CRR"].state, links["S3 CRR"].detail) == \
        ("us-west-2", "replicating", "1 pending")
    assert links["DynamoDB replica"].state == "paused"
    assert (links["Backup copy"].target_region, links["Backup copy"].target, links["Backup copy"].state) == \
        ("us-west-2", "dr", "idle")
    assert world.region("us-west-2").zones == ("us-west-2a", "us-west-2b")


def test_event_filter_and_parameter_conversion() -> None:
    event = convert.event_batch({"events": [{"seq": 1, "time": 0, "kind": "engine", "source": "s3-replication",
                                             "name": "ReplicationCompleted", "region": "us-west-2"}]}).events[0]
    assert EventFilter().matches(event) and EventFilter("engine", "REPLIC").matches(event)
    assert not EventFilter("api").matches(event) and not EventFilter(None, "backup").matches(event)
    assert convert_param("integer", "12") == 12 and convert_param("duration", "30m") == "30m"
    try:
        convert_param("integer", "twelve")
    except ValueError as exc:
        assert "'twelve' is not an integer" in str(exc)
    else:
        raise AssertionError("a bad integer was accepted")


def test_the_labs_own_api_calls_are_told_from_the_learners() -> None:
    """In-process calls carry AWS Internal or a service principal as their source; the learner's an IP."""
    def api(source: str | None, kind: str = "api") -> dict:
        return {"seq": 1, "time": 0.0, "kind": kind, "source": "s3.amazonaws.com", "name": "PutObject",
                "detail": {"sourceIPAddress": source} if source else {}}

    batch = convert.event_batch({"events": [api("AWS Internal"), api("backup.amazonaws.com"), api("127.0.0.1"),
                                            api("::1"), api(None), api("AWS Internal", kind="engine")]})
    assert [event.by_lab for event in batch.events] == [True, True, False, False, False, False]
    mine = EventFilter()
    assert [mine.matches(event) for event in batch.events] == [False, False, True, True, True, True]
    assert all(EventFilter(lab_calls=True).matches(event) for event in batch.events)


def test_a_lab_view_carries_its_drill_text() -> None:
    """The drill's briefing, follow-up scenarios, recovery instructions and hints reach the LabView."""
    from lab import exercises
    from lab.grading import RECOVER_STEP_ID
    from tui.data import RECOVERY_HINTS

    view = convert.lab_view(exercises.load("02-s3-crr"))
    assert view.drill is not None and view.drill.briefing_md.startswith("03:12 UTC")
    assert [(then.scenario, then.after_seconds, dict(then.params)) for then in view.drill.then] == [
        ("region-outage", 900, {"region": "us-east-1"})]
    assert "copy-object" in view.recovery_instructions_md and len(view.recovery_hints) == 3
    assert RECOVERY_HINTS == RECOVER_STEP_ID  # progress counts the recovery hints where grading looks
