"""Every endpoint the cores answer, declared once (``identity.core.routes``), built from the
services: the WSGI adapter routes by this list and the OpenAPI document describes it."""

from __future__ import annotations

from identity.container import Services
from identity.core import oauth
from identity.core.broker import AuthorizationEndpoint
from identity.core.discovery import DiscoveryEndpoints
from identity.core.inbox import InboxEndpoints
from identity.core.routes import Endpoint


def core_endpoints(built: Services) -> list[Endpoint]:
    settings = built.settings
    inbox = InboxEndpoints(
        built.inbox, built.credentials, settings.allowed_origins, settings.cors_origins
    )
    return [
        *oauth.endpoints(built.token_grant, built.token_management),
        *DiscoveryEndpoints(built.keys, settings.jwks_max_age).endpoints(),
        *inbox.endpoints(),
        *AuthorizationEndpoint(built.upstream, built.credentials).endpoints(),
    ]
