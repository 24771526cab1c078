"""AWS Backup checks: plans (frequency, retention), resources protected by a plan, recovery points
(recent, encrypted, retained, deletion refused), vaults (encrypted, locked) and Audit Manager frameworks."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from checks import iam_policy
from checks.base import MATCH, CheckSpec, Finding, Param, apply_match, check, failed, not_applicable, passed
from checks.coverage import Coverage, Protectable, coverage, rule_problems, selection_role_problem
from checks.ebs import protectable
from checks.inventory.backup import Plan, RecoveryPoint, Rule, Selection, Vault
from checks.schedule import describe_seconds, max_interval_seconds
from checks.view import InventoryView, parse_time, scoped, tags_match

PLAN = "AWS::Backup::BackupPlan"
VAULT = "AWS::Backup::BackupVault"
RECOVERY_POINT = "AWS::Backup::RecoveryPoint"
FRAMEWORK = "AWS::Backup::Framework"
UNIT_SECONDS = {"hours": 3600, "days": 86400}

REGION = Param("region", "string", "", "Only this region; empty: every region.")

# Reasons a plan rule can fall short (checks.coverage.rule_problems), shared by the checks that judge rules.
RULE_MESSAGES = {
    "vault_missing": "Rule {rule} of plan {plan} stores backups in vault {vault}, which does not exist.",
    "schedule_invalid": "Rule {rule} of plan {plan} has a schedule that cannot run: {error}",
    "too_infrequent": "Rule {rule} of plan {plan} runs every {interval} at most ({schedule}); at least every "
                      "{required_interval} is asked.",
    "retention_too_short": "Rule {rule} of plan {plan} keeps recovery points {retention_days} days; at least "
                           "{required_days} are asked.",
    "retention_too_long": "Rule {rule} of plan {plan} keeps recovery points {retention_days} days; at most "
                          "{maxRetentionDays} are allowed.",
    "no_cross_region_copy": "Rule {rule} of plan {plan} {copies}, not to {missing_regions}.",
    "copy_vault_missing": "Rule {rule} of plan {plan} copies to vault {copy_vault}, which does not exist.",
    "vault_not_locked": "Vault {vault} of rule {rule} (plan {plan}) has no vault lock.",
    "selection_role_missing": "Selection {selection} uses role {role}, which does not exist: its backup jobs fail.",
    "selection_role_not_trusted": "Selection {selection} uses role {role}, which AWS Backup cannot assume "
                                  "(it trusts {trusted}).",
    "no_rules": "Plan {plan} has no rules, so it never backs anything up.",
}
RULE_HINTS = {
    "vault_missing": "Create the vault (aws backup create-backup-vault --backup-vault-name {vault}) or point "
                     "the rule at an existing one.",
    "schedule_invalid": "Use a schedule such as cron(0 5 ? * * *) (daily at 05:00 UTC).",
    "too_infrequent": "Schedule the rule more often, e.g. ScheduleExpression cron(0 5 ? * * *) for daily.",
    "retention_too_short": "Set Lifecycle.DeleteAfterDays to at least {required_days} in the rule "
                           "(aws backup update-backup-plan).",
    "retention_too_long": "Set Lifecycle.DeleteAfterDays to at most {maxRetentionDays}.",
    "no_cross_region_copy": "{copy_fix}",
    "copy_vault_missing": "Create the destination vault in its region first, or fix the ARN.",
    "vault_not_locked": "aws backup put-backup-vault-lock-configuration --backup-vault-name {vault} "
                        "--min-retention-days 7",
    "selection_role_missing": "Create a role that trusts backup.amazonaws.com with the "
                              "AWSBackupServiceRolePolicyForBackup policy, and use its ARN.",
    "selection_role_not_trusted": "Let backup.amazonaws.com assume the role (its trust policy).",
    "no_rules": "Add a rule: aws backup update-backup-plan --backup-plan-id <id> --backup-plan file://plan.json",
}


# -- plans -------------------------------------------------------------------------------------------

@check(
    id="BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK", source="aws-config", severity="HIGH",
    resource_type=PLAN, title="Backup plans back up often enough and keep backups long enough",
    services=("backup",),
    params=(Param("requiredFrequencyValue", "integer", 1, "How often backups must be taken: every N units.",
                  minimum=1),
            Param("requiredFrequencyUnit", "choice", "days", "hours or days.", choices=("hours", "days")),
            Param("requiredRetentionDays", "integer", 35, "The fewest days a recovery point must be kept.",
                  minimum=1),
            Param("planNames", "string_list", [], "Only these plans; empty: every plan."),
            REGION, MATCH),
    messages={
        **RULE_MESSAGES,
        "meets": "Plan {resource}: rule {rule} backs up every {interval} and keeps recovery points "
                 "{retention}.",
        "no_plan": "There is no backup plan{where}.",
        "plan_missing": "There is no backup plan named {resource}.",
    },
    hints={
        **RULE_HINTS,
        "no_plan": "aws backup create-backup-plan --backup-plan file://plan.json (a rule with a schedule, a "
                   "target vault and Lifecycle.DeleteAfterDays).",
        "plan_missing": "Check the plan's name with aws backup list-backup-plans.",
    },
)
def backup_plan_min_frequency_and_min_retention_check(inv: InventoryView, params: dict[str, Any]) -> Iterator[Finding]:
    """A plan complies when one of its rules backs up at least as often as required and keeps each recovery
    point at least the required number of days (extra rules do no harm)."""
    required_interval = params["requiredFrequencyValue"] * UNIT_SECONDS[params["requiredFrequencyUnit"]]
    chosen = scoped(inv.backup_plans(), params["planNames"], params["region"])
    if not chosen:
        where = f" in {params['region']}" if params["region"] else ""
        yield failed("account", "no_plan", params["region"], where=where)
        return
    findings: list[Finding] = []
    for name, region, plan in chosen:
        if plan is None:
            findings.append(failed(name, "plan_missing", region))
            continue
        rules = plan.rules or []
        if not rules:
            findings.append(failed(name, "no_rules", region, plan=name))
            continue
        judged = [(rule, rule_problems(inv, plan, rule, min_retention_days=params["requiredRetentionDays"],
                                       max_interval=required_interval)) for rule in rules]
        rule, problems = min(judged, key=lambda pair: len(pair[1]))
        days = rule.lifecycle.delete_after_days
        evidence = {"rule": rule.name, "schedule": rule.schedule, "retention_days": days,
                    "required_interval": describe_seconds(required_interval),
                    "required_days": params["requiredRetentionDays"], "rules": [r.name for r in rules]}
        if problems:
            reason, detail = problems[0]
            interval = detail.get("interval_seconds")
            shown = describe_seconds(interval) if interval else None
            findings.append(failed(name, reason, region, **{**evidence, **detail, "plan": name, "interval": shown}))
        else:
            findings.append(passed(name, "meets", region, **evidence,
                                   interval=describe_seconds(max_interval_seconds(rule.schedule)),
                                   retention=f"{days} days" if days is not None else "until deleted by hand"))
    yield from apply_match(findings, params["match"])


# -- resources protected by a plan, and their recent recovery points -----------------------------------

def _rds_resources(inv: InventoryView) -> Iterator[tuple[str, Protectable]]:
    for db in inv.db_instances():
        yield db.id, Protectable(db.arn, db.region, db.tags or {})


def _dynamodb_resources(inv: InventoryView) -> Iterator[tuple[str, Protectable]]:
    for table in inv.tables():
        yield table.name, Protectable(table.arn, table.region, table.tags or {})


def _ebs_resources(inv: InventoryView) -> Iterator[tuple[str, Protectable]]:
    for volume in inv.volumes():
        yield volume.id, protectable(inv, volume)


FAMILIES: dict[str, tuple[str, str, Callable[[InventoryView], Iterator[tuple[str, Protectable]]], tuple[str, ...]]] = {
    "RDS": ("AWS::RDS::DBInstance", "RDS DB instances", _rds_resources, ("rds",)),
    "DYNAMODB": ("AWS::DynamoDB::Table", "DynamoDB tables", _dynamodb_resources, ("dynamodb",)),
    "EBS": ("AWS::EC2::Volume", "EBS volumes", _ebs_resources, ("ec2",)),
}

RESOURCE_SCOPE = (
    Param("resourceTags", "tags", {}, "Only resources with these tags (AWS Config's resourceTags); empty: all."),
    Param("resourceId", "string", "", "Only this resource (its name, id or ARN); empty: all."),
    Param("region", "string", "us-east-1", "The region of the resources (AWS Config evaluates one region; a "
          "global table's replica elsewhere is another resource); empty: every region."),
)


def _in_scope(inv: InventoryView, family: str, params: dict[str, Any]) -> list[tuple[str, Protectable]]:
    wanted_id = params["resourceId"]
    chosen = []
    for name, resource in FAMILIES[family][2](inv):
        if wanted_id and wanted_id not in (name, resource.arn):
            continue
        if params["region"] and resource.region != params["region"]:
            continue
        if not tags_match(resource.tags, params["resourceTags"]):
            continue
        chosen.append((name, resource))
    return chosen


def _not_selected(found: Coverage, resource: Protectable) -> dict[str, str]:
    """Why no selection selects a resource, and what to change: a selection that chose it and then dropped it
    (NotResources, a condition) is named, since a new tag or ARN would not help."""
    for plan, selection, kind, what in found.dropped:
        where = f"selection {selection.name} of plan {plan.name}"
        if kind == "excluded":
            return {"why": f"{where} chooses it, but its NotResources pattern {what} excludes it",
                    "fix": f"Remove {what} from the NotResources of {where} (or narrow the pattern so that it "
                           "no longer matches this resource): update the selection (delete-backup-selection, then "
                           "create-backup-selection)."}
        return {"why": f"{where} chooses it, but its condition {what} does not hold for it",
                "fix": f"Change the Conditions of {where}, or tag the resource so that {what} holds."}
    plans = ", ".join(plan.name or plan.id for plan in found.plans_in_region)
    return {"why": f"no selection of plan(s) {plans} chooses it (its tags: "
                   + (", ".join(f"{k}={v}" for k, v in resource.tags.items()) or "none") + ")",
            "fix": "Select it by tag (ListOfTags app=securecart) or by ARN in a backup selection."}


def _protected_by_plan(family: str) -> CheckSpec:
    resource_type, plural, _, services = FAMILIES[family]

    def judge(inv: InventoryView, params: dict[str, Any]) -> Iterator[Finding]:
        chosen = _in_scope(inv, family, params)
        if not chosen:
            if params["resourceId"]:
                yield failed(params["resourceId"], "resource_missing", params["region"])
            else:
                yield not_applicable("account", "no_resources", params["region"], what=f"no {plural} in scope")
            return
        for name, resource in chosen:
            found = coverage(inv, resource)
            region = resource.region
            if not found.covering:
                if not found.plans_in_region:
                    yield failed(name, "no_plan", region)
                elif found.plans_without_selection and len(found.plans_without_selection) == len(found.plans_in_region):
                    yield failed(name, "plan_without_selection", region, plans=found.plans_without_selection)
                else:
                    yield failed(name, "not_selected", region, tags=dict(resource.tags),
                                 plans=[plan.name for plan in found.plans_in_region], **_not_selected(found, resource))
                continue
            judged: list[tuple[Plan, Selection, Rule | None, list]] = []
            for plan, selection in found.covering:
                role_problem = selection_role_problem(inv, selection)
                for rule in plan.rules or [None]:
                    problems = ([("no_rules", {"plan": plan.name})] if rule is None else rule_problems(
                        inv, plan, rule, min_retention_days=params["minRetentionDays"],
                        max_retention_days=params["maxRetentionDays"], cross_regions=params["crossRegionList"],
                        vault_lock=params["backupVaultLockCheck"]))
                    if role_problem:
                        problems = [*problems, role_problem]
                    judged.append((plan, selection, rule, problems))
            plan, selection, rule, problems = min(judged, key=lambda item: len(item[3]))
            evidence = {"plan": plan.name, "selection": selection.name,
                        "rule": rule.name if rule is not None else None, "required_days": params["minRetentionDays"],
                        "covering": sorted({f"{p.name}/{s.name}" for p, s in found.covering})}
            if problems:
                reason, detail = problems[0]
                yield failed(name, reason, region, **{**evidence, **detail})
            else:
                yield passed(name, "protected", region, **evidence)

    judge.__doc__ = (f"{plural} are selected by a backup plan of their region whose rule keeps what is asked "
                     "(retention, copies to other regions, vault lock). A tag selection, an ARN or a wildcard "
                     "all count.")
    return check(
        id=f"{family}_RESOURCES_PROTECTED_BY_BACKUP_PLAN", source="aws-config", severity="HIGH",
        resource_type=resource_type, title=f"{plural} are protected by a backup plan",
        services=(*services, "backup", "iam"),
        params=(*RESOURCE_SCOPE,
                Param("crossRegionList", "string_list", [], "Regions the backups must also be copied to."),
                Param("minRetentionDays", "integer", 0, "The fewest days recovery points are kept (0: any).",
                      minimum=0),
                Param("maxRetentionDays", "integer", 0, "The most days recovery points are kept (0: any).",
                      minimum=0),
                Param("backupVaultLockCheck", "boolean", False, "The backup vault must be locked.")),
        messages={
            **RULE_MESSAGES,
            "protected": "{resource} is backed up by plan {plan} (selection {selection}, rule {rule}).",
            "no_plan": "{resource} is not backed up: there is no backup plan in {region}.",
            "plan_without_selection": "{resource} is not backed up: plan(s) {plans} have no resource selection, "
                                      "so they back up nothing.",
            "not_selected": "{resource} is not backed up: {why}.",
            "resource_missing": "There is no resource {resource}.",
        },
        hints={
            **RULE_HINTS,
            "no_plan": "Create a plan in {region} (aws backup create-backup-plan), then assign resources to it.",
            "plan_without_selection": "aws backup create-backup-selection --backup-plan-id <id> --backup-selection "
                                      "'{{\"SelectionName\": \"securecart\", \"IamRoleArn\": \"<role ARN>\", "
                                      "\"ListOfTags\": [{{\"ConditionType\": \"STRINGEQUALS\", \"ConditionKey\": "
                                      "\"app\", \"ConditionValue\": \"securecart\"}}]}}'",
            "not_selected": "{fix}",
            "resource_missing": "Check the name, id or ARN given to the check.",
        },
    )(judge)


def _last_recovery_point(family: str) -> CheckSpec:
    resource_type, plural, _, services = FAMILIES[family]

    def judge(inv: InventoryView, params: dict[str, Any]) -> Iterator[Finding]:
        chosen = _in_scope(inv, family, params)
        if not chosen:
            if params["resourceId"]:
                yield failed(params["resourceId"], "resource_missing", params["region"])
            else:
                yield not_applicable("account", "no_resources", params["region"], what=f"no {plural} in scope")
            return
        max_age = params["recoveryPointAgeValue"] * UNIT_SECONDS[params["recoveryPointAgeUnit"]]
        age_text = describe_seconds(max_age)
        for name, resource in chosen:
            arns = {arn for arn, _ in resource.identities()}
            points = [p for p in inv.recovery_points() if p.resource_arn in arns
                      and p.status == "COMPLETED"]
            if not points:
                yield failed(name, "no_recovery_point", resource.region, max_age=age_text)
                continue
            newest = max(points, key=lambda p: parse_time(p.created) or 0.0)
            age = inv.now - (parse_time(newest.created) or 0.0)
            evidence = {"recovery_point": newest.arn, "created": newest.created,
                        "age": describe_seconds(max(0, round(age))), "max_age": age_text,
                        "vault": newest.vault}
            if age <= max_age:
                yield passed(name, "recent", resource.region, **evidence)
            else:
                yield failed(name, "too_old", resource.region, **evidence)

    judge.__doc__ = f"{plural} have a completed AWS Backup recovery point no older than the given age."
    return check(
        id=f"{family}_LAST_BACKUP_RECOVERY_POINT_CREATED", source="aws-config", severity="MEDIUM",
        resource_type=resource_type, title=f"{plural} have a recent recovery point",
        services=(*services, "backup"),
        params=(*RESOURCE_SCOPE,
                Param("recoveryPointAgeValue", "integer", 1, "The oldest the newest recovery point may be.",
                      minimum=1),
                Param("recoveryPointAgeUnit", "choice", "days", "hours or days.", choices=("hours", "days"))),
        messages={
            "recent": "{resource} was backed up {age} ago (recovery point in vault {vault}).",
            "too_old": "The newest recovery point of {resource} is {age} old; at most {max_age} is asked.",
            "no_recovery_point": "{resource} has no completed recovery point yet.",
            "resource_missing": "There is no resource {resource}.",
        },
        hints={
            "too_old": "Check that the plan's rule still runs (aws backup list-backup-jobs), or start one: "
                       "aws backup start-backup-job.",
            "no_recovery_point": "Wait for the plan's next window (lab clock advance 1d) or start a backup now: "
                                 "aws backup start-backup-job --backup-vault-name <vault> --resource-arn <ARN> "
                                 "--iam-role-arn <role ARN>.",
            "resource_missing": "Check the name, id or ARN given to the check.",
        },
    )(judge)


RDS_RESOURCES_PROTECTED_BY_BACKUP_PLAN = _protected_by_plan("RDS")
DYNAMODB_RESOURCES_PROTECTED_BY_BACKUP_PLAN = _protected_by_plan("DYNAMODB")
EBS_RESOURCES_PROTECTED_BY_BACKUP_PLAN = _protected_by_plan("EBS")
RDS_LAST_BACKUP_RECOVERY_POINT_CREATED = _last_recovery_point("RDS")
DYNAMODB_LAST_BACKUP_RECOVERY_POINT_CREATED = _last_recovery_point("DYNAMODB")
EBS_LAST_BACKUP_RECOVERY_POINT_CREATED = _last_recovery_point("EBS")


# -- recovery points -----------------------------------------------------------------------------------

POINT_SCOPE = (Param("vaultNames", "string_list", [], "Only recovery points in these vaults; empty: all."), REGION)


def _points(inv: InventoryView, params: dict[str, Any]) -> list[RecoveryPoint]:
    vaults = set(params["vaultNames"])
    return [p for p in inv.recovery_points(params["region"] or None)
            if p.status == "COMPLETED" and (not vaults or p.vault in vaults)]


@check(
    id="BACKUP_RECOVERY_POINT_ENCRYPTED", source="aws-config", severity="HIGH", resource_type=RECOVERY_POINT,
    title="Recovery points are encrypted", services=("backup",), params=POINT_SCOPE,
    messages={"encrypted": "The recovery point of {resource_arn} in vault {vault} is encrypted.",
              "not_encrypted": "The recovery point of {resource_arn} in vault {vault} is not encrypted."},
    hints={"not_encrypted": "Store backups in a vault with a KMS key (create-backup-vault "
                            "--encryption-key-arn); copy this recovery point there."},
)
def backup_recovery_point_encrypted(inv: InventoryView, params: dict[str, Any]) -> Iterator[Finding]:
    """An encrypted recovery point cannot be read by whoever gets hold of the storage."""
    points = _points(inv, params)
    if not points:
        yield not_applicable("account", "no_resources", params["region"], what="no completed recovery points")
    for point in points:
        evidence = {"vault": point.vault, "resource_arn": point.resource_arn,
                    "encryption_key": point.encryption_key}
        if point.encrypted:
            yield passed(point.arn, "encrypted", point.region, **evidence)
        else:
            yield failed(point.arn, "not_encrypted", point.region, **evidence)


@check(
    id="BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK", source="aws-config", severity="MEDIUM",
    resource_type=RECOVERY_POINT, title="Recovery points are kept long enough", services=("backup",),
    params=(Param("requiredRetentionDays", "integer", 35, "The fewest days a recovery point must be kept.",
                  minimum=1), *POINT_SCOPE),
    messages={"retained": "The recovery point of {resource_arn} in {vault} is kept {retention}.",
              "retention_too_short": "The recovery point of {resource_arn} in {vault} is deleted after "
                                     "{retention_days} days; at least {requiredRetentionDays} are asked."},
    hints={"retention_too_short": "Raise DeleteAfterDays in the plan's rule (new points), or update this one: "
                                  "aws backup update-recovery-point-lifecycle."},
)
def backup_recovery_point_minimum_retention_check(inv: InventoryView, params: dict[str, Any]) -> Iterator[Finding]:
    """A recovery point that expires too soon cannot serve a restore to an older state."""
    points = _points(inv, params)
    if not points:
        yield not_applicable("account", "no_resources", params["region"], what="no completed recovery points")
    for point in points:
        days = point.lifecycle.delete_after_days
        evidence = {"vault": point.vault, "resource_arn": point.resource_arn, "retention_days": days,
                    "retention": f"{days} days" if days is not None else "until deleted by hand"}
        if days is not None and days < params["requiredRetentionDays"]:
            yield failed(point.arn, "retention_too_short", point.region, **evidence)
        else:
            yield passed(point.arn, "retained", point.region, **evidence)


# -- who may delete recovery points: the vault access policy, evaluated as IAM does (checks.iam_policy) --

#: Callers that stand for "anyone" in the account: its root, an IAM user, a session of an IAM role.
DELETION_PROBE_CALLERS = ("arn:aws:iam::{account}:root", "arn:aws:iam::{account}:user/securecart-intruder",
                          "arn:aws:iam::{account}:role/securecart-intruder")
#: Where they call from: the lab's own address over plain HTTP (the sandbox's endpoint), and an address
#: outside over HTTPS (as on AWS). With access keys: no aws:MultiFactorAuthPresent in the request.
DELETION_PROBE_NETWORKS = (("127.0.0.1", False), ("203.0.113.10", True))
MAX_PROBED_POINTS = 10


@dataclass(frozen=True)
class DeletionGap:
    """A request the vault's access policy does not explicitly deny, and why each Deny statement misses it."""

    request: iam_policy.Request
    decision: iam_policy.Decision
    misses: list[tuple[str, list[str]]]  # (statement label, the elements that do not match, in words)

    def describe(self) -> str:
        caller = self.request.caller
        source = self.request.context.get("aws:SourceIp")
        secure = self.request.context.get("aws:SecureTransport")
        how = f" calling from {source} over {'HTTPS' if secure else 'HTTP'}" if source else ""
        return f"{self.request.action} to {caller.describe()}{how}"

    def why(self) -> str:
        if not self.misses:
            return "the policy has no Deny statement"
        return "; ".join(f"{label}: {', '.join(reasons)}" for label, reasons in self.misses)


def deletion_requests(account: str, region: str, resources: list[str], now: float, actions: list[str],
                      exempt: list[str] = ()) -> list[iam_policy.Request]:
    """The requests that must all be denied for deletion to be disabled: each action on each resource by
    each probe caller (except the exempt ones, AWS Config's principalArnList) from each network."""
    requests = []
    for template in DELETION_PROBE_CALLERS:
        arn = template.format(account=account)
        if arn in exempt:
            continue
        caller = iam_policy.Caller.of(arn)
        for resource in resources:
            for action in actions:
                for source, secure in DELETION_PROBE_NETWORKS:
                    keys = iam_policy.request_keys(source_ip=source, secure=secure, now=now, region=region,
                                                   **{"aws:ResourceAccount": account})
                    requests.append(iam_policy.Request(caller, action, resource, keys))
    return requests


def deletion_gaps(policy: iam_policy.Policy | None, requests: list[iam_policy.Request]) -> list[DeletionGap]:
    """The requests the policy does not explicitly deny (all of them when there is no policy)."""
    gaps = []
    for request in requests:
        if policy is None:
            gaps.append(DeletionGap(request, iam_policy.Decision.IMPLICIT_DENY, []))
            continue
        verdict = iam_policy.evaluate(policy, request)
        if verdict.denied:
            continue
        misses = [(trace.statement.label, trace.reasons(request)) for trace in iam_policy.explain(policy, request)
                  if trace.statement.effect == "Deny"]
        gaps.append(DeletionGap(request, verdict.decision, misses))
    return gaps


def any_recovery_point(region: str, account: str) -> str:
    """A recovery point ARN of AWS Backup's own form, standing for those a vault will hold."""
    return f"arn:aws:backup:{region}:{account}:recovery-point:00000000-0000-0000-0000-000000000000"


def vault_point_arns(inv: InventoryView, vault: Vault) -> list[str]:
    """The recovery points whose deletion is judged: the vault's (a few of each kind of ARN), or a backup
    recovery point ARN of the vault's region while it holds none."""
    points = [p.arn for p in inv.recovery_points(vault.region) if p.vault == vault.name]
    if not points:
        return [any_recovery_point(vault.region, inv.account_id)]
    by_kind: dict[str, list[str]] = {}
    for arn in points:
        by_kind.setdefault(arn.split(":", 3)[2] if arn.count(":") >= 3 else "", []).append(arn)
    chosen = [arns[0] for arns in by_kind.values()]
    chosen += [arn for arn in points if arn not in chosen]
    return chosen[:MAX_PROBED_POINTS]


VAULT_SCOPE = (Param("vaultNames", "string_list", [], "The vaults to check; empty: every vault."), REGION)


def _vaults(inv: InventoryView, params: dict[str, Any]) -> list[tuple[str, str, Vault | None]]:
    return scoped(inv.vaults(), params["vaultNames"], params["region"])


def _guarded_vaults(inv: InventoryView, params: dict[str, Any]) -> list[tuple[str, str, Vault | None]]:
    """The vaults whose recovery points need guarding: the named ones, else those holding recovery points,
    else (none holds any yet) every vault."""
    chosen = _vaults(inv, params)
    if params["vaultNames"]:
        return chosen
    holding = [entry for entry in chosen if entry[2] is not None and entry[2].recovery_points]
    return holding or chosen


POLICY_FIX = ("Make one Deny statement cover it: Principal \"*\", Action {actions} (or a wildcard such as "
              "backup:Delete*), Resource \"*\", and no condition that lets an ordinary caller through (to exempt a "
              "break-glass role, use ArnNotEquals on aws:PrincipalArn). Then put the policy again: aws backup "
              "put-backup-vault-access-policy --backup-vault-name {vault} --policy file://policy.json")


@check(
    id="BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED", source="aws-config", severity="HIGH", resource_type=VAULT,
    title="Recovery points cannot be deleted by hand", services=("backup",),
    params=(*VAULT_SCOPE,
            Param("acceptVaultLock", "boolean", True, "A vault lock also counts (it refuses deletion before the "
                  "minimum retention)."),
            Param("actions", "string_list", ["backup:DeleteRecoveryPoint"], "The actions the access policy must "
                  "deny (AWS Config's rule asks for backup:DeleteRecoveryPoint, "
                  "backup:UpdateRecoveryPointLifecycle and backup:PutBackupVaultAccessPolicy)."),
            Param("principalArnList", "string_list", [], "Principals that may still delete (a break-glass "
                  "role): the policy need not deny them.")),
    messages={
        "policy_denies": "The access policy of vault {resource} denies {denied_actions} to every caller "
                         "(checked: the account's root, an IAM user and a role session, from inside and outside)"
                         "{exempt_note}.",
        "vault_locked": "Vault {resource} is locked (minimum retention {min_retention_days} days): its recovery "
                        "points cannot be deleted early.",
        "deletion_allowed": "Recovery points in vault {resource} can be deleted by hand{when}: {why}.",
        "policy_invalid": "The access policy of vault {resource} is not a policy IAM accepts: {error}.",
        "vault_missing": "There is no backup vault named {resource}.",
        "no_resources": "There are no backup vaults to check.",
    },
    hints={
        "deletion_allowed": "{fix}",
        "policy_invalid": "Fix the policy document and put it again (aws backup put-backup-vault-access-policy).",
        "vault_missing": "Check the name with aws backup list-backup-vaults.",
    },
)
def backup_recovery_point_manual_deletion_disabled(inv: InventoryView, params: dict[str, Any]) -> Iterator[Finding]:
    """A vault access policy that denies DeleteRecoveryPoint (or a vault lock) keeps an intruder or a
    mistake from deleting the backups. The policy is evaluated as IAM evaluates it (wildcards, NotAction,
    NotPrincipal, NotResource, conditions; checks.iam_policy, the evaluator the sandbox enforces with) for
    the account's root, an IAM user and a role session, each from the lab's address over HTTP and from
    outside over HTTPS, deleting the vault's recovery points: every such request must be denied. Judged on
    the vaults that hold recovery points (or the named ones)."""
    chosen = _guarded_vaults(inv, params)
    if not chosen:
        yield not_applicable("account", "no_resources")
    actions = params["actions"] or ["backup:DeleteRecoveryPoint"]
    exempt = params["principalArnList"]
    for name, region, vault in chosen:
        if vault is None:
            yield failed(name, "vault_missing", region)
            continue
        lock = vault.lock
        locked = bool(vault.locked or lock.min_retention_days)
        accept_lock = params["acceptVaultLock"]
        evidence: dict[str, Any] = {
            "recovery_points": vault.recovery_points, "locked": bool(vault.locked),
            "min_retention_days": lock.min_retention_days, "exempt": exempt,
            "exempt_note": f" except {', '.join(exempt)}" if exempt else "", "when": ""}
        put_policy = ("aws backup put-backup-vault-access-policy --backup-vault-name " + name + " --policy '" +
                      json.dumps({"Version": "2012-10-17", "Statement": [{
                          "Effect": "Deny", "Principal": "*", "Action": actions[0], "Resource": "*"}]},
                                 separators=(",", ":")) + "'")
        policy = None
        if vault.access_policy is not None:
            try:
                policy = iam_policy.parse(vault.access_policy)
            except iam_policy.PolicyError as exc:
                if accept_lock and locked:
                    yield passed(name, "vault_locked", region, **evidence)
                else:
                    yield failed(name, "policy_invalid", region, error=str(exc), **evidence)
                continue
        if policy is None:
            if locked and accept_lock:
                yield passed(name, "vault_locked", region, **evidence)
            elif locked:
                yield failed(name, "deletion_allowed", region, **{
                                 **evidence, "when": f" once their {lock.min_retention_days}-day minimum retention "
                                                     "has passed"}, fix=put_policy,
                             why="its vault lock refuses deletion only until then, and no access policy denies it "
                                 "(this step asks for an access policy)")
            else:
                lock_hint = " -- or lock the vault (aws backup put-backup-vault-lock-configuration)."
                yield failed(name, "deletion_allowed", region, **evidence,
                             fix=put_policy + (lock_hint if accept_lock else ""),
                             why=f"it has no access policy, so anyone with backup permissions can delete its "
                                 f"{vault.recovery_points} recovery point(s)")
            continue
        requests = deletion_requests(inv.account_id, region, vault_point_arns(inv, vault), inv.now, actions, exempt)
        gaps = deletion_gaps(policy, requests)
        if not gaps:
            yield passed(name, "policy_denies", region, denied_actions=" and ".join(actions), **evidence)
        elif accept_lock and locked:
            yield passed(name, "vault_locked", region, **evidence)
        else:
            first = gaps[0]
            yield failed(name, "deletion_allowed", region, **evidence, not_denied=[gap.describe() for gap in gaps],
                         why=f"its access policy does not deny {first.describe()} ({first.why()})",
                         fix=POLICY_FIX.format(actions=" and ".join(actions), vault=name))


# -- vaults --------------------------------------------------------------------------------------------

@check(
    id="BACKUP_VAULT_ENCRYPTED", severity="HIGH", resource_type=VAULT,
    title="Each region has backup vaults, all encrypted", services=("backup",),
    params=(Param("requiredRegions", "string_list", ["us-east-1", "us-west-2"], "Regions that must have a vault."),
            Param("vaultNames", "string_list", [], "Only these vaults; empty: every vault."),
            Param("requireCustomerManagedKey", "boolean", False, "The key must be your own KMS key, not the "
                  "AWS managed aws/backup key."), MATCH),
    messages={
        "encrypted": "Vault {resource} is encrypted with {key}.",
        "not_encrypted": "Vault {resource} has no encryption key.",
        "aws_managed_key": "Vault {resource} uses the AWS managed key {key}; your own KMS key is asked.",
        "no_vault": "There is no backup vault in {resource}{named}.",
    },
    hints={
        "not_encrypted": "Create the vault with --encryption-key-arn <KMS key ARN> (a vault's key cannot be "
                         "changed later).",
        "aws_managed_key": "Create a KMS key (aws kms create-key) and a vault that uses it.",
        "no_vault": "aws backup create-backup-vault --region {resource} --backup-vault-name <name> "
                    "--encryption-key-arn <KMS key ARN in {resource}>",
    },
)
def backup_vault_encrypted(inv: InventoryView, params: dict[str, Any]) -> Iterator[Finding]:
    """Backups are stored in vaults; an encryption key per vault protects every recovery point in it, and a
    vault in the DR region is where cross-region copies go."""
    wanted = set(params["vaultNames"])
    for region in params["requiredRegions"]:
        vaults = [v for v in inv.vaults(region) if not wanted or v.name in wanted]
        if not vaults:
            named = f" named {', '.join(sorted(wanted))}" if wanted else ""
            yield failed(region, "no_vault", region, named=named)
            continue
        findings = []
        for vault in vaults:
            key = vault.encryption_key or ""
            aws_managed = key.endswith("alias/aws/backup")
            if not key:
                findings.append(failed(vault.name, "not_encrypted", region))
            elif params["requireCustomerManagedKey"] and aws_managed:
                findings.append(failed(vault.name, "aws_managed_key", region, key=key))
            else:
                findings.append(passed(vault.name, "encrypted", region, key=key))
        yield from apply_match(findings, params["match"])


@check(
    id="BACKUP_VAULT_LOCK_ENABLED", severity="HIGH", resource_type=VAULT,
    title="Backup vaults that hold recovery points are locked", services=("backup",),
    params=(*VAULT_SCOPE,
            Param("minRetentionDays", "integer", 0, "The lock's minimum retention must be at least this (0: any).",
                  minimum=0),
            Param("requireComplianceMode", "boolean", False, "The lock must be in compliance mode (a lock date: "
                  "nobody can remove it afterwards)."), MATCH),
    messages={
        "locked": "Vault {resource} is locked: recovery points are kept at least {min_retention_days} days"
                  "{mode_note}.",
        "not_locked": "Vault {resource} has no vault lock: recovery points can be deleted at any time.",
        "retention_too_short": "The lock of vault {resource} keeps recovery points {min_retention_days} days; at "
                               "least {minRetentionDays} are asked.",
        "governance_mode": "The lock of vault {resource} is in governance mode (no lock date): a privileged user "
                           "can remove it.",
        "vault_missing": "There is no backup vault named {resource}.",
        "no_resources": "There are no backup vaults to check.",
    },
    hints={
        "not_locked": "aws backup put-backup-vault-lock-configuration --backup-vault-name {resource} "
                      "--min-retention-days 7",
        "retention_too_short": "Put the lock configuration again with --min-retention-days {minRetentionDays}.",
        "governance_mode": "Add --changeable-for-days 3 to put-backup-vault-lock-configuration (compliance mode).",
        "vault_missing": "Check the name with aws backup list-backup-vaults.",
    },
)
def backup_vault_lock_enabled(inv: InventoryView, params: dict[str, Any]) -> Iterator[Finding]:
    """A vault lock refuses to delete recovery points before their minimum retention, even for an
    administrator (in compliance mode, once the lock date has passed). Judged on the vaults that hold
    recovery points (or the named ones; every vault while none holds any)."""
    chosen = _guarded_vaults(inv, params)
    if not chosen:
        yield not_applicable("account", "no_resources")
    findings = []
    for name, region, vault in chosen:
        if vault is None:
            findings.append(failed(name, "vault_missing", region))
            continue
        lock = vault.lock
        minimum = lock.min_retention_days
        compliance = bool(lock.lock_date)
        lock_at = parse_time(lock.lock_date)
        if not compliance:
            mode_note = " (governance mode: no lock date)"
        elif lock_at is not None and lock_at > inv.now:
            mode_note = (f"; it enters compliance mode on {lock.lock_date} (ChangeableForDays): until then it can "
                         "still be changed or removed")
        else:
            mode_note = f" (compliance mode since {lock.lock_date}: nobody can remove it)"
        evidence = {"min_retention_days": minimum, "max_retention_days": lock.max_retention_days,
                    "lock_date": lock.lock_date, "mode_note": mode_note}
        if not (vault.locked or minimum):
            findings.append(failed(name, "not_locked", region, **evidence))
        elif params["minRetentionDays"] and (minimum or 0) < params["minRetentionDays"]:
            findings.append(failed(name, "retention_too_short", region, **evidence))
        elif params["requireComplianceMode"] and not compliance:
            findings.append(failed(name, "governance_mode", region, **evidence))
        else:
            findings.append(passed(name, "locked", region, **evidence))
    yield from apply_match(findings, params["match"])


# -- Backup Audit Manager ------------------------------------------------------------------------------

@check(
    id="BACKUP_AUDIT_FRAMEWORK_DEPLOYED", severity="MEDIUM", resource_type=FRAMEWORK,
    title="A Backup Audit Manager framework watches the backups", services=("backup",),
    params=(Param("requiredControls", "string_list", [], "Controls the framework must include, e.g. "
                  "BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED."),
            Param("minControls", "integer", 1, "The fewest controls the framework must have.", minimum=1),
            REGION),
    messages={
        "deployed": "Framework {resource} is deployed with {control_count} control(s): {controls}.",
        "no_framework": "There is no Backup Audit Manager framework{where}.",
        "not_deployed": "Framework {resource} is {deployment_status}, not deployed (COMPLETED).",
        "missing_controls": "Framework {resource} lacks the control(s) {missing}.",
        "too_few_controls": "Framework {resource} has {control_count} control(s); at least {minControls} are asked.",
    },
    hints={
        "no_framework": "aws backup create-framework --framework-name securecart --framework-controls "
                        "'[{{\"ControlName\": \"BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED\"}}]'",
        "not_deployed": "Wait for the deployment (lab clock advance 5m); if it FAILED, look at its controls.",
        "missing_controls": "aws backup update-framework --framework-name {resource} --framework-controls ... "
                            "adding {missing}.",
        "too_few_controls": "Add controls with aws backup update-framework.",
    },
)
def backup_audit_framework_deployed(inv: InventoryView, params: dict[str, Any]) -> Iterator[Finding]:
    """A framework evaluates backup controls continuously and flags what breaks them (a deletion, a plan
    that stops covering a resource)."""
    frameworks = list(inv.frameworks(params["region"] or None))
    if not frameworks:
        where = f" in {params['region']}" if params["region"] else ""
        yield failed("account", "no_framework", params["region"], where=where)
        return
    findings = []
    for framework in frameworks:
        controls = [control.name for control in framework.controls or ()]
        missing = [name for name in params["requiredControls"] if name not in controls]
        evidence = {"controls": controls, "control_count": len(controls),
                    "deployment_status": framework.deployment_status, "missing": missing}
        name, region = framework.name, framework.region
        if framework.deployment_status not in ("COMPLETED", None):
            findings.append(failed(name, "not_deployed", region, **evidence))
        elif missing:
            findings.append(failed(name, "missing_controls", region, **evidence))
        elif len(controls) < params["minControls"]:
            findings.append(failed(name, "too_few_controls", region, **evidence))
        else:
            findings.append(passed(name, "deployed", region, **evidence))
    yield from apply_match(findings, "any")
