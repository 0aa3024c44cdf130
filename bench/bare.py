"""Yardstick apps served by granian with our settings, so every ratio has a same-run yardstick.

- ``app`` ``GET /bare``: bare Flask, the ceiling of the broker's cached read, /healthz and JWKS
  (``GET /healthz`` answers too, so the harness can wait for it like for our server).
- ``app`` ``POST /token``: a bare Flask + PyJWT client-credentials endpoint (Basic check,
  form parse, one RS256 signature) — what the issue calls the "bare Flask+PyJWT" baseline.
- ``sign_only``: a WSGI callable that reads the body and returns one signature from our signer:
  the most any WSGI token endpoint can do under this server configuration.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Iterable
from typing import Any

import jwt
from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue

from identity.crypto import keys, signer

app = Flask(__name__)
KEY = keys.generate_rsa_key(2048)  # per worker process; nothing verifies these tokens
CLIENT_ID, CLIENT_SECRET = "bench-client", "bench-secret"  # noqa: S105 - throwaway
SECRET_HASH = hashlib.sha256(CLIENT_SECRET.encode()).digest()


def _claims() -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": "http://bench",
        "sub": CLIENT_ID,
        "aud": "http://bench/api",
        "scope": "bench:read",
        "iat": now,
        "exp": now + 3600,
        "jti": secrets.token_urlsafe(16),
    }


@app.get("/healthz")
@app.get("/bare")
def bare() -> ResponseReturnValue:
    return jsonify({"authorization": "IBSSO 0123456789abcdef", "token_type": "IBSSO"})


@app.post("/token")
def token() -> ResponseReturnValue:
    auth = request.authorization
    if auth is None or request.form.get("grant_type") != "client_credentials":
        return jsonify({"error": "invalid_request"}), 400
    given = hashlib.sha256((auth.password or "").encode()).digest()
    if auth.username != CLIENT_ID or not hmac.compare_digest(given, SECRET_HASH):
        return jsonify({"error": "invalid_client"}), 401
    signed = jwt.encode(_claims(), KEY, algorithm="RS256", headers={"typ": "at+jwt"})
    response = jsonify(
        access_token=signed,
        token_type="Bearer",  # noqa: S106 - a token type, not a password
        expires_in=3600,
        scope="bench:read",
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def sign_only(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    body = json.dumps({"access_token": signer.sign(_claims(), KEY, "bench", "at+jwt")}).encode()
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]
