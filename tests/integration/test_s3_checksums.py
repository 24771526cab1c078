"""S3 uploads are verified as S3 verifies them, over HTTP: Content-MD5, x-amz-checksum-* headers, aws-chunked
bodies with trailing checksums (signed chunks or not), x-amz-content-sha256. A mismatch is refused before
anything is stored; a verified checksum is kept and answered with its type.

The requests are boto3's own where boto3 can make them (botocore sends trailers over HTTPS only, and the
sandbox speaks HTTP), else framed by botocore's AwsChunkedWrapper or by hand as the AWS docs define
aws-chunked, and sent with urllib3.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import signal
import uuid
import zlib
from pathlib import Path

import pytest
import urllib3
from botocore.exceptions import ClientError
from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum

from lab.gateway.handlers.checksums import ALGORITHMS, checksum_of
from tests.conftest import wait_for

pytestmark = pytest.mark.integration

BUCKET = "securecart-logs"
http = urllib3.PoolManager()


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def crc32(data: bytes) -> str:
    return b64(zlib.crc32(data).to_bytes(4, "big"))


def unique_key(label: str) -> str:
    return f"checksums/{label}-{uuid.uuid4().hex[:8]}"


def error_code(call) -> tuple[str, int]:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"], caught.value.response["ResponseMetadata"]["HTTPStatusCode"]


def absent(s3, key: str) -> bool:
    try:
        s3.head_object(Bucket=BUCKET, Key=key)
    except ClientError as exc:
        return exc.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    return False


def raw_put(sandbox, key: str, body: bytes, headers: dict[str, str]) -> urllib3.BaseHTTPResponse:
    """A PUT the sandbox identifies as S3 PutObject (it checks no signature, as on every request)."""
    auth = ("AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=" + "0" * 64)
    return http.request("PUT", f"{sandbox.endpoint}/{BUCKET}/{key}", body=body,
                        headers={"Authorization": auth, "x-amz-date": "20260101T000000Z", **headers})


def chunked_headers(data: bytes, trailer: str | None = "x-amz-checksum-crc32",
                    mode: str = "STREAMING-UNSIGNED-PAYLOAD-TRAILER") -> dict[str, str]:
    headers = {"Content-Encoding": "aws-chunked", "x-amz-content-sha256": mode,
               "x-amz-decoded-content-length": str(len(data))}
    if trailer:
        headers["x-amz-trailer"] = trailer
        headers["x-amz-sdk-checksum-algorithm"] = trailer.rsplit("-", 1)[1].upper()
    return headers


def botocore_framed(data: bytes) -> bytes:
    return AwsChunkedWrapper(io.BytesIO(data), checksum_cls=Crc32Checksum, checksum_name="x-amz-checksum-crc32",
                             chunk_size=8192).read()


def signed_framed(data: bytes, trailers: dict[str, str] | None) -> bytes:
    """aws-chunked with chunk signatures (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]), as the Java and Go
    SDKs send it; sigv4-streaming.html and sigv4-streaming-trailers.html define the framing."""
    out = bytearray()
    for start in range(0, len(data), 8192):
        chunk = data[start:start + 8192]
        out += f"{len(chunk):x};chunk-signature={'a' * 64}\r\n".encode() + chunk + b"\r\n"
    out += f"0;chunk-signature={'b' * 64}\r\n".encode()
    for name, value in (trailers or {}).items():
        out += f"{name}:{value}\r\n".encode()
    if trailers:
        out += f"x-amz-trailer-signature:{'c' * 64}\r\n".encode()
    return bytes(out + b"\r\n")


# -- the defect: a wrong checksum header was stored and answered 200 -------------------------------------

def test_a_wrong_crc32_header_is_refused_and_nothing_is_stored(sandbox):
    s3 = sandbox.client("s3")
    key = unique_key("wrong-crc32")
    code, status = error_code(lambda: s3.put_object(Bucket=BUCKET, Key=key, Body=b"the invoice",
                                                    ChecksumCRC32=crc32(b"another invoice")))
    assert (code, status) == ("BadDigest", 400)
    assert absent(s3, key)


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_every_algorithm_is_verified_kept_and_answered_with_its_type(sandbox, algorithm):
    s3 = sandbox.client("s3")
    data = os.urandom(3000)
    parameter = "Checksum" + algorithm
    right = b64(checksum_of(algorithm, [data]))
    wrong = b64(checksum_of(algorithm, [data + b"!"]))
    key = unique_key(algorithm.lower())
    assert error_code(lambda: s3.put_object(Bucket=BUCKET, Key=key, Body=data, **{parameter: wrong})) == (
        "BadDigest", 400)
    assert absent(s3, key)
    put = s3.put_object(Bucket=BUCKET, Key=key, Body=data, **{parameter: right})
    assert put[parameter] == right and put["ChecksumType"] == "FULL_OBJECT"
    for read in (s3.head_object, s3.get_object):
        answer = read(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
        assert (answer[parameter], answer["ChecksumType"]) == (right, "FULL_OBJECT"), read
    attributes = s3.get_object_attributes(Bucket=BUCKET, Key=key, ObjectAttributes=["Checksum"])["Checksum"]
    assert attributes == {parameter: right, "ChecksumType": "FULL_OBJECT"}
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == data


def test_boto3s_default_checksums_pass(sandbox):
    s3 = sandbox.client("s3")
    key = unique_key("default")
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"boto3 computes CRC32 and SHA-256 itself")
    got = s3.get_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")  # botocore validates the CRC32 read back
    assert got["Body"].read() == b"boto3 computes CRC32 and SHA-256 itself"
    assert (got["ChecksumCRC32"], got["ChecksumType"]) == (crc32(b"boto3 computes CRC32 and SHA-256 itself"),
                                                           "FULL_OBJECT")
    s3.put_bucket_tagging(Bucket=BUCKET, Tagging={"TagSet": [{"Key": "app", "Value": "securecart"}]})
    s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": key}]})  # Content-MD5 / CRC32 required there
    assert absent(s3, key)


def test_malformed_and_duplicated_checksum_headers(sandbox):
    s3 = sandbox.client("s3")
    key = unique_key("malformed")
    assert error_code(lambda: s3.put_object(Bucket=BUCKET, Key=key, Body=b"x", ChecksumCRC32="not base64!")) == (
        "InvalidRequest", 400)
    assert error_code(lambda: s3.put_object(Bucket=BUCKET, Key=key, Body=b"x", ChecksumSHA256=crc32(b"x"))) == (
        "InvalidRequest", 400)  # 4 bytes where SHA-256 has 32
    assert error_code(lambda: s3.put_object(Bucket=BUCKET, Key=key, Body=b"x", ChecksumCRC32=crc32(b"x"),
                                            ChecksumSHA1=b64(hashlib.sha1(b"x").digest()))) == ("InvalidRequest", 400)
    answer = raw_put(sandbox, key, b"x", {"x-amz-sdk-checksum-algorithm": "CRC32", "x-amz-content-sha256":
                                          "UNSIGNED-PAYLOAD"})
    assert answer.status == 400 and b"<Code>InvalidRequest</Code>" in answer.data
    assert b"x-amz-sdk-checksum-algorithm" in answer.data
    assert absent(s3, key)


def test_content_md5(sandbox):
    s3 = sandbox.client("s3")
    key = unique_key("md5")
    data = b"the shop's invoice"
    assert error_code(lambda: s3.put_object(Bucket=BUCKET, Key=key, Body=data,
                                            ContentMD5=b64(hashlib.md5(b"other").digest()))) == ("BadDigest", 400)
    assert error_code(lambda: s3.put_object(Bucket=BUCKET, Key=key, Body=data, ContentMD5="c2hvcnQ=")) == (
        "InvalidDigest", 400)
    assert absent(s3, key)
    s3.put_object(Bucket=BUCKET, Key=key, Body=data, ContentMD5=b64(hashlib.md5(data).digest()))
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == data
    tagging = {"TagSet": [{"Key": "app", "Value": "securecart"}]}
    assert error_code(lambda: s3.put_object_tagging(Bucket=BUCKET, Key=key, Tagging=tagging,
                                                    ContentMD5=b64(hashlib.md5(b"x").digest()))) == ("BadDigest", 400)


def test_a_body_changed_after_signing_is_refused(sandbox):
    """boto3 signs the payload's SHA-256 (x-amz-content-sha256) over HTTP: S3 refuses a body that changed."""
    s3 = sandbox.client("s3")
    key = unique_key("sha256")

    def corrupt(request, **_):
        sent = bytearray(request.body.read())
        sent[0] ^= 0x20  # one bit flipped in transit; the length is unchanged
        request.body = io.BytesIO(bytes(sent))

    s3.meta.events.register("before-send.s3.PutObject", corrupt)
    assert error_code(lambda: s3.put_object(Bucket=BUCKET, Key=key, Body=b"signed on the way")) == (
        "XAmzContentSHA256Mismatch", 400)
    assert absent(sandbox.client("s3"), key)


# -- aws-chunked with trailing checksums ----------------------------------------------------------------

def test_an_unsigned_trailer_is_verified_and_kept(sandbox):
    s3 = sandbox.client("s3")
    data = os.urandom(20000)
    key = unique_key("trailer")
    answer = raw_put(sandbox, key, botocore_framed(data), chunked_headers(data))
    assert answer.status == 200, answer.data
    assert answer.headers["x-amz-checksum-crc32"] == crc32(data)
    got = s3.get_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
    assert got["Body"].read() == data
    assert (got["ChecksumCRC32"], got["ChecksumType"]) == (crc32(data), "FULL_OBJECT")


def test_a_tampered_trailer_is_refused(sandbox):
    s3 = sandbox.client("s3")
    data = os.urandom(20000)
    key = unique_key("tampered")
    framed = botocore_framed(data).replace(crc32(data).encode(), crc32(b"tampered").encode())
    answer = raw_put(sandbox, key, framed, chunked_headers(data))
    assert answer.status == 400 and b"<Code>BadDigest</Code>" in answer.data
    assert b"The CRC32 you specified did not match the calculated checksum." in answer.data
    corrupted = bytearray(botocore_framed(data))
    corrupted[100] ^= 0xFF  # one byte of the payload changed in transit, the trailer intact
    answer = raw_put(sandbox, key, bytes(corrupted), chunked_headers(data))
    assert answer.status == 400 and b"<Code>BadDigest</Code>" in answer.data
    assert absent(s3, key)


@pytest.mark.parametrize(("mutate", "code"), [
    (lambda body, headers: (body.rsplit(b"x-amz-checksum-crc32", 1)[0], headers), "MalformedTrailerError"),
    (lambda body, headers: (body, {**headers, "x-amz-trailer": "x-amz-checksum-sha256",
                                   "x-amz-sdk-checksum-algorithm": "SHA256"}), "MalformedTrailerError"),
    (lambda body, headers: (body[:5000], headers), "IncompleteBody"),
    (lambda body, headers: (body, {**headers, "x-amz-decoded-content-length": "999999999999"}), "IncompleteBody"),
    (lambda body, headers: (b"zz\r\n" + body, headers), "InvalidRequest"),
])
def test_malformed_aws_chunked_bodies(sandbox, mutate, code):
    data = os.urandom(9000)
    key = unique_key("framing")
    body, headers = mutate(botocore_framed(data), chunked_headers(data))
    answer = raw_put(sandbox, key, body, headers)
    assert answer.status == 400 and f"<Code>{code}</Code>".encode() in answer.data, answer.data
    assert absent(sandbox.client("s3"), key)


def test_signed_chunks_with_and_without_a_trailer(sandbox):
    s3 = sandbox.client("s3")
    data = os.urandom(20000)
    sha256 = b64(hashlib.sha256(data).digest())
    key = unique_key("signed")
    trailer_mode = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
    answer = raw_put(sandbox, key, signed_framed(data, {"x-amz-checksum-sha256": sha256}),
                     chunked_headers(data, "x-amz-checksum-sha256", trailer_mode))
    assert answer.status == 200, answer.data
    got = s3.get_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
    assert got["Body"].read() == data and got["ChecksumSHA256"] == sha256
    wrong = signed_framed(data, {"x-amz-checksum-sha256": b64(hashlib.sha256(b"x").digest())})
    answer = raw_put(sandbox, key + "-wrong", wrong, chunked_headers(data, "x-amz-checksum-sha256", trailer_mode))
    assert answer.status == 400 and b"<Code>BadDigest</Code>" in answer.data
    plain = raw_put(sandbox, key + "-plain", signed_framed(data, None),
                    {**chunked_headers(data, None, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
                     "Content-MD5": b64(hashlib.md5(data).digest())})
    assert plain.status == 200, plain.data
    assert s3.get_object(Bucket=BUCKET, Key=key + "-plain")["Body"].read() == data
    assert absent(s3, key + "-wrong")


def test_multipart_checksums_are_composite(sandbox):
    s3 = sandbox.client("s3")
    key = unique_key("multipart")
    parts = [os.urandom(5 * 1024 * 1024), os.urandom(1000)]
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key=key, ChecksumAlgorithm="SHA256")["UploadId"]
    # A part with a wrong checksum is refused; the upload goes on.
    assert error_code(lambda: s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload, PartNumber=1, Body=parts[0],
                                             ChecksumSHA256=b64(hashlib.sha256(b"x").digest()))) == ("BadDigest", 400)
    done = []
    for number, data in enumerate(parts, start=1):
        answer = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload, PartNumber=number, Body=data,
                                ChecksumAlgorithm="SHA256")
        done.append({"PartNumber": number, "ETag": answer["ETag"], "ChecksumSHA256": answer["ChecksumSHA256"]})
    s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload, MultipartUpload={"Parts": done})
    composite = b64(hashlib.sha256(b"".join(hashlib.sha256(p).digest() for p in parts)).digest()) + "-2"
    for read in (s3.head_object, s3.get_object):
        answer = read(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
        assert (answer["ChecksumSHA256"], answer["ChecksumType"]) == (composite, "COMPOSITE"), read


def test_a_kept_checksum_survives_a_crash(fresh_sandbox):
    """The verified trailer's checksum reaches the journal with the request: kill -9 and replay keep it."""
    fresh_sandbox.up()
    data = os.urandom(10000)
    key = unique_key("crash")
    answer = raw_put(fresh_sandbox, key, botocore_framed(data), chunked_headers(data))
    assert answer.status == 200, answer.data
    pid = fresh_sandbox.pid()
    os.kill(pid, signal.SIGKILL)
    stat = Path(f"/proc/{pid}/stat")
    wait_for(lambda: not stat.exists() or stat.read_text().split()[2] == "Z")
    fresh_sandbox.up()
    got = fresh_sandbox.client("s3").get_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
    assert got["Body"].read() == data and got["ChecksumCRC32"] == crc32(data)
