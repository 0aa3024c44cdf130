"""Property tests of the inbound-signature verifiers: only the exact bytes, in the window, pass."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from identity.crypto.webhooks import verify_exchange, verify_hub
from identity.errors import Unauthorized

SECRET = "signing-secret"
NOW_MS = 1_667_951_050_990
WINDOW = 300


def exchange_sig(timestamp: str, body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).hexdigest()


@settings(deadline=None)
@given(st.binary(max_size=512), st.integers(-WINDOW * 1000, WINDOW * 1000))
def test_a_correct_signature_in_the_window_verifies(body: bytes, skew: int) -> None:
    timestamp = str(NOW_MS + skew)
    signature = exchange_sig(timestamp, body)
    assert verify_exchange(SECRET, timestamp, signature, body, NOW_MS, WINDOW) == signature


@settings(deadline=None)
@given(st.binary(max_size=256), st.binary(min_size=1, max_size=8))
def test_any_change_to_the_body_is_refused(body: bytes, extra: bytes) -> None:
    timestamp = str(NOW_MS)
    signature = exchange_sig(timestamp, body)
    with pytest.raises(Unauthorized):
        verify_exchange(SECRET, timestamp, signature, body + extra, NOW_MS, WINDOW)


@settings(deadline=None)
@given(st.integers(WINDOW * 1000 + 1, 10**12), st.sampled_from([-1, 1]))
def test_outside_the_window_is_refused(distance: int, sign: int) -> None:
    timestamp = str(NOW_MS + sign * distance)
    with pytest.raises(Unauthorized):
        verify_exchange(SECRET, timestamp, exchange_sig(timestamp, b"{}"), b"{}", NOW_MS, WINDOW)


@settings(deadline=None)
@given(st.one_of(st.none(), st.text(max_size=80)), st.one_of(st.none(), st.text(max_size=40)))
def test_arbitrary_headers_never_crash(signature: str | None, timestamp: str | None) -> None:
    """Garbage signature/timestamp headers are Unauthorized, never another exception."""
    with pytest.raises(Unauthorized):
        verify_exchange(SECRET, timestamp, signature, b"{}", NOW_MS, WINDOW)


@settings(deadline=None)
@given(st.binary(max_size=256), st.one_of(st.none(), st.text(max_size=60)))
def test_hub_signature_needs_the_exact_sha1_form(body: bytes, header: str | None) -> None:
    good = "sha1=" + hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()
    if header == good:
        return
    with pytest.raises(Unauthorized):
        verify_hub(SECRET, header, body)
    assert verify_hub(SECRET, good, body)
