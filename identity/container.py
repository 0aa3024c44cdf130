"""Every service of one app, built in one place from the settings (``build_services``).

``create_app`` keeps the result in ``app.extensions``; ``identity.extensions.services()`` is
its typed getter. Nothing else constructs a service.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from identity.admission import Admission
from identity.broker import Broker
from identity.config import Settings
from identity.core.auth import Credentials
from identity.oauth.assertions import ClientAssertions
from identity.oauth.client_auth import ClientAuthentication
from identity.oauth.grant import ClientCredentialsGrant
from identity.oauth.reuse import TokenReuse
from identity.oauth.targets import ApiTargets
from identity.oauth.token_management import TokenManagement
from identity.services.api_keys import ApiKeyService
from identity.services.apis import ApiService
from identity.services.audit import AuditLog
from identity.services.clients import ClientService
from identity.services.customers import CustomerService
from identity.services.exchange import ExchangeService
from identity.services.inbox import InboxService
from identity.services.inbox_apps import InboxApps
from identity.services.jwks_uri import JwksFetcher
from identity.services.keys import KeyService
from identity.services.sessions import CustomerSessions, SessionEnder
from identity.services.throttle import LoginThrottle
from identity.services.tokens import TokenService
from identity.services.upstream import UpstreamService, build_broker
from identity.storage.keys import DatabaseKeyStore
from identity.storage.shared import FallbackShared, SharedState, build_shared


@dataclass(frozen=True)
class Services:
    settings: Settings
    admission: Admission
    shared: SharedState
    audit: AuditLog
    keys: KeyService
    tokens: TokenService
    apis: ApiService
    clients: ClientService
    token_grant: ClientCredentialsGrant
    token_management: TokenManagement
    api_keys: ApiKeyService
    credentials: Credentials
    customers: CustomerService
    login_throttle: LoginThrottle
    customer_sessions: CustomerSessions
    inbox_apps: InboxApps
    inbox: InboxService
    broker: Broker
    upstream: UpstreamService
    exchange: ExchangeService

    def __repr__(self) -> str:
        return "Services(***)"


def build_services(
    settings: Settings, on_degrade: Callable[[bool], None] | None = None
) -> Services:
    """The object graph; ``on_degrade`` hears when Redis fails over to the database and back."""
    shared = build_shared(settings.redis_url, settings.redis_prefix, settings.database_url)
    if isinstance(shared, FallbackShared) and on_degrade is not None:
        shared.on_degrade = on_degrade
    audit = AuditLog(settings.audit_retention_days)
    keys = KeyService(
        DatabaseKeyStore(settings.key_passphrase),
        audit,
        bits=settings.key_size,
        max_token_ttl=settings.max_token_ttl,
        leeway=settings.clock_leeway,
        cache_seconds=settings.keyring_cache_seconds,
    )
    apis = ApiService(settings, keys, audit)
    tokens = TokenService(keys, settings, shared, apis.audiences)
    clients = ClientService(
        settings.hash_pepper,
        apis,
        audit,
        settings.client_cache_seconds,
        settings.allow_insecure_jwks_uri,
    )
    api_keys = ApiKeyService(settings.hash_pepper, audit, settings.client_cache_seconds)
    customers = CustomerService(settings, SessionEnder(tokens, shared, settings), audit)
    throttle = LoginThrottle(shared, settings)
    sessions = CustomerSessions(customers, tokens, throttle, shared, settings)
    admission = Admission(settings.admission_slots)
    broker = build_broker(settings, shared, admission)
    inbox_apps = InboxApps(settings, audit)
    assertions = ClientAssertions(
        clients,
        shared,
        JwksFetcher(settings.allow_insecure_jwks_uri, waiting=admission.waiting),
        settings.issuer,
        settings.clock_leeway,
    )
    client_auth = ClientAuthentication(clients, assertions)
    targets = ApiTargets(apis.registry)
    reuse = TokenReuse(tokens) if settings.reuse_access_tokens else None
    return Services(
        settings=settings,
        admission=admission,
        shared=shared,
        audit=audit,
        keys=keys,
        tokens=tokens,
        apis=apis,
        clients=clients,
        token_grant=ClientCredentialsGrant(client_auth, targets, tokens, reuse),
        token_management=TokenManagement(client_auth, tokens),
        api_keys=api_keys,
        credentials=Credentials(tokens, api_keys),
        customers=customers,
        login_throttle=throttle,
        customer_sessions=sessions,
        inbox_apps=inbox_apps,
        inbox=InboxService(sessions, keys, inbox_apps, settings),
        broker=broker,
        upstream=UpstreamService(settings, broker, inbox_apps, audit),
        exchange=ExchangeService(settings, admission),
    )
