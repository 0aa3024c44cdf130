"""The pure signature checks of ``identity.crypto.webhooks`` (time passed in)."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from identity.crypto import webhooks
from identity.errors import Unauthorized

SECRET = "H+WPXpCaBeLkd5pukqMoqWLZnL/5yEscexA73H7Uffw="
TIMESTAMP = "1667951050990"
BODY = b'{"email":"[email protected]"}'
NOW = 1667951050990 + 1234  # ms, just after the documented example was signed
WINDOW = 300


def documented_signature() -> str:
    """Computed independently of the code under test, as Exchange documents it."""
    return hmac.new(
        SECRET.encode(), (TIMESTAMP + BODY.decode()).encode(), hashlib.sha256
    ).hexdigest()


def test_documented_example_verifies() -> None:
    """Timestamp 1667951050990 + body, lowercase hex HMAC-SHA256: accepted, signature returned."""
    signature = documented_signature()
    assert webhooks.verify_exchange(SECRET, TIMESTAMP, signature, BODY, NOW, WINDOW) == signature


@pytest.mark.parametrize(
    ("timestamp", "signature", "body", "now"),
    [
        (TIMESTAMP, None, BODY, NOW),  # missing signature
        (None, "sig", BODY, NOW),  # missing timestamp
        (TIMESTAMP, "sig", b'{"email": "[email protected]"}', NOW),  # re-serialised body
        (TIMESTAMP, "sig", BODY, NOW + 300_001),  # stale
        (TIMESTAMP, "sig", BODY, NOW - 1234 - 300_001),  # from the future
        (TIMESTAMP, "SIG", BODY, NOW),  # upper-case hex of the right digest
        ("1667951050990.0", "sig", BODY, NOW),
        ("-1667951050990", "sig", BODY, NOW),
        ("１６６７９５１０５０９９０", "sig", BODY, NOW),  # full-width digits
    ],
)
def test_refused(timestamp: str | None, signature: str | None, body: bytes, now: int) -> None:
    """Every deviation from the documented form is refused."""
    if signature == "sig":
        signature = documented_signature()
    elif signature == "SIG":
        signature = documented_signature().upper()
    with pytest.raises(Unauthorized):
        webhooks.verify_exchange(SECRET, timestamp, signature, body, now, WINDOW)


def test_window_edges() -> None:
    """Exactly ±window is inside; one millisecond more is outside."""
    webhooks.check_window(1_000_000, 1_000_000 + WINDOW * 1000, WINDOW)
    webhooks.check_window(1_000_000, 1_000_000 - WINDOW * 1000, WINDOW)
    with pytest.raises(Unauthorized):
        webhooks.check_window(1_000_000, 1_000_001 + WINDOW * 1000, WINDOW)


def test_no_secret_configured_refuses() -> None:
    """Fail closed: without a signing secret nothing verifies, not even an empty-key HMAC."""
    empty = hmac.new(b"", TIMESTAMP.encode() + BODY, hashlib.sha256).hexdigest()
    with pytest.raises(Unauthorized):
        webhooks.verify_exchange("", TIMESTAMP, empty, BODY, NOW, WINDOW)
    with pytest.raises(Unauthorized):
        webhooks.verify_hub("", "sha1=" + hmac.new(b"", BODY, hashlib.sha1).hexdigest(), BODY)


def test_hub_signature() -> None:
    """sha1=<lowercase hex HMAC-SHA1> verifies; sha256=, no prefix, upper case do not."""
    digest = hmac.new(b"app-secret", BODY, hashlib.sha1).hexdigest()
    assert webhooks.verify_hub("app-secret", f"sha1={digest}", BODY) == digest
    sha256 = hmac.new(b"app-secret", BODY, hashlib.sha256).hexdigest()
    for header in (f"sha256={sha256}", digest, f"sha1={digest.upper()}", f"SHA1={digest}", None):
        with pytest.raises(Unauthorized):
            webhooks.verify_hub("app-secret", header, BODY)
    with pytest.raises(Unauthorized):
        webhooks.verify_hub("app-secret", f"sha1={digest}", BODY + b" ")


def test_token_matches() -> None:
    """API-token mode: exact match only, never with nothing configured."""
    assert webhooks.token_matches("tok", "tok")
    assert not webhooks.token_matches("tok", "tok2")
    assert not webhooks.token_matches("", "")
    assert not webhooks.token_matches("tok", None)
