"""The learner's own tools against a running sandbox, in both regions: boto3, the aws CLI, awslocal."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    """The lab installs the learner's tools beside itself (./scripts/setup, from the lock)."""
    found = BIN / name
    assert found.exists(), f"{name} is not installed in {BIN}; ./scripts/setup installs it"
    return str(found)


@pytest.mark.parametrize("region", ["us-east-1", "us-west-2"])
def test_plain_boto3_with_lab_env(sandbox, region, monkeypatch):
    for name, value in sandbox.tool_env(region).items():
        if name.startswith("AWS_"):
            monkeypatch.setenv(name, value)
    session = boto3.Session()  # exactly what a learner's script does after eval "$(lab env)"
    s3 = session.client("s3")
    bucket = f"boto3-{region}"
    kwargs = {"CreateBucketConfiguration": {"LocationConstraint": region}} if region != "us-east-1" else {}
    s3.create_bucket(Bucket=bucket, **kwargs)
    s3.put_object(Bucket=bucket, Key="hello.txt", Body=b"hi")
    assert s3.get_object(Bucket=bucket, Key="hello.txt")["Body"].read() == b"hi"
    assert s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] in (region, None)
    assert session.client("sts").get_caller_identity()["Account"] == "000000000000"


def in_lab_shell(sandbox, command: str, region: str = "us-east-1") -> subprocess.CompletedProcess[str]:
    """Run `command` in bash after `eval "$(lab env)"`, exactly as a learner's terminal would."""
    env = dict(sandbox.env)
    # No aws on PATH, as on a new learner's machine: the functions `lab env` defines bring the lab's own.
    env["PATH"] = "/usr/bin:/bin"
    script = (f'eval "$("{sys.executable}" -m lab env --shell bash --region {region} '
              f'--state-dir "{sandbox.state_dir}")"\n{command}')
    return subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=90, check=False)


@pytest.mark.parametrize("region", ["us-east-1", "us-west-2"])
def test_aws_cli(sandbox, region, tmp_path):
    tool("aws")

    def run(*args: str) -> str:
        result = in_lab_shell(sandbox, "aws " + " ".join(f"'{a}'" for a in args), region)
        assert result.returncode == 0, result.stderr
        return result.stdout

    bucket = f"cli-{region}"
    run("s3", "mb", f"s3://{bucket}")
    source = tmp_path / "invoice.json"
    source.write_text('{"total": 12}')
    run("s3", "cp", str(source), f"s3://{bucket}/invoice.json")
    assert "invoice.json" in run("s3", "ls", f"s3://{bucket}/")
    location = json.loads(run("s3api", "get-bucket-location", "--bucket", bucket))
    assert location.get("LocationConstraint") in (region, None)
    tables = json.loads(run("dynamodb", "list-tables"))["TableNames"]
    assert ("securecart-order-history" in tables) == (region == "us-east-1")
    dbs = {d["DBInstanceIdentifier"] for d in json.loads(run("rds", "describe-db-instances"))["DBInstances"]}
    assert ("securecart-orders-db" in dbs) == (region == "us-east-1")  # other tests add their own


def test_a_learners_script_reaches_the_sandbox_for_rds_and_sqs_too(sandbox, tmp_path):
    """A script run by a child shell has no shell functions: the aws on PATH after `lab env` must still pass the
    endpoint, or aws CLI v1 sends RDS in us-east-1 and SQS to AWS's own endpoints."""
    tool("aws")
    script = tmp_path / "mine.sh"
    script.write_text("set -e\naws rds describe-db-instances --region us-east-1 --debug\n"
                      "aws sqs list-queues --region us-east-1 --debug\n")
    result = in_lab_shell(sandbox, f"bash {script}")
    assert result.returncode == 0, result.stderr[-2000:]
    sent_to = re.findall(r"Sending http request: <AWSPreparedRequest [^>]*?url=([^ ,]+)", result.stderr)
    assert len(sent_to) == 2 and all(url.startswith(f"{sandbox.endpoint}/") for url in sent_to), sent_to
    assert "securecart-orders-db" in result.stdout


def test_the_lab_s_aws_prints_times_as_aws_cli_v2_does(sandbox, tmp_path):
    """aws CLI v1 printed CreationDate as epoch seconds, and lab 01's recovery script, comparing times as text,
    picked a backup made after the incident: the lab's aws prints ISO 8601, as v2 and AWS's docs do."""
    tool("aws")
    result = in_lab_shell(sandbox, "aws dynamodb describe-table --region us-east-1 --table-name "
                                   "securecart-order-history --query Table.CreationDateTime --output text")
    assert result.returncode == 0, result.stderr[-2000:]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?\+00:00", result.stdout.strip()), result.stdout


def test_aws_cli_unknown_operation_is_clear_and_not_retried(sandbox):
    tool("aws")
    result = in_lab_shell(sandbox, "aws s3api get-bucket-analytics-configuration --bucket securecart-logs "
                                   "--id x --debug")
    assert result.returncode != 0
    assert "NotImplemented" in result.stderr and "GetBucketAnalyticsConfiguration" in result.stderr
    assert result.stderr.count("Sending http request") == 1 or result.stderr.count("Making request for") == 1


@pytest.mark.parametrize("region", ["us-east-1", "us-west-2"])
def test_awslocal(sandbox, region):
    env = sandbox.tool_env(region)
    env.pop("AWS_ENDPOINT_URL", None)  # awslocal finds the sandbox through LOCALSTACK_HOST alone
    result = subprocess.run([tool("awslocal"), "s3api", "list-buckets"], env=env, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    names = {b["Name"] for b in json.loads(result.stdout)["Buckets"]}
    assert "securecart-invoices-use1" in names and "securecart-invoices-usw2" in names
    ec2 = subprocess.run([tool("awslocal"), "ec2", "describe-volumes", "--region", region], env=env,
                         capture_output=True, text=True, timeout=60, check=False)
    assert ec2.returncode == 0, ec2.stderr
    volumes = json.loads(ec2.stdout)["Volumes"]
    assert any(v["AvailabilityZone"].startswith(region) for v in volumes) or region == "us-west-2"


def test_awslocal_after_lab_env_with_nothing_on_path(sandbox):
    """`eval "$(lab env)"` alone gives a new learner awslocal, as the README says."""
    result = in_lab_shell(sandbox, "awslocal s3api list-buckets --query 'Buckets[].Name'")
    assert result.returncode == 0, result.stderr
    assert "securecart-invoices-use1" in json.loads(result.stdout)
