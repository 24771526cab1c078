"""`lab check`, `lab grade`, `lab export`: the labs' checks on the running sandbox, reports for instructors,
and grading a class from exported files.

Exit codes of `lab check` and `lab grade`: 0 when every lab passes its pass mark, 1 when one does not, 2 on an
error (a check that could not judge, a sandbox that is not running, a broken exercise file). Scores: lab.app.scoring.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from lab.commands._common import (
    admin,
    exercises_option,
    learner_option,
    port_option,
    state_dir_option,
    state_dir_path,
)
from lab.errors import LabError

PHASE_CHOICES = ("auto", "configure", "recover", "all")
EVENTS_LIMIT = 20_000
MAX_EXPORT_MB = 256  # lab.grading.MAX_EXPORT_BYTES, in the unit of --max-export-mb
STATUS_STYLE = {"PASS": ("[green]PASS[/]", "green"), "FAIL": ("[red]FAIL[/]", "red"),
                "ERROR": ("[magenta]ERROR[/]", "magenta"), "NOT_APPLICABLE": ("[dim]N/A[/]", "dim")}


def register(main: click.Group) -> None:
    main.add_command(check)
    main.add_command(grade)
    main.add_command(export)


# -- shared ----------------------------------------------------------------------------------------------

def load_exercises(lab_id: str | None, exercises_dir: Path | None) -> list[Any]:
    """The lab (every lab without an id); a broken exercise file is an error (exit 2) listing its problems."""
    from lab import exercises

    dirs = [exercises.REPO_EXERCISES_DIR, exercises_dir] if exercises_dir else None
    try:
        if lab_id:
            return [exercises.load(lab_id, dirs)]
        return list(exercises.load_all(dirs).values())
    except exercises.ExerciseError as exc:
        raise LabError(str(exc)) from exc


# -- lab check -------------------------------------------------------------------------------------------

@click.command()
@click.argument("lab_id", required=False, metavar="[LAB]")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.option("--phase", type=click.Choice(PHASE_CHOICES), default="auto", show_default=True,
              help="configure, recover, all, or auto (recovery checks once the lab has had a drill)")
@learner_option
@exercises_option
@state_dir_option
@port_option
def check(lab_id: str | None, as_json: bool, phase: str, learner: str | None, exercises_dir: Path | None,
          state_dir: str | None, port: int | None) -> None:
    """Check your progress in a lab (every lab without LAB): each step's checks, what they saw, what to do next.

    The score is the whole lab's (its recovery from the drill included) and the same everywhere: lab
    exercises, lab grade, lab export, the TUI. Exit code 0 when every lab checked passes its pass mark, 1 when
    one does not, 2 when a check could not judge."""
    from lab.app import scoring
    from lab.app.checking import check_in_sandbox, check_labs

    directory = state_dir_path(state_dir)
    client = admin(state_dir, port)
    # The built-in labs are scored inside the sandbox, where the checks are loaded already; an instructor's
    # folder (or a sandbox of an earlier version) is read and scored here.
    run = None if exercises_dir else check_in_sandbox(client, lab_id, phase, state_dir=directory,
                                                      attempt=lab_id is not None, learner=learner)
    if run is None:
        run = check_labs(client.endpoint, load_exercises(lab_id, exercises_dir), phase, state_dir=directory,
                         attempt=lab_id is not None, learner=learner)
    reports = run.reports
    for exc in run.progress_errors:
        click.echo(f"warning: progress could not be saved in {directory}: {exc}", err=True)
    if as_json:
        body: Any = reports[0].to_dict() if lab_id else {"reports": [r.to_dict() for r in reports]}
        click.echo(json.dumps(body, indent=2, sort_keys=True, default=str))
    else:
        from rich.console import Console

        console = Console(highlight=False)
        for report in reports:
            print_report(console, report, detailed=lab_id is not None)
        if run.collection_errors:
            console.print(f"[dim]({run.collection_errors} part(s) of the sandbox could not be read; "
                          "lab check --json shows the checks they affect)[/]")
    sys.exit(scoring.exit_code(reports))


def print_report(console: Any, report: Any, *, detailed: bool) -> None:
    """The report as `lab check` prints it, in one print: rich's overhead per print is most of a long report's
    printing. Each line is its own markup (a style left open ends with its line) and is wrapped on its own, as
    if each were printed apart."""
    from rich.markup import render
    from rich.text import Text

    console.print(Text("\n").join(render(line) for line in report_lines(report, detailed=detailed)))


def report_lines(report: Any, *, detailed: bool) -> list[str]:
    """The lines of `lab check`'s report, in rich markup."""
    from rich.markup import escape

    verdict = "[green]passed[/]" if report.passed else "[yellow]not passed yet[/]"
    lines = [f"[bold]{report.lab_id}[/] {escape(report.lab_title)} -- {verdict}: score "
             f"{report.score:.1f}/{report.max_score:g} ({report.percent:.0f}%, pass mark "
             f"{report.pass_mark * 100:.0f}%)"]
    if report.drill:
        lines.append(drill_line(report.drill))
    for number, step in enumerate(report.steps, start=1):
        label = "Recover" if step.phase == "recover" else f"Step {number}"
        mark = "[green]done[/]" if step.passed else "[yellow]to do[/]"
        if step.phase == "recover" and all(r.reason == "no_drill" for r in step.results):
            mark += f" (it counts in the score: run the drill, lab drill {report.lab_id}, then recover)"
        lines.append(f"  {label}: {escape(step.title)} -- {mark} ({step.score:.1f}/{step.max_score:g})")
        if not detailed and step.passed:
            continue
        for outcome in step.checks:
            badge = STATUS_STYLE[outcome.status][0]
            lines.append(f"    {badge} {outcome.check_id} ({outcome.score:.1f}/{outcome.weight:g})")
            shown = outcome.results if detailed else [r for r in outcome.results if r.status != "PASS"][:1]
            for result in shown:
                style = STATUS_STYLE[result.status][1]
                lines.append(f"      [{style}]-[/] {escape(result.message)}")
                if result.hint and result.status in ("FAIL", "ERROR"):
                    lines.append(f"        [cyan]next:[/] {escape(result.hint)}")
    return lines


def drill_line(drill: dict[str, Any]) -> str:
    rpo = drill.get("rpo") or {}
    targets = drill.get("targets") or {}
    rto = drill.get("rto_seconds")
    rto_text = f"{rto}s" if rto is not None else "not recovered yet"
    return (f"  Drill {drill.get('id')} ({drill.get('scenario')}) {drill.get('status')}: incident "
            f"{drill.get('incident_time')}; RTO {rto_text} (target {targets.get('rto_seconds')}s); RPO "
            f"{rpo.get('span_seconds', 0)}s, {rpo.get('count', 0)} order(s) lost (target "
            f"{targets.get('rpo_seconds')}s){'; ' + drill['compliance'] if drill.get('compliance') else ''}")


# -- lab grade -------------------------------------------------------------------------------------------

@click.command()
@click.argument("lab_id", required=False, metavar="[LAB]")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("lab-report"),
              show_default=True, help="where report.json, report.xml (JUnit) and report.md are written")
@click.option("--phase", type=click.Choice(PHASE_CHOICES[1:]), default="all", show_default=True)
@click.option("--class", "class_dir", type=click.Path(path_type=Path), default=None,
              help="grade a class: a folder of exports (lab export), each regraded from its inventory")
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="with --class: the grades file to write (one row per learner, a column per check)")
@click.option("--pass-rule", type=click.Choice(["all", "average"]), default="all", show_default=True,
              help="with --class: a learner passes when every lab passes (all) or on the total percent (average)")
@click.option("--max-export-mb", type=click.IntRange(min=1), default=MAX_EXPORT_MB, show_default=True,
              help="with --class: exports larger than this are skipped unread")
@exercises_option
@state_dir_option
@port_option
def grade(lab_id: str | None, out_dir: Path, phase: str, class_dir: Path | None, csv_file: Path | None,
          pass_rule: str, max_export_mb: int, exercises_dir: Path | None, state_dir: str | None,
          port: int | None) -> None:
    """Grade a lab (every lab without LAB) on the running sandbox into JSON, JUnit XML and Markdown; or a
    class of exports into one CSV (--class DIR --csv FILE).

    Class grading identifies each learner by the learner id inside the export and names the file of every
    row; it flags, in the CSV's flags column and here, one id claimed by files that differ, one id under
    two names, one name used by two learners and the same evidence under two learners -- it never picks one
    file over another. Files that are not plain exports are skipped with the reason."""
    if class_dir is not None or csv_file is not None:
        if class_dir is None or csv_file is None:
            raise click.UsageError("class grading needs both --class DIR (the exports) and --csv FILE")
        grade_class_command(lab_id, class_dir, csv_file, pass_rule, exercises_dir, max_export_mb << 20)
        return
    from lab import grading
    from lab.app import scoring
    from lab.app.reports import grade_labs

    labs = load_exercises(lab_id, exercises_dir)
    reports, _ = grade_labs(admin(state_dir, port).endpoint, labs, phase)
    written = grading.write_reports(reports, out_dir)
    for report in reports:
        click.echo(f"{report.lab_id}: {report.score:.2f}/{report.max_score:g} ({report.percent:.1f}%) "
                   f"{'passed' if report.passed else 'not passed'}")
    click.echo("wrote " + ", ".join(str(path) for path in written))
    sys.exit(scoring.exit_code(reports))


def grade_class_command(lab_id: str | None, class_dir: Path, csv_file: Path, pass_rule: str,
                        exercises_dir: Path | None, max_bytes: int = MAX_EXPORT_MB << 20) -> None:
    from lab import grading
    from lab.app.reports import grade_class

    labs = load_exercises(lab_id, exercises_dir)
    try:
        grades = grade_class(class_dir, labs, pass_rule=pass_rule, max_bytes=max_bytes)
    except grading.ExportError as exc:
        raise LabError(str(exc)) from exc
    csv_file.parent.mkdir(parents=True, exist_ok=True)
    grading.write_text_atomically(csv_file, grades.to_csv())
    for problem in grades.problems:
        click.echo(f"skipped: {problem}", err=True)
    for note in grades.notes:
        click.echo(f"note: {note}", err=True)
    for row in grades.flagged:
        for flag in row["flags"]:
            click.echo(f"flagged: {row['file']} (learner {row['learner']!r}): {flag}", err=True)
    passed = sum(1 for row in grades.rows if row["passed"])
    flagged = len(grades.flagged)
    click.echo(f"graded {len(grades.rows)} export(s) of {grades.learners} learner(s) on {len(labs)} lab(s): "
               f"{passed} passed; {len(grades.problems)} file(s) skipped; "
               f"{flagged} row(s) flagged{' (see the flags column)' if flagged else ''}; wrote {csv_file}")


# -- lab export ------------------------------------------------------------------------------------------

@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@learner_option
@exercises_option
@state_dir_option
@port_option
def export(file: Path, learner: str | None, exercises_dir: Path | None, state_dir: str | None,
           port: int | None) -> None:
    """Write one file for your instructor: the sandbox's inventory, its events, the drills and every lab's
    report. (The instructor regrades it from the inventory: lab grade --class DIR --csv FILE.)"""
    from lab import __version__, grading, progress
    from lab.app.reports import export_labs

    client = admin(state_dir, port)
    labs = load_exercises(None, exercises_dir)
    name = (learner or progress.default_learner()).strip()
    directory = state_dir_path(state_dir)
    made = export_labs(client.endpoint, labs, learner=name, state_dir=directory, lab_version=__version__,
                       exported_wall=datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), events_limit=EVENTS_LIMIT)
    if made.learner_id_problem is not None:
        exc = made.learner_id_problem
        click.echo(f"warning: the learner id could not be kept in {directory} ({exc.strerror or exc}); this "
                   "export carries none, so class grading will identify it by its file name", err=True)
    file.parent.mkdir(parents=True, exist_ok=True)
    grading.write_text_atomically(file, json.dumps(made.body, sort_keys=True, default=str))
    size = os.path.getsize(file)
    click.echo(f"wrote {file} ({size / 1024:.0f} KiB) for learner {name!r} (id {made.learner_id or 'none'}): "
               f"inventory at {made.inventory.collected_at}, {made.events} events, "
               f"{len(made.inventory.drills)} drill(s), {len(made.reports)} lab report(s)")
