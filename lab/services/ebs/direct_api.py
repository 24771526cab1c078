"""The EBS direct APIs' reads of EC2 snapshots: ListChangedBlocks and ListSnapshotBlocks answered from the
volume content model (lab.services.ebs.blocks), as AWS answers them.

AWS compares "snapshots of the same volume and snapshot lineage" (EBS User Guide: Use EBS direct APIs to
access the contents of an EBS snapshot), pages the answer by MaxResults (100-10000) with a NextToken and a
StartingBlockIndex, and names each changed block with FirstBlockToken (absent when the first snapshot lacks the
block) and SecondBlockToken (EBS direct APIs reference: ListChangedBlocks; BlockSize 524288). The backend
(moto) keeps the EBS direct APIs' blocks in a store of its own and fails with a server error for snapshots made
by EC2's CreateSnapshot (it looks their ids up there); snapshots started with the EBS direct APIs
(StartSnapshot) stay the backend's, compared here by the blocks written into each.
Errors as the API reference lists them: ResourceNotFoundException 404 (Reason SNAPSHOT_NOT_FOUND) and
ValidationException 400 (Reason UNRELATED_SNAPSHOTS, INVALID_PAGE_TOKEN, INVALID_PARAMETER_VALUE,
INVALID_SNAPSHOT_ID).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from lab.kernel.api import Call, ServiceApi
from lab.kernel.errors import AwsError, NotSimulatedError
from lab.services.ebs.blocks import BLOCK_BYTES, Content
from lab.services.ebs.engine import Ebs
from lab.services.ebs.timing import SnapshotRecord, snapshot_state

if TYPE_CHECKING:
    from lab.kernel.port import Sandbox

Output = dict[str, Any]
TOKEN_LIFETIME_SECONDS = 7 * 86400.0  # how long the lab's block tokens are said to be valid (ExpiryTime)
PAGE_SIZES = range(100, 10001)


MAX_VOLUME_GIB = 65536


def _validation(reason: str, message: str) -> AwsError:
    return AwsError("ValidationException", message, 400, members={"Reason": reason})


def _not_found(snapshot_id: str) -> AwsError:
    return AwsError("ResourceNotFoundException", f"The snapshot '{snapshot_id}' does not exist.", 404,
                    members={"Reason": "SNAPSHOT_NOT_FOUND"})


class EbsDirectApi(ServiceApi):
    service = "ebs"
    service_principal = Ebs.service_principal

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__(sandbox)
        engine = sandbox.engines.find(Ebs)
        assert engine is not None, "the EBS direct APIs need the EBS engine"
        self.engine = engine

    # -- helpers -----------------------------------------------------------------------------------

    def _page(self, params: dict[str, Any]) -> tuple[int, int]:
        """(first block index to list, page size) from StartingBlockIndex, NextToken and MaxResults."""
        size = params.get("MaxResults", 10000)
        if size not in PAGE_SIZES:
            raise _validation("INVALID_PARAMETER_VALUE", f"MaxResults must be from 100 to 10000, not {size}")
        starting = params.get("StartingBlockIndex", 0)
        if starting < 0:
            raise _validation("INVALID_PARAMETER_VALUE", f"StartingBlockIndex must be 0 or more, not {starting}")
        given = params.get("NextToken")
        if given:
            try:
                starting = int(base64.urlsafe_b64decode(given.encode()).decode().removeprefix("block:"))
            except (ValueError, UnicodeDecodeError) as exc:
                raise _validation("INVALID_PAGE_TOKEN", "The pagination token is not valid.") from exc
            if starting < 0:
                raise _validation("INVALID_PAGE_TOKEN", "The pagination token is not valid.")
        return starting, size

    def _snapshot(self, region: str, snapshot_id: str) -> SnapshotRecord | None:
        """The lab's record of an EC2 snapshot (adopted when the backend has one); None: a snapshot the EBS direct
        APIs started, which the backend keeps."""
        if snapshot_id in self.engine.timing.direct:
            return None
        found = self.engine.snapshot_record(region, snapshot_id)
        if found is None:
            try:
                shown = self.sandbox.client("ec2", region).describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"]
            except ClientError as exc:  # EC2 has no such snapshot either
                raise _not_found(snapshot_id) from exc
            if not shown:
                raise _not_found(snapshot_id)
            found = self.engine.adopt_snapshot(region, shown[0])
        if snapshot_state(found, self.now()) != "completed":
            raise _validation("INVALID_SNAPSHOT_ID", f"The snapshot '{snapshot_id}' is not in the completed state.")
        return found

    def _answer(self, items: Iterator[dict[str, Any]], size: int, volume_gib: int, member: str) -> Output:
        page: list[dict[str, Any]] = []
        next_token = None
        for item in items:
            if len(page) == size:
                next_token = base64.urlsafe_b64encode(f"block:{item['BlockIndex']}".encode()).decode()
                break
            page.append(item)
        return {member: page, "ExpiryTime": datetime.fromtimestamp(self.now() + TOKEN_LIFETIME_SECONDS, tz=UTC),
                "VolumeSize": volume_gib, "BlockSize": BLOCK_BYTES, "NextToken": next_token}

    # -- operations --------------------------------------------------------------------------------

    def op_StartSnapshot(self, call: Call) -> Output:
        size = call.params.get("VolumeSize")
        if size is not None and not 1 <= int(size) <= MAX_VOLUME_GIB:
            # (EBS direct APIs API Reference, StartSnapshot: "The maximum size is 65536 GiB (64 TiB)")
            raise _validation("INVALID_VOLUME_SIZE", f"The volume size {size} GiB is not valid: it must be 1 to "
                                                     f"{MAX_VOLUME_GIB} GiB.")
        answer = call.forward()
        self.engine.timing.direct[answer["SnapshotId"]] = call.params.get("ParentSnapshotId")
        return answer

    def op_ListChangedBlocks(self, call: Call) -> Output:
        params, region = call.params, call.region
        starting, size = self._page(params)
        second_id, first_id = params["SecondSnapshotId"], params.get("FirstSnapshotId")
        second = self._snapshot(region, second_id)
        first = self._snapshot(region, first_id) if first_id else None
        if second is None or (first_id and first is None):
            return self._direct_changed(call, first_id, second_id, starting, size)
        lineages = self.engine.lineages
        if first is not None and lineages.common_point(first.content, second.content) is None:
            raise _validation("UNRELATED_SNAPSHOTS", f"The snapshots {first_id} and {second_id} are not of the same "
                                                     "volume lineage.")

        def changed() -> Iterator[dict[str, Any]]:
            for index, first_token, second_token in lineages.changed(
                    first.content if first is not None else None, second.content, starting):
                item: dict[str, Any] = {"BlockIndex": index}
                if first_token is not None:
                    item["FirstBlockToken"] = first_token
                if second_token is not None:
                    item["SecondBlockToken"] = second_token
                yield item

        return self._answer(changed(), size, second.size_gib, "ChangedBlocks")

    def op_ListSnapshotBlocks(self, call: Call) -> Output:
        params, region = call.params, call.region
        starting, size = self._page(params)
        record = self._snapshot(region, params["SnapshotId"])
        if record is None:
            return call.forward()
        lineages = self.engine.lineages
        content: Content = record.content

        def blocks() -> Iterator[dict[str, Any]]:
            for index, _, token in lineages.changed(None, content, starting):
                yield {"BlockIndex": index, "BlockToken": token}

        return self._answer(blocks(), size, record.size_gib, "Blocks")

    def op_GetSnapshotBlock(self, call: Call) -> Output:
        params = call.params
        if self._snapshot(call.region, params["SnapshotId"]) is None:
            return call.forward()
        raise NotSimulatedError("GetSnapshotBlock of an EC2 snapshot: the lab models which blocks of a volume hold "
                                "data and when they changed, not their bytes (ListSnapshotBlocks and "
                                "ListChangedBlocks answer)")

    # -- snapshots the EBS direct APIs started (the backend's store) ------------------------------------

    def _direct_blocks(self, region: str, snapshot_id: str) -> dict[int, str]:
        ebs = self.sandbox.client("ebs", region)
        found: dict[int, str] = {}
        request: dict[str, Any] = {"SnapshotId": snapshot_id, "MaxResults": 10000}
        while True:
            page = ebs.list_snapshot_blocks(**request)
            found.update({block["BlockIndex"]: block["BlockToken"] for block in page.get("Blocks") or []})
            if not page.get("NextToken"):
                return found
            request["NextToken"] = page["NextToken"]

    def _direct_chain(self, snapshot_id: str) -> list[str]:
        chain = [snapshot_id]
        parent = self.engine.timing.direct.get(snapshot_id)
        while parent is not None and parent not in chain:
            chain.append(parent)
            parent = self.engine.timing.direct.get(parent)
        return chain

    def _direct_changed(self, call: Call, first_id: str | None, second_id: str, starting: int,
                        size: int) -> Output:
        """Blocks written into the second snapshot since the first, for snapshots the EBS direct APIs started: a
        child started with ParentSnapshotId holds its parent's blocks plus the ones written into it."""
        direct = self.engine.timing.direct
        for snapshot_id in filter(None, (first_id, second_id)):
            if snapshot_id not in direct:
                raise _validation("UNRELATED_SNAPSHOTS", f"The snapshots {first_id} and {second_id} are not of the "
                                                         "same volume lineage.")
        second_chain = self._direct_chain(second_id)
        if first_id is not None and first_id not in second_chain:
            raise _validation("UNRELATED_SNAPSHOTS", f"{first_id} is not an ancestor of {second_id} (ParentSnapshotId)")
        region = call.region
        written: dict[int, str] = {}
        for snapshot_id in second_chain[:second_chain.index(first_id)] if first_id else second_chain:
            for index, token in self._direct_blocks(region, snapshot_id).items():
                written.setdefault(index, token)
        earlier: dict[int, str] = {}
        for snapshot_id in second_chain[second_chain.index(first_id):] if first_id else []:
            for index, token in self._direct_blocks(region, snapshot_id).items():
                earlier.setdefault(index, token)
        volume_gib = int(self.sandbox.client("ec2", region).describe_snapshots(
            SnapshotIds=[second_id])["Snapshots"][0].get("VolumeSize") or 0)

        def changed() -> Iterator[dict[str, Any]]:
            for index in sorted(i for i in written if i >= starting):
                item: dict[str, Any] = {"BlockIndex": index, "SecondBlockToken": written[index]}
                if index in earlier:
                    item["FirstBlockToken"] = earlier[index]
                yield item

        return self._answer(changed(), size, volume_gib, "ChangedBlocks")
