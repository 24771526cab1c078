"""The request path's guards on their own: the chunked body reader, Host and Origin rules, S3 CORS rule matching."""

from __future__ import annotations

import io

import pytest

from lab.gateway.handlers.body import BodyError, _read_chunked, _read_exactly
from lab.gateway.handlers.origins import CorsRule, matching_rule
from lab.safety import host_allowed, is_loopback_origin, is_own_origin


@pytest.mark.parametrize(("framed", "body"), [
    (b"0\r\n\r\n", b""),
    (b"5\r\nhello\r\n0\r\n\r\n", b"hello"),
    (b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32: AAAAAA==\r\n\r\n", b"hello world"),
    (b"A\r\n0123456789\r\n0\r\n\r\n", b"0123456789"),
])
def test_chunked_bodies_are_decoded(framed: bytes, body: bytes) -> None:
    assert _read_chunked(io.BytesIO(framed), 1024) == body


@pytest.mark.parametrize(("framed", "kind"), [
    (b"ffffffffffff\r\nxx", "too_large"),  # refused on its size line, before a byte of it is read
    (b"400\r\n" + b"x" * 1024 + b"\r\n1\r\ny\r\n0\r\n\r\n", "too_large"),  # the total crosses the limit
    (b"10\r\nshort", "incomplete"),
    (b"zz\r\nabc\r\n0\r\n\r\n", "incomplete"),
    (b"-5\r\nhello\r\n0\r\n\r\n", "incomplete"),
    (b"5\r\nhelloXX0\r\n\r\n", "incomplete"),  # a chunk not followed by CRLF
    (b"5\r\nhello\r\n", "incomplete"),  # no last chunk
    (b"0\r\ntrailer: 1\r\n", "incomplete"),  # trailers never ended
    (b"1" * 5000 + b"\r\n", "incomplete"),  # a size line beyond any real one
])
def test_broken_or_oversized_chunked_bodies_are_refused(framed: bytes, kind: str) -> None:
    with pytest.raises(BodyError) as refused:
        _read_chunked(io.BytesIO(framed), 1024)
    assert refused.value.kind == kind


def test_a_declared_length_is_checked_before_reading_and_must_arrive_whole() -> None:
    with pytest.raises(BodyError) as refused:
        _read_exactly(io.BytesIO(b""), 2048, 1024)
    assert refused.value.kind == "too_large"
    with pytest.raises(BodyError) as refused:
        _read_exactly(io.BytesIO(b"abc"), 100, 1024)
    assert refused.value.kind == "incomplete" and "3 of the 100" in str(refused.value)
    assert _read_exactly(io.BytesIO(b"abcdef"), 4, 1024) == b"abcd"


@pytest.mark.parametrize(("host", "allowed"), [
    ("127.0.0.1:4566", True), ("localhost:4566", True), ("[::1]:4566", True), ("bucket.localhost:4566", True),
    ("bucket.s3.localhost.localstack.cloud:4566", True), ("127.1.2.3", True), (None, True),
    ("rebind.evil.example:4566", False), ("10.0.0.5:4566", False), ("localhost.evil.example", False),
    ("[2001:db8::1]:4566", False),
])
def test_only_loopback_host_names_are_allowed(host: str | None, allowed: bool) -> None:
    assert host_allowed(host) is allowed


def test_extra_host_names_can_be_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAB_ALLOWED_HOSTS", "securecart-lab, other")
    assert host_allowed("securecart-lab:4566") and host_allowed("OTHER")
    assert not host_allowed("third:4566")


def test_own_and_loopback_origins() -> None:
    assert is_own_origin("http://127.0.0.1:4566", "127.0.0.1:4566")
    assert is_own_origin("http://localhost:4566", "127.0.0.1:4566")  # a page opened at localhost
    assert not is_own_origin("http://127.0.0.1:3000", "127.0.0.1:4566")
    assert not is_own_origin("https://127.0.0.1:4566", "127.0.0.1:4566")
    assert not is_own_origin("http://evil.example:4566", "127.0.0.1:4566")
    assert not is_own_origin("null", "127.0.0.1:4566")
    assert is_loopback_origin("http://localhost:3000") and not is_loopback_origin("http://evil.example")


RULES = [
    CorsRule(("http://app.example",), ("GET", "PUT"), ("content-type", "x-amz-*"), ("ETag",), 300),
    CorsRule(("https://*.example.org",), ("GET",)),
    CorsRule(("*",), ("HEAD",)),
]


@pytest.mark.parametrize(("origin", "method", "headers", "rule"), [
    ("http://app.example", "PUT", ["Content-Type", "x-amz-meta-a"], 0),
    ("http://app.example", "DELETE", [], None),
    ("http://app.example", "PUT", ["authorization"], None),
    ("https://shop.example.org", "GET", [], 1),
    ("https://example.org", "GET", [], None),
    ("http://evil.example", "HEAD", [], 2),
    ("http://evil.example", "GET", [], None),
])
def test_the_first_rule_matching_origin_method_and_headers_wins(origin: str, method: str, headers: list[str],
                                                                 rule: int | None) -> None:
    found = matching_rule(RULES, origin, method, headers)
    assert found is (RULES[rule] if rule is not None else None)
