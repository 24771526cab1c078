"""S3's checksum algorithms and the aws-chunked decoder of lab.gateway.handlers.checksums, without a server."""

from __future__ import annotations

import base64
import hashlib
import io
import zlib

import pytest
from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum, Sha256Checksum

from lab.gateway.handlers.checksums import ALGORITHMS, ChecksumError, checksum_of, decode_aws_chunked

# Published check values: the CRC catalogue's CRC of "123456789" (CRC-32/ISO-HDLC, CRC-32/ISCSI,
# CRC-64/NVME), and the xxHash reference digests of the empty input.
CHECK_VALUES = {
    ("CRC32", b"123456789"): "cbf43926",
    ("CRC32C", b"123456789"): "e3069283",
    ("CRC64NVME", b"123456789"): "ae8b14860a799888",
    ("XXHASH64", b""): "ef46db3751d8e999",
    ("XXHASH3", b""): "2d06800538d394c2",
    ("XXHASH128", b""): "99aa06d3014798d86001c324468d497f",
    ("SHA1", b"abc"): "a9993e364706816aba3e25717850c26c9cd0d89d",
    ("MD5", b""): "d41d8cd98f00b204e9800998ecf8427e",
}


@pytest.mark.parametrize(("algorithm", "data"), sorted(CHECK_VALUES))
def test_check_values(algorithm, data):
    assert checksum_of(algorithm, [data]).hex() == CHECK_VALUES[(algorithm, data)]


def test_every_s3_algorithm_is_known():
    from lab.gateway.codec.identify import service_model

    assert set(service_model("s3").shape_for("ChecksumAlgorithm").enum) == set(ALGORITHMS)


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_pieces_make_the_same_digest_as_the_whole(algorithm):
    data = bytes(range(256)) * 300
    pieces = [memoryview(data)[start:start + 997] for start in range(0, len(data), 997)]
    assert checksum_of(algorithm, pieces) == checksum_of(algorithm, [data])
    assert len(checksum_of(algorithm, [data])) == ALGORITHMS[algorithm][0]
    assert checksum_of(algorithm, [b""]) == checksum_of(algorithm, [])


def framed_by_botocore(data: bytes, chunk_size: int = 64) -> bytes:
    """An aws-chunked body with a CRC32 trailer, framed by botocore's own AwsChunkedWrapper."""
    return AwsChunkedWrapper(io.BytesIO(data), checksum_cls=Crc32Checksum, checksum_name="x-amz-checksum-crc32",
                             chunk_size=chunk_size).read()


def test_decodes_botocore_framing():
    data = b"invoice " * 100
    payload, trailers = decode_aws_chunked(framed_by_botocore(data))
    assert b"".join(payload) == data
    assert trailers == {"x-amz-checksum-crc32": base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()}


def test_decodes_signed_chunks_with_a_trailer_signature():
    data = b"a" * 70
    body = (b"40;chunk-signature=" + b"1" * 64 + b"\r\n" + data[:64] + b"\r\n"
            + b"6;chunk-signature=" + b"2" * 64 + b"\r\n" + data[64:] + b"\r\n"
            + b"0;chunk-signature=" + b"3" * 64 + b"\r\n"
            + b"x-amz-checksum-sha256:" + base64.b64encode(hashlib.sha256(data).digest()) + b"\r\n"
            + b"x-amz-trailer-signature:" + b"4" * 64 + b"\r\n\r\n")
    payload, trailers = decode_aws_chunked(body)
    assert b"".join(payload) == data
    assert set(trailers) == {"x-amz-checksum-sha256", "x-amz-trailer-signature"}
    signed_without_trailer = (b"3;chunk-signature=" + b"1" * 64 + b"\r\nabc\r\n"
                              + b"0;chunk-signature=" + b"2" * 64 + b"\r\n\r\n")
    assert decode_aws_chunked(signed_without_trailer) == ([memoryview(b"abc")], {})


def test_sha256_trailer_from_botocore():
    data = b"x" * 10
    body = AwsChunkedWrapper(io.BytesIO(data), checksum_cls=Sha256Checksum,
                             checksum_name="x-amz-checksum-sha256").read()
    expected = base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert decode_aws_chunked(body)[1]["x-amz-checksum-sha256"] == expected


@pytest.mark.parametrize(("body", "code"), [
    (b"ffffffffffffffff\r\nabc", "IncompleteBody"),  # a huge size is checked against the bytes there, not allocated
    (b"10\r\nshort\r\n0\r\n\r\n", "IncompleteBody"),
    (b"5\r\nhello", "IncompleteBody"),
    (b"5\r\nhelloXX0\r\n\r\n", "IncompleteBody"),
    (b"zz\r\nhello\r\n0\r\n\r\n", "InvalidRequest"),
    (b"-5\r\nhello\r\n0\r\n\r\n", "InvalidRequest"),
    (b"11111111111111111\r\n", "InvalidRequest"),
    (b"5" * 5000, "IncompleteBody"),
    (b"0\r\nno colon here\r\n\r\n", "MalformedTrailerError"),
    (b"0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\ngarbage", "MalformedTrailerError"),
])
def test_malformed_framing_is_refused_with_aws_codes(body, code):
    with pytest.raises(ChecksumError) as refused:
        decode_aws_chunked(body)
    assert refused.value.code == code and refused.value.status == 400
    assert str(refused.value)


def test_a_missing_final_empty_line_is_tolerated():
    assert decode_aws_chunked(b"3\r\nabc\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n") == (
        [memoryview(b"abc")], {"x-amz-checksum-crc32": "AAAAAA=="})
