"""The jwks_uri address guard: https only, and never a loopback, private or link-local
address, whatever the host name resolves to (server-side request forgery)."""

from __future__ import annotations

import httpx
import pytest

from identity.services.jwks_uri import (
    JwksFetcher,
    JwksUnavailable,
    UnsafeJwksUri,
    check_uri,
    is_public,
)
from tests.assertion_helpers import jwks, rsa_key


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104 - an address under test, not a bind
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "224.0.0.1",
        "::",
        "::7f00:1",  # IPv4-compatible 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "2002:a00:1::",  # 6to4 of 10.0.0.1
        "fec0::1",  # site-local
    ],
)
def test_non_public_addresses(address: str) -> None:
    assert not is_public(address)


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"])
def test_public_addresses(address: str) -> None:
    assert is_public(address)


def resolver(*answers: str) -> object:
    return lambda host, port: list(answers)


def test_every_resolved_address_is_checked() -> None:
    """One private address among public ones refuses the host (DNS can answer either)."""
    with pytest.raises(UnsafeJwksUri, match="10.0.0.7"):
        check_uri("https://keys.example/j", False, resolver("93.184.215.14", "10.0.0.7"))  # type: ignore[arg-type]
    assert check_uri("https://keys.example/j", False, resolver("93.184.215.14")) == [  # type: ignore[arg-type]
        "93.184.215.14"
    ]


def test_development_switch_allows_http_and_loopback() -> None:
    assert check_uri("http://127.0.0.1:9/j", True, resolver()) == ["127.0.0.1"]  # type: ignore[arg-type]
    with pytest.raises(UnsafeJwksUri, match="https"):
        check_uri("http://keys.example/j", False, resolver("93.184.215.14"))  # type: ignore[arg-type]


def test_a_failed_first_fetch_is_not_repeated_per_request() -> None:
    """The first fetch failing is remembered: no second fetch within the refetch minute."""
    calls: list[httpx.Request] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(500)

    fetcher = JwksFetcher(True, resolver("127.0.0.1"), httpx.MockTransport(refuse))  # type: ignore[arg-type]
    with pytest.raises(JwksUnavailable):
        fetcher.keys("http://keys.example/j", "k1")
    assert fetcher.keys("http://keys.example/j", "k1") == []
    assert len(calls) == 1


def test_unresolvable_host_is_refused_at_fetch_time_only() -> None:
    with pytest.raises(UnsafeJwksUri, match="does not resolve"):
        check_uri("https://nowhere.example/j", False, resolver())  # type: ignore[arg-type]
    assert check_uri("https://nowhere.example/j", False, resolver(), must_resolve=False) == []  # type: ignore[arg-type]


def test_fetch_connects_to_the_checked_address_with_the_host_name() -> None:
    """The connection is pinned to the address that was checked; TLS still names the host."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=jwks(rsa_key("k1")))

    fetcher = JwksFetcher(
        False,
        resolver=resolver("93.184.215.14"),  # type: ignore[arg-type]
        transport=httpx.MockTransport(handler),
    )
    keys = fetcher.keys("https://keys.example:8443/jwks.json", "k1")
    assert [k.kid for k in keys] == ["k1"]
    assert str(seen[0].url) == "https://93.184.215.14:8443/jwks.json"
    assert seen[0].headers["Host"] == "keys.example:8443"
    assert seen[0].extensions["sni_hostname"] == "keys.example"


@pytest.mark.parametrize(
    ("response", "reason"),
    [
        (httpx.Response(302, headers={"Location": "http://127.0.0.1/"}), "HTTP 302"),
        (httpx.Response(200, content=b"x" * 70_000), "too large"),
        (httpx.Response(200, json={"keys": [rsa_key().private_jwk()]}), "private key material"),
        (httpx.Response(500), "HTTP 500"),
    ],
)
def test_fetch_refuses_redirects_big_or_private_answers(
    response: httpx.Response, reason: str
) -> None:
    fetcher = JwksFetcher(
        False,
        resolver=resolver("93.184.215.14"),  # type: ignore[arg-type]
        transport=httpx.MockTransport(lambda request: response),
    )
    with pytest.raises(JwksUnavailable, match=reason):
        fetcher.keys("https://keys.example/jwks.json", "k1")


def test_fetch_to_a_private_address_never_connects() -> None:
    calls: list[httpx.Request] = []
    fetcher = JwksFetcher(
        False,
        resolver=resolver("192.168.0.10"),  # type: ignore[arg-type]
        transport=httpx.MockTransport(lambda r: calls.append(r) or httpx.Response(200)),  # type: ignore[func-returns-value]
    )
    with pytest.raises(JwksUnavailable, match="private"):
        fetcher.keys("https://internal.example/jwks.json", None)
    assert calls == []
