"""Backup Audit Manager report plans through boto3 and the aws CLI against a running sandbox: the report plan API
with AWS's shapes (AWS Backup API Reference: CreateReportPlan ... ListReportJobs), report jobs CREATED, RUNNING,
COMPLETED (or FAILED with a message) on the sim clock, daily runs, and the CSV/JSON reports of the last 24 hours'
jobs in the delivery channel's bucket (`[prefix/]Backup/<region>/<yyyy>/<mm>/<dd>/<plan>/`, API Reference:
ReportDeliveryChannel)."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lab.admin_client import AdminClient
from tests.conftest import SandboxHandle, backup_role, quiet_sandbox
from tests.integration._data_plane import BIN

EAST, ACCOUNT = "us-east-1", "000000000000"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, lab_env: dict[str, str]) -> Iterator[SandboxHandle]:
    """A sandbox of this module's own (the clock moves by days), the workload off so days pass fast."""
    with quiet_sandbox(tmp_path_factory.mktemp("reports") / "state", lab_env) as handle:
        yield handle


@pytest.fixture(scope="module")
def role(lab: SandboxHandle) -> str:
    return backup_role(lab, "report-backup-role")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def advance(lab: SandboxHandle, duration: str) -> None:
    AdminClient(lab.endpoint).post("clock", {"action": "advance", "duration": duration})


def error_code(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]


def aws(lab: SandboxHandle, *args: str) -> Any:
    env = lab.tool_env(EAST)
    result = subprocess.run([str(BIN / "aws"), "--endpoint-url", env["AWS_ENDPOINT_URL"], "--region", EAST,
                             "--output", "json", *args], env=env, capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else None


def backed_up_bucket(lab: SandboxHandle, role: str) -> tuple[str, str]:
    """A completed backup job of a versioned bucket: (its job id, the vault)."""
    s3, backup = lab.client("s3"), lab.client("backup")
    bucket, vault = unique("reported-src"), unique("reported")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="a.txt", Body=b"alpha")
    backup.create_backup_vault(BackupVaultName=vault)
    job = backup.start_backup_job(BackupVaultName=vault, ResourceArn=f"arn:aws:s3:::{bucket}", IamRoleArn=role)
    advance(lab, "30m")
    assert backup.describe_backup_job(BackupJobId=job["BackupJobId"])["State"] == "COMPLETED"
    return job["BackupJobId"], vault


def advance_to_hour(lab: SandboxHandle, hour: int) -> None:
    """Move sim time on to the next `hour`:00 UTC."""
    now = float(AdminClient(lab.endpoint).get("clock")["epoch"])
    day = now - now % 86400
    target = day + hour * 3600 if now < day + hour * 3600 else day + 86400 + hour * 3600
    advance(lab, f"{int(target - now) + 1}s")


def test_a_backup_job_report_lands_in_s3_as_csv_and_json_and_runs_daily(lab, role):
    backup, s3 = lab.client("backup"), lab.client("s3")
    # (the sandbox's clock starts at the wall time: begun between 02:20 and 03:00 UTC, the daily 03:00 report ran
    # while the on-demand one was awaited, and the plan's last execution was the daily one)
    advance_to_hour(lab, 4)
    job_id, _ = backed_up_bucket(lab, role)
    reports_bucket, name = unique("backup-reports"), f"daily_jobs_{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=reports_bucket)

    assert error_code(lambda: backup.create_report_plan(
        ReportPlanName=name, ReportSetting={"ReportTemplate": "EVERYTHING_REPORT"},
        ReportDeliveryChannel={"S3BucketName": reports_bucket}))[0] == "InvalidParameterValueException"
    assert error_code(lambda: backup.create_report_plan(
        ReportPlanName=name, ReportSetting={"ReportTemplate": "CONTROL_COMPLIANCE_REPORT"},
        ReportDeliveryChannel={"S3BucketName": reports_bucket}))[0] == "InvalidParameterValueException"
    assert error_code(lambda: backup.create_report_plan(
        ReportPlanName=name, ReportSetting={"ReportTemplate": "BACKUP_JOB_REPORT"},
        ReportDeliveryChannel={"S3BucketName": reports_bucket, "Formats": ["PDF"]}))[0] == \
        "InvalidParameterValueException"
    created = backup.create_report_plan(
        ReportPlanName=name, ReportPlanDescription="jobs of the day",
        ReportSetting={"ReportTemplate": "BACKUP_JOB_REPORT"},
        ReportDeliveryChannel={"S3BucketName": reports_bucket, "S3KeyPrefix": "audit", "Formats": ["CSV", "JSON"]},
        ReportPlanTags={"team": "dr"})
    assert re.fullmatch(rf"arn:aws:backup:{EAST}:{ACCOUNT}:report-plan:{name}-[0-9a-f-]{{36}}",
                        created["ReportPlanArn"])
    assert error_code(lambda: backup.create_report_plan(
        ReportPlanName=name, ReportSetting={"ReportTemplate": "BACKUP_JOB_REPORT"},
        ReportDeliveryChannel={"S3BucketName": reports_bucket}))[0] == "AlreadyExistsException"
    plan = backup.describe_report_plan(ReportPlanName=name)["ReportPlan"]
    assert plan["ReportSetting"]["ReportTemplate"] == "BACKUP_JOB_REPORT" and plan["DeploymentStatus"] == "COMPLETED"
    assert plan["ReportDeliveryChannel"] == {"S3BucketName": reports_bucket, "S3KeyPrefix": "audit",
                                             "Formats": ["CSV", "JSON"]}
    assert backup.list_tags(ResourceArn=created["ReportPlanArn"])["Tags"] == {"team": "dr"}
    assert name in [p["ReportPlanName"] for p in backup.list_report_plans()["ReportPlans"]]

    # On demand: CREATED at the call, RUNNING once AWS Backup picks it up, COMPLETED with its report in S3.
    report_job = backup.start_report_job(ReportPlanName=name)["ReportJobId"]
    assert backup.describe_report_job(ReportJobId=report_job)["ReportJob"]["Status"] == "CREATED"
    advance(lab, "1m")
    running = backup.describe_report_job(ReportJobId=report_job)["ReportJob"]
    assert running["Status"] == "RUNNING" and "ReportDestination" not in running
    advance(lab, "10m")
    done = backup.describe_report_job(ReportJobId=report_job)["ReportJob"]
    assert done["Status"] == "COMPLETED" and done["ReportTemplate"] == "BACKUP_JOB_REPORT"
    assert done["ReportPlanArn"] == created["ReportPlanArn"] and done["CompletionTime"] > done["CreationTime"]
    keys = done["ReportDestination"]["S3Keys"]
    assert done["ReportDestination"]["S3BucketName"] == reports_bucket and len(keys) == 2
    layout = re.compile(rf"audit/Backup/{EAST}/\d{{4}}/\d{{2}}/\d{{2}}/{name}/BACKUP_JOB_REPORT_{report_job}_"
                        rf"{ACCOUNT}_{EAST}_\d{{8}}T\d{{6}}Z\.(csv|json)")
    assert all(layout.fullmatch(key) for key in keys), keys
    csv_key = next(key for key in keys if key.endswith(".csv"))
    rows = list(csv.DictReader(io.StringIO(s3.get_object(Bucket=reports_bucket, Key=csv_key)["Body"].read()
                                           .decode())))
    ours = [row for row in rows if row["Backup Job ID"] == job_id]
    assert len(ours) == 1 and ours[0]["Job Status"] == "COMPLETED" and ours[0]["Resource Type"] == "S3"
    json_key = next(key for key in keys if key.endswith(".json"))
    document = json.loads(s3.get_object(Bucket=reports_bucket, Key=json_key)["Body"].read())
    [item] = [item for item in document["reportItems"] if item["backupJobId"] == job_id]
    assert item["jobStatus"] == "COMPLETED" and item["accountId"] == ACCOUNT and item["resourceType"] == "S3"
    assert item["resourceName"] and item["resourceArn"].startswith("arn:aws:s3:::")
    assert item["reportTimePeriodEnd"] == ours[0]["Report Time Period End"] and "reportTimePeriodStart" in item
    plan = backup.describe_report_plan(ReportPlanName=name)["ReportPlan"]
    assert plan["LastSuccessfulExecutionTime"] == done["CompletionTime"]

    # Daily, at 03:00 UTC (AWS: between 1 and 5 AM), on the previous UTC day, midnight to midnight: the job is
    # in it when it finished that day.
    advance(lab, "24h")
    jobs = backup.list_report_jobs(ByReportPlanName=name)["ReportJobs"]
    assert len(jobs) == 2 and all(job["Status"] == "COMPLETED" for job in jobs)
    daily = next(job for job in jobs if job["ReportJobId"] != report_job)
    assert (daily["CreationTime"].hour, daily["CreationTime"].minute) == (3, 0)
    daily_csv = next(key for key in daily["ReportDestination"]["S3Keys"] if key.endswith(".csv"))
    body = s3.get_object(Bucket=reports_bucket, Key=daily_csv)["Body"].read().decode()
    assert body.startswith("Report Time Period Start,Report Time Period End,Account ID")
    day_before = (daily["CreationTime"] - timedelta(days=1)).date()
    period = next(csv.reader(io.StringIO(body.splitlines()[1]))) if body.count("\n") > 1 else None
    if period is not None:
        assert period[:2] == [f"{day_before}T00:00:00Z", f"{day_before + timedelta(days=1)}T00:00:00Z"]
    finished = backup.describe_backup_job(BackupJobId=job_id)["CompletionDate"].astimezone(UTC).date()
    assert (job_id in body) == (finished == day_before)
    assert backup.list_report_jobs(ByStatus="FAILED", ByReportPlanName=name)["ReportJobs"] == []

    # Changing and deleting the plan: its next runs follow, then stop.
    backup.update_report_plan(ReportPlanName=name, ReportDeliveryChannel={"S3BucketName": reports_bucket,
                                                                          "Formats": ["JSON"]})
    assert backup.describe_report_plan(ReportPlanName=name)["ReportPlan"]["ReportDeliveryChannel"]["Formats"] == \
        ["JSON"]
    backup.delete_report_plan(ReportPlanName=name)
    assert error_code(lambda: backup.describe_report_plan(ReportPlanName=name))[0] == "ResourceNotFoundException"
    advance(lab, "25h")
    assert len(backup.list_report_jobs(ByReportPlanName=name)["ReportJobs"]) == 2


def test_a_report_to_a_missing_bucket_fails_with_a_message(lab):
    backup = lab.client("backup")
    name, bucket = f"lost_{uuid.uuid4().hex[:8]}", unique("no-such-reports")
    backup.create_report_plan(ReportPlanName=name, ReportSetting={"ReportTemplate": "RESTORE_JOB_REPORT"},
                              ReportDeliveryChannel={"S3BucketName": bucket})
    job = backup.start_report_job(ReportPlanName=name)["ReportJobId"]
    advance(lab, "10m")
    failed = backup.describe_report_job(ReportJobId=job)["ReportJob"]
    assert failed["Status"] == "FAILED" and bucket in failed["StatusMessage"] and "does not exist" in \
        failed["StatusMessage"]
    assert [j["ReportJobId"] for j in backup.list_report_jobs(ByStatus="FAILED")["ReportJobs"]].count(job) == 1
    assert "LastSuccessfulExecutionTime" not in backup.describe_report_plan(ReportPlanName=name)["ReportPlan"]
    assert error_code(lambda: backup.start_report_job(ReportPlanName="no_such_plan"))[0] == \
        "ResourceNotFoundException"
    assert error_code(lambda: backup.describe_report_job(ReportJobId="0" * 32))[0] == "ResourceNotFoundException"
    backup.delete_report_plan(ReportPlanName=name)


def test_the_aws_cli_runs_a_copy_job_report_and_a_control_compliance_report(lab, role):
    s3, backup = lab.client("s3"), lab.client("backup")
    backed_up_bucket(lab, role)
    bucket = unique("cli-reports")
    s3.create_bucket(Bucket=bucket)
    name = f"copies_{uuid.uuid4().hex[:8]}"
    created = aws(lab, "backup", "create-report-plan", "--report-plan-name", name,
                  "--report-setting", "ReportTemplate=COPY_JOB_REPORT",
                  "--report-delivery-channel", f"S3BucketName={bucket},Formats=CSV")
    assert created["ReportPlanName"] == name
    listed = aws(lab, "backup", "list-report-plans")["ReportPlans"]
    assert [p["ReportDeliveryChannel"]["Formats"] for p in listed if p["ReportPlanName"] == name] == [["CSV"]]
    job = aws(lab, "backup", "start-report-job", "--report-plan-name", name)["ReportJobId"]
    advance(lab, "10m")
    described = aws(lab, "backup", "describe-report-job", "--report-job-id", job)["ReportJob"]
    assert described["Status"] == "COMPLETED" and described["ReportTemplate"] == "COPY_JOB_REPORT"
    [key] = described["ReportDestination"]["S3Keys"]
    header = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode().splitlines()[0]
    assert "Copy Job ID" in header and "Destination Backup Vault ARN" in header

    framework = f"audit_{uuid.uuid4().hex[:8]}"
    arn = backup.create_framework(FrameworkName=framework, FrameworkControls=[
        {"ControlName": "BACKUP_RECOVERY_POINT_ENCRYPTED"}])["FrameworkArn"]
    compliance = f"controls_{uuid.uuid4().hex[:8]}"
    aws(lab, "backup", "create-report-plan", "--report-plan-name", compliance,
        "--report-setting", json.dumps({"ReportTemplate": "CONTROL_COMPLIANCE_REPORT", "FrameworkArns": [arn]}),
        "--report-delivery-channel", json.dumps({"S3BucketName": bucket, "Formats": ["JSON"]}))
    setting = backup.describe_report_plan(ReportPlanName=compliance)["ReportPlan"]["ReportSetting"]
    assert setting["FrameworkArns"] == [arn] and setting["NumberOfFrameworks"] == 1
    job = aws(lab, "backup", "start-report-job", "--report-plan-name", compliance)["ReportJobId"]
    advance(lab, "10m")
    described = aws(lab, "backup", "describe-report-job", "--report-job-id", job)["ReportJob"]
    assert described["Status"] == "COMPLETED", described
    [key] = described["ReportDestination"]["S3Keys"]
    items = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())["reportItems"]
    assert [(item["frameworkName"], item["controlName"]) for item in items] == \
        [(framework, "BACKUP_RECOVERY_POINT_ENCRYPTED")]
    assert items[0]["controlComplianceStatus"] in ("COMPLIANT", "NON_COMPLIANT")
