"""A second real client: the AWS SDK for JavaScript v3, on this machine's Node, plays the three seed labs end to
end against a running sandbox (tests/js/seed_labs.mjs): lab 01 AWS Backup, lab 02 S3 cross-region replication
(with every upload form the SDK sends: checksum headers, aws-chunked trailers, multipart, corrupted uploads
refused), lab 03 RDS snapshots and point-in-time restore, and CloudTrail's LookupEvents.

The outcome is judged by the labs' own checks (`lab check LAB --json`) and by the data: the restored database
holds exactly the orders placed up to the restore time. The SDK comes from npm, locked in
tests/js/package-lock.json and installed by scripts/setup-js (which ./scripts/test runs).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime

import pytest

from tests.conftest import ROOT

NODE = shutil.which("node")
JS_DIR = ROOT / "tests" / "js"

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(NODE is None, reason="needs Node.js (node on PATH) to run the AWS SDK for JavaScript v3"),
]

LABS = ("01-aws-backup", "02-s3-crr", "03-rds-snapshot-restore")


def install_the_sdk() -> None:
    """scripts/setup-js: npm ci from the lock, or nothing when node_modules already matches it."""
    done = subprocess.run([str(ROOT / "scripts" / "setup-js")], capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, f"scripts/setup-js failed:\n{done.stdout}{done.stderr}"


def test_the_js_sdk_plays_the_seed_labs(fresh_sandbox):
    install_the_sdk()
    fresh_sandbox.up()
    env = fresh_sandbox.tool_env()  # what `eval "$(lab env)"` gives a learner's shell
    env.update({
        "LAB_COMMAND": json.dumps([sys.executable, "-m", "lab"]),
        "LAB_STATE_DIR": str(fresh_sandbox.state_dir),
        "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED": "true",
    })
    run = subprocess.run([NODE, "seed_labs.mjs"], cwd=JS_DIR, env=env, capture_output=True, text=True,
                         timeout=240, check=False)
    output = run.stdout + run.stderr
    lines = run.stdout.strip().splitlines()
    assert run.returncode == 0 and lines, f"the JavaScript SDK run failed:\n{output}"
    result = json.loads(lines[-1])
    assert result["failed"] is None and result["passed"] >= 24, output
    assert not [line for line in lines if line.startswith("FAILED")], output

    # One `lab check` for every lab (the other five are not done: it exits 1), read for the three played here.
    checked = fresh_sandbox.lab("check", "--json", "--phase", "configure", check=False)
    reports = {report["lab_id"]: report for report in json.loads(checked.stdout)["reports"]}
    for lab_id in LABS:
        report = reports[lab_id]
        failing = {check["check_id"]: check["message"] for step in report["steps"] for check in step["checks"]
                   if check["status"] != "PASS"}
        # (the lab's score also counts its drill's recovery checks, which this run does not play: every
        # step of the configure phase passing is what the JavaScript SDK's calls achieved)
        assert report["steps"] and not failing, (lab_id, failing)

    # The point-in-time restore holds exactly the orders placed up to its restore time.
    restore_time = datetime.fromisoformat(result["summary"]["restoreTime"].replace("Z", "+00:00"))
    cutoff = restore_time.strftime("%Y-%m-%dT%H:%M:%SZ")

    def order_ids(instance: str, where: str = "") -> list:
        answer = fresh_sandbox.lab("sql", instance, f"SELECT order_id FROM orders {where} ORDER BY order_id",
                                   "--json")
        return [row[0] for row in json.loads(answer.stdout)["rows"]]

    restored = order_ids(result["summary"]["restoredInstance"])
    assert len(restored) >= 48
    assert restored == order_ids("securecart-orders-db", f"WHERE created_at <= '{cutoff}'")


def test_setup_js_is_a_no_op_once_installed():
    install_the_sdk()
    again = subprocess.run([str(ROOT / "scripts" / "setup-js")], capture_output=True, text=True, timeout=60,
                           check=True)
    assert again.stderr == "" and again.stdout == ""  # nothing to install, nothing said
    lock = json.loads((JS_DIR / "package-lock.json").read_text())
    wanted = json.loads((JS_DIR / "package.json").read_text())["dependencies"]
    for name, version in wanted.items():
        installed = json.loads((JS_DIR / "node_modules" / name / "package.json").read_text())["version"]
        assert installed == version == lock["packages"][f"node_modules/{name}"]["version"], name
    assert os.access(ROOT / "scripts" / "setup-js", os.X_OK)
