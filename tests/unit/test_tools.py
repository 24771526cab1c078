"""What `lab doctor` says about the learner's aws CLI, by version."""

from __future__ import annotations

from lab.tools import aws_cli_warnings, find_tools


def test_an_aws_cli_too_old_for_aws_endpoint_url_is_flagged():
    (warning,) = aws_cli_warnings("aws-cli/1.27.3 Python/3.11.7 Linux botocore/1.29.3")
    assert "ignores AWS_ENDPOINT_URL" in warning and "1.29.0" in warning
    (warning,) = aws_cli_warnings("aws-cli/2.12.0 Python/3.11.4 Linux/6 exe/x86_64")
    assert "2.13.0" in warning


def test_a_current_v1_is_warned_about_the_services_it_sends_elsewhere():
    (warning,) = aws_cli_warnings("aws-cli/1.46.3 Python/3.11.7 Linux botocore/1.43.62")
    assert "rds" in warning and "lab env" in warning


def test_a_current_v2_and_unknown_outputs_raise_nothing():
    assert aws_cli_warnings("aws-cli/2.31.0 Python/3.13.7 Linux/6 exe/x86_64") == []
    assert aws_cli_warnings("command not found") == []
    assert aws_cli_warnings(None) == []


def test_the_labs_own_tools_are_found_beside_it():
    tools = {tool.name: tool for tool in find_tools()}
    assert tools["aws (the lab's)"].version.startswith("aws-cli/1.")
    assert tools["awslocal (the lab's)"].path.endswith("/awslocal")
    assert tools["aws (the lab's)"].warnings  # v1: the RDS/SQS endpoint warning
