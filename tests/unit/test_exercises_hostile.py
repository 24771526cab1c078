"""`lab validate` on hostile exercise files: every refusal is a `FILE:LINE:COLUMN: ...` problem, never a traceback,
a hang or unbounded memory.

Each case runs `lab validate` in its own process with an address-space limit and a timeout, so that a
regression fails this test instead of taking the machine's memory or hanging the suite.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lab import exercises
from tests.unit.test_exercises import GOOD, position_of

MEMORY_LIMIT = 1536 * 1024 * 1024  # far above what validating a real exercise file takes (about 100 MB)
TIMEOUT = 60
PROBLEM = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<column>\d+): (?P<message>.+)$")


def validate_in_a_bounded_process(path: Path) -> tuple[int, list[tuple[str, int, int, str]], str]:
    """`lab validate PATH` under a memory limit: (exit code, its problems as (file, line, column, message), stderr)."""
    limit = (
        "import resource, runpy, sys\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_LIMIT}, {MEMORY_LIMIT}))\n"
        "sys.argv = ['lab', 'validate', sys.argv[1]]\n"
        "runpy.run_module('lab', run_name='__main__')\n"
    )
    result = subprocess.run([sys.executable, "-c", limit, str(path)], check=False, capture_output=True, text=True,
                            timeout=TIMEOUT, env={**os.environ, "PYTHONFAULTHANDLER": ""})
    problems = []
    for line in result.stdout.splitlines():
        match = PROBLEM.match(line)
        assert match, f"not a FILE:LINE:COLUMN problem: {line!r}\nstderr:\n{result.stderr}"
        problems.append((match["file"], int(match["line"]), int(match["column"]), match["message"]))
    return result.returncode, problems, result.stderr


def refused(path: Path) -> tuple[int, int, str]:
    """The single problem `lab validate` reports for `path`: (line, column, message); exit 1, no traceback."""
    code, problems, stderr = validate_in_a_bounded_process(path)
    assert "Traceback" not in stderr and "MemoryError" not in stderr, stderr
    assert code == 1, (code, problems, stderr)
    assert len(problems) == 1, problems
    file, line, column, message = problems[0]
    assert file == str(path)
    return line, column, message


def billion_laughs(levels: int = 9, width: int = 9) -> str:
    lines = ["lol0: &lol0 [" + ", ".join(['"lol"'] * width) + "]"]
    for level in range(1, levels):
        lines.append(f"lol{level}: &lol{level} [" + ", ".join([f"*lol{level - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_at_the_alias_that_exceeds_the_budget(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    text = billion_laughs()
    path.write_text(text)
    line, column, message = refused(path)
    assert message.startswith("bad YAML: ") and "aliases" in message
    assert line > 1 and text.splitlines()[line - 1][column - 1] == "*"  # points at an alias


def test_few_aliases_that_expand_hugely_are_refused(tmp_path: Path) -> None:
    # 2 aliases a level stay within the alias budget, yet expand to 2**24 values.
    path = tmp_path / "wide.yaml"
    path.write_text(billion_laughs(levels=24, width=2))
    _, _, message = refused(path)
    assert message.startswith("bad YAML: ") and "values" in message


@pytest.mark.parametrize("as_key", [False, True], ids=["value", "key"])
def test_merge_keys_merged_twice_do_not_multiply(tmp_path: Path, as_key: bool) -> None:
    # Each level merges the one before twice, from 48 aliases: were entries copied per merge, 2**24 of them.
    # PyYAML merges each key once; this keeps it so (a mapping key is flattened while it is constructed).
    levels = ["l0: &l0 {a: 1}"] + [f"l{n}: &l{n} {{<<: [*l{n - 1}, *l{n - 1}]}}" for n in range(1, 25)]
    text = ("? {" + ", ".join(levels) + "}\n: 1\n") if as_key else "\n".join(levels) + "\n"
    path = tmp_path / "merges.yaml"
    path.write_text(text)
    code, problems, stderr = validate_in_a_bounded_process(path)
    assert code == 1 and "Traceback" not in stderr and "MemoryError" not in stderr, stderr
    expected = "a mapping key must be a plain name" if as_key else "unknown field 'l24'"
    assert any(expected in message for *_, message in problems), problems


def test_a_recursive_alias_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "loop.yaml"
    path.write_text("id: x\nloop: &loop [1, *loop]\n")
    line, _, message = refused(path)
    assert line == 2 and message.startswith("bad YAML: ") and "deeper" in message


@pytest.mark.parametrize("text", ["x: " + "[" * 20_000 + "]" * 20_000 + "\n",
                                  "".join("  " * depth + f"k{depth}:\n" for depth in range(600)) + "  " * 600 + "v\n"],
                         ids=["flow", "block"])
def test_deep_nesting_is_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text(text)
    line, column, message = refused(path)
    assert message.startswith("bad YAML: ") and "nesting deeper than" in message
    assert (line, column) > (1, 1)


@pytest.mark.parametrize("where", ["value", "key", "hex"])
def test_a_100001_digit_integer_is_refused_at_its_place(tmp_path: Path, where: str) -> None:
    digits = "1" * 100_001
    # A plain key is at most 1,024 characters in YAML: a long one is written as an explicit key (? KEY).
    line_of_number = {"value": f"estimated_minutes: {digits}", "key": f"? {digits}\n: 5",
                      "hex": f"estimated_minutes: 0x{'f' * 100_001}"}[where]
    text = GOOD.replace("estimated_minutes: 10", line_of_number)
    path = tmp_path / "digits.yaml"
    path.write_text(text)
    line, column, message = refused(path)
    assert (line, column) == (position_of(text, line_of_number)[0], 3 if where == "key" else 20)
    assert message.startswith("bad YAML: ") and "digits" in message


def test_a_value_the_yaml_types_cannot_hold_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    text = GOOD.replace("estimated_minutes: 10", "estimated_minutes: 2026-13-01")
    path = tmp_path / "date.yaml"
    path.write_text(text)
    line, column, message = refused(path)
    assert (line, column) == (position_of(text, "2026-13-01")[0], 20)
    assert message.startswith("bad YAML: ") and "2026-13-01" in message and "month must be in 1..12" in message


def test_an_overlong_scalar_is_refused(tmp_path: Path) -> None:
    text = GOOD.replace("title: An instructor's lab", "title: " + "a" * (exercises.MAX_YAML_SCALAR_CHARS + 1))
    path = tmp_path / "long.yaml"
    path.write_text(text)
    line, column, message = refused(path)
    assert (line, column) == (2, 8) and "characters" in message


def test_a_file_above_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text(GOOD + "# " + "x" * exercises.MAX_EXERCISE_FILE_BYTES + "\n")
    line, column, message = refused(path)
    assert (line, column) == (1, 1) and "larger than" in message


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_path_that_is_not_a_regular_file_is_refused(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "lab.yaml"
    if kind == "fifo":
        os.mkfifo(path)  # reading it would wait for a writer forever
    else:
        path.symlink_to("/dev/zero")  # reading it would never end
    _, _, message = refused(path)
    expected = {"fifo": "a FIFO", "device": "a character device"}[kind]
    assert f"not a regular file ({expected})" in message


def test_a_folder_lists_its_fifo_instead_of_hanging(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(GOOD)
    os.mkfifo(tmp_path / "pipe.yaml")
    code, problems, stderr = validate_in_a_bounded_process(tmp_path)
    assert code == 1 and "Traceback" not in stderr
    assert [(Path(file).name, message) for file, _, _, message in problems] == [
        ("pipe.yaml", "not a regular file (a FIFO); exercise files are plain files")]


def test_a_few_anchors_still_work(tmp_path: Path) -> None:
    text = GOOD.replace("        params:\n          bucketNames: [securecart-invoices-use1]",
                        "        params: &invoices\n          bucketNames: [securecart-invoices-use1]")
    assert text.endswith("\n    - id: S3_BUCKET_VERSIONING_ENABLED\n")  # the recovery check, last
    text += "      params: *invoices\n"
    assert text.count("*invoices") == 1
    path = tmp_path / "anchors.yaml"
    path.write_text(text)
    assert exercises.validate(path) == []
    exercise = exercises.load_file(path)
    assert exercise.recovery_checks[0].params == {"bucketNames": ["securecart-invoices-use1"]}


def test_hostile_yaml_is_refused_wherever_the_lab_loads_exercises(tmp_path: Path) -> None:
    (tmp_path / "bomb.yaml").write_text(billion_laughs())
    load = (
        "import resource, sys\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_LIMIT}, {MEMORY_LIMIT}))\n"
        "from lab import exercises\n"
        "try:\n"
        "    exercises.load_all([sys.argv[1]])\n"
        "except exercises.ExerciseError as exc:\n"
        "    print(exc)\n"
    )
    result = subprocess.run([sys.executable, "-c", load, str(tmp_path)], check=False, capture_output=True, text=True,
                            timeout=TIMEOUT)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert re.search(r"bomb\.yaml:\d+:\d+: bad YAML: .*aliases", result.stdout), result.stdout
