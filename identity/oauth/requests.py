"""The request Authlib sees: method, headers and already-parsed body parameters (no Flask)."""

from __future__ import annotations

import base64
import binascii
from collections import defaultdict
from collections.abc import Mapping
from urllib.parse import unquote_plus

from authlib.oauth2.rfc6749 import OAuth2Payload, OAuth2Request

from identity.oauth.errors import InvalidClient


class BodyPayload(OAuth2Payload):
    """Parameters from the request body only (RFC 6749 §3.2: the token endpoint uses POST)."""

    def __init__(self, params: Mapping[str, str]) -> None:
        self._params = dict(params)

    @property
    def data(self) -> dict[str, str]:
        return self._params

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return defaultdict(list, {k: [v] for k, v in self._params.items()})


class OAuthCall(OAuth2Request):
    """An OAuth request: the HTTP layer has parsed the body and refused duplicated parameters."""

    def __init__(
        self, method: str, uri: str, headers: Mapping[str, str], params: Mapping[str, str]
    ):
        # OAuth2Request.__init__ would refuse http:// URIs; TLS terminates at the proxy in front.
        self.method = method
        self.uri = uri
        self.headers = headers
        self._body = None
        self.payload = BodyPayload(params)
        self.client = None
        self.auth_method = None
        self.user = None
        self.authorization_code = None
        self.refresh_token = None
        self.credential = None
        self._scope = None

    payload: BodyPayload

    @property
    def args(self) -> dict[str, str | None]:
        return {}

    @property
    def form(self) -> dict[str, str]:
        return self.payload.data

    def basic_credentials(self) -> tuple[str, str] | None:
        """``client_secret_basic`` credentials, or None when no Basic header was sent."""
        scheme, _, value = (self.headers or {}).get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        return parse_basic(value.strip())


def as_call(request: OAuth2Request) -> OAuthCall:
    """The request Authlib hands back is the one we built (``Server.create_oauth2_request``)."""
    if not isinstance(request, OAuthCall):
        raise TypeError(f"expected an OAuthCall, got {type(request).__name__}")
    return request


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
