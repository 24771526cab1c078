"""Backup Audit Manager report plans and report jobs, on the sim clock.

A report plan names a report template and an S3 delivery channel (AWS Backup API Reference: ReportPlan,
ReportDeliveryChannel, ReportSetting). Each run is a report job, CREATED, then RUNNING for `backup.report.run`,
then COMPLETED with its report in S3, or FAILED with a message when the bucket cannot take it (API Reference:
ReportJob). A plan runs daily "between the hours of 1 and 5 AM UTC" with a report "for the previous 24 hours"
(AWS Backup Developer Guide: Choosing your report template), whose sample covers the previous UTC day, midnight
to midnight; StartReportJob runs it on demand over the 24 hours before the report is made. A jobs report holds
"jobs finished in the last 24 hours and all active jobs"; a compliance report the controls of its frameworks,
evaluated as DescribeFramework does (Creating report plans using the AWS Backup API). Reports go to
`s3://bucket/[prefix/]Backup/<region>/<year>/<month>/<day>/<report plan name>/`, one object per format (CSV with
the template's columns, JSON with `reportItems` in the guide's sample's camelCase keys, each item carrying its
report's period), as ReportDeliveryChannel's S3KeyPrefix documents the path.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

from botocore.exceptions import ClientError

from lab import config
from lab.gateway import audit
from lab.services.backup.model import DAY, JOB_HISTORY_SECONDS, BackupState
from lab.sim.clock import iso, utc_midnight

JOB_TEMPLATES = ("BACKUP_JOB_REPORT", "COPY_JOB_REPORT", "RESTORE_JOB_REPORT")
COMPLIANCE_TEMPLATES = ("CONTROL_COMPLIANCE_REPORT", "RESOURCE_COMPLIANCE_REPORT")
TEMPLATES = JOB_TEMPLATES + COMPLIANCE_TEMPLATES
FORMATS = ("CSV", "JSON")
REPORT_PERIOD = DAY  # a jobs report covers the jobs that finished in the last 24 hours, and the active ones
#: when a plan's daily report is made: AWS says between 1 and 5 AM UTC, randomised; the middle of that window
DAILY_REPORT_HOUR = 3
_ACTIVE = frozenset({"CREATED", "PENDING", "RUNNING", "ABORTING"})
_PERIOD = ("Report Time Period Start", "Report Time Period End")
_JOB = ("Account ID", "Region")
_DATES = ("Creation Date", "Completion Date")
#: each template's columns, in order (a report with no rows still has its header)
COLUMNS: dict[str, tuple[str, ...]] = {
    "BACKUP_JOB_REPORT": (*_PERIOD, *_JOB, "Backup Job ID", "Job Status", "Status Message", "Resource Type",
                          "Resource ARN", "Resource Name", "Backup Plan ARN", "Backup Rule ID", *_DATES,
                          "Recovery Point ARN", "Backup Size In Bytes", "Backup Vault Name", "IAM Role ARN"),
    "COPY_JOB_REPORT": (*_PERIOD, *_JOB, "Copy Job ID", "Job Status", "Status Message", "Resource Type",
                        "Resource ARN", "Resource Name", "Source Recovery Point ARN", "Destination Backup Vault ARN",
                        "Destination Recovery Point ARN", *_DATES, "Backup Size In Bytes", "IAM Role ARN"),
    "RESTORE_JOB_REPORT": (*_PERIOD, *_JOB, "Restore Job ID", "Job Status", "Status Message", "Resource Type",
                           "Recovery Point ARN", "Source Resource ARN", "Created Resource ARN", *_DATES,
                           "Backup Size In Bytes", "IAM Role ARN"),
    "CONTROL_COMPLIANCE_REPORT": (*_PERIOD, *_JOB, "Framework Name", "Framework ARN", "Control Name",
                                  "Control Compliance Status", "Evaluated Resources", "Non Compliant Resources"),
    "RESOURCE_COMPLIANCE_REPORT": (*_PERIOD, *_JOB, "Framework Name", "Control Name", "Resource Type",
                                   "Resource ARN", "Resource Compliance Status", "Reason"),
}


@dataclass
class ReportPlan:
    name: str
    region: str
    arn: str
    description: str | None
    setting: dict[str, Any]  # ReportSetting
    channel: dict[str, Any]  # ReportDeliveryChannel, Formats filled in
    creation_time: float
    idempotency_token: str | None = None
    last_attempted: float | None = None
    last_successful: float | None = None

    def view(self) -> dict[str, Any]:
        return {"ReportPlanArn": self.arn, "ReportPlanName": self.name, "ReportPlanDescription": self.description,
                "ReportSetting": self.setting, "ReportDeliveryChannel": self.channel, "DeploymentStatus": "COMPLETED",
                "CreationTime": self.creation_time, "LastAttemptedExecutionTime": self.last_attempted,
                "LastSuccessfulExecutionTime": self.last_successful}


@dataclass
class ReportJob:
    job_id: str
    region: str
    plan_name: str
    plan_arn: str
    template: str
    creation_time: float
    status: str = "CREATED"
    status_message: str | None = None
    completion_time: float | None = None
    bucket: str | None = None
    keys: list[str] = field(default_factory=list)
    # the period the report covers (a daily run's: the previous UTC day); None on demand: the 24 hours before it
    period_start: float | None = None
    period_end: float | None = None

    def view(self) -> dict[str, Any]:
        destination = {"S3BucketName": self.bucket, "S3Keys": self.keys} if self.status == "COMPLETED" else None
        return {"ReportJobId": self.job_id, "ReportPlanArn": self.plan_arn, "ReportTemplate": self.template,
                "CreationTime": self.creation_time, "CompletionTime": self.completion_time, "Status": self.status,
                "StatusMessage": self.status_message, "ReportDestination": destination}


@dataclass
class ReportBooks:
    """The report plans (by (region, name)) and report jobs (in creation order) of the world."""

    plans: dict[tuple[str, str], ReportPlan] = field(default_factory=dict)
    jobs: dict[str, ReportJob] = field(default_factory=dict)


def books(state: BackupState) -> ReportBooks:
    """The world's report books, added to a state saved before report plans existed."""
    found = getattr(state, "reports", None)
    if found is None:
        found = state.reports = ReportBooks()
    return found


class ReportJobs:
    """The backup engine's report runs (a mixin of lab.services.backup.engine.Backup)."""

    def start_report_job(self, plan: ReportPlan, period: tuple[float, float] | None = None) -> ReportJob:
        """A new report job of `plan`, CREATED now; it starts at once and completes after `backup.report.run`.
        It reports on `period` (start, end), else on the 24 hours before it completes."""
        state: BackupState = self.state
        now: float = self.now()
        job = ReportJob(state.new_uuid(self.seed).replace("-", ""), plan.region, plan.name,
                        plan.arn, plan.setting["ReportTemplate"], now)
        if period is not None:
            job.period_start, job.period_end = period
        reports = books(state)
        reports.jobs[job.job_id] = job
        plan.last_attempted = now
        state.schedule(now, "report-start", job.job_id)
        self.emit("ReportJobCreated", region=plan.region, resource=plan.arn, report_job=job.job_id)
        return job

    def run_report_plan(self, key: str, at: float) -> None:
        """The plan's daily run: a report job on the previous UTC day, and the next run a day on (none once the
        plan is deleted)."""
        region, name, created = key.split("|", 2)
        plan = books(self.state).plans.get((region, name))
        if plan is None or repr(plan.creation_time) != created:
            return  # deleted (or deleted and made again: the new plan has its own runs)
        midnight = utc_midnight(at)
        self.start_report_job(plan, (midnight - REPORT_PERIOD, midnight))
        self.state.schedule(next_daily_run(at), "report-daily", key)

    def start_report(self, job_id: str, at: float) -> None:
        job = books(self.state).jobs.get(job_id)
        if job is None or job.status != "CREATED":
            return
        job.status = "RUNNING"
        self.state.schedule(at + self.sandbox.durations.backup_report_run(),
                            "report-finish", job_id)

    def finish_report(self, job_id: str, at: float) -> None:
        reports = books(self.state)
        job = reports.jobs.get(job_id)
        if job is None or job.status != "RUNNING":
            return
        plan = reports.plans.get((job.region, job.plan_name))
        if plan is None or plan.arn != job.plan_arn:
            self._end_report(job, None, "FAILED", "The report plan was deleted before the report was delivered.", at)
            return
        channel = plan.channel
        bucket, prefix = channel["S3BucketName"], channel.get("S3KeyPrefix")
        job.bucket = bucket
        moment = datetime.fromtimestamp(at, tz=UTC)
        folder = f"{prefix.strip('/') + '/' if prefix else ''}Backup/{job.region}/{moment:%Y/%m/%d}/{plan.name}/"
        stem = f"{job.template}_{job.job_id}_{config.ACCOUNT_ID}_{job.region}_{moment:%Y%m%dT%H%M%SZ}"
        since, until = ((job.period_start, job.period_end) if job.period_start is not None and
                        job.period_end is not None else (at - REPORT_PERIOD, at))
        rows = self.report_rows(job.template, plan, since, until)
        s3 = self.sandbox.client("s3", job.region)
        keys: list[str] = []
        try:
            with audit.unrecorded():
                s3.head_bucket(Bucket=bucket)
                for fmt in channel.get("Formats") or ["CSV"]:
                    key = f"{folder}{stem}.{fmt.lower()}"
                    body, content_type = _render(fmt, COLUMNS[job.template], rows, since, until)
                    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)
                    keys.append(key)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            missing = code in ("404", "NoSuchBucket")
            message = (f"The S3 bucket {bucket} of report plan {plan.name} does not exist." if missing else
                       f"AWS Backup could not deliver the report to s3://{bucket}/{folder}: {code}.")
            self._end_report(job, plan, "FAILED", message, at)
            return
        job.keys = keys
        plan.last_successful = at
        self._end_report(job, plan, "COMPLETED", None, at)

    def _end_report(self, job: ReportJob, plan: ReportPlan | None, status: str, message: str | None,
                    at: float) -> None:
        job.status, job.status_message, job.completion_time = status, message, at
        name = "ReportJobCompleted" if status == "COMPLETED" else "ReportJobFailed"
        detail: dict[str, Any] = {"report_job": job.job_id, "keys": job.keys}
        if message:
            detail["message"] = message
        self.emit(name, region=job.region, resource=job.plan_arn, **detail)

    def prune_reports(self, now: float) -> None:
        """Forget finished report jobs older than the jobs AWS Backup lists (30 days)."""
        jobs = books(self.state).jobs
        horizon = now - JOB_HISTORY_SECONDS
        while jobs:
            oldest = next(iter(jobs.values()))
            if oldest.creation_time >= horizon or oldest.status not in ("COMPLETED", "FAILED"):
                break
            jobs.pop(oldest.job_id)

    # -- what a report holds ---------------------------------------------------------------------

    def report_rows(self, template: str, plan: ReportPlan, since: float, until: float) -> list[dict[str, Any]]:
        """The report's items on the period [since, until): every job active now, and those finished in it."""
        state: BackupState = self.state
        regions = plan.setting.get("Regions") or [plan.region]

        def reported(status: str, completed: float | None) -> bool:
            return status in _ACTIVE or (completed is not None and since <= completed < until)

        if template == "BACKUP_JOB_REPORT":
            return [{"Account ID": config.ACCOUNT_ID, "Region": job.region, "Backup Job ID": job.job_id,
                     "Job Status": job.state, "Status Message": job.status_message or "",
                     "Resource Type": job.resource_type, "Resource ARN": job.resource_arn,
                     "Resource Name": job.resource_name or "",
                     "Backup Plan ARN": (job.created_by or {}).get("BackupPlanArn", ""),
                     "Backup Rule ID": (job.created_by or {}).get("BackupPlanRuleId", ""),
                     "Creation Date": iso(job.creation_date), "Completion Date": _iso(job.completion_date),
                     "Recovery Point ARN": job.recovery_point_arn or "", "Backup Size In Bytes": job.size_bytes or 0,
                     "Backup Vault Name": job.vault_name, "IAM Role ARN": job.iam_role_arn}
                    for job in state.backup_jobs.values()
                    if job.region in regions and reported(job.state, job.completion_date)]
        if template == "COPY_JOB_REPORT":
            return [{"Account ID": config.ACCOUNT_ID, "Region": job.region, "Copy Job ID": job.job_id,
                     "Job Status": job.state, "Status Message": job.status_message or "",
                     "Resource Type": job.resource_type, "Resource ARN": job.resource_arn,
                     "Resource Name": job.resource_name or "",
                     "Source Recovery Point ARN": job.source_recovery_point_arn,
                     "Destination Backup Vault ARN": job.destination_vault_arn,
                     "Destination Recovery Point ARN": job.destination_recovery_point_arn or "",
                     "Creation Date": iso(job.creation_date), "Completion Date": _iso(job.completion_date),
                     "Backup Size In Bytes": job.size_bytes or 0, "IAM Role ARN": job.iam_role_arn}
                    for job in state.copy_jobs.values()
                    if job.region in regions and reported(job.state, job.completion_date)]
        if template == "RESTORE_JOB_REPORT":
            return [{"Account ID": config.ACCOUNT_ID, "Region": job.region, "Restore Job ID": job.job_id,
                     "Job Status": job.status, "Status Message": job.status_message or "",
                     "Resource Type": job.resource_type, "Recovery Point ARN": job.recovery_point_arn,
                     "Source Resource ARN": job.source_resource_arn,
                     "Created Resource ARN": job.created_resource_arn or "",
                     "Creation Date": iso(job.creation_date), "Completion Date": _iso(job.completion_date),
                     "Backup Size In Bytes": job.size_bytes or 0, "IAM Role ARN": job.iam_role_arn or ""}
                    for job in state.restore_jobs.values()
                    if job.region in regions and reported(job.status, job.completion_date)]
        return self._compliance_rows(template, plan)

    def _compliance_rows(self, template: str, plan: ReportPlan) -> list[dict[str, Any]]:
        state: BackupState = self.state
        rows: list[dict[str, Any]] = []
        wanted = set(plan.setting.get("FrameworkArns") or [])
        for framework in sorted(state.frameworks.values(), key=lambda f: f.arn):
            if framework.arn not in wanted:
                continue
            evaluation = self.evaluate_framework(framework)
            for control in evaluation["Controls"]:
                if template == "CONTROL_COMPLIANCE_REPORT":
                    rows.append({"Account ID": config.ACCOUNT_ID, "Region": framework.region,
                                 "Framework Name": framework.name, "Framework ARN": framework.arn,
                                 "Control Name": control["ControlName"],
                                 "Control Compliance Status": control["ComplianceStatus"],
                                 "Evaluated Resources": control["EvaluatedResources"],
                                 "Non Compliant Resources": control["NonCompliantResources"]})
                    continue
                for result in control["Results"]:
                    rows.append({"Account ID": config.ACCOUNT_ID, "Region": framework.region,
                                 "Framework Name": framework.name, "Control Name": control["ControlName"],
                                 "Resource Type": result["ResourceType"], "Resource ARN": result["ResourceArn"],
                                 "Resource Compliance Status": result["ComplianceStatus"],
                                 "Reason": result["Reason"]})
        return rows


def _iso(epoch: float | None) -> str:
    return iso(epoch) if epoch is not None else ""


def next_daily_run(after: float) -> float:
    """When a plan's next daily report is made: the first DAILY_REPORT_HOUR UTC after `after`."""
    run = utc_midnight(after) + DAILY_REPORT_HOUR * 3600
    return run if run > after else run + DAY


@cache
def _json_key(column: str) -> str:
    """A CSV column's key in the JSON report, as the guide's sample spells them: "IAM Role ARN" -> iamRoleArn."""
    first, *rest = column.split()
    return first.lower() + "".join(word.capitalize() for word in rest)


def _render(fmt: str, columns: tuple[str, ...], rows: list[dict[str, Any]], since: float,
            until: float) -> tuple[bytes, str]:
    """One report: CSV (a header of the template's columns, a row per item) or JSON (`reportItems`, each
    with the report's period)."""
    period = {_PERIOD[0]: iso(since), _PERIOD[1]: iso(until)}
    if fmt == "JSON":
        items = [{_json_key(column): {**period, **row}.get(column, "") for column in columns} for row in rows]
        return json.dumps({"reportItems": items}, indent=1).encode(), "application/json"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({**period, **row})
    return out.getvalue().encode(), "text/csv"
