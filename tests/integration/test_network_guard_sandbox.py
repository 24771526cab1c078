"""The sandbox process looks up no name off loopback: a lookup that the lab itself makes on a learner's behalf
(moto delivers an SNS message to an http subscriber with requests) is refused by the lab's guard, naming the
host, before the tests' guard -- which would record it -- or any resolver sees it."""

from __future__ import annotations

from pathlib import Path

from botocore.exceptions import ClientError

from tests.conftest import SandboxHandle, free_port


def test_a_lookup_in_the_sandbox_process_is_refused_by_the_lab_guard(tmp_path: Path, lab_env: dict[str, str]) -> None:
    record = tmp_path / "violations.txt"
    record.touch()
    handle = SandboxHandle(tmp_path / "state", free_port(), {**lab_env, "LAB_TEST_NETWORK_VIOLATIONS": str(record)})
    handle.up()
    try:
        sns = handle.client("sns")
        topic = sns.create_topic(Name="guard-probe")["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint="http://example.com/hook")
        try:
            sns.publish(TopicArn=topic, Message="to an http subscriber off this machine")
            answer = "published"
        except ClientError as exc:
            answer = str(exc)
    finally:
        handle.down()
    log = (handle.state_dir / "sandbox.log").read_text()
    assert "the lab refused to look up 'example.com'" in log, (answer, log[-3000:])
    assert record.read_text() == "", "the lookup got past the lab's guard to the tests' guard"
