"""The exception tree every layer raises; rendered once, in ``identity.http.errors``.

    IdentityError                      (status, message_id, text)
    ├── BadRequest                     400 BAD_REQUEST (+ validation_errors)
    ├── identity.oauth.errors.OAuthError  RFC 6749 §5.2 errors of the OAuth endpoints
    ├── Unauthorized                   401 UNAUTHORIZED
    │   └── InvalidToken               401, a JWT failed verification
    ├── Forbidden                      403 FORBIDDEN
    ├── NotFound                       404 NOT_FOUND
    ├── MethodNotAllowed               405 BAD_REQUEST (+ Allow)
    ├── Conflict                       409 CONFLICT (+ details)
    ├── PayloadTooLarge                413 PAYLOAD_TOO_LARGE
    ├── TooManyRequests                429 TOO_MANY_REQUESTS (+ retry_after)
    ├── UpstreamUnauthorized           502 UPSTREAM_UNAUTHORIZED
    ├── UpstreamUnavailable            503 UPSTREAM_UNAVAILABLE (+ retry_after)
    └── InternalError                  500 INTERNAL_ERROR
    ConfigError                        invalid configuration; stops start-up with one line

No Flask here: services and the pure crypto core raise these, the HTTP layer renders them.
Texts are safe to show to callers: they never carry a secret or a token.
"""

from __future__ import annotations

from typing import Any


class ConfigError(Exception):
    """A configuration variable is missing or invalid: ``"NAME: what is wrong"``."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable
        self.problem = problem


class IdentityError(Exception):
    """Base of every error a caller can see."""

    status = 500
    message_id = "INTERNAL_ERROR"
    text = "Internal error"

    def __init__(self, text: str | None = None) -> None:
        super().__init__(text or self.text)
        if text:
            self.text = text

    def headers(self) -> dict[str, str]:
        """Extra response headers this error needs (Retry-After, ...)."""
        return {}

    def extra(self) -> dict[str, Any]:
        """Extra fields placed inside ``serviceException``."""
        return {}

    def one_line(self) -> str:
        """The text, then each field's messages: how the command line reports it."""
        errors = self.extra().get("validationErrors") or {}
        return self.text + "".join(f"; {field}: {' '.join(m)}" for field, m in errors.items())


class BadRequest(IdentityError):
    status = 400
    message_id = "BAD_REQUEST"
    text = "Bad request"

    def __init__(
        self, text: str | None = None, validation_errors: dict[str, list[str]] | None = None
    ) -> None:
        super().__init__(text)
        self.validation_errors = validation_errors or {}

    def extra(self) -> dict[str, Any]:
        return {"validationErrors": self.validation_errors} if self.validation_errors else {}


class Unauthorized(IdentityError):
    status = 401
    message_id = "UNAUTHORIZED"
    text = "Unauthorized"


class InvalidToken(Unauthorized):
    """A JWT was malformed, forged, expired, revoked or of the wrong kind."""

    text = "Invalid or expired token"


class Forbidden(IdentityError):
    status = 403
    message_id = "FORBIDDEN"
    text = "Forbidden"


class NotFound(IdentityError):
    status = 404
    message_id = "NOT_FOUND"
    text = "Not found"


class MethodNotAllowed(IdentityError):
    """RFC 9110 §15.5.6: a 405 MUST carry ``Allow``; Infobip's messageIds have none for it."""

    status = 405
    message_id = "BAD_REQUEST"
    text = "Method not allowed"

    def __init__(self, allowed: list[str] | tuple[str, ...]) -> None:
        super().__init__()
        self.allowed = tuple(allowed)

    def headers(self) -> dict[str, str]:
        return {"Allow": ", ".join(self.allowed)}


class Conflict(IdentityError):
    status = 409
    message_id = "CONFLICT"
    text = "Conflict"

    def __init__(self, text: str | None = None, details: dict[str, Any] | None = None) -> None:
        super().__init__(text)
        self.details = details or {}

    def extra(self) -> dict[str, Any]:
        return dict(self.details)


class PayloadTooLarge(IdentityError):
    status = 413
    message_id = "PAYLOAD_TOO_LARGE"
    text = "Request body too large"


class _RetryAfter(IdentityError):
    def __init__(self, text: str | None = None, retry_after: int = 1) -> None:
        super().__init__(text)
        self.retry_after = max(1, int(retry_after))

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class TooManyRequests(_RetryAfter):
    status = 429
    message_id = "TOO_MANY_REQUESTS"
    text = "Too many requests"


class UpstreamUnauthorized(IdentityError):
    status = 502
    message_id = "UPSTREAM_UNAUTHORIZED"
    text = "The upstream rejected our credentials"


class UpstreamUnavailable(_RetryAfter):
    status = 503
    message_id = "UPSTREAM_UNAVAILABLE"
    text = "The upstream is unavailable"


class InternalError(IdentityError):
    status = 500
    message_id = "INTERNAL_ERROR"
    text = "Internal error"


class ServiceUnavailable(_RetryAfter):
    """A dependency of ours (database, Redis) is down; the caller may retry."""

    # Infobip's closed list of messageIds (docs/limits.md) has one 503; a dependency of ours
    # being down is reported with it too, with a text that says which side failed.
    status = 503
    message_id = "UPSTREAM_UNAVAILABLE"
    text = "A backing service (database or cache) is unavailable"
