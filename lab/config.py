"""Fixed facts of the lab and where its state lives."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4566
PRIMARY_REGION = "us-east-1"
DR_REGION = "us-west-2"
REGIONS = (PRIMARY_REGION, DR_REGION)
ACCOUNT_ID = "000000000000"
DUMMY_ACCESS_KEY = "test"
DUMMY_SECRET_KEY = "test"  # noqa: S105 -- the sandbox's well-known dummy credential, as LocalStack's
DEFAULT_SEED = 20260101

# The files a running sandbox keeps in its state dir: written by lab.sandbox.server, read by the `lab` command
# (which finds the sandbox through them without loading the server's module).
RUNTIME_FILE = "sandbox.json"
PID_FILE = "sandbox.pid"
LOG_FILE = "sandbox.log"

# The names of lab.sandbox.persistence.FSYNC_POLICIES (what each guarantees is there), for `lab up --fsync`
# without loading the persistence layer; tests/unit/test_cli_imports.py keeps the two the same.
FSYNC_POLICY_NAMES = ("always", "batch", "never")

# Environment variables the sandbox process sets before moto is imported.
MOTO_ENVIRONMENT = {
    "MOTO_ACCOUNT_ID": ACCOUNT_ID,
    "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
    # moto would otherwise try to start Docker containers for Lambda and friends.
    "MOTO_DOCKER_NETWORK_MODE": "none",
    # A handful of current AMIs instead of moto's thousands per region: a tenth of EC2's start-up time and
    # memory, and no thousand AMI snapshots cluttering a learner's `describe-snapshots --owner-ids self`.
    "MOTO_AMIS_PATH": str(Path(__file__).resolve().parent / "data" / "amis.json"),
    # RunInstances of an AMI that does not exist is InvalidAMIID.NotFound, as on AWS (moto launched it)
    "MOTO_ENABLE_AMI_VALIDATION": "true",
}


def default_state_dir() -> Path:
    """`LAB_STATE_DIR`, else `$XDG_STATE_HOME/securecart-lab`, else `~/.local/state/securecart-lab`."""
    explicit = os.environ.get("LAB_STATE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base).expanduser() / "securecart-lab"


def endpoint_url(port: int = DEFAULT_PORT, host: str = DEFAULT_HOST) -> str:
    return f"http://{host}:{port}"
