"""AWS Lambda: the backend (moto) keeps functions, versions and aliases, and runs a function's code in a Docker
container of its runtime. On a machine without Docker it answered Invoke with HTTP 200, FunctionError "Handled"
and the Docker client's own error as the payload (not JSON): a script took that for the function's answer. The
sandbox answers NotImplemented instead, saying that the code did not run and why."""

from __future__ import annotations

from typing import Any

from lab.kernel.api import BackendAnswer, Call, ServiceApi
from lab.kernel.errors import NotSimulatedError

_DOCKER_FAILED = b"error running docker"


class LambdaApi(ServiceApi):
    service = "lambda"

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
