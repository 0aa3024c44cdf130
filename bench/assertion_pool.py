"""Single-use ``private_key_jwt`` assertions for the token endpoint benchmark.

An assertion is accepted once and lives at most five minutes, so each measurement gets its own
pool, signed just before it (on every core: RSA signing is the slow side) and sent once each.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
KID = "bench-key"


class PartnerKey:
    """The bench partner's RSA key pair; the private half never leaves this process tree."""

    def __init__(self) -> None:
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwks_file(self) -> Path:
        """The public JWK Set to register with ``clients create --jwks-file``."""
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        path = Path(tempfile.mkstemp(prefix="bench-jwks-", suffix=".json")[1])
        path.write_text(json.dumps({"keys": [{**jwk, "kid": KID, "alg": "RS256", "use": "sig"}]}))
        return path

    def pem(self) -> bytes:
        return self.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def _bodies(pem: bytes, client_id: str, audience: str, body: str, count: int) -> list[str]:
    key = serialization.load_pem_private_key(pem, password=None)  # once: loading is slow
    assert isinstance(key, rsa.RSAPrivateKey)
    now = int(time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": audience, "iat": now, "exp": now + 300}
    return [
        body
        + "&"
        + urlencode(
            {
                "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": jwt.encode(
                    {**claims, "jti": uuid.uuid4().hex}, key, "RS256", headers={"kid": KID}
                ),
            }
        )
        for _ in range(count)
    ]


def write_pool(key: PartnerKey, client_id: str, audience: str, body: str, count: int) -> Path:
    """``count`` request bodies, one fresh assertion each, one per line in a temp file."""
    workers = os.cpu_count() or 1
    share = -(-count // workers)
    with ProcessPoolExecutor(workers) as pool:
        parts = pool.map(
            _bodies, *zip(*[(key.pem(), client_id, audience, body, share)] * workers, strict=True)
        )
        lines = [line for part in parts for line in part]
    path = Path(tempfile.mkstemp(prefix="bench-assertions-", suffix=".txt")[1])
    path.write_text("\n".join(lines) + "\n")
    return path
