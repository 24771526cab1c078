"""The S3 operations the lab answers or checks beyond the backend: replication and lifecycle configurations as S3
keeps them, the replication status of object versions, and the refusals S3 makes that the backend does not.
Every other S3 operation goes to the backend."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lab.kernel.api import BackendAnswer, Call, ServiceApi
from lab.kernel.errors import AwsError
from lab.services.s3.engine import S3

if TYPE_CHECKING:
    from lab.kernel.port import Sandbox

class S3Api(ServiceApi):
    service = "s3"
    service_principal = S3.service_principal

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__(sandbox)
        engine = sandbox.engines.find(S3)
        assert engine is not None, "the S3 API needs the S3 engine"
        self.engine = engine

    # -- replication -------------------------------------------------------------------------------------

    def op_GetBucketReplication(self, call: Call) -> dict[str, Any] | BackendAnswer:
        self.sandbox.materialize_all()  # a restored S3 may still wait as bytes; the answer reads it
        found = self.engine.state.replication.get(call.params.get("Bucket", ""))
        if found is None:
            return call.backend_answer()
        return {"ReplicationConfiguration": found.document}

    def op_PutBucketReplication(self, call: Call) -> BackendAnswer:
        self.sandbox.materialize_all()
        document = call.params.get("ReplicationConfiguration") or {}
        refusal = self.engine.replication_refusal(call.params.get("Bucket", ""), document)
        if refusal is not None:
            raise refusal
        return call.backend_answer()

    def op_PutBucketVersioning(self, call: Call) -> BackendAnswer:
        self.sandbox.materialize_all()
        bucket = call.params.get("Bucket", "")
        status = (call.params.get("VersioningConfiguration") or {}).get("Status")
        if bucket in self.engine.state.replication and status == "Suspended":
            raise AwsError("InvalidBucketState", "A replication configuration is present on this bucket, so you "
                                                 "cannot change the versioning state. To change the versioning "
                                                 "state, first delete the replication configuration.", 409)
        return call.backend_answer()

    # -- lifecycle ---------------------------------------------------------------------------------------

    def op_GetBucketLifecycleConfiguration(self, call: Call) -> dict[str, Any] | BackendAnswer:
        self.sandbox.materialize_all()
        found = self.engine.state.lifecycle_documents.get(call.params.get("Bucket", ""))
        if found is None:
            return call.backend_answer()
        document, minimum = found
        return {"Rules": document.get("Rules") or [], "TransitionDefaultMinimumObjectSize": minimum}

    # -- objects: the replication status of the version read ----------------------------------------------

    def op_GetObject(self, call: Call) -> BackendAnswer:
        return self._with_replication_status(call)

    def op_HeadObject(self, call: Call) -> BackendAnswer:
        return self._with_replication_status(call)

    def _with_replication_status(self, call: Call) -> BackendAnswer:
        bucket = call.params.get("Bucket", "")
        state = self.engine.state
        if bucket not in state.versions and bucket not in state.replication:
            return call.backend_answer()  # no version of this bucket replicates, nor is a replica
        version_id = call.forward().get("VersionId") or ""
        return call.backend_answer(ReplicationStatus=self.engine.replication_status(bucket, version_id))

