"""The S3 operations the lab answers or checks beyond the backend: replication and lifecycle configurations as S3
keeps them, the replication status of object versions, and the refusals S3 makes that the backend does not.
Every other S3 operation goes to the backend."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import formatdate
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from botocore.exceptions import ClientError

from lab.gateway import audit
from lab.kernel.api import BackendAnswer, BackendRefusedError, Call, ServiceApi
from lab.kernel.data import ObjectVersion
from lab.kernel.errors import AwsError
from lab.services.s3.engine import S3
from lab.services.s3.lifecycle import ARCHIVE_CLASSES, LifecycleRule, expires_at, lifecycle_refusal

if TYPE_CHECKING:
    from lab.kernel.port import Sandbox

# https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html (general purpose buckets)
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IP_ADDRESS = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
VERSIONING_STATUSES = ("Enabled", "Suspended")


# The query parameter that sizes each listing's page: S3 answers at most 1,000 entries whatever a client asks
# ("The response might contain fewer keys but will never contain more", API Reference: ListObjectsV2, MaxKeys;
# the same for ListObjects, ListObjectVersions, ListMultipartUploads' max-uploads and ListParts' max-parts).
# The backend gave as many as asked: a script that never paged passed here and misses objects on AWS, and one
# page of a month-old bucket's 100,000 versions held the sandbox for seconds.
_PAGE_SIZES = {"ListObjects": "max-keys", "ListObjectsV2": "max-keys", "ListObjectVersions": "max-keys",
               "ListMultipartUploads": "max-uploads", "ListParts": "max-parts"}
MAX_PAGE = 1000


def _cap_page_size(call: Call) -> None:
    """The request's page size, if above MAX_PAGE, made MAX_PAGE before the backend reads it."""
    name = _PAGE_SIZES[call.identity.operation or ""]
    ctx = call.ctx

    def capped(found: re.Match[str]) -> str:
        try:
            asked = int(found.group(2))
        except ValueError:
            return found.group(0)
        return f"{found.group(1)}{name}={MAX_PAGE}" if asked > MAX_PAGE else found.group(0)

    query = re.sub(rf"(^|&){name}=([^&]*)", capped, ctx.query_string)
    if query != ctx.query_string:
        ctx.query_string = ctx.environ["QUERY_STRING"] = query


def _check_copy_source(call: Call) -> None:
    """CopySource names a bucket and a key, "bucket/key" (URL-encoded, optionally "?versionId=..."): S3's
    InvalidArgument for anything else (the backend splits it unchecked and fails)."""
    source = str(call.params.get("CopySource") or "")
    path = unquote(urlparse(source).path).lstrip("/")
    bucket, _, key = path.partition("/")
    if not bucket or not key:
        raise AwsError("InvalidArgument", "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
                       members={"ArgumentName": "x-amz-copy-source", "ArgumentValue": source[:1024]})


class S3Api(ServiceApi):
    service = "s3"
    service_principal = S3.service_principal

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__(sandbox)
        engine = sandbox.engines.find(S3)
        assert engine is not None, "the S3 API needs the S3 engine"
        self.engine = engine

    # -- buckets -----------------------------------------------------------------------------------------

    def op_CreateBucket(self, call: Call) -> BackendAnswer:
        problem = bucket_name_problem(call.params.get("Bucket", ""))
        if problem:
            raise AwsError("InvalidBucketName", f"The specified bucket is not valid: {problem}.")
        return call.backend_answer()

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
        if status is not None and status not in VERSIONING_STATUSES:
            # The schema's BucketVersioningStatus is Enabled | Suspended: versioning, once enabled, can only be
            # suspended, and "Disabled" fails the schema check
            # (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketVersioning.html).
            raise AwsError("MalformedXML", "The XML you provided was not well-formed or did not validate against "
                                           "our published schema")
        if status == "Suspended" and (found := self.sandbox.data.bucket_state(bucket)) is not None \
                and found.object_lock:
            # "After you enable Object Lock on a bucket, you can't disable Object Lock or suspend versioning for
            # that bucket" (S3 User Guide: Configuring S3 Object Lock); the words are S3's as clients see them
            raise AwsError("InvalidBucketState", "An Object Lock configuration is present on this bucket, so the "
                                                 "versioning state cannot be changed.", 409)
        if bucket in self.engine.state.replication and status == "Suspended":
            raise AwsError("InvalidBucketState", "A replication configuration is present on this bucket, so you "
                                                 "cannot change the versioning state. To change the versioning "
                                                 "state, first delete the replication configuration.", 409)
        return call.backend_answer()

    # -- documents S3 requires though the model does not -------------------------------------------------

    def op_PutBucketLifecycleConfiguration(self, call: Call) -> BackendAnswer:
        return self._lifecycle_document(call)

    def op_PutBucketLifecycle(self, call: Call) -> BackendAnswer:
        return self._lifecycle_document(call)

    def _lifecycle_document(self, call: Call) -> BackendAnswer:
        """S3's checks of the transitions (lifecycle.lifecycle_refusal), which the backend does not make."""
        if "LifecycleConfiguration" in call.params:
            refusal = lifecycle_refusal(call.params["LifecycleConfiguration"] or {})
            if refusal is not None:
                raise refusal
        return self._with_document(call, "LifecycleConfiguration")

    def op_PutObjectLockConfiguration(self, call: Call) -> BackendAnswer:
        return self._with_document(call, "ObjectLockConfiguration")

    def op_PutObjectLegalHold(self, call: Call) -> BackendAnswer:
        return self._with_document(call, "LegalHold")

    def op_PutObjectRetention(self, call: Call) -> BackendAnswer:
        """S3's rules for changing a version's retention, which the backend does not keep (S3 User Guide: Object
        Lock, retention modes): a COMPLIANCE retention's mode cannot change nor its date come earlier, by anyone;
        a GOVERNANCE one's only with x-amz-bypass-governance-retention: true; extending either is always allowed;
        and the date must be in the future."""
        if "Retention" not in call.params:
            return self._with_document(call, "Retention")
        wanted = call.params.get("Retention") or {}
        current = self._current_retention(call)
        if current is None:
            return call.backend_answer()  # (the backend answers NoSuchKey, NoSuchVersion or the bucket's refusal)
        mode, until = wanted.get("Mode"), _epoch(wanted.get("RetainUntilDate"))
        now = self.engine.now()
        if until is not None and until <= now:
            raise AwsError("InvalidArgument", "The retain until date must be in the future!",
                           members={"ArgumentName": "RetainUntilDate",
                                    "ArgumentValue": formatdate(until, usegmt=True)})
        held_mode, held_until = current.get("Mode"), _epoch(current.get("RetainUntilDate"))
        if held_mode is None or held_until is None or held_until <= now:
            return call.backend_answer()  # (no retention holds the version)
        weakens = mode is None or until is None or until < held_until or mode != held_mode
        bypass = call.params.get("BypassGovernanceRetention") is True
        if weakens and (held_mode == "COMPLIANCE" or not bypass):
            raise AwsError("AccessDenied", "Access Denied because object protected by object lock.", 403)
        return call.backend_answer()

    def _current_retention(self, call: Call) -> dict[str, Any] | None:
        """The retention the version holds now ({} for none), or None when the backend refuses to say (no such
        bucket, key or version, a bucket without Object Lock): then its answer to the call itself stands."""
        self.sandbox.materialize_all()
        found = self.sandbox.data.bucket_state(call.params.get("Bucket", ""))
        if found is None:
            return None
        asked = {name: call.params[name] for name in ("Bucket", "Key", "VersionId") if call.params.get(name)}
        try:
            with audit.unrecorded():
                return dict(self.sandbox.client("s3", found.region).get_object_retention(**asked)["Retention"])
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "NoSuchObjectLockConfiguration":
                return {}
            return None

    @staticmethod
    def _with_document(call: Call, member: str) -> BackendAnswer:
        if member not in call.params:
            # https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList
            raise AwsError("MissingRequestBodyError", "Request Body is empty.")
        return call.backend_answer()

    # -- lifecycle ---------------------------------------------------------------------------------------

    def op_GetBucketLifecycleConfiguration(self, call: Call) -> dict[str, Any] | BackendAnswer:
        self.sandbox.materialize_all()
        found = self.engine.state.lifecycle_documents.get(call.params.get("Bucket", ""))
        if found is None:
            return call.backend_answer()
        document, minimum = found
        return {"Rules": document.get("Rules") or [], "TransitionDefaultMinimumObjectSize": minimum}

    # -- listings ----------------------------------------------------------------------------------------

    def _capped_listing(self, call: Call) -> BackendAnswer:
        _cap_page_size(call)
        return call.backend_answer()

    op_ListObjects = op_ListObjectVersions = op_ListMultipartUploads = op_ListParts = _capped_listing

    def op_ListObjectsV2(self, call: Call) -> BackendAnswer:
        _cap_page_size(call)
        if not call.params.get("ContinuationToken"):
            return call.backend_answer()
        try:
            call.forward()
        except (TypeError, KeyError, ValueError, AttributeError) as exc:
            # The backend fails on a token it never issued instead of refusing it, as S3 does
            # (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html).
            raise AwsError("InvalidArgument", "The continuation token provided is incorrect") from exc
        return call.backend_answer()

    # -- multipart uploads -------------------------------------------------------------------------------

    def op_UploadPart(self, call: Call) -> BackendAnswer:
        self._require_upload(call)
        return call.backend_answer()

    def op_UploadPartCopy(self, call: Call) -> BackendAnswer:
        _check_copy_source(call)
        self._require_upload(call)
        return call.backend_answer()

    def op_CopyObject(self, call: Call) -> BackendAnswer:
        _check_copy_source(call)
        return call.backend_answer()

    def op_CompleteMultipartUpload(self, call: Call) -> BackendAnswer:
        if not (call.params.get("MultipartUpload") or {}).get("Parts"):
            raise AwsError("MalformedXML", "The XML you provided was not well-formed or did not validate against our "
                                           "published schema: CompleteMultipartUpload needs at least one Part")
        self._require_upload(call)
        return call.backend_answer()

    def _require_upload(self, call: Call) -> None:
        """NoSuchUpload, 404, for an upload id that is not an upload in progress of this key
        (https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPart.html): the backend fails on one."""
        bucket, key, upload_id = (call.params.get(name, "") for name in ("Bucket", "Key", "UploadId"))
        known = self.engine.state.uploads.get(bucket, {}).get(upload_id)
        if known is not None and known[0] == key:
            return
        self.sandbox.materialize_all()  # a restored S3 may still wait as bytes
        found = self.sandbox.data.bucket_state(bucket)
        if found is None:
            return  # the backend answers NoSuchBucket
        try:  # an upload the engine did not see begin: ask the backend
            with audit.unrecorded():
                self.sandbox.client("s3", found.region).list_parts(Bucket=bucket, Key=key, UploadId=upload_id,
                                                                   MaxParts=1)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "NoSuchUpload":
                raise AwsError("NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, "
                                               "or the upload may have been aborted or completed.", 404) from exc
            # (any other refusal: the backend gives its own answer to the call itself)

    # -- objects: delete markers, and the replication status of the version read -------------------------

    def op_GetObject(self, call: Call) -> BackendAnswer:
        _ignore_unreadable_range(call)
        return self._read_object(call)

    def op_HeadObject(self, call: Call) -> BackendAnswer:
        _ignore_unreadable_range(call)
        return self._read_object(call)

    def _read_object(self, call: Call) -> BackendAnswer:
        bucket = call.params.get("Bucket", "")
        state = self.engine.state
        expiring = [rule for rule in state.lifecycle.get(bucket) or () if rule.expires]
        dated = bool(expiring) and not call.params.get("VersionId")  # (the current version's expiry is shown)
        try:
            # (the whole answer, its date and size, only where an expiry is to be shown: else one header)
            output = call.forward() if dated else call.forward("VersionId")
        except BackendRefusedError as refused:
            if refused.code == "InvalidObjectState":
                raise _archived_refusal(refused) from None
            raise self._delete_marker_refusal(call, refused) from None
        added: dict[str, Any] = {}
        version_id = output.get("VersionId") or "null"
        if dated:
            expiration = self._expiration(call.region, bucket, call.params.get("Key", ""), version_id, output,
                                          expiring)
            if expiration is not None:
                added["Expiration"] = expiration
        if state.restores:
            restore = self.engine.restore_of(bucket, version_id)
            if restore is not None and restore.ongoing:
                added["Restore"] = restore.header()  # (the backend shows a finished restore itself)
        if bucket in state.versions or bucket in state.replication:  # (else no version replicates, nor is a replica)
            added["ReplicationStatus"] = self.engine.replication_status(bucket, version_id)
        return call.backend_answer(**added)

    def _expiration(self, region: str, bucket: str, key: str, version_id: str, output: dict[str, Any],
                    expiring: list[LifecycleRule]) -> str | None:
        """x-amz-expiration of the current version: when the earliest of the enabled Expiration rules that selects
        it expires it, and that rule ("expiry-date=..., rule-id=..."; API Reference, HeadObject: Expiration)."""
        modified = output.get("LastModified")
        if not isinstance(modified, datetime):
            return None
        tags = None
        if any(rule.tags for rule in expiring):
            with audit.unrecorded():
                found = self.sandbox.client("s3", region).get_object_tagging(Bucket=bucket, Key=key)
            tags = {tag["Key"]: tag["Value"] for tag in found.get("TagSet") or []}
        version = ObjectVersion(key, version_id, True, False, modified.timestamp(),
                                int(output.get("ContentLength") or 0), tags)
        due = [(when, rule.id) for rule in expiring if rule.selects(version)
               and (when := expires_at(rule, version)) is not None]
        if not due:
            return None
        when, rule_id = min(due)
        return f'expiry-date="{formatdate(when, usegmt=True)}", rule-id="{rule_id}"'

    # -- restores of archived objects --------------------------------------------------------------------

    def op_RestoreObject(self, call: Call) -> dict[str, Any] | BackendAnswer:
        """A restore takes the duration model's time for its tier; meanwhile a second request is refused
        (https://docs.aws.amazon.com/AmazonS3/latest/API/API_RestoreObject.html: RestoreAlreadyInProgress, 409),
        and a request for a version already restored sets its copy's expiry afresh (200 instead of 202)."""
        self.sandbox.materialize_all()
        bucket, key = call.params.get("Bucket", ""), call.params.get("Key", "")
        # (refused here, not by the backend, which reads the body first and fails on a missing one)
        found = self.sandbox.data.bucket_state(bucket)
        if found is None:
            raise AwsError("NoSuchBucket", "The specified bucket does not exist", 404, members={"BucketName": bucket})
        try:
            history = self.sandbox.data.object_history(found.region, bucket, key)
        except LookupError:
            history = []
        wanted = call.params.get("VersionId")
        version = next((v for v in reversed(history) if v.version_id == wanted), None) if wanted else (
            history[-1] if history else None)
        if version is None and wanted:
            raise AwsError("NoSuchVersion", "The specified version does not exist.", 404,
                           members={"Key": key, "VersionId": wanted})
        if version is None or version.is_delete_marker:
            raise AwsError("NoSuchKey", "The specified key does not exist.", 404, members={"Key": key})
        if version.storage_class not in ARCHIVE_CLASSES:
            # https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList (InvalidObjectState)
            raise AwsError("InvalidObjectState", "Restore is not allowed for the object's current storage class",
                           403, members={"StorageClass": version.storage_class})
        request = call.params.get("RestoreRequest") or {}
        if request.get("Type") == "SELECT" or request.get("OutputLocation"):
            raise AwsError("NotImplemented", "A restore of type SELECT is not simulated by the lab; restore the "
                                             "object and read it with GetObject", 501, sender_fault=False)
        days = request.get("Days")
        if days is None or int(days) < 1:
            # Days is required for an archive restore (API Reference: RestoreRequest) and must be positive
            raise AwsError("MalformedXML", "The XML you provided was not well-formed or did not validate against our "
                                           "published schema: RestoreRequest needs Days of at least 1")
        tier = (request.get("GlacierJobParameters") or {}).get("Tier") or request.get("Tier") or "Standard"
        if tier not in ("Expedited", "Standard", "Bulk"):
            raise AwsError("MalformedXML", "The XML you provided was not well-formed or did not validate against our "
                                           f"published schema: Tier must be Expedited, Standard or Bulk, not {tier}")
        if tier == "Expedited" and version.storage_class == "DEEP_ARCHIVE":
            # "Expedited retrievals ... not available for objects stored in S3 Glacier Deep Archive" (S3 User
            # Guide: Understanding archive retrieval options); the error text is not published
            raise AwsError("InvalidArgument", "Expedited retrieval is not available for objects in the DEEP_ARCHIVE "
                                              "storage class; use Standard or Bulk")
        restore = self.engine.restore_of(bucket, version.version_id)
        if restore is not None and restore.ongoing:
            raise AwsError("RestoreAlreadyInProgress", "Object restore is already in progress", 409)
        if not version.is_latest:  # (the backend restores only a key's latest version)
            if restore is not None:
                self.engine.extend_restore(bucket, version.version_id, int(days))
            else:
                self.engine.start_restore(bucket, key, version.version_id, version.storage_class, tier, int(days))
            return {}
        call.forward()  # the backend's own answer: 202 Accepted, or 200 OK for an object with a restored copy
        if restore is not None:
            self.engine.extend_restore(bucket, version.version_id, int(days))
        else:  # (the backend's restore is immediate: undone here, the engine's takes its time)
            self.sandbox.data.set_restored(found.region, bucket, key, version.version_id, None)
            self.engine.start_restore(bucket, key, version.version_id, version.storage_class, tier, int(days))
        return call.backend_answer()

    def _delete_marker_refusal(self, call: Call, refused: BackendRefusedError) -> AwsError:
        """The refusal of a read that met a delete marker, as S3 answers it: a key whose current version is a
        delete marker is 404 with `x-amz-delete-marker: true`; a delete marker named by its version id is 405
        Method Not Allowed with its Last-Modified
        (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html,
        https://docs.aws.amazon.com/AmazonS3/latest/userguide/DeleteMarker.html). Other refusals stand."""
        if refused.status not in (404, 405):
            return refused
        bucket, key = call.params.get("Bucket", ""), call.params.get("Key", "")
        version_id = call.params.get("VersionId")
        found = self.sandbox.data.bucket_state(bucket)
        if found is None or found.versioning is None:
            return refused
        try:
            history = self.sandbox.data.object_history(found.region, bucket, key)
        except LookupError:
            return refused
        if version_id:
            marker = next((v for v in history if v.version_id == version_id and v.is_delete_marker), None)
        else:
            marker = history[-1] if history and history[-1].is_delete_marker else None
        if marker is None:
            return refused
        headers = [("x-amz-delete-marker", "true"), ("x-amz-version-id", marker.version_id)]
        if not version_id:
            # (the backend's own 404 keeps its body; only the headers S3 adds are set on it)
            present = {name.lower() for name, _ in refused.response.headers}
            refused.response.headers.extend(item for item in headers if item[0] not in present)
            return refused
        headers += [("Last-Modified", formatdate(marker.last_modified, usegmt=True)), ("Allow", "DELETE")]
        return AwsError("MethodNotAllowed", "The specified method is not allowed against this resource.", 405,
                        headers=headers)


def _epoch(value: Any) -> float | None:
    """A timestamp as botocore reads one (a datetime, or ISO 8601 text), in seconds since the epoch."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).timestamp()
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def _archived_refusal(refused: BackendRefusedError) -> AwsError:
    """A read of an archived object that is not restored: 403 InvalidObjectState with its StorageClass
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html: "If the object you are retrieving is
    stored in the S3 Glacier Flexible Retrieval storage class ... you must first restore a copy")."""
    if refused.status == 403:
        return refused
    return AwsError("InvalidObjectState", "The operation is not valid for the object's storage class", 403,
                    members={"StorageClass": refused.members.get("StorageClass", "GLACIER")})


_BYTE_RANGE = re.compile(r"^bytes=(\d+-\d*|-\d+)(,\s*(\d+-\d*|-\d+))*$")


def _ignore_unreadable_range(call: Call) -> None:
    """S3 answers a GET or HEAD whose Range it cannot read as a request for the whole object (RFC 9110 14.2:
    a recipient ignores a Range it does not understand); moto fails on some (a Range without "=")."""
    found = call.ctx.environ.get("HTTP_RANGE")
    if found is not None and not _BYTE_RANGE.match(found.strip()):
        del call.ctx.environ["HTTP_RANGE"]


def bucket_name_problem(name: str) -> str | None:
    """What breaks S3's naming rules for general purpose buckets in `name`, or None."""
    if not 3 <= len(name) <= 63:
        return "a bucket name must be 3 to 63 characters long"
    if not _BUCKET_NAME.match(name):
        return ("a bucket name may hold only lowercase letters, digits, dots and hyphens, and must begin and end "
                "with a letter or digit")
    if ".." in name:
        return "a bucket name must not contain two adjacent periods"
    if _IP_ADDRESS.match(name):
        return "a bucket name must not be formatted as an IP address"
    if name.startswith(_RESERVED_PREFIXES) or name.endswith(_RESERVED_SUFFIXES):
        return "the bucket name uses a prefix or suffix reserved by S3"
    return None
