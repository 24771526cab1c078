"""Exercise files: the shipped labs load, and `lab validate` points every problem at its file:line:column."""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from lab import exercises
from lab.errors import LabError

LABS = ("01-aws-backup", "02-s3-crr", "03-rds-snapshot-restore", "04-dynamodb-pitr-global", "05-ebs-snapshots",
        "06-rds-multi-az", "07-dr-strategy", "08-backup-monitoring", "09-dr-backup-restore", "10-dr-pilot-light",
        "11-dr-warm-standby", "12-dr-active-active")
SCENARIOS = {"region-outage", "az-power-interruption", "accidental-deletion", "ransomware", "bad-deploy",
             "replication-pause"}

GOOD = """\
id: 90-instructor-lab
title: An instructor's lab
objectives:
  - Turn versioning on
estimated_minutes: 10
pass_mark: 0.5
targets:
  rto: 1h
  rpo: 900
steps:
  - id: versioning
    title: Versioning on the invoices
    instructions: Turn versioning on for the invoice bucket.
    hints: [It is a bucket setting.]
    checks:
      - id: S3_BUCKET_VERSIONING_ENABLED
        weight: 2
        params:
          bucketNames: [securecart-invoices-use1]
drill:
  scenario: accidental-deletion
  briefing: Objects are deleted by mistake.
  params:
    target: objects
    count: 5
  then:
    - scenario: region-outage
      after: 10m
      params: {region: us-east-1}
recovery:
  instructions: Bring the previous versions back.
  checks:
    - id: S3_BUCKET_VERSIONING_ENABLED
"""


def problems_of(tmp_path: Path, text: str, name: str = "lab.yaml") -> list[exercises.Problem]:
    path = tmp_path / name
    path.write_text(text)
    return exercises.validate(path)


def position_of(text: str, needle: str, occurrence: int = 1) -> tuple[int, int]:
    """1-based (line, column) of the n-th occurrence of `needle` in `text`."""
    index = -1
    for _ in range(occurrence):
        index = text.index(needle, index + 1)
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, column


def test_the_shipped_labs_are_valid_and_follow_the_curriculum() -> None:
    assert exercises.validate(exercises.REPO_EXERCISES_DIR) == []
    labs = exercises.load_all([exercises.REPO_EXERCISES_DIR])
    assert tuple(labs) == LABS
    for exercise in labs.values():
        assert exercise.steps and exercise.drill is not None and exercise.recovery_checks
        assert exercise.drill.scenario in SCENARIOS
        assert all(then.scenario in SCENARIOS for then in exercise.drill.then)
        assert 0 < exercise.pass_mark <= 1 and exercise.targets.rto_seconds > 0
        assert all(step.hints for step in exercise.steps), f"{exercise.id}: every step has hints"
        for step in exercise.steps:
            text = step.instructions_md
            assert "```bash" in text and ("```python" in text or "boto3" in text), \
                f"{exercise.id}/{step.id}: aws CLI and boto3 snippets"


def test_a_good_instructor_file_loads_with_its_drill_timeline(tmp_path: Path) -> None:
    assert problems_of(tmp_path, GOOD) == []
    exercise = exercises.load_file(tmp_path / "lab.yaml")
    assert exercise.targets == exercises.Targets(rto_seconds=3600, rpo_seconds=900)
    assert exercise.step(1).id == "versioning" and exercise.step("versioning").checks[0].weight == 2
    assert exercise.drill.schedule() == [(0, "accidental-deletion", {"target": "objects", "count": 5}),
                                         (600, "region-outage", {"region": "us-east-1"})]
    assert [c.id for c in exercise.checks("recover")] == ["S3_BUCKET_VERSIONING_ENABLED"]
    with pytest.raises(KeyError, match="its steps are 1 \\(versioning\\)"):
        exercise.step(3)
    with pytest.raises(KeyError, match="its steps are 1 \\(versioning\\)"):
        exercise.step("\u00b9")  # (a digit to str.isdigit, not to int())


def test_bad_yaml_points_at_the_parser_mark(tmp_path: Path) -> None:
    text = GOOD.replace("    title: Versioning on the invoices", "    title: [Versioning on the invoices")
    [problem] = problems_of(tmp_path, text)
    assert problem.message.startswith("bad YAML")
    assert problem.line >= position_of(text, "[Versioning")[0]


def test_unknown_check_id_is_reported_at_its_value_with_a_suggestion(tmp_path: Path) -> None:
    text = GOOD.replace("      - id: S3_BUCKET_VERSIONING_ENABLED", "      - id: S3_BUCKET_VERSIONING_ENABLE")
    [problem] = problems_of(tmp_path, text)
    assert (problem.line, problem.column) == position_of(text, "S3_BUCKET_VERSIONING_ENABLE\n")
    assert "unknown check id 'S3_BUCKET_VERSIONING_ENABLE'" in problem.message
    assert "did you mean S3_BUCKET_VERSIONING_ENABLED" in problem.message
    assert str(problem).startswith(f"{tmp_path / 'lab.yaml'}:{problem.line}:{problem.column}: steps[0].checks[0].id")


def test_wrong_parameter_type_and_unknown_parameter(tmp_path: Path) -> None:
    text = GOOD.replace("bucketNames: [securecart-invoices-use1]", "bucketNames: 12\n          colour: blue")
    found = problems_of(tmp_path, text)
    assert [(p.line, p.column) for p in found] == [position_of(text, "bucketNames"), position_of(text, "colour")]
    assert "bucketNames" in found[0].message and "a list of names" in found[0].message
    assert "unknown parameter 'colour'" in found[1].message and "bucketNames" in found[1].message


def test_missing_and_unknown_fields(tmp_path: Path) -> None:
    text = GOOD.replace("estimated_minutes: 10\n", "").replace("    hints:", "    hint:")
    found = problems_of(tmp_path, text)
    messages = {p.message: (p.line, p.column) for p in found}
    assert messages["the file: missing field 'estimated_minutes'"] == (1, 1)
    unknown = next(m for m in messages if "unknown field 'hint'" in m)
    assert messages[unknown] == position_of(text, "hint:")


def test_wrong_types_and_durations(tmp_path: Path) -> None:
    text = GOOD.replace("        weight: 2", "        weight: two").replace("  rto: 1h", "  rto: soon")
    found = {p.message.split(":")[0]: p for p in problems_of(tmp_path, text)}
    assert (found["steps[0].checks[0].weight"].line, found["steps[0].checks[0].weight"].column) == \
        position_of(text, "two")
    assert "expected a number" in found["steps[0].checks[0].weight"].message
    assert found["targets.rto"].line == position_of(text, "soon")[0]
    assert "duration" in found["targets.rto"].message


def test_unknown_scenario_and_bad_scenario_parameter(tmp_path: Path) -> None:
    text = GOOD.replace("scenario: accidental-deletion", "scenario: meteor-strike")
    [problem] = problems_of(tmp_path, text)
    assert (problem.line, problem.column) == position_of(text, "meteor-strike")
    assert "meteor-strike" in problem.message and "region-outage" in problem.message
    text = GOOD.replace("params: {region: us-east-1}", "params: {region: eu-west-1}")
    [problem] = problems_of(tmp_path, text)
    assert problem.line == position_of(text, "region: eu-west-1")[0]
    assert "drill.then[0].params.region" in problem.message


def test_duplicate_keys_and_step_ids(tmp_path: Path) -> None:
    text = GOOD.replace("pass_mark: 0.5\n", "pass_mark: 0.5\npass_mark: 0.6\n")
    [problem] = problems_of(tmp_path, text)
    assert (problem.line, problem.column) == position_of(text, "pass_mark", 2)
    assert "duplicate key 'pass_mark' (first written at line" in problem.message
    step = GOOD[GOOD.index("  - id: versioning"):GOOD.index("drill:")]
    text = GOOD.replace("drill:", step + "drill:", 1)
    [problem] = problems_of(tmp_path, text)
    assert problem.line == position_of(text, "- id: versioning", 2)[0]
    assert "duplicate step id 'versioning'" in problem.message


def test_a_folder_reports_every_file_and_repeated_lab_ids(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD)
    (tmp_path / "b.yaml").write_text(GOOD)
    (tmp_path / "c.yml").write_text("- just a list\n")
    (tmp_path / "notes.txt").write_text("not an exercise")
    found = exercises.validate(tmp_path)
    assert {Path(p.path).name for p in found} == {"b.yaml", "c.yml"}
    assert any("is also used by" in p.message for p in found)
    assert exercises.validate(tmp_path / "missing.yaml")[0].message == "no such file or folder"
    with pytest.raises(exercises.ExerciseError) as raised:
        exercises.load_all([tmp_path])
    assert "c.yml:1:1" in str(raised.value)


def test_the_instructor_folder_adds_and_overrides_labs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mine.yaml").write_text(GOOD)
    (tmp_path / "override.yaml").write_text(GOOD.replace("90-instructor-lab", "02-s3-crr"))
    monkeypatch.setenv(exercises.ENV_DIR, str(tmp_path))
    labs = exercises.load_all()
    assert "90-instructor-lab" in labs and set(LABS) <= set(labs)
    assert labs["02-s3-crr"].source_path == (tmp_path / "override.yaml").resolve()
    assert exercises.load("90").id == "90-instructor-lab"
    with pytest.raises(LabError, match="no lab '42'"):
        exercises.load("42")


def test_lab_validate_prints_problems_and_exits_1(tmp_path: Path) -> None:
    from lab.cli import main

    broken = tmp_path / "broken.yaml"
    broken.write_text(GOOD.replace("S3_BUCKET_VERSIONING_ENABLED\n        weight", "NO_SUCH_CHECK\n        weight"))
    result = CliRunner().invoke(main, ["validate", str(broken)])
    assert result.exit_code == 1
    line, column = position_of(broken.read_text(), "NO_SUCH_CHECK")
    assert f"{broken}:{line}:{column}: steps[0].checks[0].id: unknown check id 'NO_SUCH_CHECK'" in result.output
    result = CliRunner().invoke(main, ["validate", str(exercises.REPO_EXERCISES_DIR)])
    assert result.exit_code == 0 and "ok: 12 exercise file(s) valid" in result.output


@pytest.mark.parametrize("lab_id", LABS)
def test_every_lab_has_reference_scripts_structured_by_step(lab_id: str) -> None:
    exercise = exercises.load(lab_id, [exercises.REPO_EXERCISES_DIR])
    folder = exercises.solutions_dir(exercise)
    for name in ("solve.py", "solve.sh", "recover.py", "recover.sh"):
        assert (folder / name).is_file(), f"{lab_id} lacks {name}"
    steps = list(range(1, len(exercise.steps) + 1))
    tree = ast.parse((folder / "solve.py").read_text())
    assigned = next(node for node in tree.body if isinstance(node, ast.Assign)
                    and any(getattr(t, "id", None) == "STEPS" for t in node.targets))
    assert sorted(key.value for key in assigned.value.keys) == steps
    shell = (folder / "solve.sh").read_text()
    assert re.search(r"^STEPS=\((.*)\)$", shell, re.M).group(1).split() == [str(n) for n in steps]
    for script in (folder / "solve.sh", folder / "recover.sh"):
        text = script.read_text()
        assert 'command aws --endpoint-url "$AWS_ENDPOINT_URL"' in text, f"{script}: every aws call on the sandbox"
        subprocess.run(["bash", "-n", str(script)], check=True)
    for script in (folder / "solve.py", folder / "recover.py"):
        compile(script.read_text(), str(script), "exec")


def test_lab_exercises_lists_every_lab_with_the_learners_progress(tmp_path: Path) -> None:
    import json

    from lab import progress
    from lab.cli import main

    def work(entry: progress.LabProgress) -> None:
        entry.steps_done = ["versioning", "not-a-step-any-more"]
        entry.hints_revealed = {"versioning": 2, "replication": 1}
        entry.attempts, entry.last_percent = 3, 40.0

    progress.update(tmp_path, "02-s3-crr", work, learner="ada")
    result = CliRunner().invoke(main, ["exercises", "--json", "--state-dir", str(tmp_path), "--learner", "ada"])
    assert result.exit_code == 0, result.output
    listing = json.loads(result.output)
    assert listing["learner"] == "ada" and [row["id"] for row in listing["labs"]] == list(LABS)
    row = next(row for row in listing["labs"] if row["id"] == "02-s3-crr")
    shown = (row["steps_done"], row["steps"], row["hints_used"], row["attempts"], row["last_percent"])
    assert shown == (1, 2, 3, 3, 40.0)
    assert row["drill"] == "ransomware"
    untouched = next(row for row in listing["labs"] if row["id"] == "07-dr-strategy")
    assert (untouched["steps_done"], untouched["attempts"], untouched["last_percent"]) == (0, 0, None)
    table = CliRunner().invoke(main, ["exercises", "--state-dir", str(tmp_path), "--learner", "ada"])
    assert table.exit_code == 0 and "02-s3-crr" in table.output and "1/2" in table.output


def test_lab_solve_refuses_unknown_steps_and_mixing_step_with_recover(tmp_path: Path) -> None:
    from lab.cli import main

    # No sandbox runs for this state dir: the step is judged before anything is asked of it.
    result = CliRunner().invoke(main, ["solve", "02-s3-crr", "--step", "9", "--state-dir", str(tmp_path)])
    assert result.exit_code != 0 and "no step '9'" in result.output and "1 (versioning)" in result.output
    result = CliRunner().invoke(main, ["solve", "02-s3-crr", "--step", "1", "--recover", "--state-dir", str(tmp_path)])
    assert result.exit_code != 0 and "--step belongs to the configure phase" in result.output


def test_a_plugin_check_is_known_to_the_validator_with_its_typed_parameters(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from checks import registry
    from checks.base import Param, check, passed

    @check(id="ACME_INVOICES_SIGNED", title="Invoices are signed", severity="LOW", resource_type="AWS::S3::Bucket",
           services=("s3",), messages={"signed": "signed"}, hints={}, source="acme-plugin",
           params=(Param("minimumSignatures", "integer", 1, "How many signatures."),))
    def acme(inventory, params):
        yield passed("invoices", "signed")

    monkeypatch.setitem(registry.CHECKS, acme.id, acme)
    text = GOOD.replace("  checks:\n    - id: S3_BUCKET_VERSIONING_ENABLED\n",
                        "  checks:\n    - id: ACME_INVOICES_SIGNED\n      params: {minimumSignatures: 2}\n")
    assert "ACME_INVOICES_SIGNED" in text and problems_of(tmp_path, text) == []
    [problem] = problems_of(tmp_path, text.replace("minimumSignatures: 2", "minimumSignatures: two"))
    assert "ACME_INVOICES_SIGNED" in problem.message and "a whole number" in problem.message


def test_lab_drill_shows_the_drill_text_and_reveals_recovery_hints_one_at_a_time(tmp_path: Path) -> None:
    """`lab drill LAB --show` prints the briefing and how to recover; --hint reveals and counts one hint."""
    from lab import progress
    from lab.cli import main
    from lab.grading import RECOVER_STEP_ID

    shown = CliRunner().invoke(main, ["drill", "02", "--show", "--state-dir", str(tmp_path)])
    assert shown.exit_code == 0, shown.output
    assert "then region-outage (region=us-east-1) at incident + 15 min" in shown.output
    assert "== Briefing\n03:12 UTC. The on-call phone rings" in shown.output
    assert "== Recover\nus-east-1 is unreachable" in shown.output and "aws s3api copy-object" in shown.output
    assert "3 recovery hints: `lab drill 02-s3-crr --hint` reveals the next one" in shown.output
    hints = ["--hint", "--state-dir", str(tmp_path), "--learner", "ada"]
    first = CliRunner().invoke(main, ["drill", "02-s3-crr", *hints])
    assert first.exit_code == 0, first.output
    assert first.output.startswith("1. Work in us-west-2") and "(1 of 3 revealed)" in first.output
    assert "A version's LastModified" not in first.output
    for _ in range(3):
        last = CliRunner().invoke(main, ["drill", "02-s3-crr", *hints])
    assert "3. Copying an old version" in last.output and "that is all of them" in last.output
    assert progress.load(tmp_path, "ada").lab("02-s3-crr").hints_for(RECOVER_STEP_ID) == 3
    both = CliRunner().invoke(main, ["drill", "02", "--show", "--hint", "--state-dir", str(tmp_path)])
    assert both.exit_code != 0 and "give one of them" in both.output


def test_lab_hint_reveals_the_next_hint_of_the_step_a_learner_is_on(tmp_path: Path) -> None:
    """`lab hint LAB [STEP]`: the first step not done by default, one more hint each time, counted as in the TUI;
    an unknown step is named with the lab's steps."""
    from lab import progress
    from lab.cli import main

    progress.update(tmp_path, "02-s3-crr", lambda entry: setattr(entry, "steps_done", ["versioning"]), learner="ada")
    mine = ["--state-dir", str(tmp_path), "--learner", "ada"]
    first = CliRunner().invoke(main, ["hint", "02", *mine])
    assert first.exit_code == 0, first.output
    assert first.output.startswith("02-s3-crr, step 2 replication:") and "(1 of " in first.output
    again = CliRunner().invoke(main, ["hint", "02", "replication", *mine])
    assert "1. " in again.output and "2. " in again.output and "(2 of " in again.output
    assert progress.load(tmp_path, "ada").lab("02-s3-crr").hints_for("replication") == 2
    other = CliRunner().invoke(main, ["hint", "02", "1", *mine])
    assert other.output.startswith("02-s3-crr, step 1 versioning:")
    wrong = CliRunner().invoke(main, ["hint", "02", "9", *mine])
    assert wrong.exit_code != 0 and "no step '9'" in wrong.output and "1 versioning" in wrong.output
    listing = CliRunner().invoke(main, ["exercises", *mine], env={"COLUMNS": "80"})
    assert "accidental-d" in listing.output and "…" not in listing.output


# -- commands a learner can run as they are (issue 15: lab 01's copied command held a literal PLAN_ID) --------

_FENCE = re.compile(r"```(bash|sh|python)\n(.*?)```", re.S)
_ASSIGNED = re.compile(r"(?:^|[\s;(])([A-Za-z_][A-Za-z0-9_]*)=")
_USED = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")
_PLACEHOLDER = re.compile(r"(?<![$\w{])([A-Z][A-Z0-9_]*_(?:ID|ARN|NAME|TIME))(?![\w=])")
_OPTION_VALUE = re.compile(r"--[a-z-]+[ =]([A-Z][A-Z0-9_]+)\b")
_VALUES = {"ENABLED", "DISABLED", "CNAME", "A", "AAAA", "TCP", "HTTP", "HTTPS", "UPSERT", "PRIMARY", "SECONDARY"}
_EXAMPLE_TIME = re.compile(r"\b20\d\d-\d\d-\d\dT\d\d:\d\d")
_SHELL_KNOWN = {"AWS_ENDPOINT_URL", "region", "bucket", "HOME"}


def test_every_command_of_every_lab_runs_as_written():
    """A command in a lab's text carries real values or shell variables an earlier command of the lab sets;
    no placeholder (PLAN_ID, GOOD_VERSION_ID) or example time the learner would have to replace by hand."""
    from lab import exercises

    problems = []
    for lab in exercises.load_all([exercises.REPO_EXERCISES_DIR]).values():
        texts = [(step.id, step.instructions_md) for step in lab.steps]
        texts.append(("recovery", lab.recovery_instructions_md or ""))
        assigned: set[str] = set()
        for where, text in texts:
            for language, code in _FENCE.findall(text):
                if language in ("bash", "sh"):
                    assigned |= set(_ASSIGNED.findall(code)) | set(re.findall(r"\bfor (\w+) in", code))
                    assigned |= set(re.findall(r"\bread -r ([\w ]+)", code) and
                                    " ".join(re.findall(r"\bread -r ([\w ]+)", code)).split())
                    for name in _USED.findall(code):
                        if name not in assigned and name not in _SHELL_KNOWN:
                            problems.append(f"{lab.id} {where}: ${name} is used before any command sets it")
                for name in _PLACEHOLDER.findall(code):
                    problems.append(f"{lab.id} {where}: the placeholder {name} in a {language} command")
                for value in _OPTION_VALUE.findall(code):
                    if value not in _VALUES:
                        problems.append(f"{lab.id} {where}: the placeholder {value} in a {language} command")
                if _EXAMPLE_TIME.search(code):
                    problems.append(f"{lab.id} {where}: an example time in a {language} command")
    assert not problems, "\n".join(problems)


def test_a_lab_asked_for_by_a_number_int_refuses_is_not_found() -> None:
    """"\u00b2" is a digit to str.isdigit, not to int(): `lab check \u00b2` names the labs there are."""
    with pytest.raises(LabError, match="no lab '\u00b2'; the labs are: 01-aws-backup"):
        exercises.load("\u00b2")
