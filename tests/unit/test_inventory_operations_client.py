"""The in-sandbox client the collector reads the lab's own services with (lab.inventory.sources.OperationsClient)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from lab.inventory.sources import OperationsClient
from lab.kernel.errors import AwsError


class Vaults:
    """A service's operations, as a lab engine offers them: op_<Operation>(region, params)."""

    def op_ListBackupVaults(self, region: str, params: dict) -> dict:
        return {"BackupVaultList": [{"BackupVaultName": "main", "Region": region}], "NextToken": None}

    def op_GetBackupVaultAccessPolicy(self, region: str, params: dict) -> dict:
        raise AwsError("ResourceNotFoundException", f"Backup vault {params['BackupVaultName']} has no access policy",
                       404)


def test_answers_and_refusals_come_back_as_a_client_s():
    client = OperationsClient(Vaults(), "us-east-1")
    pages = list(client.get_paginator("list_backup_vaults").paginate())
    assert pages == [{"BackupVaultList": [{"BackupVaultName": "main", "Region": "us-east-1"}]}]
    with pytest.raises(ClientError) as raised:
        client.get_backup_vault_access_policy(BackupVaultName="main")
    error = raised.value.response["Error"]
    assert error == {"Code": "ResourceNotFoundException", "Message": "Backup vault main has no access policy"}
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
