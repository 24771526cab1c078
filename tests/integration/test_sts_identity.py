"""STS GetCallerIdentity names the caller as CloudTrail records the same call (STS API Reference,
API_GetCallerIdentity.html; UserId as the `aws:userid` column of the IAM User Guide's principal table,
reference_policies_variables.html#principaltable): the lab's default credentials (`lab env`) are the account's
root, an IAM user's access key is that user, assumed-role credentials are the role session. Through boto3 and
the aws CLI."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

ACCOUNT = "000000000000"


def signed_as(sandbox: Any, service: str, access_key: str, token: str | None = None, region: str = "us-east-1"):
    """A client of `service` whose requests are signed with `access_key` (the sandbox checks no secret)."""
    from lab.awsclient import client as lab_client

    made = lab_client(service, region, sandbox.endpoint)
    made._request_signer._credentials.access_key = access_key
    made._request_signer._credentials.token = token
    return made


def trail_identity(sandbox: Any, access_key: str) -> dict[str, Any]:
    """userIdentity of the GetCallerIdentity call made with `access_key`, from CloudTrail's event history."""
    events = sandbox.client("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "AccessKeyId", "AttributeValue": access_key}], MaxResults=50)["Events"]
    mine = [json.loads(e["CloudTrailEvent"]) for e in events if e["EventName"] == "GetCallerIdentity"]
    assert mine, f"no GetCallerIdentity event for {access_key}"
    return mine[0]["userIdentity"]


def test_default_credentials_are_the_account_root(sandbox):
    env = sandbox.tool_env()
    aws = Path(sys.executable).parent / "aws"
    result = subprocess.run([str(aws), "sts", "get-caller-identity", "--output", "json"], env=env,
                            capture_output=True, text=True, timeout=90, check=False)
    assert result.returncode == 0, result.stderr
    cli = json.loads(result.stdout)
    assert cli == {"UserId": ACCOUNT, "Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:root"}

    boto = sandbox.client("sts").get_caller_identity()
    assert {k: boto[k] for k in ("UserId", "Account", "Arn")} == cli
    identity = trail_identity(sandbox, env["AWS_ACCESS_KEY_ID"])
    assert (identity["type"], identity["arn"], identity["principalId"]) == ("Root", cli["Arn"], cli["UserId"])


def test_an_iam_users_key_and_an_assumed_role_are_themselves(sandbox):
    iam = sandbox.client("iam")
    user = f"sts-learner-{uuid.uuid4().hex[:8]}"
    created = iam.create_user(UserName=user)["User"]
    key = iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
    as_user = signed_as(sandbox, "sts", key).get_caller_identity()
    assert (as_user["Arn"], as_user["UserId"], as_user["Account"]) == (created["Arn"], created["UserId"], ACCOUNT)
    # IAM's unique ids: "AIDA" for a user, "AGPA" for a group, 21 upper-case letters and digits (IAM User Guide:
    # IAM identifiers, unique identifiers)
    assert re.fullmatch(r"AIDA[A-Z0-9]{17}", created["UserId"]), created["UserId"]
    group = iam.create_group(GroupName=f"sts-team-{uuid.uuid4().hex[:8]}")["Group"]
    assert re.fullmatch(r"AGPA[A-Z0-9]{17}", group["GroupId"]), group["GroupId"]
    assert as_user["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/{user}"
    identity = trail_identity(sandbox, key)
    assert (identity["type"], identity["arn"], identity["principalId"]) == ("IAMUser", as_user["Arn"],
                                                                          as_user["UserId"])

    role = f"sts-operator-{uuid.uuid4().hex[:8]}"
    role_id = iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                                                "Action": "sts:AssumeRole"}]}))["Role"]["RoleId"]
    credentials = sandbox.client("sts").assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{role}",
                                                    RoleSessionName="failover")["Credentials"]
    as_role = signed_as(sandbox, "sts", credentials["AccessKeyId"], credentials["SessionToken"]).get_caller_identity()
    assert as_role["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/failover"
    assert as_role["UserId"] == f"{role_id}:failover" and as_role["Account"] == ACCOUNT
    identity = trail_identity(sandbox, credentials["AccessKeyId"])
    assert (identity["type"], identity["arn"], identity["principalId"]) == ("AssumedRole", as_role["Arn"],
                                                                          as_role["UserId"])
