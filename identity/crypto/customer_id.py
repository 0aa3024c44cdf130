"""Opaque customer IDs: ``<version>_<base64url(HMAC-SHA256(secret, "customer:" + id))>``.

The input is the account's immutable internal id, never the username or any PII, and the key
is a server-held secret: without it the ID cannot be computed from a user record, and being a
one-way MAC it cannot be reversed into one. The version tag lets the secret be rotated later
(new IDs under a new tag) without silently changing existing ones.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from identity.crypto.keys import b64url

VERSION_TAG = re.compile(r"^[a-z][a-z0-9]{0,7}$")


def customer_id(internal_id: int, secret: str, version: str = "c1") -> str:
    if not VERSION_TAG.match(version):
        raise ValueError("version tag must be 1-8 lower-case letters/digits")
    mac = hmac.new(secret.encode(), f"customer:{internal_id}".encode(), hashlib.sha256).digest()
    return f"{version}_{b64url(mac)}"
