"""The service API mechanism (lab.kernel.api, lab.sandbox.apis): registration is explicit, and its operations are
botocore's; pagination tokens the service never issued are refused."""

from __future__ import annotations

import base64

import pytest

from lab.kernel.api import Call, ServiceApi, paginate
from lab.kernel.errors import AwsError
from lab.sandbox.apis import ServiceApis, unknown_operations


class _Stub:
    """What ServiceApis needs of a sandbox to build APIs that need nothing of it."""


class Ec2Api(ServiceApi):
    service = "ec2"

    def op_DescribeVolumeStatus(self, call: Call) -> dict:
        return {}


class TypoApi(ServiceApi):
    service = "ec2"

    def op_DescribeVolumeStatuses(self, call: Call) -> dict:
        return {}


class OwnedApi(ServiceApi):
    service = "dlm"
    owns_service = True
    implemented_by = "a test"


def test_operations_are_routed_and_owned_services_answer_not_implemented():
    apis = ServiceApis(_Stub(), (Ec2Api, OwnedApi))
    route = apis.route("ec2", "DescribeVolumeStatus")
    assert route is not None and route.operation is not None
    assert apis.route("ec2", "DescribeVolumes") is None  # the backend answers
    owned = apis.route("dlm", "GetLifecyclePolicies")
    assert owned is not None and owned.operation is None and owned.api.implemented_by == "a test"


def test_an_operation_botocore_does_not_know_is_found_and_two_apis_for_one_operation_are_refused():
    assert unknown_operations((Ec2Api, TypoApi)) == [
        "TypoApi.op_DescribeVolumeStatuses: ec2 has no operation DescribeVolumeStatuses"]
    with pytest.raises(ValueError, match="two APIs answer ec2 DescribeVolumeStatus"):
        ServiceApis(_Stub(), (Ec2Api, Ec2Api))


def test_every_operation_the_sandbox_answers_is_one_botocore_knows():
    """What a sandbox no longer checks as it starts (a dozen service models loaded on the way to ready)."""
    from lab.sandbox.assembly import SERVICE_APIS

    assert unknown_operations(SERVICE_APIS) == []


def test_paginate_refuses_tokens_it_never_issued():
    items = list(range(5))
    page, token = paginate(items, {"MaxResults": 2})
    assert page == [0, 1] and token
    assert paginate(items, {"MaxResults": 2, "NextToken": token})[0] == [2, 3]
    for forged in ("not-base64!", base64.urlsafe_b64encode(b"page:-3").decode()):
        with pytest.raises(AwsError) as refused:
            paginate(items, {"NextToken": forged})
        assert refused.value.code == "InvalidParameterValueException" and refused.value.status == 400
