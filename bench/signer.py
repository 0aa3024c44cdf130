"""Signatures per second of the one signer, in-process, one core: RS256 and ES256."""

from __future__ import annotations

import time

from bench.harness import Row
from identity.crypto import keys, signer


def per_second(alg: str, seconds: float = 3.0) -> float:
    key = keys.generate_key(alg)
    kid = keys.public_jwk(key.public_key())["kid"]
    claims = {
        "iss": "http://bench",
        "sub": "client",
        "aud": "api",
        "scope": "a b",
        "iat": 0,
        "exp": 3600,
        "jti": "x" * 22,
    }
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        signer.sign(claims, key, kid, "at+jwt")
        count += 1
    return count / (time.perf_counter() - start)


def rs256_per_second(seconds: float = 3.0) -> float:
    return per_second(keys.RS256, seconds)


def run(ctx: dict[str, float]) -> list[Row]:
    per_core = rs256_per_second()
    ctx["rs256_per_core"] = per_core
    ctx["rs256_limit"] = per_core * 2
    return [
        Row("RS256 signatures/s, in-process, 1 core", per_core, "sig/s"),
        Row(
            "RS256 limit (1 core × 2 cores)",
            per_core * 2,
            "sig/s",
            note="ceiling for token endpoints",
        ),
        Row("ES256 signatures/s, in-process, 1 core", per_second(keys.ES256), "sig/s"),
    ]
