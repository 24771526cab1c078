"""What the failure tests share: admin and AWS calls, and a sandbox of their own (scenarios damage the world
and drills move the clock by hours), with a test lab whose drill the meter is checked against by hand."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import urllib3
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import SandboxHandle, free_port

_HTTP = urllib3.PoolManager(retries=False)
ONE_ATTEMPT = Config(retries={"total_max_attempts": 1}, s3={"addressing_style": "path"})

METER_LAB = "99-drill-meter"
METER_LAB_YAML = """\
schema_version: "1.0"
id: 99-drill-meter
title: Drill meter test lab
summary: A lab for the drill meter's integration test; the five newest order-history items are deleted.
objectives:
  - Put deleted items back
estimated_minutes: 5
pass_mark: 0.5
targets:
  rto: 30m
  rpo: 10m
steps:
  - id: look
    title: Look at the table
    instructions: Nothing to configure; the drill deletes items.
    hints:
      - There is nothing to do.
    checks:
      - id: DYNAMODB_PITR_ENABLED
        params:
          tableNames: [securecart-order-history]
drill:
  scenario: accidental-deletion
  briefing: The five newest order-history items are deleted by mistake.
  params:
    target: items
    count: 5
    which: newest
recovery:
  instructions: Put the items back.
  checks:
    - id: RECOVERY_ITEMS_RESTORED
      params:
        region: us-east-1
        tableNames: [securecart-order-history]
        allowedLossSeconds: 150
"""


def http(sandbox: Any, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    answer = _HTTP.request(method, sandbox.endpoint + path, body=data, headers={"Content-Type": "application/json"})
    return answer.status, json.loads(answer.data) if answer.data else None


def aws(sandbox: Any, service: str, region: str = "us-east-1", config: Config = ONE_ATTEMPT) -> Any:
    return boto3.client(service, region_name=region, endpoint_url=sandbox.endpoint, aws_access_key_id="test",
                        aws_secret_access_key="test", config=config)


def error_of(call: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as raised:
        call()
    return {"code": raised.value.response["Error"]["Code"], "message": raised.value.response["Error"].get("Message"),
            "status": raised.value.response["ResponseMetadata"]["HTTPStatusCode"],
            "retries": raised.value.response["ResponseMetadata"].get("RetryAttempts", 0)}


def advance(sandbox: Any, duration: str) -> None:
    status, body = http(sandbox, "POST", "/_lab/clock", {"action": "advance", "duration": duration})
    assert status == 200, body


def now(sandbox: Any) -> float:
    return http(sandbox, "GET", "/_lab/clock")[1]["epoch"]


def fail(sandbox: Any, scenario: str, **params: Any) -> dict[str, Any]:
    status, body = http(sandbox, "POST", "/_lab/fail", {"scenario": scenario, "params": params})
    assert status == 200, body
    return body


def sql(sandbox: Any, statement: str, instance: str = "securecart-orders-db") -> list[list[Any]]:
    status, body = http(sandbox, "POST", "/_lab/sql", {"instance": instance, "sql": statement})
    assert status == 200, body
    return body["rows"]


# pytest makes one session fixture per module that imports it: the modules share the sandbox through this,
# and the last of them to finish stops it.
_SHARED: dict[str, Any] = {"handle": None, "users": 0}


@pytest.fixture(scope="session")
def damage_lab(tmp_path_factory: pytest.TempPathFactory, lab_env: dict[str, str]) -> Iterator[SandboxHandle]:
    """A sandbox for the scenario and drill tests alone, knowing the meter's test lab."""
    if _SHARED["handle"] is None:
        exercises: Path = tmp_path_factory.mktemp("exercises")
        (exercises / f"{METER_LAB}.yaml").write_text(METER_LAB_YAML)
        handle = SandboxHandle(tmp_path_factory.mktemp("damage") / "state", free_port(),
                               {**lab_env, "LAB_EXERCISES_DIR": str(exercises)})
        handle.up()
        _SHARED["handle"] = handle
    _SHARED["users"] += 1
    yield _SHARED["handle"]
    _SHARED["users"] -= 1
    if _SHARED["users"] == 0:
        _SHARED["handle"].down()
        _SHARED["handle"] = None
