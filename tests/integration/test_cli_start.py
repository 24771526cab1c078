"""`lab check` and `lab status` against a running sandbox load only what their client side needs: not the AWS SDK,
moto, the TUI, the YAML parser, the JSON Schema validator, Cedar or the plugin metadata reader (no plugin is
installed here); `lab check` of the built-in labs not even the labs, the checks or the inventory's schema, since
the sandbox scores them; and they print what they printed before (the same report as --json gives)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SandboxHandle
from tests.unit.test_cli_imports import NEVER, RUN_MAIN

pytestmark = pytest.mark.integration

#: what scoring the built-in labs loads, which `lab check` leaves to the sandbox
SANDBOX_SIDE = ("lab.exercises", "lab.inventory", "checks.registry", "checks.inventory", "msgspec")


def run_main(sandbox: SandboxHandle, tmp_path: Path, *args: str) -> tuple[set[str], str]:
    """(the modules loaded, stdout) of `lab ARGS` run to its end in a fresh interpreter."""
    listing = tmp_path / "modules.json"
    env = {**sandbox.env, "MODULES_OUT": str(listing), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-c", RUN_MAIN, json.dumps([*args, "--state-dir", str(sandbox.state_dir)])],
                          env=env, capture_output=True, text=True, timeout=120, check=True)
    return set(json.loads(listing.read_text())), done.stdout


def test_check_and_status_load_only_their_client_side(sandbox: SandboxHandle, tmp_path: Path) -> None:
    loaded, printed = run_main(sandbox, tmp_path, "check", "01-aws-backup", "--json")
    assert sorted(name for name in NEVER if name in loaded) == []
    assert sorted(name for name in SANDBOX_SIDE if name in loaded) == []
    assert "lab.grading" in loaded  # (the reports it printed)
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


def test_the_sandbox_s_scores_are_those_of_a_check_from_here(sandbox: SandboxHandle, tmp_path: Path) -> None:
    """`lab check` of the built-in labs is scored in the sandbox; with an instructor's folder it is scored here,
    on the inventory the sandbox sends. Both give the same reports, every lab's, and record the same
    progress."""
    from lab.admin_client import AdminClient

    (tmp_path / "instructor").mkdir()
    clock = AdminClient(sandbox.endpoint)
    running = not clock.get("clock")["paused"]
    clock.post("clock", {"action": "pause"})  # (the same instant for both)
    try:
        in_sandbox = sandbox.lab("check", "--json", check=False)
        from_here = sandbox.lab("check", "--json", "--exercises", str(tmp_path / "instructor"), check=False)
    finally:
        if running:
            clock.post("clock", {"action": "resume"})
    assert in_sandbox.returncode == from_here.returncode, (in_sandbox.stderr, from_here.stderr)
    assert json.loads(in_sandbox.stdout) == json.loads(from_here.stdout)
    assert len(json.loads(in_sandbox.stdout)["reports"]) >= 12

    sandbox.lab("check", "02", "--learner", "ana", check=False)
    sandbox.lab("check", "02", "--learner", "bo", "--exercises", str(tmp_path / "instructor"), check=False)
    ana, bo = (json.loads((sandbox.state_dir / "progress" / f"{name}.json").read_text()) for name in ("ana", "bo"))
    assert ana["labs"]["02-s3-crr"]["attempts"] == 1 and ana["last_lab"] == "02-s3-crr"
    assert ana["labs"] == bo["labs"]


def test_a_lab_the_sandbox_does_not_know_is_named_in_its_refusal(sandbox: SandboxHandle) -> None:
    """The sandbox's refusals are the CLI's errors, in the same words (exit 2); a route the sandbox lacks (one
    started by an earlier version) is told apart, and the CLI then checks from here."""
    from lab.admin_client import AdminClient
    from lab.errors import LabError

    unknown = sandbox.lab("check", "99-no-such-lab", check=False)
    assert unknown.returncode == 2
    assert "no lab '99-no-such-lab'; the labs are: 01-aws-backup" in unknown.stderr
    client = AdminClient(sandbox.endpoint)
    for body, words in (({"lab": 3}, "give the lab by id or number"), ({"lab": "02", "phase": "later"},
                                                                        "unknown phase 'later'")):
        with pytest.raises(LabError, match=words):
            client.post_or_none("check", body)
    assert client.post_or_none("no-such-route", {}) is None
    assert client.post_or_none("check", {"lab": "2", "phase": "configure"})["reports"][0]["lab_id"] == "02-s3-crr"


def test_the_check_route_answers_any_body_with_a_400_that_says_what_is_wrong(sandbox: SandboxHandle) -> None:
    """POST /_lab/check is the sandbox's door for any local client: a body that is not a JSON object, a lab
    that is not a short text, a phase it does not know, bytes that are not UTF-8 -- each is a 400 in JSON
    naming the problem, never a failure of the sandbox, which answers the next check as before."""
    import http.client
    from urllib.parse import urlsplit

    where = urlsplit(sandbox.endpoint)
    bodies = [b"{", b"[1]", b'"02"', b"\xff\xfe", json.dumps({"lab": ["02"]}).encode(),
              json.dumps({"lab": "x" * 5000}).encode(), json.dumps({"lab": "02", "phase": [1]}).encode(),
              json.dumps({"lab": "02", "phase": None}).encode(), json.dumps({"lab": "\u0000"}).encode()]
    for body in bodies:
        connection = http.client.HTTPConnection(where.hostname, where.port, timeout=60)
        connection.request("POST", "/_lab/check", body=body, headers={"Content-Type": "application/json"})
        answer = connection.getresponse()
        payload = json.loads(answer.read())
        connection.close()
        assert answer.status == 400 and payload["error"] and len(payload["error"]) < 1000, (body[:40], payload)
    checked = sandbox.lab("check", "02", "--json", check=False)
    assert checked.returncode in (0, 1) and json.loads(checked.stdout)["lab_id"] == "02-s3-crr"
