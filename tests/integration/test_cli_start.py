"""`lab check` and `lab status` against a running sandbox load only what their client side needs: not the AWS SDK,
moto, the TUI, the YAML parser once the labs were validated, the JSON Schema validator, the standard library's
HTTP client, Cedar (until a policy is evaluated) or the plugin metadata reader (no plugin is installed here);
and they print what they printed before (the same report as --json gives)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SandboxHandle
from tests.unit.test_cli_imports import NEVER, RUN_MAIN

pytestmark = pytest.mark.integration


def run_main(sandbox: SandboxHandle, tmp_path: Path, *args: str) -> tuple[set[str], str]:
    """(the modules loaded, stdout) of `lab ARGS` run to its end in a fresh interpreter."""
    listing = tmp_path / "modules.json"
    env = {**sandbox.env, "MODULES_OUT": str(listing), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-c", RUN_MAIN, json.dumps([*args, "--state-dir", str(sandbox.state_dir)])],
                          env=env, capture_output=True, text=True, timeout=120, check=True)
    return set(json.loads(listing.read_text())), done.stdout


def test_check_and_status_load_only_their_client_side(sandbox: SandboxHandle, tmp_path: Path) -> None:
    first, _ = run_main(sandbox, tmp_path, "check", "01-aws-backup", "--json")  # validates the labs once
    assert "jsonschema" in first
    loaded, printed = run_main(sandbox, tmp_path, "check", "01-aws-backup", "--json")
    assert sorted(name for name in NEVER if name in loaded) == []
    assert {"lab.inventory", "checks.registry", "lab.grading"} <= loaded  # (it did check)
    report = json.loads(printed)
    assert report["lab_id"] == "01-aws-backup" and report["steps"]
    shown, text = run_main(sandbox, tmp_path, "check", "01-aws-backup")
    assert sorted(name for name in NEVER if name in shown) == []
    assert text.startswith(f"01-aws-backup {report['lab_title']} -- ")
    status, text = run_main(sandbox, tmp_path, "status")
    assert sorted(name for name in NEVER if name in status) == []
    assert sandbox.endpoint in text and str(sandbox.state_dir) in text


def test_the_checks_run_through_the_cli_agree_with_a_check_in_process(sandbox: SandboxHandle) -> None:
    """The admin client's own HTTP reading gives the inventory the checks judge: the verdicts through the CLI
    are those of the same checks run here on an inventory read by http.client."""
    import http.client
    from urllib.parse import urlsplit

    from lab import exercises, grading
    from lab.app.checking import parts_for
    from lab.inventory import loads

    lab = exercises.load("02-s3-crr")
    parts = ",".join(sorted(parts_for([lab], "all")))
    where = urlsplit(sandbox.endpoint)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=60)
    connection.request("GET", f"/_lab/inventory?services={parts}")
    inventory = loads(connection.getresponse().read())
    connection.close()
    expected = grading.evaluate(lab, inventory, phase="configure")
    through_cli = json.loads(sandbox.lab("check", "02-s3-crr", "--json", "--phase", "configure", check=False).stdout)
    assert [check["status"] for step in through_cli["steps"] for check in step["checks"]] == [
        outcome.status for step in expected.steps for outcome in step.checks]
