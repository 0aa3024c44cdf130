"""The OAuth core called directly with a request value (no framework, no database), as
oauthlib's endpoint tests call ``create_token_response``."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from identity.core import oauth
from identity.core.errors import render
from identity.core.http import Request, Response
from identity.core.routes import Router
from identity.errors import IdentityError, InvalidToken
from identity.oauth.client_auth import ClientAuthentication
from identity.oauth.errors import InvalidClient
from identity.oauth.grant import ClientCredentialsGrant
from identity.oauth.targets import ApiTargets
from identity.oauth.token_management import TokenManagement
from identity.scopes import KNOWN_SCOPES
from identity.services.apis import Api, Registry
from identity.services.clients import ClientRecord
from identity.services.tokens import IssuedToken

AUDIENCE = "https://id.test/api"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class FakeClients:
    """Two clients: ``partner`` (secret ``s3cret``) and ``admin`` (secret ``adm1n``)."""

    records = {
        "partner": (
            ClientRecord(
                "partner", "p", {"identity": ("profile:read", "inbox:issue")}, 600, True, "h"
            ),
            "s3cret",
        ),
        "admin": (ClientRecord("admin", "a", {"identity": ("admin",)}, None, True, "h"), "adm1n"),
        "bare": (ClientRecord("bare", "b", {}, None, True, "h"), "b4re"),
    }

    def authenticate(self, client_id: str, secret: str) -> ClientRecord | None:
        record, expected = self.records.get(client_id, (None, None))
        return record if secret == expected else None

    def refused(self, client_id: str | None) -> None:
        """Counted in the audit log by the real service."""


class FakeAssertions:
    """``private_key_jwt`` is tested with real assertions in tests/http/test_private_key_jwt.py."""

    def authenticate(self, assertion: str, client_id: str | None) -> ClientRecord:
        raise InvalidClient("Invalid client assertion")


class FakeTokens:
    def __init__(self) -> None:
        self.issued: list[dict[str, Any]] = []
        self.revoked: list[str] = []

    def issue_access_token(
        self, client_id: str, scope: str, lifetime: int | None, audience: str | None, alg: str
    ) -> IssuedToken:
        claims = {
            "client_id": client_id,
            "scope": scope,
            "aud": audience,
            "jti": f"j{len(self.issued)}",
        }
        self.issued.append({**claims, "lifetime": lifetime, "alg": alg})
        return IssuedToken(f"token-{claims['jti']}", claims, lifetime or 3600)

    def verify_access_token(self, token: str, fresh: bool = False) -> dict[str, Any]:
        for claims in self.issued:
            if token == f"token-{claims['jti']}" and claims["jti"] not in self.revoked:
                return {**claims, "exp": 2, "iat": 1, "sub": claims["client_id"]}
        raise InvalidToken()

    def revoke(self, claims: dict[str, Any]) -> None:
        self.revoked.append(claims["jti"])


class Endpoints:
    """The declared OAuth endpoints by name, answering as the router dispatches them."""

    PATHS = {"token": "/access_token", "introspect": "/introspect", "revoke": "/revoke"}

    def __init__(self, router: Router) -> None:
        self.router = router

    def __getattr__(self, name: str) -> Any:
        matched = self.router.match(self.PATHS[name])
        assert matched is not None
        return matched[0].answer


@pytest.fixture()
def tokens() -> FakeTokens:
    return FakeTokens()


@pytest.fixture()
def endpoints(tokens: FakeTokens) -> Endpoints:
    auth = ClientAuthentication(FakeClients(), FakeAssertions())  # type: ignore[arg-type]
    registry = Registry.of([Api("identity", AUDIENCE, KNOWN_SCOPES, 3600, "RS256", builtin=True)])
    grant = ClientCredentialsGrant(auth, ApiTargets(lambda fresh: registry), tokens)  # type: ignore[arg-type]
    return Endpoints(Router(oauth.endpoints(grant, TokenManagement(auth, tokens))))  # type: ignore[arg-type]


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def call(
    handler: Any, body: str, headers: dict[str, str] | None = None, method: str = "POST"
) -> tuple[int, dict[str, Any], Response]:
    """The core's answer, errors rendered as the adapter renders them (RFC 6749 §5.2)."""
    request = Request(method, "/access_token", {**FORM, **(headers or {})}, body.encode())  # type: ignore[arg-type]
    try:
        response = handler(request)
    except IdentityError as exc:
        response = render(exc, oauth=True)
    return response.status, json.loads(response.body or b"{}"), response


def test_token_issued_for_the_built_in_api(endpoints: Endpoints, tokens: FakeTokens) -> None:
    """All held scopes by default, the API's lifetime capped by the client's, RS256, our aud."""
    status, body, response = call(
        endpoints.token, "grant_type=client_credentials", basic("partner", "s3cret")
    )
    assert status == 200
    assert body == {
        "access_token": "token-j0",
        "token_type": "Bearer",
        "expires_in": 600,
        "scope": "profile:read inbox:issue",
    }
    assert ("Cache-Control", "no-store") in response.headers
    assert tokens.issued == [
        {
            "client_id": "partner",
            "scope": "profile:read inbox:issue",
            "aud": AUDIENCE,
            "jti": "j0",
            "lifetime": 600,
            "alg": "RS256",
        }
    ]


@pytest.mark.parametrize(
    ("body", "headers", "status", "error"),
    [
        ("", basic("partner", "s3cret"), 400, "invalid_request"),
        ("grant_type=password", basic("partner", "s3cret"), 400, "unsupported_grant_type"),
        ("grant_type=client_credentials", {}, 401, "invalid_client"),
        ("grant_type=client_credentials", basic("partner", "wrong"), 401, "invalid_client"),
        (
            "grant_type=client_credentials&client_secret=s3cret",
            basic("partner", "s3cret"),
            400,
            "invalid_request",
        ),
        (
            "grant_type=client_credentials&grant_type=client_credentials",
            basic("partner", "s3cret"),
            400,
            "invalid_request",
        ),
        (
            "grant_type=client_credentials&scope=admin",
            basic("partner", "s3cret"),
            400,
            "invalid_scope",
        ),
        ("grant_type=client_credentials", basic("bare", "b4re"), 400, "unauthorized_client"),
        (
            f"grant_type=client_credentials&resource={AUDIENCE}&resource={AUDIENCE}",
            basic("partner", "s3cret"),
            400,
            "invalid_target",
        ),
        (
            f"grant_type=client_credentials&resource={AUDIENCE}&audience={AUDIENCE}",
            basic("partner", "s3cret"),
            400,
            "invalid_target",
        ),
        (
            "grant_type=client_credentials&audience=https://other.test",
            basic("partner", "s3cret"),
            400,
            "invalid_target",
        ),
    ],
)
def test_refusals(
    endpoints: Endpoints,
    tokens: FakeTokens,
    body: str,
    headers: dict[str, str],
    status: int,
    error: str,
) -> None:
    """Each RFC 6749 §5.2 / RFC 8707 §2 refusal, with nothing issued."""
    got_status, got, response = call(endpoints.token, body, headers)
    assert (got_status, got["error"]) == (status, error)
    assert tokens.issued == []
    if status == 401:
        assert dict(response.headers)["WWW-Authenticate"].startswith('Basic realm="identity"')


def test_resource_naming_the_built_in_api(endpoints: Endpoints, tokens: FakeTokens) -> None:
    status, body, _ = call(
        endpoints.token,
        f"grant_type=client_credentials&resource={AUDIENCE}&scope=inbox:issue",
        basic("partner", "s3cret"),
    )
    assert status == 200 and body["scope"] == "inbox:issue"
    assert tokens.issued[0]["aud"] == AUDIENCE


def test_introspection_and_revocation(endpoints: Endpoints, tokens: FakeTokens) -> None:
    """A client sees and revokes its own token; another client's looks unknown (RFC 7662 §4)."""
    call(endpoints.token, "grant_type=client_credentials", basic("partner", "s3cret"))
    assert call(endpoints.introspect, "token=token-j0", basic("bare", "b4re"))[1] == {
        "active": False
    }
    assert call(endpoints.revoke, "token=token-j0", basic("bare", "b4re"))[:2] == (200, {})
    assert tokens.revoked == []
    status, body, _ = call(endpoints.introspect, "token=token-j0", basic("admin", "adm1n"))
    assert status == 200 and body["active"] is True and body["client_id"] == "partner"
    assert call(endpoints.revoke, "token=token-j0", basic("partner", "s3cret"))[0] == 200
    assert tokens.revoked == ["j0"]
    assert call(endpoints.introspect, "token=token-j0", basic("partner", "s3cret"))[1] == {
        "active": False
    }
    assert (
        call(endpoints.introspect, "", basic("partner", "s3cret"))[1]["error"] == "invalid_request"
    )


def test_only_post(endpoints: Endpoints) -> None:
    status, body, response = call(endpoints.token, "", method="GET")
    assert status == 405 and dict(response.headers)["Allow"] == "OPTIONS, POST"
