"""Key import (pure): the forms vendors hand out are accepted, the wrong kinds refused clearly."""

from __future__ import annotations

import base64

import pytest

from identity.crypto.key_import import KeyImportError, import_key
from tests.inbox_helpers import ec_key, encrypted_pem, rsa_key


@pytest.mark.parametrize("form", ["pem", "escaped", "base64"])
def test_rsa_forms_give_the_same_key(form: str) -> None:
    """PEM, PEM with escaped newlines and base64 of the PEM all import to the same PKCS#8."""
    imported = import_key(rsa_key().form(form), "rsa", "knock")
    assert imported.material == rsa_key().pem
    assert imported.description == "RSA 2048 bits"


@pytest.mark.parametrize("form", ["pem", "escaped", "base64"])
def test_ec_forms_give_the_same_key(form: str) -> None:
    imported = import_key(ec_key().form(form), "ec-p256", "suprsend")
    assert imported.material == ec_key().pem and imported.description == "EC P-256"


def test_quoted_escaped_pem_from_an_env_file() -> None:
    """A value pasted with its quotes ("-----BEGIN...\\n...") still imports."""
    raw = '"' + rsa_key().form("escaped") + '"\n'
    assert import_key(raw, "rsa", "engagespot").material == rsa_key().pem


@pytest.mark.parametrize(
    ("raw", "kind", "expected"),
    [
        (lambda: rsa_key(1, 1024).pem, "rsa", "1024 bits is too short"),
        (lambda: rsa_key().pem, "ec-p256", "got an RSA key (2048 bits); expected an EC P-256"),
        (lambda: ec_key().pem, "rsa", "expected an RSA private key of at least 2048"),
        (lambda: ec_key(0, "p384").pem, "ec-p256", "curve secp384r1; expected an EC P-256"),
        (lambda: "not a key at all", "rsa", "not a PEM key nor base64 of one"),
        (lambda: encrypted_pem(rsa_key()), "rsa", "the PEM is encrypted; decrypt it first"),
        (lambda: rsa_key().public_pem, "rsa", "this is a public key"),
        (
            lambda: "-----BEGIN " + "PRIVATE KEY-----\nAAAA\n-----END " + "PRIVATE KEY-----",
            "rsa",
            "unreadable",
        ),
        (lambda: rsa_key().pem + rsa_key(2).pem, "rsa", "2 keys; a key import holds exactly one"),
        (lambda: ec_key().pem + rsa_key().pem, "rsa", "2 keys; a key import holds exactly one"),
        (lambda: rsa_key().pem + "\n" + rsa_key().public_pem, "rsa", "holds exactly one key"),
        (
            lambda: base64.b64encode((ec_key().pem + ec_key(1).pem).encode()).decode(),
            "ec-p256",
            "holds 2 keys",
        ),
        (lambda: "   \n", "secret", "empty secret"),
        (lambda: rsa_key().pem, "secret", "got a PEM key; expected a non-empty shared secret"),
    ],
)
def test_refusals_say_what_was_expected(raw: object, kind: str, expected: str) -> None:
    """Each refusal names the vendor and what it needs; it never echoes the material."""
    material = raw()  # type: ignore[operator]
    with pytest.raises(KeyImportError) as caught:
        import_key(material, kind, "acme")  # type: ignore[arg-type]
    message = str(caught.value)
    assert message.startswith("acme: ") and expected in message
    assert "PRIVATE KEY" not in message.replace("private key", "")


def test_secret_is_kept_verbatim_but_trimmed() -> None:
    imported = import_key(b"  s3cret-value\n", "secret", "novu")
    assert imported.material == "s3cret-value"
    assert "s3cret" not in repr(imported)


def test_repr_never_shows_key_material() -> None:
    assert "BEGIN" not in repr(import_key(rsa_key().pem, "rsa", "knock"))
