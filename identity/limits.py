"""Every bound on an input, declared once (docs/limits.md).

Services check their inputs against these, so the command line and HTTP refuse the same
values; HTTP schemas take the same bounds to refuse earlier, in the OpenAPI document too, and
CLI options name them in their help. No Flask, no click: any layer may import this module.
"""

from __future__ import annotations

from dataclasses import dataclass

from identity.errors import BadRequest

DAY = 86_400


@dataclass(frozen=True)
class Bounds:
    """``low <= value <= high``, in ``unit`` (seconds, or characters for text)."""

    low: float
    high: float
    unit: str

    def rule(self) -> str:
        return f"{_number(self.low)} to {_number(self.high)} {self.unit}"

    def problem(self, value: float | str | None) -> str | None:
        """Why ``value`` (a number, or text by its length) is out of bounds; None if it is in."""
        if value is None:
            return None
        size = len(value) if isinstance(value, str) else value
        return None if self.low <= size <= self.high else self.rule()


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


# --- lifetimes and delays (seconds)
CLIENT_LIFETIME = Bounds(60, DAY, "seconds")  # a client's cap on its tokens' lifetime
API_KEY_EXPIRES_IN = Bounds(1, 10 * 365 * DAY, "seconds")
KEY_PROMOTE_AFTER = Bounds(0, 365 * DAY, "seconds")
SECRET_OVERLAP = Bounds(0, 30 * DAY, "seconds")  # how long a rotated-out client secret works
UPSTREAM_LIFETIME = Bounds(1, 30 * DAY, "seconds")
UPSTREAM_TIMEOUT = Bounds(0.01, 120, "seconds")
API_LIFETIME = Bounds(60, DAY, "seconds")  # an API's token lifetime
# --- names and scopes (characters)
CLIENT_NAME = Bounds(1, 200, "characters")
API_KEY_NAME = Bounds(1, 200, "characters")
SCOPE = Bounds(0, 2000, "characters")  # a space-separated scope list
JWKS_URI = Bounds(1, 2000, "characters")  # a private_key_jwt client's jwks_uri
API_AUDIENCE = Bounds(1, 1000, "characters")
SCOPE_NAME = Bounds(1, 128, "characters")  # one scope name an API defines
API_SCOPES = Bounds(1, 200, "scope names")  # how many an API defines

# What docs/limits.md shows: (what is bounded, where it is given, the bounds).
DOCUMENTED = (
    ("a client's token lifetime cap", "`lifetime` / `--lifetime`", CLIENT_LIFETIME),
    ("an API key's expiry", "`expires_in` / `--expires-in`", API_KEY_EXPIRES_IN),
    (
        "a rotated key's delay before signing",
        "`promote_after` / `--promote-after`",
        KEY_PROMOTE_AFTER,
    ),
    (
        "how long a rotated-out client secret keeps working",
        "`keep_old_for` / `--keep-old-for`",
        SECRET_OVERLAP,
    ),
    ("an upstream connection's token lifetime", "`lifetime` / `--lifetime`", UPSTREAM_LIFETIME),
    ("an upstream connection's timeouts", "`connect_timeout`, `read_timeout`", UPSTREAM_TIMEOUT),
    ("a client's name", "`name` / `--name`", CLIENT_NAME),
    ("an API key's name", "`name` / `--name`", API_KEY_NAME),
    ("a client's or API key's scope list", "`scope` / `--scope`", SCOPE),
    ("a private_key_jwt client's JWK Set URL", "`jwks_uri` / `--jwks-uri`", JWKS_URI),
    ("an API's token lifetime", "`lifetime` / `--lifetime`", API_LIFETIME),
    ("an API's audience", "`audience` / `--audience`", API_AUDIENCE),
    ("one scope name an API defines", "`scopes` / `--scope`", SCOPE_NAME),
    ("the scope names of one API", "`scopes` / `--scope`", API_SCOPES),
)


def table() -> str:
    """The table of docs/limits.md, in Markdown."""
    rows = ["| what | given as | bounds |", "|---|---|---|"]
    rows += [f"| {what} | {given} | {bounds.rule()} |" for what, given, bounds in DOCUMENTED]
    return "\n".join(rows)


def check(what: str, **values: tuple[Bounds, float | str | None]) -> None:
    """Refuse (``BadRequest`` ``what``) naming each field whose value is out of its bounds."""
    errors = {}
    for field, (bounds, value) in values.items():
        if problem := bounds.problem(value):
            errors[field] = [problem]
    if errors:
        raise BadRequest(what, errors)
