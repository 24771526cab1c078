"""Grading: scores by weight with partial credit, recovery evaluation and `lost`, the report formats."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

import pytest

from lab import grading
from lab.exercises import CheckRef, DrillSpec, Exercise, Step, Targets
from tests.unit.inventory_builder import EAST, WEST, Inv, ago

SRC, DST = "securecart-invoices-use1", "securecart-invoices-usw2"


def s3_lab(pass_mark: float = 0.7) -> Exercise:
    return Exercise(
        id="02-s3-crr", title="Cross-region replication", objectives=("replicate",), estimated_minutes=30,
        steps=(Step("versioning", "Versioning", "turn it on", ("hint 1", "hint 2"),
                    (CheckRef("S3_BUCKET_VERSIONING_ENABLED", 2.0, {"bucketNames": [SRC, DST]}),)),
               Step("replication", "Replication", "replicate", (),
                    (CheckRef("S3_BUCKET_REPLICATION_ENABLED", 3.0, {"bucketNames": [SRC]}),))),
        drill=DrillSpec("ransomware", {}), targets=Targets(3600, 900), pass_mark=pass_mark,
        recovery_checks=(CheckRef("RECOVERY_INVOICES_READABLE_IN_DR_REGION", 3.0, {"withinRpoTarget": True}),
                         CheckRef("RECOVERY_RTO_WITHIN_TARGET", 1.0, {})),
        source_path=Path("/nowhere/02-s3-crr.yaml"))


def world(src_versioning="Enabled", dst_versioning="Enabled", replicate=True) -> Inv:
    inv = Inv().role("crr", "s3.amazonaws.com").orders(5)
    inv.bucket(SRC, EAST, versioning=src_versioning, replication=Inv.replication(DST) if replicate else None,
               invoices=inv.invoices())
    inv.bucket(DST, WEST, versioning=dst_versioning, invoices=inv.invoices(missing={"ORD-000001", "ORD-000002"}))
    return inv


def test_configure_phase_scores_by_weight_with_partial_credit():
    report = grading.evaluate(s3_lab(), world(dst_versioning="Off", replicate=False).build(), phase="configure")
    assert [(s.id, s.passed, s.score, s.max_score) for s in report.steps] == [
        ("versioning", False, 1.0, 2.0), ("replication", False, 0.0, 3.0)]
    assert (report.score, report.max_score, round(report.percent, 1), report.passed) == (1.0, 5.0, 20.0, False)
    assert report.status == "FAIL"
    versioning = report.steps[0].checks[0]
    assert versioning.status == "FAIL" and "securecart-invoices-usw2" in versioning.message


def test_all_configured_passes_and_recovery_is_a_step():
    report = grading.evaluate(s3_lab(), world().build(), phase="configure")
    assert (report.passed, report.status, report.percent) == (True, "PASS", 100.0)
    everything = grading.evaluate(s3_lab(), world().build(), phase="all")
    assert [s.id for s in everything.steps] == ["versioning", "replication", "recover"]
    recover = everything.steps[-1]
    assert [c.status for c in recover.checks] == ["NOT_APPLICABLE", "NOT_APPLICABLE"]  # no drill yet
    assert (everything.score, everything.max_score) == (5.0, 9.0)
    assert not everything.passed  # 55% < 70%: the drill is part of the lab


def test_pass_mark_edges():
    assert grading.evaluate(s3_lab(pass_mark=0.4), world(replicate=False).build(), phase="configure").passed
    assert not grading.evaluate(s3_lab(pass_mark=0.41), world(replicate=False).build(), phase="configure").passed


def test_unknown_check_and_bad_params_are_error_outcomes():
    lab = s3_lab()
    broken = Exercise(**{**lab.__dict__, "steps": (Step("x", "X", "x", (), (
        CheckRef("NO_SUCH_CHECK", 1.0, {}), CheckRef("S3_BUCKET_VERSIONING_ENABLED", 1.0, {"bucketNames": 5}))),)})
    report = grading.evaluate(broken, world().build(), phase="configure")
    statuses = [(c.check_id, c.status, c.results[0].reason) for c in report.steps[0].checks]
    assert statuses == [("NO_SUCH_CHECK", "ERROR", "unknown_check"),
                        ("S3_BUCKET_VERSIONING_ENABLED", "ERROR", "bad_params")]
    assert report.status == "ERROR"
    assert "'bucketNames'" in report.steps[0].checks[1].message


def test_evaluate_recovery_passes_on_data_and_reports_lost_ids():
    inv = world()
    drill = {"id": "drill-0009", "lab": "02-s3-crr", "incident_time": ago(minutes=30), "status": "running",
             "targets": {"rto_seconds": 3600, "rpo_seconds": 900}, "rpo": {}, "rto_seconds": None}
    evaluation = grading.evaluate_recovery(s3_lab(), inv.build(), drill)
    assert not evaluation.passed
    assert evaluation.lost == {"invoices": ["ORD-000001", "ORD-000002"]}
    assert {r.check_id for r in evaluation.results} == {"RECOVERY_INVOICES_READABLE_IN_DR_REGION",
                                                        "RECOVERY_RTO_WITHIN_TARGET"}
    fixed = world()
    fixed.bucket(DST, WEST, versioning="Enabled", invoices=fixed.invoices())
    evaluation = grading.evaluate_recovery(s3_lab(), fixed.build(), drill)
    # the RTO check fails (not recovered yet) but does not decide: the data is back
    assert evaluation.passed and evaluation.lost == {"invoices": []}


def test_evaluate_recovery_uses_the_given_drill_not_an_older_one():
    inv = world().drill("drill-0001", lab="02-s3-crr", incident=None)
    old_incident = inv.data.drills[0].incident_time
    drill = {"id": "drill-0002", "lab": "02-s3-crr", "incident_time": ago(days=30), "status": "running",
             "targets": {"rto_seconds": 3600, "rpo_seconds": 900}}
    evaluation = grading.evaluate_recovery(s3_lab(), inv.build(), drill)
    judged = next(r for r in evaluation.results if r.check_id == "RECOVERY_INVOICES_READABLE_IN_DR_REGION")
    assert judged.evidence["drill"] == "drill-0002" and judged.evidence["incident_time"] != old_incident
    assert evaluation.passed  # nothing was ordered 30 days before the incident


def test_report_round_trips_and_renders():
    report = grading.evaluate(s3_lab(), world(dst_versioning="Off").build(), phase="all")
    again = grading.Report.from_dict(json.loads(grading.report_json(report)))
    assert again.to_dict() == json.loads(grading.report_json(report))
    with pytest.raises(ValueError, match="report version"):
        grading.Report.from_dict({**report.to_dict(), "report_version": "9.0"})
    markdown = grading.markdown(report)
    assert "| `S3_BUCKET_VERSIONING_ENABLED` | FAIL |" in markdown and "put-bucket-versioning" in markdown


def test_junit_one_testcase_per_check_with_failures_and_skips():
    report = grading.evaluate(s3_lab(), world(dst_versioning="Off").build(), phase="all")
    root = ElementTree.fromstring(grading.junit_xml([report]))
    suite = root.find("testsuite")
    assert suite.get("name") == "02-s3-crr"
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["S3_BUCKET_VERSIONING_ENABLED", "S3_BUCKET_REPLICATION_ENABLED",
                                              "RECOVERY_INVOICES_READABLE_IN_DR_REGION", "RECOVERY_RTO_WITHIN_TARGET"]
    assert cases[0].find("failure") is not None and cases[1].find("failure") is not None  # destination unversioned
    assert cases[2].find("skipped") is not None
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("4", "2", "2")


def test_write_reports(tmp_path):
    report = grading.evaluate(s3_lab(), world().build(), phase="configure")
    written = grading.write_reports([report], tmp_path / "out")
    assert sorted(p.name for p in written) == ["report.json", "report.md", "report.xml"]
    body = json.loads((tmp_path / "out" / "report.json").read_text())
    assert body["report_version"] == grading.REPORT_VERSION and body["reports"][0]["passed"] is True
