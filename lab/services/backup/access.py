"""Vault access policies enforced: who asks (the caller CloudTrail records for the call's access key) and what
the vault's policy says to that request, with the judge's own evaluator (checks.iam_policy, Cedar), so that
the sandbox refuses exactly what the checks say is refused.

The request context carries the keys AWS sets on every call (IAM User Guide, "AWS global condition context
keys"): the caller's aws:Principal* keys, aws:SourceIp (the client's address), aws:SecureTransport (the lab's
endpoint is plain HTTP), aws:CurrentTime / aws:EpochTime (sim time), aws:RequestedRegion. Calls made with
long-term access keys carry no aws:MultiFactorAuthPresent.

The calls the sandbox makes to itself in-process are made either as an AWS service (an engine's service
principal) or, for a failure injected on purpose (the ransomware of a drill: "an access key of a build server
leaks"), as the account's IAM user whose key the lab hands out.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING

from checks import iam_policy
from lab import config
from lab.gateway import audit
from lab.kernel.engine import ApiCallRecorder

if TYPE_CHECKING:
    from lab.kernel.api import Call
    from lab.kernel.port import Sandbox

#: The AWS call being answered (set by the AWS Backup API around each operation).
CURRENT_CALL: ContextVar[Call | None] = ContextVar("backup_current_call", default=None)


def caller(sandbox: Sandbox, call: Call | None) -> iam_policy.Caller:
    """Who makes `call`, as IAM evaluates it."""
    acting_as = call.ctx.acting_as if call is not None and call.internal else None
    if call is not None and call.internal and acting_as and acting_as.endswith(".amazonaws.com"):
        return iam_policy.Caller(arn=acting_as, account="", type="AWSService", service=acting_as)
    principal = audit.DEFAULT_PRINCIPAL
    if call is not None and not call.internal:
        key = audit.access_key_of(call.ctx.headers.get("Authorization"), call.ctx.query_string)
        recorder = sandbox.engines.find(ApiCallRecorder)
        if recorder is not None:
            principal = recorder.principal_for(key)
    if principal.type == "AWSService" and principal.invoked_by:
        return iam_policy.Caller(arn=principal.invoked_by, account="", type="AWSService",
                                 service=principal.invoked_by)
    return iam_policy.Caller.of(principal.arn or f"arn:aws:iam::{config.ACCOUNT_ID}:root")


def request(sandbox: Sandbox, action: str, resource: str, region: str, now: float) -> iam_policy.Request:
    """The request `action` on `resource` that the current call makes."""
    call = CURRENT_CALL.get()
    source = "127.0.0.1"
    if call is not None and not call.internal:
        source = call.ctx.environ.get("REMOTE_ADDR") or source
    keys = iam_policy.request_keys(source_ip=source, secure=False, now=now, region=region,
                                   **{"aws:ResourceAccount": config.ACCOUNT_ID})
    return iam_policy.Request(caller(sandbox, call), action, resource, keys)


def refusal(sandbox: Sandbox, policy: str | None, action: str, resource: str, region: str,
            now: float) -> str | None:
    """AccessDeniedException's message when the vault's access policy explicitly denies the current call's
    `action` on `resource`; None when it does not."""
    if not policy:
        return None
    asked = request(sandbox, action, resource, region, now)
    try:
        verdict = iam_policy.evaluate(policy, asked)
    except iam_policy.PolicyError:
        return None  # (a stored policy was checked when it was put; one from an older lab is not enforced)
    if not verdict.denied:
        return None
    # AWS's wording ("User: <arn> is not authorized to perform: backup:<Action> on resource: <arn> with an
    # explicit deny in a resource-based policy").
    who = asked.caller.session_arn or asked.caller.arn
    return (f"User: {who} is not authorized to perform: {action} on resource: {resource} with an explicit "
            f"deny in a resource-based policy")


def policy_problem(document: str) -> str | None:
    """Why PutBackupVaultAccessPolicy refuses `document` (None: IAM would accept it)."""
    try:
        iam_policy.parse(document)
    except iam_policy.PolicyError as exc:
        return str(exc)
    return None

