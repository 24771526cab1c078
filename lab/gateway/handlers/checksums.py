"""S3's integrity checks on upload, made as S3 makes them, before the backend stores anything.

What a request may carry, and what S3 answers when it does not hold
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html and the error list
of https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList):

- ``Content-MD5`` (any S3 request with a body): not 16 bytes of base64 -> 400 InvalidDigest, another
  digest -> 400 BadDigest.
- One flexible checksum, ``x-amz-checksum-{crc32,crc32c,crc64nvme,sha1,sha256,sha512,md5,xxhash64,
  xxhash3,xxhash128}``, in a header or in the trailer of an aws-chunked body (``x-amz-trailer``), on the
  operations whose model has a request checksum (PutObject, UploadPart, the bucket configurations, ...):
  a malformed value or more than one -> 400 InvalidRequest, another checksum -> 400 BadDigest
  ("The CRC32 you specified did not match the calculated checksum."). ``x-amz-sdk-checksum-algorithm``
  with no checksum to go with it -> 400 InvalidRequest; naming another algorithm than the checksum
  sent -> 400 BadDigest (API_PutObject.html, ChecksumAlgorithm).
- aws-chunked bodies (``x-amz-content-sha256: STREAMING-...``, signed chunks or not, with trailers or
  not; https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html and sigv4-streaming-trailers.html):
  cut short -> 400 IncompleteBody, a declared trailer missing or an undeclared one -> 400
  MalformedTrailerError, ``x-amz-decoded-content-length`` other than the payload -> 400 IncompleteBody.
  Chunk and trailer signatures are not verified: the sandbox checks no signature at all.
- ``x-amz-content-sha256`` holding the payload's SHA-256 (a signed payload) -> 400
  XAmzContentSHA256Mismatch when the body differs.

moto stores the checksum a client sends but verifies none; it keeps one only when
``x-amz-sdk-checksum-algorithm`` names it, and reads a trailer's value by searching the raw body. So a
verified checksum is handed on as the headers moto reads (the algorithm, and a trailer's value as its
header), and the journal records the request so. On the way back, S3 answers the checksum's type
(FULL_OBJECT for a single upload, COMPOSITE or FULL_OBJECT for a multipart one) where moto leaves it
out: PutObject, GetObject and HeadObject with ``x-amz-checksum-mode: ENABLED``, GetObjectAttributes.

Only the embedded backend (moto) is checked: LocalStack and real endpoints verify for themselves, and a
forwarded body is streamed, not read here. Requests played back from the journal passed when first made.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import zlib
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from typing import Protocol

import anycrc
import crc32c
import xxhash

from lab.gateway.chain import Handler, HandlerChain
from lab.gateway.codec.errors import aws_error
from lab.gateway.codec.identify import service_model
from lab.kernel.context import Identity, RequestContext, Response
from lab.kernel.port import Sandbox

__all__ = ["ALGORITHMS", "ChecksumError", "answer_checksum_type", "checksum_of", "decode_aws_chunked",
           "verify_checksums"]


class _Digest(Protocol):
    def update(self, data: bytes | memoryview, /) -> None: ...

    def digest(self) -> bytes: ...


class _Crc:
    """A CRC with hashlib's update/digest: big-endian bytes, as S3 encodes CRCs before base64."""

    __slots__ = ("_function", "_size", "_value")

    def __init__(self, function: Callable[[bytes | memoryview, int], int], size: int) -> None:
        self._function = function
        self._size = size
        self._value = 0  # every CRC here is 0 over no data, so 0 starts the running value

    def update(self, data: bytes | memoryview) -> None:
        self._value = self._function(data, self._value)

    def digest(self) -> bytes:
        return self._value.to_bytes(self._size, "big")


_CRC64NVME = anycrc.Model("CRC64-NVME")

# S3's checksum algorithms (the ChecksumAlgorithm enum of the S3 model) -> digest size and a new digest.
ALGORITHMS: dict[str, tuple[int, Callable[[], _Digest]]] = {
    "CRC32": (4, lambda: _Crc(zlib.crc32, 4)),
    "CRC32C": (4, lambda: _Crc(crc32c.crc32c, 4)),
    "CRC64NVME": (8, lambda: _Crc(_CRC64NVME.calc, 8)),
    "SHA1": (20, lambda: hashlib.sha1(usedforsecurity=False)),
    "SHA256": (32, hashlib.sha256),
    "SHA512": (64, hashlib.sha512),
    "MD5": (16, lambda: hashlib.md5(usedforsecurity=False)),
    "XXHASH64": (8, xxhash.xxh64),
    "XXHASH3": (8, xxhash.xxh3_64),
    "XXHASH128": (16, xxhash.xxh3_128),
}
_HEADER_PREFIX = "x-amz-checksum-"
_ALGORITHM_OF_HEADER = {_HEADER_PREFIX + name.lower(): name for name in ALGORITHMS}
_MAX_FRAMING_LINE = 4096  # a chunk header or trailer line; real ones are under 200 bytes
_HEX_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


class ChecksumError(Exception):
    """A request S3 refuses for its integrity headers or framing: answered as AWS's error."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


def checksum_of(algorithm: str, parts: Iterable[bytes | memoryview]) -> bytes:
    """The raw digest of the concatenated ``parts`` with one of S3's algorithms."""
    digest = ALGORITHMS[algorithm][1]()
    for part in parts:
        digest.update(part)
    return digest.digest()


def _decoded(value: str, size: int) -> bytes | None:
    """The bytes of a base64 value that encodes exactly ``size`` bytes, else None."""
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == size else None


def decode_aws_chunked(body: bytes) -> tuple[list[memoryview], dict[str, str]]:
    """The payload (as views into ``body``) and the trailers of an aws-chunked body.

    ``size-in-hex[;chunk-signature=...]\\r\\n data \\r\\n`` ... ``0[;chunk-signature=...]\\r\\n``, then
    ``name:value\\r\\n`` trailers and an empty line. Sizes are checked against the bytes present, never
    trusted: the body is already in memory, and nothing larger is ever allocated.
    """
    view = memoryview(body)
    end = len(body)
    position = 0
    payload: list[memoryview] = []
    while True:
        line_end = body.find(b"\r\n", position, position + _MAX_FRAMING_LINE)
        if line_end < 0:
            raise ChecksumError("IncompleteBody", "The request body terminated unexpectedly "
                                  f"(an aws-chunked chunk header at byte {position} has no end)")
        size_text = body[position:line_end].split(b";", 1)[0].strip()
        if not size_text or len(size_text) > 16 or size_text.strip(b"0123456789abcdefABCDEF"):
            raise ChecksumError("InvalidRequest", f"The aws-chunked body has a malformed chunk size at byte "
                                  f"{position}: {size_text[:40].decode('latin-1')!r}")
        size = int(size_text, 16)
        position = line_end + 2
        if size == 0:
            break
        if position + size + 2 > end or body[position + size:position + size + 2] != b"\r\n":
            raise ChecksumError("IncompleteBody", "The request body terminated unexpectedly "
                                  f"(an aws-chunked chunk of {size} bytes at byte {position} is cut short)")
        payload.append(view[position:position + size])
        position += size + 2
    trailers: dict[str, str] = {}
    while position < end:
        line_end = body.find(b"\r\n", position, position + _MAX_FRAMING_LINE)
        line = body[position:line_end if line_end >= 0 else end]
        position = line_end + 2 if line_end >= 0 else end
        if not line:
            break
        name, colon, value = line.partition(b":")
        if not colon or not name.strip():
            raise _malformed_trailer(f"a trailer line without a name: {line[:40].decode('latin-1')!r}")
        trailers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
    if body[position:].strip(b"\r\n"):
        raise _malformed_trailer(f"{end - position} bytes after the last trailer")
    return payload, trailers


def _malformed_trailer(detail: str) -> ChecksumError:
    return ChecksumError("MalformedTrailerError", "The request contained trailing data that was not "
                           f"well-formed or did not conform to our published schema ({detail}).")


@cache
def _flexible_operations() -> frozenset[str]:
    """S3 operations whose x-amz-checksum-* headers are checksums of the request body (the model's
    httpChecksum.requestAlgorithmMember). On others they mean something else: CompleteMultipartUpload's
    is the whole object's, CreateMultipartUpload's names an algorithm."""
    model = service_model("s3")
    return frozenset(name for name in model.operation_names
                     if model.operation_model(name).http_checksum.get("requestAlgorithmMember"))


def _body_checksum(sent: Mapping[str, str], trailers: Mapping[str, str], declared: list[str]) -> \
        tuple[str, str, str] | None:
    """(algorithm, base64 value, where) of the one flexible checksum the request carries: ``sent`` holds its
    x-amz-checksum-* headers."""
    found = [(_ALGORITHM_OF_HEADER[name], value, "header") for name, value in sent.items()]
    for name in declared:
        if name not in _ALGORITHM_OF_HEADER:
            raise _malformed_trailer(f"x-amz-trailer names {name!r}, which is no S3 checksum")
        if name not in trailers:
            raise _malformed_trailer(f"x-amz-trailer declares {name} but the body has no such trailer")
        found.append((_ALGORITHM_OF_HEADER[name], trailers[name], "trailer"))
    undeclared = [name for name in trailers if name not in declared and name != "x-amz-trailer-signature"]
    if undeclared:
        raise _malformed_trailer(f"the trailer {undeclared[0]} was not declared in x-amz-trailer")
    if len(found) > 1:
        raise ChecksumError("InvalidRequest",
                              "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
    return found[0] if found else None


def _verify(ctx: RequestContext, identity: Identity) -> None:
    """Raise ChecksumError unless the request's integrity headers hold; hand verified checksums on."""
    headers = ctx.headers  # case-insensitive; looked up by name (cheaper than listing them all)
    content_sha256 = headers.get("x-amz-content-sha256", "")
    streaming = content_sha256.upper().startswith("STREAMING-")
    content_md5 = headers.get("content-md5")
    flexible = identity.operation in _flexible_operations()
    declared = [name.strip().lower() for name in headers.get("x-amz-trailer", "").split(",") if name.strip()]
    sdk_algorithm = headers.get("x-amz-sdk-checksum-algorithm") if flexible else None
    sent = {name: value for name in _ALGORITHM_OF_HEADER if (value := headers.get(name)) is not None} \
        if flexible else {}
    signed_payload = bool(_HEX_SHA256.fullmatch(content_sha256))
    if not (streaming or content_md5 is not None or sent or declared or sdk_algorithm or signed_payload):
        return  # nothing to verify: the body is not even read

    body = ctx.body
    if streaming:
        payload, trailers = decode_aws_chunked(body)
        decoded_length = headers.get("x-amz-decoded-content-length")
        size = sum(len(part) for part in payload)
        if decoded_length is None:
            raise ChecksumError("MissingContentLength", "You must provide the x-amz-decoded-content-length "
                                  "header with an aws-chunked body.", status=411)
        if decoded_length.strip() != str(size):
            raise ChecksumError("IncompleteBody", f"The aws-chunked body carries {size} bytes; "
                                  f"x-amz-decoded-content-length says {decoded_length.strip()}.")
    else:
        payload, trailers = [memoryview(body)], {}
        if declared:
            raise _malformed_trailer("x-amz-trailer needs an aws-chunked body (x-amz-content-sha256: STREAMING-...)")

    if signed_payload and checksum_of("SHA256", payload) != bytes.fromhex(content_sha256):
        raise ChecksumError("XAmzContentSHA256Mismatch",
                              "The provided 'x-amz-content-sha256' header does not match what was computed.")
    if content_md5 is not None:
        expected = _decoded(content_md5, 16)
        if expected is None:
            raise ChecksumError("InvalidDigest", "The Content-MD5 you specified is not valid.")
        if checksum_of("MD5", payload) != expected:
            raise ChecksumError("BadDigest", "The Content-MD5 you specified did not match what we received.")
    if not flexible:
        return
    found = _body_checksum(sent, trailers, declared)
    if found is None and content_md5 is not None and (sdk_algorithm or "").strip().upper() == "MD5":
        # The JavaScript SDK sends an MD5 checksum as Content-MD5 (verified above), naming MD5 as the algorithm.
        found = ("MD5", content_md5, "header")
    if sdk_algorithm is not None:
        named = sdk_algorithm.strip().upper()
        if named not in ALGORITHMS:
            raise ChecksumError("InvalidRequest", "Value for x-amz-sdk-checksum-algorithm header is invalid.")
        if found is None:
            raise ChecksumError("InvalidRequest", "x-amz-sdk-checksum-algorithm specified, but no corresponding "
                                  "x-amz-checksum-* or x-amz-trailer headers were found.")
        if named != found[0]:
            raise ChecksumError("BadDigest", f"The {found[0]} checksum sent does not match the algorithm "
                                  f"x-amz-sdk-checksum-algorithm names ({named}).")
    if found is None:
        return
    algorithm, value, where = found
    expected = _decoded(value, ALGORITHMS[algorithm][0])
    if expected is None:
        name = _HEADER_PREFIX + algorithm.lower()
        raise ChecksumError("InvalidRequest", f"Value for {name} {where} is invalid.")
    if checksum_of(algorithm, payload) != expected:
        raise ChecksumError("BadDigest", f"The {algorithm} you specified did not match the calculated checksum.")
    # Verified: let moto keep it (it reads the algorithm header, and the value from a header).
    ctx.environ["HTTP_X_AMZ_SDK_CHECKSUM_ALGORITHM"] = algorithm
    ctx.environ["HTTP_" + (_HEADER_PREFIX + algorithm.lower()).upper().replace("-", "_")] = value.strip()


def _checked_by_moto(sandbox: Sandbox) -> bool:
    return sandbox.backend_name == "embedded"


def verify_checksums(sandbox: Sandbox) -> Handler:
    """Request handler: refuse an S3 upload whose integrity headers do not hold, as S3 does."""

    def verify_checksums(chain: HandlerChain, ctx: RequestContext) -> None:
        identity = ctx.identity
        if (identity is None or identity.service != "s3" or ctx.method not in ("PUT", "POST") or ctx.replaying
                or not _checked_by_moto(sandbox)):
            return
        try:
            _verify(ctx, identity)
        except ChecksumError as refused:
            ctx.response = aws_error(identity, refused.status, refused.code, str(refused), ctx.request_id)

    return verify_checksums


# -- the checksum's type on the way back -----------------------------------------------------------------

_MULTIPART_ETAG = re.compile(r'"?[0-9a-fA-F]+-(\d+)"?')
_ATTRIBUTES_CHECKSUM_END = b"</Checksum>"


def _checksum_type(algorithm: str, etag: str | None) -> tuple[str, int | None]:
    """(type, part count) of a stored checksum when nothing names its type. A multipart object's ETag
    ends in -N; its checksum is COMPOSITE unless it is CRC64NVME, which S3 keeps FULL_OBJECT only (moto
    decides the same way when CreateMultipartUpload named no type; a named type travels with the object's
    headers)."""
    match = _MULTIPART_ETAG.fullmatch(etag.strip()) if etag else None
    if match is None:
        return "FULL_OBJECT", None
    return ("FULL_OBJECT" if algorithm == "CRC64NVME" else "COMPOSITE"), int(match.group(1))


def answer_checksum_type(sandbox: Sandbox) -> Handler:
    """Response handler: add ``x-amz-checksum-type`` (and a composite checksum's -N) where S3 answers them."""

    def answer_checksum_type(chain: HandlerChain, ctx: RequestContext) -> None:
        identity, response = ctx.identity, ctx.response
        if (identity is None or identity.service != "s3" or response is None or response.status >= 300
                or ctx.replaying or not _checked_by_moto(sandbox)):
            return
        operation = identity.operation
        if operation in ("PutObject", "GetObject", "HeadObject"):
            _add_type_header(response)
        elif operation == "GetObjectAttributes":
            _add_type_element(response)

    return answer_checksum_type


def _add_type_header(response: Response) -> None:
    headers = response.headers
    index = {name.lower(): position for position, (name, _) in enumerate(headers)}
    found = next((name for name in index if name in _ALGORITHM_OF_HEADER), None)
    if found is None:
        return
    etag = headers[index["etag"]][1] if "etag" in index else None
    kind, parts = _checksum_type(_ALGORITHM_OF_HEADER[found], etag)
    if "x-amz-checksum-type" in index:
        kind = headers[index["x-amz-checksum-type"]][1].strip().upper()
    else:
        headers.append(("x-amz-checksum-type", kind))
    name, value = headers[index[found]]
    if kind == "COMPOSITE" and parts is not None and "-" not in value:
        headers[index[found]] = (name, f"{value}-{parts}")  # S3 answers a composite checksum as value-N


def _add_type_element(response: Response) -> None:
    body = response.body_bytes()
    if _ATTRIBUTES_CHECKSUM_END not in body or b"<ChecksumType>" in body:
        return
    # moto names the type of multipart checksums only; an object uploaded whole has a FULL_OBJECT one.
    response.body = body.replace(_ATTRIBUTES_CHECKSUM_END,
                                 b"<ChecksumType>FULL_OBJECT</ChecksumType>" + _ATTRIBUTES_CHECKSUM_END, 1)
