"""The key ring policy: states derived from timestamps, identical for every reader."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from identity.crypto import keys as keycrypto
from identity.crypto.keyring import KeyRecord, KeyRing

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def record(activates_at: datetime) -> KeyRecord:
    private = keycrypto.generate_rsa_key()
    jwk = keycrypto.public_jwk(private.public_key())
    return KeyRecord(jwk["kid"], activates_at, activates_at, jwk, private, private.public_key())


def test_single_key_is_active_and_published() -> None:
    """One key: it signs and is the whole JWKS."""
    a = record(T0)
    ring = KeyRing([a], max_token_ttl=3600)
    assert ring.active(T0) == a
    assert [k["kid"] for k in ring.jwks(T0)["keys"]] == [a.kid]


def test_rotation_timeline() -> None:
    """next → active at its activation; the old key stays published for the grace period."""
    a, b = record(T0), record(T0 + timedelta(hours=1))
    ring = KeyRing([a, b], max_token_ttl=600, leeway=30)
    before = T0 + timedelta(minutes=30)
    assert ring.active(before) == a
    assert {s.record.kid: s.state for s in ring.states(before)} == {a.kid: "active", b.kid: "next"}
    assert {k["kid"] for k in ring.jwks(before)["keys"]} == {a.kid, b.kid}

    after = T0 + timedelta(hours=1, seconds=1)
    assert ring.active(after) == b
    assert {s.record.kid: s.state for s in ring.states(after)} == {
        a.kid: "retired",
        b.kid: "active",
    }
    assert ring.verification_key(a.kid, after) == a

    edge = T0 + timedelta(hours=1, seconds=629)
    assert ring.verification_key(a.kid, edge) == a
    gone = T0 + timedelta(hours=1, seconds=631)
    assert ring.verification_key(a.kid, gone) is None
    assert [k["kid"] for k in ring.jwks(gone)["keys"]] == [b.kid]
    assert ring.removable(gone) == [a.kid]


def test_jwks_members_and_thumbprint() -> None:
    """RFC 7517 members; kid is the RFC 7638 thumbprint."""
    a = record(T0)
    (jwk,) = KeyRing([a], 60).jwks(T0)["keys"]
    assert set(jwk) == {"kty", "kid", "use", "alg", "n", "e"}
    assert jwk["use"] == "sig" and jwk["alg"] == "RS256" and jwk["kty"] == "RSA"
    assert jwk["kid"] == keycrypto.thumbprint(jwk)


def test_rfc7638_example_thumbprint() -> None:
    """The worked example of RFC 7638 §3.1."""
    jwk = {
        "kty": "RSA",
        "e": "AQAB",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",  # noqa: E501
    }
    assert keycrypto.thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_no_key_is_active_before_activation() -> None:
    """A ring whose only key is still 'next' has no active key."""
    a = record(T0 + timedelta(minutes=5))
    assert KeyRing([a], 60).active(T0) is None


def ec_record(activates_at: datetime) -> KeyRecord:
    private = keycrypto.generate_ec_key()
    jwk = keycrypto.public_jwk(private.public_key())
    return KeyRecord(
        jwk["kid"], activates_at, activates_at, jwk, private, private.public_key(), alg="ES256"
    )


def test_each_algorithm_rotates_on_its_own() -> None:
    """A newer ES256 key does not retire the RS256 key; each has its own active key."""
    rsa_key, ec_old, ec_new = record(T0), ec_record(T0), ec_record(T0 + timedelta(hours=1))
    ring = KeyRing([rsa_key, ec_old, ec_new], max_token_ttl=600)
    later = T0 + timedelta(hours=2)
    assert ring.active(later) == rsa_key
    assert ring.active(later, "ES256") == ec_new
    states = {s.record.kid: s.state for s in ring.states(later)}
    assert states == {rsa_key.kid: "active", ec_old.kid: "removed", ec_new.kid: "active"}
    assert [k["kid"] for k in ring.jwks(later)["keys"]] == [rsa_key.kid, ec_new.kid]


def test_ec_jwk_members_and_thumbprint() -> None:
    """RFC 7518 §6.2: crv, x, y of 32 octets; kid is the RFC 7638 §3.2 EC thumbprint."""
    jwk = ec_record(T0).public_jwk
    assert set(jwk) == {"kty", "crv", "x", "y", "kid", "use", "alg"}
    assert (jwk["kty"], jwk["crv"], jwk["alg"], jwk["use"]) == ("EC", "P-256", "ES256", "sig")
    assert len(jwk["x"]) == len(jwk["y"]) == 43  # base64url of 32 octets
    assert jwk["kid"] == keycrypto.thumbprint(jwk)


def test_rfc7638_ec_thumbprint_input() -> None:
    """Only crv, kty, x, y count, in that order (RFC 7638 §3.2)."""
    jwk = {"kty": "EC", "crv": "P-256", "x": "AA", "y": "BB", "kid": "ignored", "alg": "ES256"}
    expected = keycrypto.b64url(
        hashlib.sha256(b'{"crv":"P-256","kty":"EC","x":"AA","y":"BB"}').digest()
    )
    assert keycrypto.thumbprint(jwk) == expected
