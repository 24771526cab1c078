"""LocalStack host mode without LocalStack running: choosing the mode, its environment, the install marker,
the name-lookup guard its process runs under, and the setup script's answer when no Python 3.12+ exists.
(tests/localstack runs LocalStack itself.)"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from lab.backends import localstack_host
from lab.backends.localstack import choose_mode
from lab.backends.support import unsupported_error
from lab.errors import LabError

ROOT = Path(__file__).resolve().parents[2]


def test_without_a_token_localstack_runs_in_host_mode():
    assert choose_mode({}) == ("host", "LOCALSTACK_AUTH_TOKEN is not set")


def test_with_a_token_but_no_docker_engine_localstack_runs_in_host_mode(tmp_path):
    environ = {"LOCALSTACK_AUTH_TOKEN": "ls-test", "DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"}
    assert choose_mode(environ) == ("host", "no Docker engine answers")


def test_the_mode_can_be_chosen():
    assert choose_mode({"LAB_LOCALSTACK_MODE": "docker"}) == ("docker", "")
    assert choose_mode({"LAB_LOCALSTACK_MODE": "host", "LOCALSTACK_AUTH_TOKEN": "x"})[0] == "host"
    with pytest.raises(LabError, match="LAB_LOCALSTACK_MODE='podman' is none of auto, docker, host"):
        choose_mode({"LAB_LOCALSTACK_MODE": "podman"})


def _installation(tmp_path: Path, dynamodb: str = "ready") -> localstack_host.Installation:
    return localstack_host.Installation(venv=tmp_path, python="/usr/bin/python3.13", dynamodb=dynamodb,
                                        install_seconds=1.0)


def test_localstack_runs_on_loopback_with_nothing_of_the_users_aws_setup(tmp_path):
    base = {"PATH": "/usr/bin", "AWS_ACCESS_KEY_ID": "AKIAREAL", "AWS_PROFILE": "prod",
            "LOCALSTACK_AUTH_TOKEN": "ls-secret", "SERVICES": "lambda", "DOCKER_HOST": "tcp://10.0.0.2:2375"}
    env = localstack_host.localstack_environment(port=4599, files=tmp_path / "fs", public_port=4566,
                                                 installation=_installation(tmp_path), base=base)
    assert env["GATEWAY_LISTEN"] == "127.0.0.1:4599"
    assert env["OVERRIDE_IN_DOCKER"] == "0" and env["GATEWAY_SERVER"] == "hypercorn"
    assert env["DNS_ADDRESS"] == "0" and env["DISABLE_EVENTS"] == "1" and env["SKIP_SSL_CERT_DOWNLOAD"] == "1"
    assert env["LOCALSTACK_HOST"] == "localhost.localstack.cloud:4566"  # URLs in answers name the lab
    assert env["FILESYSTEM_ROOT"] == str(tmp_path / "fs")
    assert env["CONFIG_DIR"].startswith(str(tmp_path))
    assert env["PATH"] == "/usr/bin"
    for leaked in ("AWS_ACCESS_KEY_ID", "AWS_PROFILE", "LOCALSTACK_AUTH_TOKEN", "DOCKER_HOST"):
        assert leaked not in env
    services = env["SERVICES"].split(",")
    assert {"s3", "iam", "sts", "ec2", "dynamodb"} <= set(services)
    assert "lambda" not in services and "opensearch" not in services  # they would download packages


def test_without_dynamodb_local_its_service_stays_off(tmp_path):
    env = localstack_host.localstack_environment(
        port=4599, files=tmp_path, public_port=None, base={},
        installation=_installation(tmp_path, dynamodb="no JDK found (javac; install openjdk-17-jdk-headless)"))
    assert "dynamodb" not in env["SERVICES"].split(",")
    assert env["LOCALSTACK_HOST"] == "localhost.localstack.cloud:4599"


def test_an_installation_counts_only_when_it_matches_the_lock(tmp_path):
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python").write_text("")
    assert localstack_host.installed(tmp_path) is None  # no marker: an install that never finished
    marker = tmp_path / localstack_host.MARKER
    marker.write_text("stamp=0000\npython=/x/python3.13\ndynamodb=ready\ninstall_seconds=12\n")
    assert localstack_host.installed(tmp_path) is None  # made from another lock
    marker.write_text(f"stamp={localstack_host.expected_stamp()}\npython=/x/python3.13\ndynamodb=ready\n"
                      "install_seconds=12\n")
    found = localstack_host.installed(tmp_path)
    assert found is not None and found.dynamodb_ready and found.install_seconds == 12.0
    assert found.interpreter == tmp_path / "bin" / "python"


def test_the_marker_stamp_is_the_one_the_setup_script_writes():
    # scripts/setup-localstack: cat "${STAMP_FILES[@]}" | sha256sum
    files = [str(path) for path in localstack_host.STAMP_FILES]
    shell = subprocess.run(["bash", "-c", 'cat "$@" | sha256sum', "_", *files], capture_output=True, text=True,
                           check=True)
    assert shell.stdout.split()[0] == localstack_host.expected_stamp()
    script = (ROOT / "scripts" / "setup-localstack").read_text()
    for path in localstack_host.STAMP_FILES:
        assert str(path.relative_to(ROOT)) in script


def test_setup_script_says_what_is_missing_without_python_312(tmp_path):
    fake = tmp_path / "python3.11"
    fake.write_text(f"#!/bin/sh\nexec {sys.executable} \"$@\"\n")  # the lab's own Python: 3.11
    fake.chmod(0o755)
    if sys.version_info[:2] >= (3, 12):
        pytest.skip("this test needs the lab to run on Python 3.11, to have a Python that is too old")
    result = subprocess.run([str(ROOT / "scripts" / "setup-localstack"), "--find-python"], capture_output=True,
                            text=True, env={"PATH": "/usr/bin:/bin", "LAB_LOCALSTACK_PYTHON": str(fake)},
                            timeout=60, check=False)
    assert result.returncode == localstack_host.NO_PYTHON_EXIT
    assert "is not Python 3.12 or 3.13" in result.stderr


def test_name_lookups_off_loopback_are_refused_at_once():
    """The guard LocalStack's boot installs (lab/backends/localstack_boot.py) answers its loopback names itself."""
    code = (
        "import socket, time\n"
        "from lab.safety import install_network_guard\n"
        "install_network_guard()\n"
        "print(socket.getaddrinfo('localhost.localstack.cloud', 443)[0][4][0])\n"
        "print(socket.gethostbyname('bucket.localhost'))\n"
        "print(socket.getaddrinfo('127.0.0.1', 80)[0][4][0])\n"
        "started = time.monotonic()\n"
        "try:\n"
        "    socket.getaddrinfo('github.com', 443)\n"
        "except socket.gaierror as exc:\n"
        "    print('refused', round(time.monotonic() - started, 3), exc)\n"
    )
    started = time.monotonic()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, cwd=ROOT,
                         check=False)
    lines = out.stdout.splitlines()
    assert lines[:3] == ["127.0.0.1", "127.0.0.1", "127.0.0.1"], out.stderr
    assert lines[3].startswith("refused") and "github.com" in lines[3]
    assert float(lines[3].split()[1]) < 0.5 and time.monotonic() - started < 30


def _client_error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}},
                       "Op")


def test_unsupported_means_the_service_is_not_there():
    # LocalStack's free build: "The API for service rds is either not included in your current license plan".
    assert unsupported_error(_client_error("InternalFailure", 501))
    assert unsupported_error(_client_error("NotImplemented", 501))
    assert unsupported_error(_client_error("UnknownOperationException", 400))
    assert not unsupported_error(_client_error("InternalFailure", 500))  # a failure, not an absence
    assert not unsupported_error(_client_error("ResourceNotFoundException", 400))


RUNNABLE_ON_LOCALSTACK = {"02-s3-crr", "04-dynamodb-pitr-global", "05-ebs-snapshots", "08-backup-monitoring"}


def test_the_static_doctor_report_for_localstack_counts_the_labs_engines():
    from lab.doctor import static_report

    report = static_report("localstack")
    assert report["services"]["rds"]["status"] == "unsupported"
    backup = report["services"]["backup"]
    assert backup["status"] == "supported" and "the lab's own backup engine" in backup["detail"]
    # the same labs tests/localstack runs with their reference solutions
    assert {lab for lab, info in report["labs"].items() if info["runnable"]} == RUNNABLE_ON_LOCALSTACK
