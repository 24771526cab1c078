"""What the Lambda tests make: a role Lambda may assume, and a function's deployment package."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from typing import Any


def lambda_role(iam: Any, name: str | None = None, service: str = "lambda.amazonaws.com") -> str:
    """A role whose trust policy lets `service` assume it; its ARN."""
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"Service": service}}]}
    return iam.create_role(RoleName=name or f"fn-{uuid.uuid4().hex[:8]}",
                           AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def echo_package() -> bytes:
    """A zip holding index.handler, which answers the event it is given."""
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return event\n")
    return code.getvalue()
