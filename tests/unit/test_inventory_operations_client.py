"""The in-sandbox client the collector reads the lab's own services with (lab.inventory.sources.OperationsClient)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from lab.inventory.sources import OperationsClient
from lab.kernel.api import Call, ServiceApi
from lab.kernel.errors import AwsError


class Vaults(ServiceApi):
    """A service's operations, as a lab service API offers them: op_<Operation>(call)."""

    service = "backup"

    def op_ListBackupVaults(self, call: Call) -> dict:
        assert call.internal and call.operation == "ListBackupVaults"
        return {"BackupVaultList": [{"BackupVaultName": "main", "Region": call.region}], "NextToken": None}

    def op_GetBackupVaultAccessPolicy(self, call: Call) -> dict:
        raise AwsError("ResourceNotFoundException",
                       f"Backup vault {call.params['BackupVaultName']} has no access policy", 404)


def test_answers_and_refusals_come_back_as_a_client_s():
    client = OperationsClient(Vaults(None), "us-east-1")  # type: ignore[arg-type]  # (they read no sandbox)
    pages = list(client.get_paginator("list_backup_vaults").paginate())
    assert pages == [{"BackupVaultList": [{"BackupVaultName": "main", "Region": "us-east-1"}]}]
    with pytest.raises(ClientError) as raised:
        client.get_backup_vault_access_policy(BackupVaultName="main")
    error = raised.value.response["Error"]
    assert error == {"Code": "ResourceNotFoundException", "Message": "Backup vault main has no access policy"}
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
