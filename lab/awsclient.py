"""boto3 clients for the lab's own use: always the sandbox endpoint, always dummy credentials."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

import boto3
import botocore.session
from botocore.config import Config

from lab import config
from lab.safety import check_endpoint

_CLIENT_CONFIG = Config(
    retries={"max_attempts": 2, "mode": "standard"},
    connect_timeout=5,
    read_timeout=60,
    s3={"addressing_style": "path"},
)


@lru_cache(maxsize=1)
def _isolated_session() -> boto3.Session:
    # A session that ignores ~/.aws entirely: no profile, no credential file, no config file.
    core = botocore.session.Session()
    core.set_config_variable("config_file", os.devnull)
    core.set_config_variable("credentials_file", os.devnull)
    core.set_config_variable("profile", None)
    return boto3.Session(botocore_session=core)


def client(service: str, region: str, endpoint: str, allow_remote: bool = False) -> Any:
    check_endpoint(endpoint, allow_remote=allow_remote)
    return _isolated_session().client(
        service,
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id=config.DUMMY_ACCESS_KEY,
        aws_secret_access_key=config.DUMMY_SECRET_KEY,
        config=_CLIENT_CONFIG,
    )
