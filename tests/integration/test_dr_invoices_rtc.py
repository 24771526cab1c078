"""The invoices' replication rule of the DR-strategy labs 10-12 uses S3 Replication Time Control: the rule their
aws CLI reference scripts and their texts write goes through the aws CLI to the sandbox, and the labs' judge
(S3_BUCKET_REPLICATION_ENABLED with replicationTimeControl) passes it. Without RTC S3 promises no replication
time, and the labs' RPO targets (15, 5 and 1 minutes) are missed at random (S3 User Guide: Meeting compliance
requirements with S3 Replication Time Control). The boto3 reference scripts are played by test_labs.py and the
near miss without RTC by the corpus (tests/corpus/11-dr-warm-standby)."""

from __future__ import annotations

import re
import subprocess

import pytest

from lab import exercises, grading
from lab.commands.exercises import solution_environment
from tests.integration._lab_rounds import LabWorld, world

pytestmark = pytest.mark.integration
__all__ = ["world"]  # the fixture, imported for pytest

RTC_LABS = ("10-dr-pilot-light", "11-dr-warm-standby", "12-dr-active-active")
SOURCE = "securecart-invoices-use1"
#: what the reference script needs of itself to run its replicate_invoices: the aws wrapper and the account
PIECES = r'/^aws() /p; /^ACCOUNT=/p; /^replicate_invoices() {/,/^}/p'


def shell(world: LabWorld, script: str) -> str:
    """Run `script` with bash as a learner's shell after `eval "$(lab env)"`; its output."""
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], env=solution_environment(world.endpoint),
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, f"{script}\nexited {result.returncode}: {result.stderr}"
    return result.stdout


def replication_outcome(world: LabWorld, lab_id: str) -> grading.CheckOutcome:
    exercise = exercises.load(lab_id)
    report = grading.evaluate(exercise, world.inventory([lab_id]), phase="configure")
    return next(o for o in report.outcomes() if o.check_id == "S3_BUCKET_REPLICATION_ENABLED")


def text_snippet(lab_id: str) -> str:
    """The aws CLI command of the lab's text that puts the invoices' replication rule."""
    text = exercises.load(lab_id).steps[0].instructions_md
    blocks = re.findall(r"```bash\n(.*?)```", text, re.S)
    return next(block for block in blocks if "put-bucket-replication" in block)


@pytest.mark.parametrize("lab_id", RTC_LABS)
def test_cli_rule_with_rtc_passes_the_labs_judge(world: LabWorld, lab_id: str) -> None:
    world.reset()
    solution = exercises.REPO_EXERCISES_DIR / "solutions" / lab_id / "solve.sh"
    shell(world, f"eval \"$(sed -n '{PIECES}' {solution})\"\nreplicate_invoices")
    rule = shell(world, f'aws --endpoint-url "$AWS_ENDPOINT_URL" s3api get-bucket-replication --bucket {SOURCE} '
                        "--query 'ReplicationConfiguration.Rules[0].Destination' --output json")
    assert '"ReplicationTime"' in rule and '"EventThreshold"' in rule, rule
    outcome = replication_outcome(world, lab_id)
    assert outcome.params.get("replicationTimeControl") is True
    assert outcome.status == "PASS", outcome.message
    assert outcome.results[0].evidence["replication_time_control"] is True

    # The text's own command (the role is the one the script made) puts the same rule again
    shell(world, 'aws() { command aws --endpoint-url "$AWS_ENDPOINT_URL" "$@"; }\n' + text_snippet(lab_id))
    assert replication_outcome(world, lab_id).status == "PASS"
