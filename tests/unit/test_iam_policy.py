"""The IAM policy evaluator (checks.iam_policy, on Cedar) against a table of cases from AWS's documentation
and the cases issue 15 reports. Each case names the page of the IAM User Guide it comes from."""

from __future__ import annotations

import fnmatch
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checks import iam_policy as iam

ACCOUNT = "000000000000"
ROOT = iam.Caller.of(f"arn:aws:iam::{ACCOUNT}:root")
USER = iam.Caller.of(f"arn:aws:iam::{ACCOUNT}:user/moto")
ROLE = iam.Caller.of(f"arn:aws:iam::{ACCOUNT}:role/breakglass")
OTHER_ROLE = iam.Caller.of(f"arn:aws:iam::{ACCOUNT}:role/builder")
SERVICE = iam.Caller.of("backup.amazonaws.com")
POINT = f"arn:aws:backup:us-east-1:{ACCOUNT}:recovery-point:8f1e6b2a-1111-2222-3333-444455556666"
EBS_POINT = "arn:aws:ec2:us-east-1::snapshot/snap-0123456789abcdef0"
DELETE = "backup:DeleteRecoveryPoint"
KEYS = iam.request_keys(source_ip="127.0.0.1", secure=False, now=1_800_000_000, region="us-east-1")
DENIED, NOT_ALLOWED, ALLOWED = (iam.Decision.EXPLICIT_DENY, iam.Decision.IMPLICIT_DENY, iam.Decision.ALLOWED)


def policy(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def deny(**fields) -> dict:
    statement = {"Effect": "Deny", "Principal": "*", "Action": DELETE, "Resource": "*"}
    statement.update(fields)
    return {key: value for key, value in statement.items() if value is not None}


def decide(document: dict, caller: iam.Caller = ROOT, action: str = DELETE, resource: str = POINT,
           **keys) -> iam.Decision:
    return iam.evaluate(document, iam.Request(caller, action, resource, {**KEYS, **keys})).decision


CASES = [
    # "IAM JSON policy elements: Action": names are case-insensitive, * and ? match within them.
    ("action exact", policy(deny()), ROOT, DENIED),
    ("issue 15: DeleteRecovery* is a valid wildcard", policy(deny(Action="backup:DeleteRecovery*")), ROOT, DENIED),
    ("action case-insensitive", policy(deny(Action="BACKUP:deleterecoverypoint")), ROOT, DENIED),
    ("action ? wildcard", policy(deny(Action="backup:Delete?ecoveryPoin?")), ROOT, DENIED),
    ("action * and ?", policy(deny(Action="backup:*Recovery?oint")), ROOT, DENIED),
    ("other action", policy(deny(Action="backup:DeleteBackupVault*")), ROOT, NOT_ALLOWED),
    ("action list", policy(deny(Action=["backup:StartBackupJob", "backup:Delete*"])), ROOT, DENIED),
    ("all actions", policy(deny(Action="*")), ROOT, DENIED),
    ("backup:*", policy(deny(Action="backup:*")), ROOT, DENIED),
    # "IAM JSON policy elements: NotAction": everything except what is listed.
    ("NotAction excluding reads", policy(deny(Action=None, NotAction="backup:Describe*")), ROOT, DENIED),
    ("NotAction excluding deletes", policy(deny(Action=None, NotAction=["backup:Delete*", "backup:List*"])),
     ROOT, NOT_ALLOWED),
    # "IAM JSON policy elements: Principal": an account ID stands for the account, so every principal in it.
    ("Principal *", policy(deny(Principal="*")), USER, DENIED),
    ("Principal AWS *", policy(deny(Principal={"AWS": "*"})), USER, DENIED),
    ("Principal account id", policy(deny(Principal={"AWS": ACCOUNT})), USER, DENIED),
    ("Principal account root ARN", policy(deny(Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"})), ROLE, DENIED),
    ("Principal one role", policy(deny(Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:role/builder"})), ROLE,
     NOT_ALLOWED),
    ("Principal the role covers its sessions",
     policy(deny(Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:role/breakglass"})), ROLE, DENIED),
    ("Principal another account", policy(deny(Principal={"AWS": "111122223333"})), USER, NOT_ALLOWED),
    ("Principal a service", policy(deny(Principal={"Service": "backup.amazonaws.com"})), SERVICE, DENIED),
    ("Principal AWS does not name a service", policy(deny(Principal={"AWS": ACCOUNT})), SERVICE, NOT_ALLOWED),
    # "IAM JSON policy elements: NotPrincipal": the account, then the user or role, are each checked.
    ("NotPrincipal exempts the root",
     policy(deny(Principal=None, NotPrincipal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"})), ROOT, NOT_ALLOWED),
    ("NotPrincipal naming the account does not exempt its users",
     policy(deny(Principal=None, NotPrincipal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"})), USER, DENIED),
    ("NotPrincipal naming a role and its account exempts its sessions",
     policy(deny(Principal=None, NotPrincipal={"AWS": [f"arn:aws:iam::{ACCOUNT}:root",
                                                        f"arn:aws:iam::{ACCOUNT}:role/breakglass"]})),
     ROLE, NOT_ALLOWED),
    ("NotPrincipal naming the role alone still denies it (its account is checked first)",
     policy(deny(Principal=None, NotPrincipal={"AWS": f"arn:aws:iam::{ACCOUNT}:role/breakglass"})), ROLE, DENIED),
    ("NotPrincipal exempting one role denies another",
     policy(deny(Principal=None, NotPrincipal={"AWS": [ACCOUNT, f"arn:aws:iam::{ACCOUNT}:role/breakglass"]})),
     OTHER_ROLE, DENIED),
    # "IAM JSON policy elements: Resource" / "NotResource": * and ? match, case-sensitively.
    ("Resource recovery points", policy(deny(Resource=f"arn:aws:backup:*:{ACCOUNT}:recovery-point:*")), ROOT, DENIED),
    ("Resource case-sensitive", policy(deny(Resource="arn:aws:backup:*:*:RECOVERY-POINT:*")), ROOT, NOT_ALLOWED),
    ("Resource ? per character", policy(deny(Resource="arn:aws:backup:us-east-?:*")), ROOT, DENIED),
    ("Resource of another kind", policy(deny(Resource="arn:aws:backup:*:*:recovery-point:*")),
     ROOT, NOT_ALLOWED, EBS_POINT),
    ("NotResource excluding the point",
     policy(deny(Resource=None, NotResource=f"arn:aws:backup:us-east-1:{ACCOUNT}:recovery-point:*")),
     ROOT, NOT_ALLOWED),
    ("NotResource excluding something else", policy(deny(Resource=None, NotResource="arn:aws:s3:::*")), ROOT, DENIED),
    ("Resource with a policy variable",
     policy(deny(Resource="arn:aws:backup:us-east-1:${aws:PrincipalAccount}:recovery-point:*")), ROOT, DENIED),
    # "Policy evaluation logic": an explicit Deny wins; nothing applying is not an allow.
    ("Allow alone", policy({"Effect": "Allow", "Principal": "*", "Action": "backup:*", "Resource": "*"}), ROOT,
     ALLOWED),
    ("Deny beats Allow", policy({"Effect": "Allow", "Principal": "*", "Action": "backup:*", "Resource": "*"}, deny()),
     ROOT, DENIED),
    ("nothing applies", policy({"Effect": "Allow", "Principal": "*", "Action": "backup:List*", "Resource": "*"}),
     ROOT, NOT_ALLOWED),
    # "Condition operators" (and re:Post "How can I set up an AWS Backup vault access policy?": a Deny for
    # everyone except the named users).
    ("issue 15: ArnNotEquals exempts the break-glass role, not root",
     policy(deny(Condition={"ArnNotEquals": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/breakglass"}})),
     ROOT, DENIED),
    ("issue 15: ... and lets the break-glass role through",
     policy(deny(Condition={"ArnNotEquals": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/breakglass"}})),
     ROLE, NOT_ALLOWED),
    ("ArnNotLike with wildcards per component",
     policy(deny(Condition={"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/break*"}})), ROLE, NOT_ALLOWED),
    ("ArnLike does not let * cross a colon",
     policy(deny(Condition={"ArnLike": {"aws:PrincipalArn": "arn:aws:*:root"}})), ROOT, NOT_ALLOWED),
    ("StringNotEquals aws:userid (AWS's re:Post example)",
     policy(deny(Condition={"StringNotEquals": {"aws:userId": ["AROAEXAMPLE:breakglass"]}})), ROOT, DENIED),
    ("StringLike with ?",
     policy(deny(Condition={"StringLike": {"aws:PrincipalArn": "arn:aws:iam::????????????:root"}})), ROOT, DENIED),
    ("StringLike too short for its ?",
     policy(deny(Condition={"StringLike": {"aws:PrincipalArn": "arn:aws:iam::???:root"}})), ROOT, NOT_ALLOWED),
    ("StringEquals is exact, * is literal", policy(deny(Condition={"StringEquals": {"aws:PrincipalType": "*"}})),
     ROOT, NOT_ALLOWED),
    ("StringEqualsIgnoreCase", policy(deny(Condition={"StringEqualsIgnoreCase": {"aws:PrincipalType": "ACCOUNT"}})),
     ROOT, DENIED),
    ("condition key names are case-insensitive",
     policy(deny(Condition={"StringEquals": {"AWS:PRINCIPALACCOUNT": ACCOUNT}})), ROOT, DENIED),
    ("missing key: Bool is false (access keys carry no MFA key)",
     policy(deny(Condition={"Bool": {"aws:MultiFactorAuthPresent": "false"}})), ROOT, NOT_ALLOWED),
    ("missing key: BoolIfExists matches",
     policy(deny(Condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}})), ROOT, DENIED),
    ("missing key: a negated operator is true",
     policy(deny(Condition={"StringNotLike": {"aws:username": "admin*"}})), ROOT, DENIED),
    ("Null true: the key is absent", policy(deny(Condition={"Null": {"aws:MultiFactorAuthPresent": "true"}})),
     ROOT, DENIED),
    ("Null false: the key is present", policy(deny(Condition={"Null": {"aws:SourceIp": "false"}})), ROOT, DENIED),
    ("IpAddress outside the range", policy(deny(Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})), ROOT,
     NOT_ALLOWED),
    ("NotIpAddress outside the range", policy(deny(Condition={"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}})),
     ROOT, DENIED),
    ("IpAddress single address", policy(deny(Condition={"IpAddress": {"aws:SourceIp": "127.0.0.1"}})), ROOT, DENIED),
    ("Bool SecureTransport false (the lab's HTTP)", policy(deny(Condition={"Bool": {"aws:SecureTransport": "false"}})),
     ROOT, DENIED),
    ("DateGreaterThan", policy(deny(Condition={"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}})),
     ROOT, DENIED),
    ("DateLessThan", policy(deny(Condition={"DateLessThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}})), ROOT,
     NOT_ALLOWED),
    ("Date as epoch seconds", policy(deny(Condition={"DateGreaterThanEquals": {"aws:CurrentTime": "1800000000"}})),
     ROOT, DENIED),
    ("NumericLessThan", policy(deny(Condition={"NumericLessThan": {"aws:EpochTime": "1900000000"}})), ROOT, DENIED),
    ("NumericEquals", policy(deny(Condition={"NumericEquals": {"aws:EpochTime": "1800000000.0"}})), ROOT, DENIED),
    ("several keys are ANDed",
     policy(deny(Condition={"StringEquals": {"aws:PrincipalAccount": ACCOUNT, "aws:PrincipalType": "User"}})),
     ROOT, NOT_ALLOWED),
    ("values of one key are ORed",
     policy(deny(Condition={"StringEquals": {"aws:PrincipalType": ["User", "Account"]}})), ROOT, DENIED),
    # "Multivalued context keys": ForAllValues is true for a missing key, ForAnyValue false.
    ("ForAnyValue, key missing", policy(deny(Condition={"ForAnyValue:StringEquals": {"aws:TagKeys": ["x"]}})),
     ROOT, NOT_ALLOWED),
    ("ForAllValues, key missing", policy(deny(Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["x"]}})),
     ROOT, DENIED),
]


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_evaluation_follows_iam(case):
    _, document, caller, expected, *resource = case
    assert decide(document, caller, resource=resource[0] if resource else POINT) is expected


def test_multivalued_keys():
    any_x = policy(deny(Condition={"ForAnyValue:StringLike": {"aws:TagKeys": ["env*"]}}))
    assert decide(any_x, **{"aws:TagKeys": ["app", "environment"]}) is DENIED
    assert decide(any_x, **{"aws:TagKeys": ["app"]}) is NOT_ALLOWED
    all_x = policy(deny(Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["app", "env"]}}))
    assert decide(all_x, **{"aws:TagKeys": ["app"]}) is DENIED
    assert decide(all_x, **{"aws:TagKeys": ["app", "owner"]}) is NOT_ALLOWED
    assert decide(all_x, **{"aws:TagKeys": []}) is DENIED


def test_the_policy_as_a_string_and_a_single_statement():
    text = json.dumps({"Version": "2012-10-17", "Statement": deny()})
    assert decide(json.loads(text)) is DENIED
    assert iam.evaluate(text, iam.Request(ROOT, DELETE, POINT, KEYS)).denied


@pytest.mark.parametrize(("document", "says"), [
    ("{not json", "not valid JSON"),
    ({"Statement": []}, "needs a Statement"),
    (policy({"Effect": "Maybe", "Principal": "*", "Action": DELETE}), "Effect must be Allow or Deny"),
    (policy({"Effect": "Deny", "Principal": "*"}), "needs Action"),
    (policy({"Effect": "Deny", "Principal": "*", "Action": DELETE, "NotAction": "x:y"}), "either Action or NotAction"),
    (policy(deny(Principal={"AWS": "arn:aws:iam::*:role/admin"})), "wildcard cannot match part of a principal"),
    (policy(deny(Condition={"StringEqualz": {"aws:userid": "x"}})), "unknown condition operator 'StringEqualz'"),
    (policy(deny(Condition={"NumericLessThan": {"aws:EpochTime": "soon"}})), "not a number"),
    (policy(deny(Condition={"IpAddress": {"aws:SourceIp": "10.0.0.300/8"}})), "not an IP address"),
    (policy(deny(Action="DeleteRecoveryPoint")), "is not service:action"),
    (policy({"Effect": "Allow", "NotPrincipal": {"AWS": ACCOUNT}, "Action": DELETE}), "NotPrincipal may only"),
])
def test_policies_iam_refuses_say_why(document, says):
    with pytest.raises(iam.PolicyError, match=says):
        iam.parse(document)


def test_explain_names_what_keeps_each_statement_from_applying():
    document = policy(deny(Sid="DenyFromOffice", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
                      deny(Sid="DenyBuild", Action="backup:StartBackupJob"),
                      deny(Sid="Exempt", Principal=None, NotPrincipal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"}))
    request = iam.Request(ROOT, DELETE, POINT, KEYS)
    traces = {trace.statement.label: trace.reasons(request) for trace in iam.explain(document, request)}
    assert traces == {
        "statement DenyFromOffice": ['its condition IpAddress {aws:SourceIp: "10.0.0.0/8"} does not hold '
                                     '(aws:SourceIp is "127.0.0.1")'],
        "statement DenyBuild": [f"its Action (backup:StartBackupJob) does not cover {DELETE}"],
        "statement Exempt": [f"its NotPrincipal exempts the account's root (arn:aws:iam::{ACCOUNT}:root)"],
    }


def test_policy_variables_and_escapes():
    own = policy(deny(Condition={"StringEquals": {"aws:username": "${aws:username}"}}))
    assert decide(own, USER) is DENIED
    assert decide(own, ROOT) is NOT_ALLOWED  # root has no aws:username, so the variable cannot be filled
    literal_star = policy(deny(Condition={"StringLike": {"aws:PrincipalType": "${*}"}}))
    assert decide(literal_star) is NOT_ALLOWED  # ${*} is a literal asterisk
    old = {"Version": "2008-10-17", "Statement": [deny(Resource="arn:aws:backup:${aws:RequestedRegion}:*")]}
    assert decide(old) is NOT_ALLOWED  # no policy variables before 2012-10-17


def test_strings_that_are_not_plain_ascii_are_quoted_for_cedar():
    document = policy(deny(Condition={"StringEquals": {"aws:username": ['a"b\\c', "ünï\n"]}}))
    assert decide(document, iam.Caller.of(f"arn:aws:iam::{ACCOUNT}:user/x"), **{"aws:username": "ünï\n"}) is DENIED


@settings(max_examples=300, deadline=None)
@given(pattern=st.text(alphabet="ab*?:", max_size=8), value=st.text(alphabet="ab:*", max_size=8))
def test_wildcards_match_as_glob(pattern, value):
    """Cedar's `like` plus the lab's `?` expansion agree with a plain glob on every pattern and value."""
    document = policy(deny(Condition={"StringLike": {"aws:username": pattern}}))
    got = decide(document, USER, **{"aws:username": value}) is DENIED
    assert got == fnmatch.fnmatchcase(value, pattern.replace("[", "[[]")), (pattern, value)
