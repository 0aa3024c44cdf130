"""The registry of this service's own scopes: every scope some endpoint checks, and nothing else.

They are the scopes of the built-in API ``identity`` (docs/partners.md, "APIs and grants"):
clients and API keys may only be given these there (a scope no endpoint knows, e.g. ``root``,
would be a promise nothing keeps).
"""

from __future__ import annotations

import re

# RFC 6749 §3.3 scope-token: %x21 / %x23-5B / %x5D-7E (printable ASCII, no space, '"' or '\').
SCOPE_TOKEN = re.compile(r"[!#-\[\]-~]+")

BUILTIN_API = "identity"  # the name of this service as an API (resource server)

ADMIN = "admin"  # the admin API
PROFILE_READ = "profile:read"  # POST /getprofile (access token and API key)
INBOX_ISSUE = "inbox:issue"  # POST /v1/inbox/tokens (API key)
UPSTREAM_READ = "upstream:read"  # the broker's caller endpoints (access token)

KNOWN_SCOPES: tuple[str, ...] = (ADMIN, PROFILE_READ, INBOX_ISSUE, UPSTREAM_READ)


def unknown_scopes(scope: str) -> list[str]:
    """The space-separated tokens of ``scope`` that are not in the registry, in order."""
    return [token for token in dict.fromkeys(scope.split()) if token not in KNOWN_SCOPES]


def scope_errors(scope: str) -> dict[str, list[str]]:
    """``validationErrors`` for a scope outside the registry; empty when it is within."""
    unknown = unknown_scopes(scope)
    if not unknown:
        return {}
    return {
        "scope": [f"unknown scope(s): {', '.join(unknown)}; allowed: {', '.join(KNOWN_SCOPES)}"]
    }
