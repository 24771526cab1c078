"""AWS Backup checks on hand-built inventories."""

from __future__ import annotations

from datetime import timedelta

from checks import registry
from tests.unit.inventory_builder import ACCOUNT, EAST, NOW, WEST, Inv, ago

DB, TABLE = "securecart-orders-db", "securecart-order-history"
DR_VAULT_ARN = f"arn:aws:backup:{WEST}:{ACCOUNT}:backup-vault:dr"


def verdicts(check_id, inventory, **params):
    return [(r.resource_id, r.status, r.reason) for r in registry.run(check_id, inventory, params)]


def shop(rule: dict | None = None, selections: list | None = None) -> Inv:
    inv = Inv().db(DB, tags={"app": "securecart"}).table(TABLE, tags={"app": "securecart"})
    inv.instance("i-1", tags={"app": "securecart"}).volume("vol-1", tags={"app": "securecart"}, attached_to="i-1")
    inv.vault("main").vault("dr", WEST).role("backup", "backup.amazonaws.com")
    inv.plan("plan-1", rules=[rule or Inv.rule(copy_to=[DR_VAULT_ARN])],
             selections=[Inv.selection(tags={"app": "securecart"})] if selections is None else selections)
    return inv


# -- plan frequency and retention ---------------------------------------------------------------------

def test_plan_frequency_and_retention_pass_and_near_misses():
    params = {"requiredRetentionDays": 7, "requiredFrequencyUnit": "days", "requiredFrequencyValue": 1}
    assert verdicts("BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK", shop().build(), **params) == [
        ("plan-1", "PASS", "meets")]
    six = shop(Inv.rule(delete_after=6)).build()
    result = registry.run("BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK", six, params)[0]
    assert (result.status, result.reason) == ("FAIL", "retention_too_short")
    assert "6 days" in result.message and "7" in result.message
    weekly = shop(Inv.rule(schedule="cron(0 5 ? * 1 *)")).build()
    assert verdicts("BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK", weekly, **params) == [
        ("plan-1", "FAIL", "too_infrequent")]


def test_plan_extra_rules_and_default_schedule_and_forever_retention_pass():
    params = {"requiredRetentionDays": 7}
    inv = shop(Inv.rule(schedule=None, delete_after=None))
    inv.data.regions[EAST].backup.plans["plan-1"].rules.append(Inv.rule("weekly", delete_after=1,
                                                                                     schedule="rate(7 days)"))
    assert verdicts("BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK", inv.build(), **params) == [
        ("plan-1", "PASS", "meets")]


def test_plan_none_missing_vault_and_match_any():
    assert verdicts("BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK", Inv().build()) == [
        ("account", "FAIL", "no_plan")]
    no_vault = shop(Inv.rule(vault="ghost")).build()
    assert verdicts("BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK", no_vault, requiredRetentionDays=7) == [
        ("plan-1", "FAIL", "vault_missing")]
    inv = shop().plan("old-plan", rules=[Inv.rule(delete_after=1)]).build()
    found = verdicts("BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK", inv, requiredRetentionDays=7)
    assert found == [("plan-1", "PASS", "meets"), ("old-plan", "FAIL", "retention_too_short")]
    found = verdicts("BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK", inv, requiredRetentionDays=7, match="any")
    assert found == [("plan-1", "PASS", "meets"), ("old-plan", "NOT_APPLICABLE", "another_passes")]


# -- protected by a plan -------------------------------------------------------------------------------

def test_protected_by_tag_selection_arn_or_wildcard():
    params = {"resourceTags": {"app": "securecart"}, "crossRegionList": [WEST], "minRetentionDays": 7}
    for family, name in (("RDS", DB), ("DYNAMODB", TABLE), ("EBS", "vol-1")):
        assert verdicts(f"{family}_RESOURCES_PROTECTED_BY_BACKUP_PLAN", shop().build(), **params) == [
            (name, "PASS", "protected")]
    by_arn = shop(selections=[Inv.selection(resources=[f"arn:aws:rds:{EAST}:{ACCOUNT}:db:{DB}"])]).build()
    assert verdicts("RDS_RESOURCES_PROTECTED_BY_BACKUP_PLAN", by_arn, resourceId=DB) == [(DB, "PASS", "protected")]
    wildcard = shop(selections=[Inv.selection(resources=["arn:aws:dynamodb:*:*:table/*"])]).build()
    assert verdicts("DYNAMODB_RESOURCES_PROTECTED_BY_BACKUP_PLAN", wildcard) == [(TABLE, "PASS", "protected")]
    via_instance = shop(selections=[Inv.selection(resources=[f"arn:aws:ec2:{EAST}:{ACCOUNT}:instance/i-1"])]).build()
    assert verdicts("EBS_RESOURCES_PROTECTED_BY_BACKUP_PLAN", via_instance) == [("vol-1", "PASS", "protected")]
    by_condition = shop(selections=[Inv.selection(resources=["*"], conditions={
        "StringEquals": [{"key": "aws:ResourceTag/app", "value": "securecart"}]})]).build()
    assert verdicts("RDS_RESOURCES_PROTECTED_BY_BACKUP_PLAN", by_condition) == [(DB, "PASS", "protected")]


def test_protected_near_misses():
    no_selection = shop(selections=[]).build()
    result = registry.run("RDS_RESOURCES_PROTECTED_BY_BACKUP_PLAN", no_selection)[0]
    assert (result.status, result.reason) == ("FAIL", "plan_without_selection")
    assert "no resource selection" in result.message
    other_tag = shop(selections=[Inv.selection(tags={"app": "other"})]).build()
    assert verdicts("RDS_RESOURCES_PROTECTED_BY_BACKUP_PLAN", other_tag) == [(DB, "FAIL", "not_selected")]
    excluded = shop(selections=[Inv.selection(resources=["*"], not_resources=["arn:aws:rds:*:*:db:*"])]).build()
    assert verdicts("RDS_RESOURCES_PROTECTED_BY_BACKUP_PLAN", excluded) == [(DB, "FAIL", "not_selected")]
    no_copy = shop(Inv.rule()).build()
    assert verdicts("RDS_RESOURCES_PROTECTED_BY_BACKUP_PLAN", no_copy, crossRegionList=[WEST]) == [
        (DB, "FAIL", "no_cross_region_copy")]
    short = shop(Inv.rule(delete_after=6, copy_to=[DR_VAULT_ARN])).build()
    assert verdicts("RDS_RESOURCES_PROTECTED_BY_BACKUP_PLAN", short, minRetentionDays=7) == [
        (DB, "FAIL", "retention_too_short")]
    assert verdicts("RDS_RESOURCES_PROTECTED_BY_BACKUP_PLAN", shop().build(), backupVaultLockCheck=True) == [
        (DB, "FAIL", "vault_not_locked")]
    no_role = shop(selections=[Inv.selection(tags={"app": "securecart"}, role="arn:aws:iam::0:role/ghost")]).build()
    assert verdicts("RDS_RESOURCES_PROTECTED_BY_BACKUP_PLAN", no_role) == [(DB, "FAIL", "selection_role_missing")]
    assert verdicts("RDS_RESOURCES_PROTECTED_BY_BACKUP_PLAN", Inv().db(DB).build()) == [(DB, "FAIL", "no_plan")]


def test_plan_in_another_region_does_not_protect():
    inv = Inv().db(DB).vault("dr", WEST).role("backup", "backup.amazonaws.com")
    inv.plan("west-plan", WEST, rules=[Inv.rule(vault="dr")], selections=[Inv.selection(resources=["*"])])
    assert verdicts("RDS_RESOURCES_PROTECTED_BY_BACKUP_PLAN", inv.build()) == [(DB, "FAIL", "no_plan")]


def test_protected_scope():
    assert verdicts("RDS_RESOURCES_PROTECTED_BY_BACKUP_PLAN", shop().build(), resourceTags={"app": "nope"}) == [
        ("account", "NOT_APPLICABLE", "no_resources")]
    assert verdicts("RDS_RESOURCES_PROTECTED_BY_BACKUP_PLAN", shop().build(), resourceId="ghost") == [
        ("ghost", "FAIL", "resource_missing")]


# -- recovery points -----------------------------------------------------------------------------------

def test_last_recovery_point():
    arn = f"arn:aws:dynamodb:{EAST}:{ACCOUNT}:table/{TABLE}"
    recent = shop().recovery_point(arn, created=ago(hours=3)).build()
    assert verdicts("DYNAMODB_LAST_BACKUP_RECOVERY_POINT_CREATED", recent, resourceId=TABLE) == [
        (TABLE, "PASS", "recent")]
    old = shop().recovery_point(arn, created=ago(days=3)).build()
    assert verdicts("DYNAMODB_LAST_BACKUP_RECOVERY_POINT_CREATED", old, resourceId=TABLE) == [
        (TABLE, "FAIL", "too_old")]
    running = shop().recovery_point(arn, status="CREATED").build()
    assert verdicts("DYNAMODB_LAST_BACKUP_RECOVERY_POINT_CREATED", running, resourceId=TABLE) == [
        (TABLE, "FAIL", "no_recovery_point")]


def test_recovery_point_encryption_and_retention():
    inv = Inv().vault("main").recovery_point("arn:a", encrypted=True, delete_after=35)
    inv.recovery_point("arn:b", encrypted=False, delete_after=3).recovery_point("arn:c", delete_after=None)
    data = inv.build()
    assert [s for _, s, _ in verdicts("BACKUP_RECOVERY_POINT_ENCRYPTED", data)] == ["PASS", "FAIL", "PASS"]
    assert [s for _, s, _ in verdicts("BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK", data,
                                      requiredRetentionDays=7)] == ["PASS", "FAIL", "PASS"]
    assert verdicts("BACKUP_RECOVERY_POINT_ENCRYPTED", Inv().build()) == [
        ("account", "NOT_APPLICABLE", "no_resources")]


def test_manual_deletion_disabled():
    deny = {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "backup:DeleteRecoveryPoint",
                           "Resource": "*"}]}
    inv = Inv().vault("guarded", policy=deny, points=3).vault("locked", locked=True, min_retention=7, points=2)
    inv.vault("open", points=4).vault("empty")
    assert verdicts("BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED", inv.build()) == [
        ("guarded", "PASS", "policy_denies"), ("locked", "PASS", "vault_locked"),
        ("open", "FAIL", "deletion_allowed")]  # the empty vault holds nothing to guard
    strict = verdicts("BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED", inv.build(), acceptVaultLock=False)
    assert ("locked", "FAIL", "deletion_allowed") in strict
    allow_only = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "backup:*"}]}
    result = deletion(Inv().vault("v", policy=allow_only).build(), vaultNames=["v"])
    assert (result.status, result.reason) == ("FAIL", "deletion_allowed")
    assert "the policy has no Deny statement" in result.message


def deletion(inventory, **params):
    return registry.run("BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED", inventory, params)[0]


def deny_deletion(**fields) -> dict:
    statement = {"Effect": "Deny", "Principal": "*", "Action": "backup:DeleteRecoveryPoint", "Resource": "*"}
    statement.update(fields)
    return {"Version": "2012-10-17", "Statement": [{k: v for k, v in statement.items() if v is not None}]}


STRICT = {"vaultNames": ["v"], "acceptVaultLock": False}


def test_manual_deletion_reads_the_policy_as_iam_does():
    """Issue 15: a Deny of backup:DeleteRecovery* denies deletion; a Deny that applies only under a condition
    the lab's caller does not meet does not; NotAction / NotPrincipal / NotResource count as IAM counts them."""
    passing = [deny_deletion(Action="backup:DeleteRecovery*"), deny_deletion(Action="BACKUP:Delete*"),
               deny_deletion(Action=None, NotAction="backup:Describe*"),
               deny_deletion(Principal={"AWS": ACCOUNT}),
               deny_deletion(Condition={"ArnNotEquals": {
                   "aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/breakglass"}}),
               deny_deletion(Condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}})]
    for document in passing:
        result = deletion(Inv().vault("v", policy=document, points=1).build(), **STRICT)
        assert (result.status, result.reason) == ("PASS", "policy_denies"), (document, result.message)
    failing = {
        "its condition IpAddress": deny_deletion(Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
        "its condition Bool": deny_deletion(Condition={"Bool": {"aws:MultiFactorAuthPresent": "false"}}),
        "its Action (backup:DeleteBackupVault) does not cover": deny_deletion(Action="backup:DeleteBackupVault"),
        "its NotAction excludes": deny_deletion(Action=None, NotAction="backup:Delete*"),
        "its NotPrincipal exempts": deny_deletion(Principal=None, NotPrincipal={"AWS": [
            f"arn:aws:iam::{ACCOUNT}:root", f"arn:aws:iam::{ACCOUNT}:user/securecart-intruder"]}),
        "its NotResource excludes": deny_deletion(Resource=None, NotResource="arn:aws:backup:*"),
        "its Principal does not name": deny_deletion(Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:role/ops"}),
        "over HTTPS": deny_deletion(Condition={"Bool": {"aws:SecureTransport": "false"}}),
    }
    for says, document in failing.items():
        result = deletion(Inv().vault("v", policy=document, points=1).build(), **STRICT)
        assert (result.status, result.reason) == ("FAIL", "deletion_allowed"), (document, result.message)
        assert says in result.message, result.message
        assert "lock" not in result.message + result.hint, "issue 15: no vault lock talk when locks do not count"


def test_manual_deletion_break_glass_exemption_is_a_parameter():
    exempt_role = deny_deletion(Principal=None, NotPrincipal={"AWS": [
        f"arn:aws:iam::{ACCOUNT}:root", f"arn:aws:iam::{ACCOUNT}:role/securecart-intruder"]})
    inventory = Inv().vault("v", policy=exempt_role, points=1).build()
    assert deletion(inventory, **STRICT).reason == "deletion_allowed"  # a role session may delete
    listed = deletion(inventory, principalArnList=[f"arn:aws:iam::{ACCOUNT}:role/securecart-intruder"], **STRICT)
    assert (listed.status, listed.reason) == ("FAIL", "deletion_allowed")  # the IAM user is still not denied
    only_root = deny_deletion(Principal=None, NotPrincipal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"})
    allowed_root = deletion(Inv().vault("v", policy=only_root, points=1).build(),
                            principalArnList=[f"arn:aws:iam::{ACCOUNT}:root"], **STRICT)
    assert (allowed_root.status, allowed_root.reason) == ("PASS", "policy_denies")
    assert f"except arn:aws:iam::{ACCOUNT}:root" in allowed_root.message


def test_manual_deletion_messages_say_what_is_true():
    """Issue 15: no "(vault locks are not accepted here)" nor a lock hint when a policy exists but misses; a locked
    vault is not said to let anyone delete; a broken policy is named."""
    wrong_action = deletion(Inv().vault("v", policy=deny_deletion(Action="backup:StartBackupJob"), points=1).build(),
                            **STRICT)
    assert "vault locks are not accepted" not in wrong_action.message
    assert "lock" not in wrong_action.hint
    locked = deletion(Inv().vault("v", locked=True, min_retention=7, points=2).build(), **STRICT)
    assert (locked.status, locked.reason) == ("FAIL", "deletion_allowed")
    assert "Anyone" not in locked.message and "anyone" not in locked.message
    assert "once their 7-day minimum retention has passed" in locked.message and "lock" not in locked.hint
    accepted = deletion(Inv().vault("v", points=2).build(), vaultNames=["v"])
    assert accepted.reason == "deletion_allowed" and "or lock the vault" in accepted.hint
    broken = deletion(Inv().vault("v", policy={"Statement": [{"Effect": "Deny"}]}, points=1).build(), **STRICT)
    assert (broken.status, broken.reason) == ("FAIL", "policy_invalid") and "needs Action" in broken.message



def test_protected_messages_name_what_is_wrong():
    """Issue 15: a NotResources exclusion was reported as "no selection selects it (its tags: app=securecart)"
    with a hint to select by tag -- what had been done; a same-region copy was told to "Add a CopyActions entry"."""
    excluded = shop(selections=[Inv.selection("everything", tags={"app": "securecart"},
                                              not_resources=[f"arn:aws:rds:{EAST}:{ACCOUNT}:db:*"])]).build()
    result = registry.run("RDS_RESOURCES_PROTECTED_BY_BACKUP_PLAN", excluded)[0]
    assert (result.status, result.reason) == ("FAIL", "not_selected")
    assert result.message == (f"{DB} is not backed up: selection everything of plan plan-1 chooses it, but its "
                              f"NotResources pattern arn:aws:rds:{EAST}:{ACCOUNT}:db:* excludes it.")
    assert "Remove arn:aws:rds:" in result.hint and "ListOfTags" not in result.hint
    condition = shop(selections=[Inv.selection("tagged", resources=["*"], conditions={
        "StringEquals": [{"key": "aws:ResourceTag/tier", "value": "gold"}]})]).build()
    result = registry.run("RDS_RESOURCES_PROTECTED_BY_BACKUP_PLAN", condition)[0]
    assert "its condition StringEquals aws:ResourceTag/tier=gold does not hold" in result.message
    other_tag = shop(selections=[Inv.selection(tags={"app": "other"})]).build()
    result = registry.run("RDS_RESOURCES_PROTECTED_BY_BACKUP_PLAN", other_tag)[0]
    assert "no selection of plan(s) plan-1 chooses it (its tags: app=securecart)" in result.message
    same_region = shop(Inv.rule(copy_to=[f"arn:aws:backup:{EAST}:{ACCOUNT}:backup-vault:main"])).build()
    result = registry.run("RDS_RESOURCES_PROTECTED_BY_BACKUP_PLAN", same_region, {"crossRegionList": [WEST]})[0]
    assert result.reason == "no_cross_region_copy"
    assert result.message == f"Rule daily of plan plan-1 copies only to {EAST}, not to {WEST}."
    assert result.hint.startswith("Point the rule's CopyActions entry at a vault in us-west-2")
    assert "Add a CopyActions" not in result.hint
    none = registry.run("RDS_RESOURCES_PROTECTED_BY_BACKUP_PLAN", shop(Inv.rule()).build(),
                        {"crossRegionList": [WEST]})[0]
    assert none.message == f"Rule daily of plan plan-1 makes no copies, not to {WEST}."
    assert none.hint.startswith("Add a CopyActions entry")


def test_vault_lock_messages_tell_governance_grace_and_compliance_apart():
    """Issue 15: "(compliance mode)" was said of a lock still inside its ChangeableForDays."""
    later = (NOW + timedelta(days=2)).isoformat().replace("+00:00", "Z")
    grace = Inv().vault("v", min_retention=7, lock_date=later).build()
    result = registry.run("BACKUP_VAULT_LOCK_ENABLED", grace, {"vaultNames": ["v"]})[0]
    assert "compliance mode)" not in result.message
    assert f"it enters compliance mode on {later}" in result.message and "can still be changed" in result.message
    done = Inv().vault("v", locked=True, min_retention=7, lock_date=ago(days=1)).build()
    assert "(compliance mode since" in registry.run("BACKUP_VAULT_LOCK_ENABLED", done, {"vaultNames": ["v"]})[0].message
    governance = Inv().vault("v", min_retention=7).build()
    assert "(governance mode" in registry.run("BACKUP_VAULT_LOCK_ENABLED", governance, {"vaultNames": ["v"]})[0].message


# -- vaults and frameworks -------------------------------------------------------------------------------

def test_vault_encrypted_in_both_regions():
    both = Inv().vault("main").vault("dr", WEST).build()
    assert verdicts("BACKUP_VAULT_ENCRYPTED", both) == [("main", "PASS", "encrypted"), ("dr", "PASS", "encrypted")]
    one = Inv().vault("main").build()
    assert verdicts("BACKUP_VAULT_ENCRYPTED", one) == [("main", "PASS", "encrypted"), (WEST, "FAIL", "no_vault")]
    plain = Inv().vault("main", key=None).vault("dr", WEST).build()
    assert verdicts("BACKUP_VAULT_ENCRYPTED", plain)[0] == ("main", "FAIL", "not_encrypted")
    managed = Inv().vault("main", key="arn:aws:kms:us-east-1:0:alias/aws/backup").vault("dr", WEST).build()
    assert verdicts("BACKUP_VAULT_ENCRYPTED", managed, requireCustomerManagedKey=True)[0] == (
        "main", "FAIL", "aws_managed_key")


def test_vault_lock():
    inv = Inv().vault("locked", locked=True, min_retention=7, lock_date=ago(days=1)).vault("short", locked=True,
                                                                                          min_retention=3)
    inv.vault("open")
    assert verdicts("BACKUP_VAULT_LOCK_ENABLED", inv.build(), minRetentionDays=7) == [
        ("locked", "PASS", "locked"), ("short", "FAIL", "retention_too_short"), ("open", "FAIL", "not_locked")]
    assert verdicts("BACKUP_VAULT_LOCK_ENABLED", inv.build(), vaultNames=["short"], requireComplianceMode=True) == [
        ("short", "FAIL", "governance_mode")]
    assert verdicts("BACKUP_VAULT_LOCK_ENABLED", inv.build(), match="any")[2] == (
        "open", "NOT_APPLICABLE", "another_passes")
    assert verdicts("BACKUP_VAULT_LOCK_ENABLED", Inv().build()) == [("account", "NOT_APPLICABLE", "no_resources")]


def test_vault_checks_judge_the_vaults_that_hold_recovery_points():
    inv = Inv().vault("holding", points=5).vault("locked-but-empty", locked=True, min_retention=7).build()
    assert verdicts("BACKUP_VAULT_LOCK_ENABLED", inv) == [("holding", "FAIL", "not_locked")]
    assert verdicts("BACKUP_VAULT_LOCK_ENABLED", inv, vaultNames=["locked-but-empty"]) == [
        ("locked-but-empty", "PASS", "locked")]
    assert verdicts("BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED", inv) == [("holding", "FAIL", "deletion_allowed")]


def test_audit_framework():
    control = "BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED"
    assert verdicts("BACKUP_AUDIT_FRAMEWORK_DEPLOYED", Inv().framework("fw", [control]).build(),
                    requiredControls=[control]) == [("fw", "PASS", "deployed")]
    assert verdicts("BACKUP_AUDIT_FRAMEWORK_DEPLOYED", Inv().framework("fw", ["OTHER"]).build(),
                    requiredControls=[control]) == [("fw", "FAIL", "missing_controls")]
    assert verdicts("BACKUP_AUDIT_FRAMEWORK_DEPLOYED", Inv().framework("fw", [control], status="CREATE_IN_PROGRESS")
                    .build()) == [("fw", "FAIL", "not_deployed")]
    assert verdicts("BACKUP_AUDIT_FRAMEWORK_DEPLOYED", Inv().build()) == [("account", "FAIL", "no_framework")]
