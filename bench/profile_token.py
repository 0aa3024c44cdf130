"""Where one process spends a ``POST /access_token``: cProfile over the WSGI app, in-process.

``.venv/bin/python bench/profile_token.py [N] [GET-PATH]`` prints the top functions by own time
and by cumulative time, and the cost per request next to one bare RS256 signature. With a path
(``/healthz``, ``/.well-known/jwks.json``) it profiles that GET instead. No server, no
network: the WSGI callable is called directly with a prepared environ.
"""

from __future__ import annotations

import base64
import cProfile
import io
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import BIN, ROOT, Server  # noqa: E402
from bench.signer import rs256_per_second  # noqa: E402

BODY = b"grant_type=client_credentials&scope=bench:read"


def _instance() -> dict[str, str]:
    """A fresh initialised instance with one client; its id and secret in the env."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDENTITY_")}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env.update(
        IDENTITY_INSTANCE_DIR=tempfile.mkdtemp(prefix="identity-profile-"),
        IDENTITY_LOG_LEVEL="WARNING",
    )
    subprocess.run([str(BIN / "identity"), "init"], cwd=ROOT, env=env, check=True, timeout=120)
    created = Server("", env).cli("clients", "create", "--name", "p", "--scope", "bench:read")
    raw = f"{created['client_id']}:{created['client_secret']}".encode()
    env["BENCH_BASIC"] = "Basic " + base64.b64encode(raw).decode()
    return env


def _environ(basic: str, get_path: str | None) -> dict[str, object]:
    if get_path is not None:
        return {**_environ(basic, None), "REQUEST_METHOD": "GET", "PATH_INFO": get_path}
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/access_token",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(BODY)),
        "HTTP_AUTHORIZATION": basic,
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(BODY),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    get_path = sys.argv[2] if len(sys.argv) > 2 else None
    os.environ.update(_instance())
    from identity.wsgi import app  # after the env names the instance

    statuses: list[str] = []

    def start_response(status: str, headers: object, exc_info: object = None) -> None:
        statuses.append(status)

    def one() -> None:
        b"".join(app(_environ(os.environ["BENCH_BASIC"], get_path), start_response))

    for _ in range(200):  # warm caches (client lookup, keys) before measuring
        one()
    assert statuses[-1].startswith("200"), statuses[-1]  # noqa: S101
    start = time.perf_counter()
    for _ in range(count):
        one()
    per_request = (time.perf_counter() - start) / count * 1000
    per_signature = 1000 / rs256_per_second(2.0)
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(count):
        one()
    profile.disable()
    print(
        f"{per_request:.3f} ms per request in-process; one RS256 signature {per_signature:.3f} ms; "
        f"everything else {per_request - per_signature:.3f} ms\n"
    )
    for key in ("tottime", "cumulative"):
        pstats.Stats(profile).sort_stats(key).print_stats(25)
    if os.environ.get("PROFILE_OUT"):  # for snakeviz or pstats.Stats(...).print_callees()
        profile.dump_stats(os.environ["PROFILE_OUT"])


if __name__ == "__main__":
    main()
