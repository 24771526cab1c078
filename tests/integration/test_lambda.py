"""AWS Lambda in the sandbox: functions are kept; their code runs only where Docker does."""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError

from tests.integration._lambda import echo_package, lambda_role


def docker_answers() -> bool:
    """Whether a Docker daemon answers here (the backend runs functions in it)."""
    import docker

    try:
        docker.from_env(timeout=5).ping()
    except Exception:  # noqa: BLE001 -- no daemon, no socket, no permission: all mean no Docker for the backend
        return False
    return True


HAS_DOCKER = docker_answers()


@pytest.mark.skipif(HAS_DOCKER, reason="this machine has Docker: the backend runs the function's code in it")
def test_invoke_without_docker_says_the_code_did_not_run(sandbox):
    """moto answered 200 with FunctionError Handled and its Docker client's error as the payload."""
    role = lambda_role(sandbox.client("iam"))
    awslambda = sandbox.client("lambda")
    name = f"failover-{uuid.uuid4().hex[:8]}"
    awslambda.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="index.handler",
                              Code={"ZipFile": echo_package()})
    with pytest.raises(ClientError) as refused:
        awslambda.invoke(FunctionName=name, Payload=b"{}")
    error = refused.value.response
    # (the sandbox's not-implemented answer in a JSON protocol: never retried by SDKs)
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == ("UnknownOperationException", 400)
    assert "Docker" in error["Error"]["Message"] and "did not run" in error["Error"]["Message"]
    assert awslambda.get_function(FunctionName=name)["Configuration"]["FunctionName"] == name


def test_a_function_needs_a_role_lambda_can_assume(sandbox):
    """Lambda refuses CreateFunction (and UpdateFunctionConfiguration) with a role that does not exist or whose
    trust policy does not let lambda.amazonaws.com assume it: InvalidParameterValueException, "The role defined for
    the function cannot be assumed by Lambda." (moto accepted any role)."""
    awslambda = sandbox.client("lambda")
    trusting_s3 = lambda_role(sandbox.client("iam"), service="s3.amazonaws.com")
    for role in (trusting_s3, "arn:aws:iam::000000000000:role/no-such-role"):
        with pytest.raises(ClientError) as refused:
            awslambda.create_function(FunctionName=f"nope-{uuid.uuid4().hex[:8]}", Runtime="python3.12", Role=role,
                                      Handler="index.handler", Code={"ZipFile": echo_package()})
        assert refused.value.response["Error"]["Code"] == "InvalidParameterValueException"
        assert refused.value.response["Error"]["Message"] == "The role defined for the function cannot be assumed " \
                                                             "by Lambda."
