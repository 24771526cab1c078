"""`lab up/down/status/env/reset/doctor` as a user runs them, against a real sandbox on loopback."""

from __future__ import annotations

import json
import socket

import pytest

from tests.conftest import free_port, run_lab


def test_up_status_down(fresh_sandbox):
    out = fresh_sandbox.up().stdout
    assert f"ready at http://127.0.0.1:{fresh_sandbox.port}" in out
    status = fresh_sandbox.status()
    assert status["backend"] == "embedded"
    assert status["regions"] == ["us-east-1", "us-west-2"]
    assert status["state_dir"] == str(fresh_sandbox.state_dir)
    assert status["uptime_seconds"] >= 0
    east, west = status["resources"]["us-east-1"], status["resources"]["us-west-2"]
    assert east["s3_buckets"] == 3 and west["s3_buckets"] == 1
    assert east["dynamodb_tables"] == 1 and east["rds_instances"] == 1
    assert east["ec2_instances"] == 1 and east["ebs_volumes"] >= 1
    assert status["resources"]["orders"]["rds_rows"] >= 48
    assert east["dynamodb_items"] >= 48
    human = fresh_sandbox.lab("status").stdout
    assert "us-west-2" in human and "s3 buckets" in human

    again = fresh_sandbox.up().stdout
    assert "already running" in again and str(fresh_sandbox.pid()) in again

    fresh_sandbox.lab("down")
    assert not (fresh_sandbox.state_dir / "sandbox.pid").exists()
    gone = fresh_sandbox.lab("status", check=False)
    assert gone.returncode == 2 and "lab up" in gone.stderr


def test_busy_port_is_named(tmp_path, lab_env):
    port = free_port()
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", port))
        holder.listen()
        result = run_lab(["up", "--port", str(port), "--state-dir", str(tmp_path / "s")], lab_env, check=False)
    assert result.returncode == 2
    assert f"port {port}" in result.stderr and "--port" in result.stderr


def test_second_sandbox_on_taken_port_is_told_which(sandbox, tmp_path, lab_env):
    result = run_lab(["up", "--port", str(sandbox.port), "--state-dir", str(tmp_path / "other")], lab_env, check=False)
    assert result.returncode == 2
    assert "another SecureCart sandbox" in result.stderr and str(sandbox.state_dir) in result.stderr


@pytest.mark.parametrize("shell, expected", [
    ("bash", "export AWS_ENDPOINT_URL='http://127.0.0.1:{port}'"),
    ("zsh", "export AWS_ACCESS_KEY_ID='test'"),
    ("fish", "set -gx AWS_ENDPOINT_URL 'http://127.0.0.1:{port}';"),
    ("powershell", '$Env:AWS_SECRET_ACCESS_KEY = "test"'),
])
def test_env_shells(sandbox, shell, expected):
    out = sandbox.lab("env", "--shell", shell).stdout
    assert expected.format(port=sandbox.port) in out
    assert "AWS_DEFAULT_REGION" in out


def test_reset_brings_the_world_back(fresh_sandbox):
    fresh_sandbox.up()
    s3 = fresh_sandbox.client("s3")
    s3.create_bucket(Bucket="learner-made-this")
    s3.delete_object(Bucket="securecart-logs", Key="app/securecart-backend.log")
    fresh_sandbox.client("dynamodb").delete_table(TableName="securecart-order-history")
    refused = fresh_sandbox.lab("reset", input="n\n")
    assert "Nothing was changed" in refused.stdout
    fresh_sandbox.lab("reset", "--yes")
    names = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert "learner-made-this" not in names and "securecart-invoices-use1" in names
    assert s3.get_object(Bucket="securecart-logs", Key="app/securecart-backend.log")["Body"].read()
    assert fresh_sandbox.client("dynamodb").scan(TableName="securecart-order-history", Select="COUNT")["Count"] >= 48


def test_doctor_live_and_static(sandbox, lab_env):
    live = json.loads(sandbox.lab("doctor", "--json").stdout)
    assert live["source"].startswith("live probe")
    assert all(info["runnable"] for info in live["labs"].values()), live["labs"]
    static = json.loads(run_lab(["doctor", "--backend", "localstack", "--json"], lab_env).stdout)
    assert static["labs"]["03-rds-snapshot-restore"]["runnable"] is False
    assert "rds" in static["labs"]["03-rds-snapshot-restore"]["missing"]
    assert static["labs"]["02-s3-crr"]["runnable"] is True
    assert "LOCALSTACK_AUTH_TOKEN" in static["prerequisites"] or "Docker" in static["prerequisites"]
