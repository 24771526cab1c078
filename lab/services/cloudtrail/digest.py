"""CloudTrail log file integrity validation: the hourly digest file, its signature and the region's signing key.

As AWS documents it (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/
cloudtrail-log-file-validation-digest-file-structure.html): every hour a trail with log file validation delivers,
per region, a gzipped JSON digest naming the log files delivered in that hour with the SHA-256 of each one's
uncompressed content, chained to the previous digest by its signature. The digest's own signature is in the object's
metadata (`signature`, hex; `signature-algorithm`, SHA256withRSA), over the string
`digestEndTime\\ndigestS3Bucket/digestS3Object\\nSHA-256 of the uncompressed digest\\npreviousDigestSignature`
(https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-custom-validation.html), signed
with the region's private key whose public half ListPublicKeys returns (DER PKCS #1, base64, fingerprint = MD5).
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import math
import os
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

SIGNATURE_ALGORITHM = "SHA256withRSA"
HASH_ALGORITHM = "SHA-256"
DIGEST_INTERVAL = 3600.0  # one digest file an hour


@dataclass
class SigningKey:
    """One region's digest signing key (kept in the engine's state, so a restart signs with the same key)."""

    region: str
    private_pem: bytes
    valid_from: float

    def _private(self) -> rsa.RSAPrivateKey:
        return _loaded(self.private_pem)[0]

    @property
    def public_der(self) -> bytes:
        return _loaded(self.private_pem)[1]

    @property
    def fingerprint(self) -> str:
        return hashlib.md5(self.public_der, usedforsecurity=False).hexdigest()

    def sign(self, text: bytes) -> str:
        return self._private().sign(text, padding.PKCS1v15(), hashes.SHA256()).hex()

    def public_key_entry(self) -> dict[str, Any]:
        """ListPublicKeys' PublicKey: the Value blob is the DER PKCS #1 key (base64 on the wire, which the aws CLI,
        leaving blobs undecoded, base64-decodes in validate-logs)."""
        return {"Value": self.public_der, "ValidityStartTime": self.valid_from,
                "Fingerprint": self.fingerprint}


@functools.lru_cache(maxsize=8)
def _loaded(pem: bytes) -> tuple[rsa.RSAPrivateKey, bytes]:
    """The key object and its public DER, loaded once per process (loading checks the key: a fifth of a second)."""
    key = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key, key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)


def new_signing_key(region: str, now: float, seed: str) -> SigningKey:
    """The region's RSA-2048 key, derived from `seed` (the world's seed and the region).

    Derived rather than drawn from the OS: everything in a world follows from its seed and its calls, so a
    journal replay after a crash signs with the same key the learner already fetched. The sandbox's key guards
    nothing real; only its arithmetic must be RSA's (primes from sympy, the key from cryptography).
    """
    import sympy  # imported here: only a trail with log file validation needs it

    draw = random.Random(seed)  # reproducible on purpose (see above), not a secret
    exponent = 65537
    while True:
        p = int(sympy.nextprime(draw.getrandbits(1024) | (3 << 1022)))  # two top bits: a 2048-bit modulus
        q = int(sympy.nextprime(draw.getrandbits(1024) | (3 << 1022)))
        phi = (p - 1) * (q - 1)
        if p != q and math.gcd(exponent, phi) == 1:
            break
    d = pow(exponent, -1, phi)
    numbers = rsa.RSAPrivateNumbers(p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q),
                                    rsa.rsa_crt_iqmp(p, q), rsa.RSAPublicNumbers(exponent, p * q))
    private = numbers.private_key()
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return SigningKey(region, pem, now)


def derived_signing_key(region: str, now: float, seed: str) -> SigningKey:
    """`new_signing_key`, memoized in the user's cache dir: deriving a 2048-bit key takes seconds of prime
    search, and the key is a function of `seed` alone, so a key cached once serves every world of that seed.
    A cache that cannot be read or written only costs the derivation."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "securecart-lab" / "cloudtrail-keys"
    path = base / f"{hashlib.sha256(seed.encode()).hexdigest()[:32]}.pem"
    try:
        pem = path.read_bytes()
        _loaded(pem)
        return SigningKey(region, pem, now)
    except (OSError, ValueError):
        pass
    key = new_signing_key(region, now, seed)
    try:
        base.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(key.private_pem)
        partial.replace(path)
    except OSError:
        pass
    return key


@dataclass
class DigestLink:
    """What the next digest of a trail in a region chains to: the last digest delivered."""

    bucket: str
    key: str
    signature: str
    sha256: str  # of the uncompressed digest
    end: float


@dataclass
class DeliveredLog:
    """A log file as a digest lists it."""

    bucket: str
    key: str
    sha256: str  # of the uncompressed log file
    delivered: float
    oldest_event: float
    newest_event: float

    def entry(self) -> dict[str, Any]:
        return {"s3Bucket": self.bucket, "s3Object": self.key, "hashValue": self.sha256,
                "hashAlgorithm": HASH_ALGORITHM, "newestEventTime": stamp(self.newest_event),
                "oldestEventTime": stamp(self.oldest_event)}


def stamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def digest_key(account: str, prefix: str | None, region: str, trail: str, home_region: str, end: float) -> str:
    moment = datetime.fromtimestamp(end, tz=UTC)
    return (f"{prefix + '/' if prefix else ''}AWSLogs/{account}/CloudTrail-Digest/{region}/{moment:%Y/%m/%d}/"
            f"{account}_CloudTrail-Digest_{region}_{trail}_{home_region}_{moment:%Y%m%dT%H%M%SZ}.json.gz")


@dataclass
class SignedDigest:
    key: str
    body: bytes  # gzipped
    metadata: dict[str, str]
    link: DigestLink


def build_digest(*, account: str, bucket: str, key: str, start: float, end: float, logs: list[DeliveredLog],
                 previous: DigestLink | None, signing_key: SigningKey) -> SignedDigest:
    """The digest document for one hour of one trail in one region, and its signature."""
    document: dict[str, Any] = {
        "awsAccountId": account, "digestStartTime": stamp(start), "digestEndTime": stamp(end),
        "digestS3Bucket": bucket, "digestS3Object": key,
        "digestPublicKeyFingerprint": signing_key.fingerprint, "digestSignatureAlgorithm": SIGNATURE_ALGORITHM,
    }
    if logs:
        document["newestEventTime"] = stamp(max(log.newest_event for log in logs))
        document["oldestEventTime"] = stamp(min(log.oldest_event for log in logs))
    document.update({
        "previousDigestS3Bucket": previous.bucket if previous else None,
        "previousDigestS3Object": previous.key if previous else None,
        "previousDigestHashValue": previous.sha256 if previous else None,
        "previousDigestHashAlgorithm": HASH_ALGORITHM if previous else None,
        "previousDigestSignature": previous.signature if previous else None,
        "logFiles": [log.entry() for log in logs],
    })
    raw = json.dumps(document, separators=(",", ":")).encode()
    raw_hash = hashlib.sha256(raw).hexdigest()
    to_sign = (f"{document['digestEndTime']}\n{bucket}/{key}\n{raw_hash}\n"
               f"{previous.signature if previous else 'null'}").encode()
    signature = signing_key.sign(to_sign)
    return SignedDigest(key, gzip.compress(raw, mtime=0),
                        {"signature": signature, "signature-algorithm": SIGNATURE_ALGORITHM},
                        DigestLink(bucket, key, signature, raw_hash, end))
