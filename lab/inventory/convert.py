"""Small conversions from AWS answers to the inventory's values: times, tags, policy documents, error codes."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import ClientError


def iso(value: Any) -> str | None:
    """A time (datetime, epoch seconds, or text) as the inventory writes it: ISO 8601 UTC to the second."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return _iso_seconds(int(moment.timestamp() // 1))
    if isinstance(value, (int, float)):
        return _iso_seconds(int(value // 1))
    return str(value)


@lru_cache(maxsize=65_536)  # a month of hourly backups repeats each instant in its points, jobs and copies
def _iso_seconds(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def tag_dict(tags: Iterable[Mapping[str, Any]] | Mapping[str, str] | None) -> dict[str, str]:
    if not tags:
        return {}
    if isinstance(tags, Mapping):
        return {str(k): str(v) for k, v in sorted(tags.items())}
    return dict(sorted((str(t.get("Key")), str(t.get("Value", ""))) for t in tags))


def policy_document(value: Any) -> dict[str, Any] | None:
    """An IAM or resource policy as a dict (boto3 gives IAM's decoded, others as JSON text)."""
    if value is None or value == "":
        return None
    if isinstance(value, Mapping):
        return dict(value)
    text = str(value)
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        try:
            return json.loads(unquote(text))
        except json.JSONDecodeError:
            return {"unparsed": text}


def error_code(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def by_key(items: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """A map sorted by key (the inventory's maps are, so that the same world gives the same document)."""
    return dict(sorted(items, key=lambda pair: pair[0]))
