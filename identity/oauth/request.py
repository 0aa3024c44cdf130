"""An OAuth endpoint's request as plain values: its body parameters and its Authorization header.

Parameters come from the body only (RFC 6749 §3.2: the token endpoint uses POST), form-encoded
or JSON. Each parameter is sent at most once (RFC 6749 §3.2, else ``invalid_request``) and an
empty one counts as absent, except ``resource`` and its synonym ``audience``, which RFC 8707 §2
lets repeat: they are all kept, so that the grant can answer ``invalid_target``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from identity.core.bodies import BodyRefused, body_pairs, check_text
from identity.oauth.errors import InvalidClient, InvalidRequest

RESOURCE_PARAMS = frozenset({"resource", "audience"})


@dataclass(frozen=True, slots=True)
class OAuthRequest:
    params: Mapping[str, str]
    resources: tuple[str, ...] = ()
    authorization: str = ""

    def __repr__(self) -> str:
        return f"OAuthRequest(params={sorted(self.params)!r})"  # names only: values are secrets

    @classmethod
    def parse(cls, mimetype: str, body: bytes, authorization: str | None) -> OAuthRequest:
        params: dict[str, str] = {}
        resources: list[str] = []
        for name, value in _pairs(mimetype, body):
            values = value if name in RESOURCE_PARAMS and isinstance(value, list) else [value]
            for item in values:
                _check(name, item)
                if item == "":
                    continue  # RFC 6749 §3.2: sent without a value = omitted
                if name in RESOURCE_PARAMS:
                    resources.append(item)
                elif name in params:
                    raise InvalidRequest("A parameter was sent more than once")
                else:
                    params[name] = item
        return cls(params, tuple(resources), authorization or "")

    def basic_credentials(self) -> tuple[str, str] | None:
        """``client_secret_basic`` credentials, or None when no Basic header was sent."""
        scheme, _, value = self.authorization.partition(" ")
        if scheme.lower() != "basic":
            return None
        return parse_basic(value.strip())


def _pairs(mimetype: str, body: bytes) -> list[tuple[str, Any]]:
    try:
        return body_pairs(mimetype, body)
    except BodyRefused as exc:
        raise InvalidRequest(str(exc)) from None


def _check(name: str, value: Any) -> None:
    if not isinstance(value, str):
        raise InvalidRequest("Parameter values must be strings")
    try:
        check_text(name)
        check_text(value)
    except BodyRefused as exc:
        raise InvalidRequest(str(exc)) from None


def parse_basic(value: str) -> tuple[str, str]:
    """RFC 6749 §2.3.1: id and secret are form-urlencoded, then joined by ``:`` (RFC 7617)."""
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidClient("Malformed Basic credentials", basic=True) from None
    raw_id, sep, raw_secret = decoded.partition(":")
    if not sep or not raw_id or not raw_secret:
        raise InvalidClient("Malformed Basic credentials", basic=True)
    return unquote_plus(raw_id), unquote_plus(raw_secret)
