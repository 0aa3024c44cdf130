"""Typed SQLAlchemy 2 models: data and tiny invariants only. Every table of every area is here so
that one migration history describes the whole schema."""

from identity.models.accounts import ApiKey, Customer, CustomerSession, OAuthClient
from identity.models.apis import ApiResource, ClientGrant
from identity.models.audit import AuditEvent
from identity.models.exchange import AppSetting, ExchangeAccount, InboundMessage, OAuthState
from identity.models.inbox import InboxApp
from identity.models.keys import SigningKey
from identity.models.shared import KeyValue, RevokedToken, SeenSignature
from identity.models.upstream import UpstreamConnection, UpstreamToken

__all__ = [
    "ApiKey",
    "ApiResource",
    "AppSetting",
    "AuditEvent",
    "ClientGrant",
    "Customer",
    "CustomerSession",
    "ExchangeAccount",
    "InboundMessage",
    "InboxApp",
    "KeyValue",
    "OAuthClient",
    "OAuthState",
    "RevokedToken",
    "SeenSignature",
    "SigningKey",
    "UpstreamConnection",
    "UpstreamToken",
]
