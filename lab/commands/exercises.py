"""`lab exercises`, `lab validate`, `lab solve`: the labs, their files, and their reference solutions."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from lab.commands._common import exercises_option, port_option, state_dir_option, state_dir_path
from lab.errors import LabError

TOOLS = ("boto3", "cli")
NOT_READY = 75  # a step's exit code while it waits for AWS (EX_TEMPFAIL); see run_solution
STEP_MARK = re.compile(r"^== step (\d+)", re.MULTILINE)
WAIT_STEP = "5m"
MAX_WAITS = 12


def register(main: click.Group) -> None:
    main.add_command(exercises)
    main.add_command(hint)
    main.add_command(validate)
    main.add_command(solve)


def exercise_dirs(extra: Path | None) -> list[Path] | None:
    """The folders to load labs from: the built-in ones plus `extra` (None: the defaults, env included)."""
    from lab.exercises import REPO_EXERCISES_DIR

    return [REPO_EXERCISES_DIR, extra] if extra else None


@click.command()
@exercises_option
@state_dir_option
@click.option("--learner", envvar="LAB_LEARNER", default=None, help="whose progress [env LAB_LEARNER; default $USER]")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def exercises(exercises_dir: Path | None, state_dir: str | None, learner: str | None, as_json: bool) -> None:
    """List the labs with your progress (steps done, hints used, last score)."""
    from lab import exercises as catalog
    from lab import progress

    labs = catalog.load_all(exercise_dirs(exercises_dir))
    mine = progress.load(state_dir_path(state_dir), learner)
    rows = [lab_summary(exercise, mine.lab(exercise.id)) for exercise in labs.values()]
    if as_json:
        click.echo(json.dumps({"learner": mine.learner, "labs": rows}, indent=2))
        return
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console()
    wide = console.width >= 100  # (in 80 columns the minutes go and the title wraps: every column stays legible)
    table = Table(title=f"SecureCart DR Lab -- {mine.learner}", title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("lab", no_wrap=True)
    table.add_column("title", ratio=1, min_width=12, overflow="fold")
    if wide:
        table.add_column("min", justify="right")
    table.add_column("steps", justify="right", no_wrap=True)
    table.add_column("hints", justify="right", no_wrap=True)
    table.add_column("score", justify="right", no_wrap=True)
    table.add_column("drill", overflow="fold")
    for row in rows:
        cells = [row["id"], row["title"], *([str(row["estimated_minutes"])] if wide else []),
                 f"{row['steps_done']}/{row['steps']}", str(row["hints_used"]), row["standing"], row["drill"] or "-"]
        table.add_row(*cells)
    console.print(table)
    click.echo("Work on one: lab (the TUI), or lab check LAB; lab hint LAB reveals a hint; lab solve LAB applies the "
               "reference solution.")


@click.command()
@click.argument("lab_id", metavar="LAB")
@click.argument("step_id", required=False, metavar="[STEP]")
@exercises_option
@state_dir_option
@click.option("--learner", envvar="LAB_LEARNER", default=None, help="whose progress [env LAB_LEARNER; default $USER]")
def hint(lab_id: str, step_id: str | None, exercises_dir: Path | None, state_dir: str | None,
         learner: str | None) -> None:
    """Reveal the next hint of a lab's step (the first step not done; STEP: its id or number), with the ones
    revealed before. Hints used are counted, as in the TUI; a drill's recovery hints: lab drill LAB --hint."""
    from lab import progress
    from lab.commands.checks import load_exercises

    [exercise] = load_exercises(lab_id, exercises_dir)
    directory = state_dir_path(state_dir)
    mine = progress.load(directory, learner).lab(exercise.id)
    steps = list(exercise.steps)
    if step_id is None:
        step = next((s for s in steps if s.id not in mine.steps_done), None)
        if step is None:
            click.echo(f"Every step of {exercise.id} is done (lab check {exercise.id} says so); the drill's recovery "
                       f"hints: lab drill {exercise.id} --hint")
            return
    else:
        numbered = {str(number): s for number, s in enumerate(steps, start=1)}
        step = next((s for s in steps if s.id == step_id), None) or numbered.get(step_id.lstrip("0") or "0")
        if step is None:
            raise LabError(f"lab {exercise.id} has no step {step_id!r}; its steps are: "
                           + ", ".join(f"{number} {s.id}" for number, s in enumerate(steps, start=1)))
    total = len(step.hints)
    if not total:
        click.echo(f"Step {step.id} ({step.title}) has no hints.")
        return
    shown = mine.hints_for(step.id)
    if shown < total:
        shown = progress.record_hint(directory, exercise.id, step.id, available=total,
                                     learner=learner).hints_for(step.id)
    click.echo(f"{exercise.id}, step {steps.index(step) + 1} {step.id}: {step.title}")
    for number, text in enumerate(step.hints[:shown], start=1):
        click.echo(f"{number}. {text}")
    click.echo(f"({shown} of {total} revealed{'' if shown < total else '; that is all of them'})")


def lab_summary(exercise: Any, mine: Any) -> dict[str, Any]:
    """One lab and the learner's progress on it (a lab.progress.LabProgress), as the listing shows it: the
    latest check's score and verdict (lab.app.scoring)."""
    from lab.app.scoring import standing

    step_ids = [step.id for step in exercise.steps]
    where = standing(mine)
    return {
        "id": exercise.id,
        "title": exercise.title,
        "estimated_minutes": exercise.estimated_minutes,
        "steps": len(step_ids),
        "steps_done": len([step for step in mine.steps_done if step in step_ids]),
        "hints_used": sum(mine.hints_revealed.values()),
        "attempts": mine.attempts,
        "last_percent": mine.last_percent,
        "passed": where.passed,
        "passed_before": where.passed_before,
        "standing": where.text(),
        "drill": exercise.drill.scenario if exercise.drill else None,
        "source": str(exercise.source_path),
    }


@click.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="the problems as JSON")
def validate(path: Path, as_json: bool) -> None:
    """Check exercise files (a file or a folder): YAML, schema, check ids and parameters, drill scenarios.

    Each problem is printed as file:line:column: what is wrong. Exit 1 when there is any.
    """
    from lab.exercises import exercise_files
    from lab.exercises import validate as validate_path

    problems = validate_path(path)
    if as_json:
        click.echo(json.dumps({"problems": [{"file": p.path, "line": p.line, "column": p.column,
                                              "message": p.message} for p in problems]}, indent=2))
    else:
        for problem in problems:
            click.echo(str(problem))
        files = len(exercise_files(path)) if path.exists() else 0
        if problems:
            click.echo(f"{len(problems)} problem(s) in {files} file(s)", err=True)
        else:
            click.echo(f"ok: {files} exercise file(s) valid")
    if problems:
        sys.exit(1)


@click.command()
@click.argument("lab_id", metavar="LAB")
@click.option("--step", default=None, help="run only this step (its number or id)")
@click.option("--tool", type=click.Choice(TOOLS), default="boto3", show_default=True,
              help="the boto3 script or the aws CLI script")
@click.option("--recover", is_flag=True, help="run the documented recovery (after `lab drill LAB`)")
@exercises_option
@state_dir_option
@port_option
def solve(lab_id: str, step: str | None, tool: str, recover: bool, exercises_dir: Path | None,
          state_dir: str | None, port: int | None) -> None:
    """Apply a lab's reference solution (or, with --recover, its documented recovery) to the sandbox."""
    from lab import exercises as catalog
    from lab.commands._common import admin

    exercise = catalog.load(lab_id, exercise_dirs(exercises_dir))
    number: int | None = None
    if step is not None:
        if recover:
            raise click.UsageError("--step belongs to the configure phase; --recover runs the whole recovery")
        try:
            chosen = exercise.step(step)
        except KeyError as exc:
            raise click.UsageError(str(exc.args[0])) from None
        number = exercise.steps.index(chosen) + 1
    client = admin(state_dir, port)
    incident = latest_incident_time(client.get("drills"), exercise.id) if recover else None
    if recover and incident is None:
        raise LabError(f"lab {exercise.id} has had no drill yet, so there is nothing to recover from: "
                       f"lab drill {exercise.id}, then lab solve {exercise.id} --recover")
    what = "recovery" if recover else (f"step {number} ({exercise.steps[number - 1].id})" if number else "solution")
    click.echo(f"{exercise.id}: running the reference {what} with {'the aws CLI' if tool == 'cli' else 'boto3'}")

    def advance(duration: str) -> None:
        click.echo(f"(waiting for AWS: sim time moves on {duration})")
        client.post("clock", {"action": "advance", "duration": duration})

    run = run_solution(exercise, client.endpoint, tool=tool, step=number, recover=recover, incident_time=incident,
                       advance=advance)
    if run.returncode != 0:
        raise LabError(f"the reference {what} of {exercise.id} failed (exit {run.returncode}); its output is above")
    click.echo(f"done. Check it: lab check {exercise.id}")


def latest_incident_time(drills: Any, lab_id: str) -> str | None:
    """The incident time (ISO) of the lab's most recent drill in a GET /_lab/drills answer."""
    found = [d for d in (drills or {}).get("drills", []) if d.get("lab") == lab_id and d.get("incident_time")]
    return max(found, key=lambda d: d["incident_time"])["incident_time"] if found else None


def solution_script(exercise: Any, tool: str, recover: bool) -> Path:
    from lab.exercises import solutions_dir

    name = f"{'recover' if recover else 'solve'}.{'sh' if tool == 'cli' else 'py'}"
    script = solutions_dir(exercise) / name
    if not script.is_file():
        raise LabError(f"lab {exercise.id} has no reference script {script}")
    return script


def solution_environment(endpoint: str, incident_time: str | None = None) -> dict[str, str]:
    """The environment `lab env` sets up, for a script run by the lab: the sandbox endpoint, dummy
    credentials, no user AWS files, and this Python's bin folder first (its aws CLI and python3)."""
    from lab import config
    from lab.safety import check_endpoint, dummy_aws_environment, isolate_from_user_aws_files

    env = dict(os.environ)
    isolate_from_user_aws_files(env)
    env.update(dummy_aws_environment(check_endpoint(endpoint), config.PRIMARY_REGION))
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.pop("LAB_INCIDENT_TIME", None)
    if incident_time:
        env["LAB_INCIDENT_TIME"] = incident_time
    return env


@dataclass
class SolutionRun:
    """What running a reference script did: its exit code and its output (stdout and stderr together)."""

    returncode: int
    output: str = ""


def run_solution(exercise: Any, endpoint: str, *, tool: str = "boto3", step: int | None = None,
                 recover: bool = False, incident_time: str | None = None, capture: bool = False,
                 advance: Callable[[str], Any] | None = None, timeout: float = 600.0) -> SolutionRun:
    """Run a lab's reference script against the sandbox at `endpoint` (its output shown, or only captured).

    A step that exits NOT_READY (75) waits for something AWS does in its own time (a replica, a snapshot):
    with `advance`, sim time moves on WAIT_STEP and the script runs again from that step (the scripts print
    "== step N" as each step starts), at most MAX_WAITS times.
    """
    import shutil  # (here: shutil loads the compression modules, which the other commands do not need)

    if tool not in TOOLS:
        raise LabError(f"unknown tool {tool!r}; one of {', '.join(TOOLS)}")
    script = solution_script(exercise, tool, recover)
    env = solution_environment(endpoint, incident_time)
    if tool == "cli":
        if shutil.which("aws", path=env["PATH"]) is None:
            raise LabError("the aws CLI is not installed (pip install awscli); or run the boto3 solution: "
                           f"lab solve {exercise.id} --tool boto3")
        command = [shutil.which("bash") or "bash", str(script)]
    else:
        command = [sys.executable, str(script)]
    last = step or len(exercise.steps)
    runs: list[list[str]] = [[*command, "--step", str(step)] if step is not None else command]
    result = SolutionRun(returncode=0)
    waits = 0
    while runs:
        argv = runs[0]
        code, output = _run_streaming(argv, env, script, capture, timeout)
        result.output += output
        result.returncode = code
        if code == NOT_READY and advance is not None and waits < MAX_WAITS:
            advance(WAIT_STEP)
            waits += 1
            started = [int(n) for n in STEP_MARK.findall(output)]
            if "--step" not in argv and started and not recover:
                runs = [[*command, "--step", str(n)] for n in range(started[-1], last + 1)]
            continue
        if code != 0:
            break
        runs.pop(0)
    return result


def _run_streaming(argv: list[str], env: dict[str, str], script: Path, capture: bool,
                   timeout: float) -> tuple[int, str]:
    """Run one script, echoing its output as it comes (unless captured); (exit code, output)."""
    import subprocess
    import threading

    process = subprocess.Popen(argv, env=env, cwd=script.parent, text=True, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    watchdog = threading.Timer(timeout, process.kill)
    watchdog.start()
    lines: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if not capture:
                click.echo(line, nl=False)
        code = process.wait()
    finally:
        watchdog.cancel()
    if code < 0:
        raise LabError(f"the reference script {script} did not finish within {timeout:.0f}s (or was killed)")
    return code, "".join(lines)
