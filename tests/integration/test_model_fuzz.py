"""Every operation of the services the labs teach, called through boto3 with hostile but well-formed values
drawn from its botocore input shape (tests/integration/_model_fuzz.py), gets an AWS answer from a real sandbox:
a result, an error with a code below 500, or 501 NotImplemented for what the lab does not simulate. Never a
500, an answer botocore cannot parse, a dropped connection or a hang; and afterwards the sandbox still answers
with what it held.

Bounded: EXAMPLES seeded call(s) per operation (the same on every run), no example database; EC2's operations
are those on the lab's own resources. benchmarks/bench_model_fuzz.py runs every service with more examples.
"""

from __future__ import annotations

import pytest

from tests.conftest import quiet_sandbox
from tests.integration._model_fuzz import fuzz_client, fuzz_operation, live_names, operations

EXAMPLES = 1
SERVICES = ("s3", "dynamodb", "rds", "backup", "route53", "drs", "fis", "cloudtrail", "ebs", "sts", "cloudwatch",
            "sns", "sqs", "ec2")
# EC2's operations on what the labs hold (instances, volumes, snapshots, images, security groups, tags): its
# other 600 are moto's alone and the benchmark covers them
EC2_WORDS = ("Instance", "Volume", "Snapshot", "Image", "SecurityGroup", "Tags", "Region", "AvailabilityZone")
CANARY = ("model-fuzz-canary", "canary.txt", b"nothing the fuzz sends may change or lose this")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory, lab_env):
    with quiet_sandbox(tmp_path_factory.mktemp("model-fuzz") / "state", lab_env) as handle:
        s3 = handle.client("s3")
        s3.create_bucket(Bucket=CANARY[0])
        s3.put_object(Bucket=CANARY[0], Key=CANARY[1], Body=CANARY[2])
        yield handle


@pytest.fixture(scope="module")
def live(sandbox) -> tuple[str, ...]:
    return live_names(sandbox.endpoint)


@pytest.mark.parametrize("service", SERVICES)
def test_every_operation_answers_hostile_values_as_aws_does(sandbox, live, service):
    """No operation of `service` answers a 5xx (but 501), an unreadable answer, or nothing."""
    client = fuzz_client(service, sandbox.endpoint)
    chosen = [name for name in operations(service) if service != "ec2" or any(word in name for word in EC2_WORDS)]
    defects = [f"{outcome.operation}({str(params)[:300]}): {outcome.kind} {outcome.detail[:200]}"
               for name in chosen for outcome, params in fuzz_operation(client, name, EXAMPLES, extra=live)
               if outcome.defect]
    assert not defects, "\n".join(defects)


def test_the_sandbox_answers_and_holds_its_data_after_the_fuzz(sandbox):
    """Runs last in this module: whatever the calls above did, the canary object is read back unchanged."""
    s3 = sandbox.client("s3")
    assert s3.get_object(Bucket=CANARY[0], Key=CANARY[1])["Body"].read() == CANARY[2]
