"""STS, where the lab knows more than the backend: GetCallerIdentity answers who the caller is as CloudTrail
records it (lab.services.cloudtrail: the principal each access key was issued to). moto names every caller it
does not know `user/moto`; the lab's default credentials (`lab env`) are the account's root, so the same call
showed one identity in its answer and another in the trail. Every other STS operation is moto's."""

from __future__ import annotations

from lab import config
from lab.gateway import audit
from lab.kernel.api import BackendAnswer, Call, Output, ServiceApi
from lab.kernel.engine import ApiCallRecorder


class StsApi(ServiceApi):
    service = "sts"

    def op_GetCallerIdentity(self, call: Call) -> Output | BackendAnswer:
        """STS API Reference, GetCallerIdentity (API_GetCallerIdentity.html): Account, Arn, and UserId as the
        `aws:userid` column of the IAM User Guide's principal table gives it (reference_policies_variables.html
        #principaltable): the account id for the root user, the user's unique id (AIDA...) for an IAM user,
        `role-id:session-name` (AROA...:name) for an assumed role."""
        recorder = self.sandbox.engines.find(ApiCallRecorder)
        if call.internal or recorder is None:
            return call.backend_answer()
        ctx = call.ctx
        access_key = audit.access_key_of(ctx.headers.get("Authorization"), ctx.query_string)
        principal = recorder.principal_for(access_key)
        if not principal.arn or not principal.principal_id:
            return call.backend_answer()  # a caller the trail knows only in part: the backend's own answer
        return {"UserId": principal.principal_id, "Account": config.ACCOUNT_ID, "Arn": principal.arn}
