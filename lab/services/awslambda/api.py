"""AWS Lambda: the backend (moto) keeps functions, versions and aliases, and runs a function's code in a Docker
container of its runtime.

- On a machine without Docker the backend answered Invoke with HTTP 200, FunctionError "Handled" and the Docker
  client's own error as the payload (not JSON): a script took that for the function's answer. The sandbox
  answers that it does not implement running the code here, saying why.
- A function's execution role must exist and trust lambda.amazonaws.com (the backend took any ARN): Lambda's
  InvalidParameterValueException "The role defined for the function cannot be assumed by Lambda.", judged by
  the trust policy's own evaluation (checks.iam_policy)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from checks import iam_policy
from lab.gateway import audit
from lab.kernel.api import BackendAnswer, Call, ServiceApi
from lab.kernel.errors import AwsError, NotSimulatedError

_DOCKER_FAILED = b"error running docker"
SERVICE_PRINCIPAL = "lambda.amazonaws.com"
CANNOT_ASSUME = "The role defined for the function cannot be assumed by Lambda."


class LambdaApi(ServiceApi):
    service = "lambda"

    def check(self, call: Call) -> None:
        if call.identity.operation in ("CreateFunction", "UpdateFunctionConfiguration") and call.params.get("Role"):
            self._require_assumable(str(call.params["Role"]))

    def _require_assumable(self, role_arn: str) -> None:
        name = role_arn.rsplit("/", 1)[-1] if ":role/" in role_arn else ""
        try:
            with audit.unrecorded():
                role = self.sandbox.client("iam").get_role(RoleName=name)["Role"] if name else None
        except ClientError:
            role = None
        trust = (role or {}).get("AssumeRolePolicyDocument")
        request = iam_policy.Request(iam_policy.Caller.of(SERVICE_PRINCIPAL), "sts:AssumeRole", role_arn)
        try:
            allowed = trust is not None and iam_policy.evaluate(trust, request).decision is iam_policy.Decision.ALLOWED
        except iam_policy.PolicyError:
            allowed = False
        if not allowed:
            raise AwsError("InvalidParameterValueException", CANNOT_ASSUME)

    def op_Invoke(self, call: Call) -> dict[str, Any] | BackendAnswer:
        answer = call.forward()
        payload = answer.get("Payload")
        body = payload.read() if hasattr(payload, "read") else payload
        if answer.get("FunctionError") and isinstance(body, bytes) and body.startswith(_DOCKER_FAILED):
            raise NotSimulatedError(
                f"Invoke of {str(call.params.get('FunctionName'))[:200]}: the sandbox runs a function's code in a "
                "Docker container of its runtime, and Docker is not available on this machine, so the code did not "
                "run (the function, its versions and aliases are kept). Install and start Docker to run it.")
        return call.backend_answer()
