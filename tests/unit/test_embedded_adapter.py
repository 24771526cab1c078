"""The embedded backend's knowledge of moto is pinned to moto's source: an upgrade that changes it fails here."""

from __future__ import annotations

import re
from pathlib import Path

import moto

from lab.backends.embedded import MOTO_S3_UNHANDLED_SUBRESOURCES, moto_implements, moto_module_for, s3_subresources
from lab.gateway.codec.identify import service_model

MOTO_S3_SOURCE = (Path(moto.__file__).parent / "s3" / "responses.py").read_text()


def test_listed_s3_subresources_are_really_absent_from_moto():
    for marker in MOTO_S3_UNHANDLED_SUBRESOURCES:
        assert f'"{marker}"' not in MOTO_S3_SOURCE, f"moto now handles ?{marker}: remove it from the list"


def test_every_s3_subresource_is_either_handled_or_listed():
    model = service_model("s3")
    markers = {m for op in model.operation_names for m in s3_subresources(op)}
    handled = set(re.findall(r'"([A-Za-z-]+)"', MOTO_S3_SOURCE))
    parameters = {"list-type", "select-type", "uploadId", "partNumber", "x-id"}
    unknown = markers - handled - MOTO_S3_UNHANDLED_SUBRESOURCES - parameters
    assert not unknown, f"S3 sub-resources neither handled by moto nor listed as unhandled: {sorted(unknown)}"


def test_operations_and_modules():
    assert not moto_implements("s3", "GetBucketAnalyticsConfiguration")
    assert moto_implements("s3", "GetBucketReplication")
    assert moto_implements("dynamodb", "PutItem")
    assert moto_module_for("lambda") == "awslambda"
    assert moto_module_for("cloudsearch") is None
