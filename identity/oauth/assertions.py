"""``private_key_jwt`` client authentication (RFC 7523 §2.2 and §3, OIDC Core §9).

The client signs a short-lived JWT with a key of its registered JWK Set; we check the
signature (RS256 or ES256 only: RFC 8725 §3.1), ``iss`` = ``sub`` = client_id, ``aud`` (this
server: its issuer or one of its client-authenticating endpoints), ``exp`` at most five minutes
ahead, and that its ``jti`` was never seen before (RFC 7523 §3 item 7), on any instance.
Every failure is ``invalid_client`` (RFC 6749 §5.2) and counts as a refused authentication.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import jwt

from identity.crypto.client_jwks import ASSERTION_ALGS, PublicKey, find_key
from identity.oauth.errors import InvalidClient
from identity.services.clients import PRIVATE_KEY_JWT, ClientRecord, ClientService
from identity.services.jwks_uri import JwksFetcher, JwksUnavailable
from identity.storage.shared import SharedState

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_LIFETIME = 300  # seconds an assertion may still have ahead of it
MAX_LENGTH = 8192
REQUIRED = ("iss", "sub", "aud", "exp", "jti")
ENDPOINTS = ("/access_token", "/oauth/token", "/introspect", "/revoke")


def audiences(issuer: str) -> tuple[str, ...]:
    """The ``aud`` values naming this server: the issuer, and each endpoint that takes clients."""
    return (issuer, *(f"{issuer}{path}" for path in ENDPOINTS))


class ClientAssertions:
    def __init__(
        self,
        clients: ClientService,
        shared: SharedState,
        fetcher: JwksFetcher,
        issuer: str,
        leeway: int,
    ) -> None:
        self._clients = clients
        self._shared = shared
        self._fetcher = fetcher
        self._audiences = list(audiences(issuer))
        self._leeway = leeway

    def __repr__(self) -> str:
        return "ClientAssertions()"

    def authenticate(self, assertion: str, client_id_param: str | None) -> ClientRecord:
        """The client that signed ``assertion``; ``InvalidClient`` for every failure."""
        header, claimed = _unverified(assertion)
        try:
            if claimed is None or (client_id_param is not None and client_id_param != claimed):
                raise InvalidClient("Invalid client assertion")
            return self._verify(assertion, header, claimed)
        except InvalidClient:
            self._clients.refused(claimed)
            raise

    def _verify(self, assertion: str, header: dict[str, Any], client_id: str) -> ClientRecord:
        record = self._clients.get(client_id)
        if record is None or record.auth_method != PRIVATE_KEY_JWT:
            raise InvalidClient("Client authentication failed")
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in ASSERTION_ALGS or "crit" in header:
            raise InvalidClient("Client assertions are signed RS256 or ES256")
        if kid is not None and not isinstance(kid, str):
            raise InvalidClient("Invalid client assertion")
        key = find_key(self._keys(record, kid), kid, alg)
        if key is None:
            raise InvalidClient("No registered key matches the client assertion")
        claims = self._decode(assertion, key, client_id)
        self._check_once(client_id, claims)
        return record

    def _keys(self, record: ClientRecord, kid: str | None) -> list[PublicKey]:
        if record.jwks_uri is None:
            return list(record.jwks)
        try:
            return self._fetcher.keys(record.jwks_uri, kid)
        except JwksUnavailable:
            raise InvalidClient("The client's JWK Set is unavailable") from None

    def _decode(self, assertion: str, key: PublicKey, client_id: str) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                assertion,
                key.key,
                algorithms=[key.alg],
                audience=self._audiences,
                issuer=client_id,
                leeway=self._leeway,
                options={"require": list(REQUIRED)},
            )
        except jwt.PyJWTError:
            raise InvalidClient("Invalid client assertion") from None
        exp = claims["exp"]
        if claims["sub"] != client_id or isinstance(exp, bool) or not isinstance(exp, int | float):
            raise InvalidClient("Invalid client assertion")  # RFC 7519 §4.1.4: a NumericDate
        if exp > time.time() + MAX_LIFETIME + 1:  # 1 s: exp is whole seconds
            raise InvalidClient("Client assertion lives too long (exp at most 5 minutes ahead)")
        jti = claims["jti"]
        if not isinstance(jti, str) or not 1 <= len(jti) <= 256:
            raise InvalidClient("Invalid client assertion")
        return claims

    def _check_once(self, client_id: str, claims: dict[str, Any]) -> None:
        """RFC 7523 §3 item 7: a jti is accepted once until its assertion expires, everywhere."""
        digest = hashlib.sha256(f"{client_id}\0{claims['jti']}".encode()).hexdigest()
        ttl = int(claims["exp"] - time.time()) + self._leeway + 1
        if not self._shared.add_once("client-assertion", digest, max(1, ttl)):
            raise InvalidClient("Client assertion already used")


def _unverified(assertion: str) -> tuple[dict[str, Any], str | None]:
    """The header, and the unverified ``sub`` when it equals ``iss`` (who says it signed)."""
    if not isinstance(assertion, str) or len(assertion) > MAX_LENGTH or assertion.count(".") != 2:
        return {}, None
    try:
        decoded = jwt.api_jwt.decode_complete(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}, None
    claims = decoded["payload"]
    sub, iss = claims.get("sub"), claims.get("iss")
    if not isinstance(sub, str) or sub != iss or not sub:
        return decoded["header"], None
    return decoded["header"], sub
