"""CloudTrail digest files as the aws CLI's validate-logs reads them (its own validator, awscli's code)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json

import pytest
from awscli.customizations.cloudtrail.validation import (
    DigestSignatureError,
    Sha256RSADigestValidator,
    extract_digest_key_date,
)

from lab.services.cloudtrail.digest import DeliveredLog, build_digest, digest_key, new_signing_key

ACCOUNT = "000000000000"
END = 1_764_000_000.0 - 1_764_000_000.0 % 3600


@pytest.fixture(scope="module")
def key():
    return new_signing_key("us-east-1", 0.0, "unit|cloudtrail-digest-key|us-east-1")


def validator_input(signed, public_key_entry):
    """What validate-logs hands its validator: the base64 key text, the digest dict with its metadata."""
    raw = gzip.decompress(signed.body)
    document = json.loads(raw)
    document["_signature"] = signed.metadata["signature"]
    document["_signature_algorithm"] = signed.metadata["signature-algorithm"]
    return base64.b64encode(public_key_entry["Value"]), document, raw


def test_the_key_and_the_layout_are_awss(key):
    # (that the key follows from the seed alone is tested by a crash and replay: test_cloudtrail_integrity.py)
    assert len(key.fingerprint) == 32 and key.public_key_entry()["Value"].startswith(b"0\x82\x01\n")  # DER, 2048
    path = digest_key(ACCOUNT, "audit", "us-west-2", "trail", "us-east-1", END)
    assert path.startswith(f"audit/AWSLogs/{ACCOUNT}/CloudTrail-Digest/us-west-2/")
    assert path.endswith(f"{ACCOUNT}_CloudTrail-Digest_us-west-2_trail_us-east-1_{extract_digest_key_date(path)}"
                         ".json.gz")


def test_awscli_validates_a_chain_and_refuses_a_changed_digest(key):
    log = DeliveredLog("logs", "AWSLogs/x.json.gz", hashlib.sha256(b"{}").hexdigest(), END - 600, END - 900,
                       END - 700)
    first_key = digest_key(ACCOUNT, None, "us-east-1", "trail", "us-east-1", END)
    first = build_digest(account=ACCOUNT, bucket="logs", key=first_key, start=END - 3600, end=END, logs=[log],
                         previous=None, signing_key=key)
    second_key = digest_key(ACCOUNT, None, "us-east-1", "trail", "us-east-1", END + 3600)
    second = build_digest(account=ACCOUNT, bucket="logs", key=second_key, start=END, end=END + 3600, logs=[],
                          previous=first.link, signing_key=key)
    validator = Sha256RSADigestValidator()
    for signed, name in ((first, first_key), (second, second_key)):
        public, document, raw = validator_input(signed, key.public_key_entry())
        validator.validate("logs", name, public, document, raw)
    public, document, raw = validator_input(second, key.public_key_entry())
    assert document["previousDigestSignature"] == first.metadata["signature"] and document["logFiles"] == []
    assert json.loads(gzip.decompress(first.body))["logFiles"][0]["hashValue"] == log.sha256
    with pytest.raises(DigestSignatureError):
        validator.validate("logs", second_key, public, document, raw.replace(b'"logFiles":[]', b'"logFiles":[ ]'))
