"""One definition of a lab's score and pass (lab.app.scoring), whatever asks for it (issue 15: lab check and
lab exercises said 100 % passed where lab grade said 40 % not passed; --json said "passed": true beside FAIL)."""

from __future__ import annotations

from lab import grading, progress
from lab.app import scoring
from tests.unit.test_grading import s3_lab, world


def test_steps_done_but_no_drill_is_not_passed_everywhere():
    lab = s3_lab()  # steps weigh 5, recovery 4: the steps alone are 56 %, below the 70 % pass mark
    inventory = world().build()
    report = scoring.lab_report(lab, inventory)
    assert (round(report.percent), report.passed, report.status, report.complete) == (56, False, "FAIL", False)
    recovery = report.steps[-1]
    assert recovery.phase == "recover" and [r.reason for r in recovery.results] == ["no_drill", "no_drill"]
    assert recovery.checks[0].message == "No drill has run for lab 02-s3-crr: there is nothing to recover yet."
    # class grading scores the same inventory the same
    assert grading.grade_inventory([lab], inventory, score=scoring.lab_report)[lab.id].percent == report.percent
    assert grading.grade_inventory([lab], inventory)[lab.id].percent == report.percent
    # a view of the steps alone keeps the lab's score
    shown = scoring.showing(report, "configure")
    assert [s.phase for s in shown.steps] == ["configure", "configure"]
    assert (shown.percent, shown.passed) == (report.percent, report.passed)


def test_status_follows_the_pass_and_the_exit_code_both():
    lenient = s3_lab(pass_mark=0.5)
    report = scoring.lab_report(lenient, world().build())
    assert report.passed and report.status == "PASS" and not report.complete
    body = report.to_dict()
    assert (body["passed"], body["status"], body["complete"]) == (True, "PASS", False)
    assert scoring.exit_code([report]) == 0
    failing = scoring.lab_report(lenient, world(replicate=False).build())
    assert (failing.passed, failing.status, scoring.exit_code([report, failing])) == (False, "FAIL", 1)


def test_a_list_of_labs_shows_the_latest_check(tmp_path):
    lab = s3_lab(pass_mark=0.5)
    progress.record_report(tmp_path, lab, scoring.lab_report(lab, world().build()), attempt=False, learner="ana")
    entry = progress.load(tmp_path, "ana").lab(lab.id)
    assert scoring.standing(entry).text() == "56% passed"
    progress.record_report(tmp_path, lab, scoring.lab_report(lab, world(replicate=False).build()), learner="ana")
    entry = progress.load(tmp_path, "ana").lab(lab.id)
    assert scoring.standing(entry).text() == "22% (passed before)"
    assert not scoring.standing(entry).passed and entry.passed
    assert scoring.standing(progress.LabProgress(lab.id)).text() == "-"
