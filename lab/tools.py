"""The learner's command-line tools: which aws CLI and awslocal `lab env` and the labs use, and what to know
about them. The lab installs both into its own environment (beside the `lab` command); another aws on PATH
is reported too, since that is the one a plain `aws` runs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# AWS_ENDPOINT_URL is read by the aws CLI from 1.29.0 (v1) and 2.13.0 (v2): AWS SDKs and tools reference,
# "Service-specific endpoints" (docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html).
_ENDPOINT_URL_SINCE = {1: (1, 29, 0), 2: (2, 13, 0)}
# Seen with aws-cli 1.46 (botocore 1.43): RDS in us-east-1 and SQS still go to AWS's global endpoints
# (rds.amazonaws.com, queue.amazonaws.com) although AWS_ENDPOINT_URL is set.
_V1_IGNORES = "rds (in us-east-1), sqs"
_VERSION = re.compile(r"aws-cli/(\d+)\.(\d+)\.(\d+)")


@dataclass(frozen=True)
class Tool:
    name: str
    path: str | None
    version: str | None
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def lab_bin() -> Path:
    """Where the lab's own tools are installed: beside this Python (the lab's venv)."""
    return Path(sys.executable).parent


def own_tool(name: str) -> str | None:
    candidate = lab_bin() / name
    return str(candidate) if candidate.is_file() and os.access(candidate, os.X_OK) else None


def aws_cli_warnings(version: str | None) -> list[str]:
    match = _VERSION.search(version or "")
    if match is None:
        return []
    major, minor, patch = (int(part) for part in match.groups())
    since = _ENDPOINT_URL_SINCE.get(major)
    if since is not None and (major, minor, patch) < since:
        return [f"aws-cli {major}.{minor}.{patch} ignores AWS_ENDPOINT_URL (read from "
                f"{'.'.join(map(str, since))}): every call would go to AWS; use the lab's own aws "
                f"({lab_bin() / 'aws'}) or pass --endpoint-url"]
    if major == 1:
        return [f"aws-cli v1 ignores AWS_ENDPOINT_URL for some services ({_V1_IGNORES}): use the aws that "
                "`eval \"$(lab env)\"` puts first on PATH, which passes --endpoint-url on every call"]
    return []


#: the lab's aws CLI configuration, beside its aws: v2's ISO 8601 timestamps
_CONFIG = "[default]\ncli_timestamp_format = iso8601\n"
_SHIM = """#!/bin/sh
# The lab's aws CLI, first on PATH after `eval "$(lab env)"` (which writes this file): aws CLI v1 ignores
# AWS_ENDPOINT_URL for RDS in us-east-1 and for SQS and calls AWS itself, so the sandbox's endpoint is passed
# on every call, in scripts and child processes too. A later --endpoint-url of your own still wins.
# aws CLI v1 prints timestamps as epoch seconds; v2, and AWS's documentation, as ISO 8601: the lab's config file
# asks for ISO 8601, so that a script comparing times as text works here as on AWS (your AWS_CONFIG_FILE wins).
if [ -z "${{AWS_CONFIG_FILE:-}}" ]; then
  AWS_CONFIG_FILE={config}
  export AWS_CONFIG_FILE
fi
if [ -n "${{AWS_ENDPOINT_URL:-}}" ]; then
  exec {aws} --endpoint-url "$AWS_ENDPOINT_URL" "$@"
fi
exec {aws} "$@"
"""


def aws_shim_dir(state_dir: Path, aws: str) -> Path | None:
    """A directory holding `aws`, a program that runs the lab's `aws` with the sandbox's endpoint (written
    when missing or different), or None when the state dir cannot hold it."""
    import shlex

    directory = state_dir / "bin"
    config = directory / "aws-config"
    shim = directory / "aws"
    text = _SHIM.format(aws=shlex.quote(aws), config=shlex.quote(str(config.resolve())))
    try:
        for path, content, mode in ((config, _CONFIG, 0o644), (shim, text, 0o755)):
            if not path.is_file() or path.read_text() != content:
                directory.mkdir(parents=True, exist_ok=True)
                written = directory / f".{path.name}.{os.getpid()}"
                written.write_text(content)
                written.chmod(mode)
                written.replace(path)  # (atomic: a script running aws meanwhile sees the old file or the new)
    except OSError:
        return None
    return directory


def _version_of(path: str, *args: str) -> str | None:
    try:
        done = subprocess.run([path, *args], capture_output=True, text=True, timeout=30, check=False,
                              env={**os.environ, "AWS_CONFIG_FILE": os.devnull,
                                   "AWS_SHARED_CREDENTIALS_FILE": os.devnull})
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"(could not run: {exc})"
    lines = (done.stdout + done.stderr).strip().splitlines()
    return lines[0].strip() if lines else None


def find_tools() -> list[Tool]:
    """The lab's aws and awslocal, the aws first on PATH when it is another one, and the Python SDK."""
    import boto3
    import botocore

    tools = []
    own_aws = own_tool("aws")
    for name, path in (("aws (the lab's)", own_aws), ("awslocal (the lab's)", own_tool("awslocal"))):
        if path is None:
            tools.append(Tool(name, None, None, [f"not installed in {lab_bin()}: run ./scripts/setup"]))
            continue
        version = _version_of(path, "--version")
        tools.append(Tool(name, path, version, aws_cli_warnings(version) if name.startswith("aws ") else []))
    on_path = shutil.which("aws")
    if on_path and (own_aws is None or Path(on_path).resolve() != Path(own_aws).resolve()):
        version = _version_of(on_path, "--version")
        tools.append(Tool("aws (first on PATH)", on_path, version, aws_cli_warnings(version)))
    tools.append(Tool("boto3 / botocore", str(Path(boto3.__file__).parent),
                      f"boto3 {boto3.__version__}, botocore {botocore.__version__}"))
    return tools
