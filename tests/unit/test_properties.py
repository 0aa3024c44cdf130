"""Property tests: the customer-ID function and the token parser under arbitrary input."""

from __future__ import annotations

import re
import time
from functools import lru_cache

import jwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from identity.crypto import keys as keycrypto
from identity.crypto import signer
from identity.crypto.customer_id import customer_id
from identity.crypto.verify import verify
from identity.errors import InvalidToken

SECRET = "s" * 40
URL_SAFE = re.compile(r"^c1_[A-Za-z0-9_-]{43}$")


@settings(deadline=None)  # shared CI machines: no per-example time limit
@given(st.integers(min_value=1, max_value=2**63 - 1))
def test_customer_id_is_stable_url_safe_and_opaque(internal_id: int) -> None:
    """Same input → same ID, URL-safe, fixed length (a MAC: nothing of the input shows)."""
    value = customer_id(internal_id, SECRET)
    assert value == customer_id(internal_id, SECRET)
    assert URL_SAFE.match(value)


@settings(deadline=None)
@given(st.integers(min_value=1, max_value=2**40), st.integers(min_value=1, max_value=2**40))
def test_customer_ids_differ_for_different_customers(a: int, b: int) -> None:
    assert (customer_id(a, SECRET) == customer_id(b, SECRET)) == (a == b)


@settings(deadline=None)
@given(st.text(min_size=32, max_size=64))
def test_customer_id_depends_on_the_secret(other: str) -> None:
    if other != SECRET:
        assert customer_id(7, SECRET) != customer_id(7, other)


@lru_cache(maxsize=1)
def _key() -> tuple[object, str]:
    key = keycrypto.generate_rsa_key()
    return key, keycrypto.public_jwk(key.public_key())["kid"]


def _lookup(kid: str) -> object | None:
    key, known = _key()
    return key.public_key() if kid == known else None  # type: ignore[attr-defined]


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300).map(lambda b: b.decode("latin-1"))))
def test_arbitrary_strings_are_invalid_tokens_never_crashes(token: str) -> None:
    """Any input either verifies or raises InvalidToken: nothing else escapes the parser."""
    with pytest.raises(InvalidToken):
        verify(token, lookup=_lookup, typ="JWT", issuer="i", audience=None, leeway=0)  # type: ignore[arg-type]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from("ABCxyz012-_.="), min_size=1, max_size=40), st.integers(0, 500))
def test_tampered_tokens_are_refused(noise: list[str], position: int) -> None:
    """Changing any character of a valid token makes it invalid (or leaves it unchanged)."""
    key, kid = _key()
    token = signer.sign(
        {"iss": "i", "iat": int(time.time()), "exp": int(time.time()) + 60}, key, kid, "JWT"
    )  # type: ignore[arg-type]
    position %= len(token)
    tampered = token[:position] + "".join(noise) + token[position + 1 :]
    if tampered == token:
        return
    try:
        claims = verify(tampered, lookup=_lookup, typ="JWT", issuer="i", audience=None, leeway=0)  # type: ignore[arg-type]
    except InvalidToken:
        return
    # base64url decoders may ignore trailing bits: the claims must then be the original ones.
    assert claims == jwt.decode(token, key.public_key(), algorithms=["RS256"])  # type: ignore[attr-defined]
