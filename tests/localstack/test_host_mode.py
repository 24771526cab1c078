"""The lab on LocalStack in host mode: `lab up --backend localstack` without Docker, the SecureCart world on
it, lab 02's reference solution and checks, `lab doctor` live, and what the lab reports when LocalStack dies."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from lab.backends import localstack_host
from tests.conftest import free_port, wait_for
from tests.localstack.conftest import LocalStackSandbox, listening_addresses
from tests.unit.test_localstack_host import RUNNABLE_ON_LOCALSTACK

REPLICATED_AFTER = "10m"


def test_up_runs_localstack_in_host_mode_on_loopback(ls_sandbox: LocalStackSandbox, installation):
    assert "LocalStack runs in host mode, without Docker (LOCALSTACK_AUTH_TOKEN is not set)" in \
        ls_sandbox.up_result.stdout
    status = ls_sandbox.status()
    assert status["backend"] == "localstack (host mode)"
    detail = status["backend_detail"]
    assert detail["mode"] == "host" and detail["venv"] == str(installation.venv)
    assert detail["endpoint"].startswith("http://127.0.0.1:") and detail["problem"] is None
    pid = detail["pid"]
    # LocalStack and everything it started (DynamoDB Local's JVM) listen on loopback only.
    processes = [pid, *localstack_host._descendants(pid)]
    addresses = [address for each in processes for address in listening_addresses(each)]
    assert f"127.0.0.1:{detail['endpoint'].rsplit(':', 1)[1]}" in addresses
    assert addresses and all(address.startswith("127.") for address in addresses), addresses
    # Its files live in the state dir; its log is there for the user.
    files = ls_sandbox.state_dir / "localstack" / "fs"
    assert files.is_dir()
    assert "Ready." in ls_sandbox.localstack_log()
    assert detail["log"] == str(ls_sandbox.state_dir / "localstack.log")


def test_the_world_is_seeded_into_localstack_and_what_it_lacks_is_said(ls_sandbox: LocalStackSandbox,
                                                                       installation):
    s3 = ls_sandbox.localstack_client("s3")  # LocalStack itself, not the lab
    buckets = {bucket["Name"] for bucket in s3.list_buckets()["Buckets"]}
    assert {"securecart-invoices-use1", "securecart-product-images", "securecart-logs",
            "securecart-invoices-usw2"} <= buckets
    invoices = s3.list_objects_v2(Bucket="securecart-invoices-use1", Prefix="invoices/")["KeyCount"]
    assert invoices >= 48
    ec2 = ls_sandbox.localstack_client("ec2")
    tagged = ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": ["securecart-backend"]}])
    assert [i for r in tagged["Reservations"] for i in r["Instances"]]
    status = ls_sandbox.status()
    warnings = "\n".join(status["warnings"])
    assert "no RDS instance securecart-orders-db" in warnings and "license plan" in warnings
    assert "keeps no resources across lab down" in warnings
    east = status["resources"]["us-east-1"]
    assert "rds_instances" not in east  # LocalStack does not offer RDS: not counted, said above
    if installation.dynamodb_ready:
        table = ls_sandbox.localstack_client("dynamodb").describe_table(TableName="securecart-order-history")
        assert table["Table"]["ItemCount"] >= 48 or east["dynamodb_items"] >= 48
    else:
        assert "DynamoDB is unavailable" in warnings


def test_lab02_reference_solution_passes_its_checks(ls_sandbox: LocalStackSandbox):
    solved = ls_sandbox.lab("solve", "02-s3-crr", timeout=300)
    assert "copied" in solved.stdout and "done." in solved.stdout
    again = ls_sandbox.lab("solve", "02-s3-crr", "--tool", "cli", timeout=300)  # the aws CLI script, rerun
    assert "replication rule invoices-to-usw2" in again.stdout
    assert _configure_checks_failing(ls_sandbox, "02-s3-crr") == {}
    # The rule is kept by LocalStack, and new invoices reach us-west-2 there: replication really runs.
    assert ls_sandbox.localstack_client("s3").get_bucket_versioning(
        Bucket="securecart-invoices-use1")["Status"] == "Enabled"
    before = {o["Key"] for o in _objects(ls_sandbox.localstack_client("s3", "us-west-2"), "securecart-invoices-usw2")}
    ls_sandbox.lab("clock", "advance", REPLICATED_AFTER)
    after = {o["Key"] for o in _objects(ls_sandbox.localstack_client("s3", "us-west-2"), "securecart-invoices-usw2")}
    new = sorted(after - before)
    assert new, "no invoice placed after the rule reached the DR bucket in LocalStack"
    head = ls_sandbox.client("s3", "us-west-2").head_object(Bucket="securecart-invoices-usw2", Key=new[-1])
    assert head["ReplicationStatus"] == "REPLICA"


@pytest.mark.parametrize("lab_id", ["04-dynamodb-pitr-global", "05-ebs-snapshots", "08-backup-monitoring"])
def test_labs_without_rds_pass_with_their_reference_solutions(ls_sandbox: LocalStackSandbox, installation,
                                                              lab_id: str):
    # What LocalStack lacks here (PITR, AWS Backup, DLM, CloudTrail) the lab's engines serve on top of it.
    if lab_id.startswith("04") and not installation.dynamodb_ready:
        pytest.skip(f"DynamoDB is unavailable on this machine: {installation.dynamodb}")
    ls_sandbox.lab("solve", lab_id, timeout=300)
    ls_sandbox.lab("clock", "advance", "1h")  # backup jobs and snapshot copies finish in sim time
    assert _configure_checks_failing(ls_sandbox, lab_id) == {}


def _configure_checks_failing(ls_sandbox: LocalStackSandbox, lab_id: str) -> dict[str, str]:
    """`lab check LAB --phase configure`: the checks of the lab's steps that do not pass, with their messages.
    (The lab's score also counts its drill's recovery checks, which these tests do not play: its exit code is 1
    until then, and 2 only when a check could not judge.)"""
    checked = ls_sandbox.lab("check", lab_id, "--json", "--phase", "configure", check=False)
    assert checked.returncode in (0, 1), checked.stdout + checked.stderr
    report = json.loads(checked.stdout)
    assert report["steps"], report
    return {check["check_id"]: check["message"] for step in report["steps"] for check in step["checks"]
            if check["status"] != "PASS"}


def _objects(s3, bucket: str) -> list[dict]:
    return [o for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket) for o in page.get("Contents", [])]


def test_doctor_probes_the_running_localstack(ls_sandbox: LocalStackSandbox, installation):
    report = json.loads(ls_sandbox.lab("doctor", "--backend", "localstack", "--json").stdout)
    assert report["source"].startswith("live probe of") and report["backend"] == "localstack"
    services = report["services"]
    assert services["rds"]["status"] == "unsupported" and "license plan" in services["rds"]["detail"]
    for service in ("s3", "iam", "ec2", "kms", "route53"):
        assert services[service]["status"] == "supported", (service, services[service])
        assert services[service]["backend"]["status"] == "supported"
    # AWS Backup and CloudTrail: LocalStack's free build lacks them, the lab's own engines answer.
    for service in ("backup", "cloudtrail"):
        assert services[service]["status"] == "supported"
        assert services[service]["backend"]["status"] == "unsupported"
        assert "license plan" in services[service]["backend"]["detail"]
        assert "the lab's own" in services[service]["detail"]
    assert services["dynamodb"]["status"] == ("supported" if installation.dynamodb_ready else "unsupported")
    labs = report["labs"]
    assert labs["02-s3-crr"]["runnable"] is True
    if installation.dynamodb_ready:
        assert {lab for lab, info in labs.items() if info["runnable"]} == RUNNABLE_ON_LOCALSTACK
    for lab_id in ("03-rds-snapshot-restore", "06-rds-multi-az", "01-aws-backup"):
        assert labs[lab_id]["runnable"] is False and "rds" in labs[lab_id]["missing"]


def test_localstack_reached_nothing_off_loopback(ls_sandbox: LocalStackSandbox):
    # Every connection or name lookup off loopback would have been refused by the lab's guards in LocalStack's
    # process, and the refusal logged; a service outside the enabled ones answers at once instead of
    # downloading its packages.
    started = time.monotonic()
    with pytest.raises(ClientError) as refused:
        ls_sandbox.client("opensearch").list_domain_names()
    assert time.monotonic() - started < 30
    assert "not enabled" in str(refused.value) or refused.value.response["ResponseMetadata"]["HTTPStatusCode"] >= 500
    log = ls_sandbox.localstack_log()
    assert "the lab refused" not in log
    assert "Failed to download" not in log


def test_a_crash_of_localstack_is_reported(ls_sandbox: LocalStackSandbox):
    pid = ls_sandbox.detail()["pid"]
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: ls_sandbox.detail()["problem"], timeout=30)
    problem = ls_sandbox.detail()["problem"]
    assert f"pid {pid}" in problem and "exited" in problem and "localstack.log" in problem
    with pytest.raises(ClientError) as failed:
        ls_sandbox.client("s3").list_buckets()
    error = failed.value.response["Error"]
    assert error["Code"] == "ServiceUnavailable" and "exited" in error["Message"]
    assert any("exited" in warning for warning in ls_sandbox.status()["warnings"])
    sandbox_log = (ls_sandbox.state_dir / "sandbox.log").read_text()
    assert "exited unexpectedly" in sandbox_log


def test_reset_down_and_up_each_start_a_fresh_localstack(tmp_path: Path, localstack_env, installation):
    handle = LocalStackSandbox(tmp_path / "state", free_port(), localstack_env)
    try:
        handle.lab("up", "--backend", "localstack", "--port", str(handle.port), "--no-world", timeout=300)
        first = handle.detail()
        handle.client("s3").create_bucket(Bucket="made-before-reset")
        # LocalStack's free build has no reset endpoint: lab reset starts a new, empty LocalStack.
        handle.lab("reset", "--yes", timeout=300)
        second = handle.detail()
        assert second["pid"] != first["pid"] and second["problem"] is None
        assert not _alive(first["pid"])
        assert "made-before-reset" not in _buckets(handle)
        handle.client("s3").create_bucket(Bucket="made-before-down")
        processes = [second["pid"], *localstack_host._descendants(second["pid"])]
        down = handle.lab("down")
        assert "LocalStack keeps no resources" in down.stdout
        wait_for(lambda: not any(_alive(each) for each in processes), timeout=15)
        assert not (handle.state_dir / localstack_host.PID_FILE).exists()
        handle.lab("up", "--backend", "localstack", "--port", str(handle.port), "--no-world", timeout=300)
        assert handle.detail()["pid"] != second["pid"]
        assert "made-before-down" not in _buckets(handle)
    finally:
        handle.down()


def test_a_killed_sandbox_leaves_no_localstack_behind(tmp_path: Path, localstack_env, installation):
    handle = LocalStackSandbox(tmp_path / "state", free_port(), localstack_env)
    try:
        handle.lab("up", "--backend", "localstack", "--port", str(handle.port), "--no-world", timeout=300)
        localstack = handle.detail()["pid"]
        processes = [localstack, *localstack_host._descendants(localstack)]
        os.kill(handle.pid(), signal.SIGKILL)
        wait_for(lambda: not any(_alive(each) for each in processes), timeout=30)
        handle.lab("up", "--backend", "localstack", "--port", str(handle.port), "--no-world", timeout=300)
        assert handle.detail()["problem"] is None
    finally:
        handle.down()


def _buckets(handle: LocalStackSandbox) -> set[str]:
    return {bucket["Name"] for bucket in handle.client("s3").list_buckets()["Buckets"]}


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def test_installed_versions_are_the_lock(installation):
    pins = {}
    for line in localstack_host.LOCK_FILE.read_text().splitlines():
        if line and line[0].isalnum() and "==" in line:
            name, version = line.split(" ")[0].split("==")
            pins[_normalized(name)] = version
    listed = subprocess.run([str(installation.interpreter), "-c",
                             "import importlib.metadata as m, json; print(json.dumps("
                             "[(d.metadata['Name'], d.version) for d in m.distributions()]))"],
                            capture_output=True, text=True, check=True)
    installed = {_normalized(name): version for name, version in json.loads(listed.stdout)}
    different = {name: (version, installed.get(name)) for name, version in pins.items()
                 if installed.get(name) != version}
    assert not different, f"installed versions differ from requirements/localstack.lock: {different}"
    assert installed["localstack-core"] == "2026.3.0"


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()  # PEP 503
