"""What a `lab` command loads: the commands a learner types all the time start without the AWS SDK, moto, the
TUI, the YAML parser, the JSON Schema validator, the standard library's HTTP client or the plugin metadata
reader. Each command runs its real `main` in a fresh interpreter, which then lists its modules; the sandbox's
side of `lab check` is in tests/integration/test_cli_start.py."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from lab import config, exercises, validation_cache

ROOT = Path(__file__).resolve().parents[2]
NEVER = ("boto3", "botocore", "moto", "textual", "jsonschema", "yaml", "cedarpy", "importlib.metadata",
         "lab.sandbox.server", "lab.sandbox.persistence", "lab.sandbox.core")

RUN_MAIN = textwrap.dedent("""
    import json, os, sys
    sys.argv = ["lab", *json.loads(sys.argv[1])]
    from lab.cli import main
    try:
        main()
    except SystemExit:
        pass
    with open(os.environ["MODULES_OUT"], "w") as out:
        json.dump(sorted(sys.modules), out)
""")


def modules_of(tmp_path: Path, *args: str) -> set[str]:
    """The modules loaded by `lab ARGS` run to its end (no sandbox runs for tmp_path's state dir)."""
    listing = tmp_path / "modules.json"
    env = {**os.environ, "MODULES_OUT": str(listing), "LAB_STATE_DIR": str(tmp_path / "state"),
           "XDG_CACHE_HOME": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT), "LAB_PORT": "9"}
    subprocess.run([sys.executable, "-c", RUN_MAIN, json.dumps(args)], env=env, cwd=ROOT, check=True,
                   capture_output=True, text=True, timeout=120)
    return set(json.loads(listing.read_text()))


@pytest.mark.parametrize("args", [("--version",), ("env", "--shell", "bash"), ("clock",), ("status",),
                                  ("--help",), ("check", "--help")])
def test_everyday_commands_load_nothing_heavy(tmp_path: Path, args: tuple[str, ...]) -> None:
    loaded = modules_of(tmp_path, *args)
    assert "lab.cli" in loaded
    assert sorted(name for name in NEVER if name in loaded) == []
    if args[0] in ("--version", "env", "--help"):
        assert "rich" not in loaded  # (printing a table is what loads it)
        assert "http.client" not in loaded  # (nor a call to the sandbox: `eval "$(lab env)"` runs in every shell)


def test_a_validated_lab_loads_without_the_yaml_parser(tmp_path: Path) -> None:
    """The first load validates (PyYAML, jsonschema); the next command reads the validated values from the
    cache. `lab exercises` loads every lab, with or without a sandbox."""
    first = modules_of(tmp_path, "exercises")
    assert {"yaml", "jsonschema"} <= first
    again = modules_of(tmp_path, "exercises")
    assert sorted(name for name in NEVER if name in again) == []
    assert "lab.exercises" in again


def test_lab_up_offers_the_persistence_layers_fsync_policies() -> None:
    from lab.sandbox import persistence, server

    assert set(config.FSYNC_POLICY_NAMES) == set(persistence.FSYNC_POLICIES)
    assert (server.RUNTIME_FILE, server.PID_FILE, server.LOG_FILE) == (config.RUNTIME_FILE, config.PID_FILE,
                                                                      config.LOG_FILE)


@pytest.fixture()
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    exercises._LOADED.clear()
    yield tmp_path
    exercises._LOADED.clear()


def test_the_validated_values_are_kept_and_used(cache_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = cache_home / "02-s3-crr.yaml"
    path.write_bytes((exercises.REPO_EXERCISES_DIR / "02-s3-crr.yaml").read_bytes())
    first = exercises.load_file(path)
    exercises._LOADED.clear()

    def no_parse(content: bytes) -> None:
        raise AssertionError("the file was parsed again")

    monkeypatch.setattr(exercises, "_parse_validated", no_parse)
    assert exercises.load_file(path) == first


def test_values_json_cannot_hold_are_not_kept_and_the_file_is_parsed_again(cache_home: Path) -> None:
    """A YAML date, or an integer key, would come back from JSON as something else: such values are not kept,
    and the next load parses the file again (without validating it)."""
    validation_cache.remember("k", {1: "an integer key"})
    assert validation_cache.validated_data("k") == (True, None)
    validation_cache.remember("k", {"when": datetime.date(2026, 1, 1)})
    assert validation_cache.validated_data("k") == (True, None)
    validation_cache.remember("k", {"a": [1, 2.5, True, None, "text"]})
    assert validation_cache.validated_data("k") == (True, {"a": [1, 2.5, True, None, "text"]})

    path = cache_home / "02-s3-crr.yaml"
    path.write_bytes((exercises.REPO_EXERCISES_DIR / "02-s3-crr.yaml").read_bytes())
    first = exercises.load_file(path)
    exercises._LOADED.clear()
    validation_cache.remember(validation_cache.key_of(path.read_bytes()))  # validated, no values kept
    assert exercises.load_file(path) == first


def test_a_fifo_among_the_exercise_files_is_refused_not_waited_on(cache_home: Path) -> None:
    folder = cache_home / "labs"
    folder.mkdir()
    os.mkfifo(folder / "99-pipe.yaml")
    outcome: list[BaseException | None] = []

    def load() -> None:
        try:
            exercises.load_all([folder])
        except exercises.ExerciseError as exc:
            outcome.append(exc)

    reader = threading.Thread(target=load, daemon=True)
    reader.start()
    reader.join(20)
    if reader.is_alive():  # free the reader blocked in open() before failing
        with open(folder / "99-pipe.yaml", "wb"):
            pass
        pytest.fail("loading the labs waited on a FIFO")
    assert outcome and "not a regular file (a FIFO)" in str(outcome[0])
