"""The per-process verification and revocation caches never widen what is accepted."""

from __future__ import annotations

import time

from identity.services.token_cache import RevocationCache, VerifiedTokens


def test_verified_token_is_forgotten_after_exp_plus_leeway() -> None:
    cache = VerifiedTokens(leeway=0)
    cache.put("t1", "JWT", {"exp": time.time() + 60, "jti": "a"})
    cache.put("t2", "JWT", {"exp": time.time() - 1, "jti": "b"})
    assert cache.get("t1") == ("JWT", {"exp": cache.get("t1")[1]["exp"], "jti": "a"})
    assert cache.get("t2") is None
    assert cache.get("unknown") is None


def test_not_revoked_is_trusted_for_ttl_and_revocations_here_apply_at_once() -> None:
    store: set[str] = set()
    calls: list[str] = []

    def lookup(jti: str) -> bool:
        calls.append(jti)
        return jti in store

    cache = RevocationCache(lookup, ttl=60)
    assert cache.is_revoked("j") is False
    assert cache.is_revoked("j") is False
    assert calls == ["j"]  # second answer came from the cache
    store.add("j")  # revoked elsewhere: this process trusts its answer until the ttl
    assert cache.is_revoked("j") is False
    assert cache.is_revoked("j", fresh=True) is True  # introspection asks the store
    assert cache.is_revoked("j") is True  # and remembers the revocation
    cache.mark_revoked("k")
    assert cache.is_revoked("k") is True


def test_ttl_zero_always_asks() -> None:
    calls: list[str] = []
    cache = RevocationCache(lambda jti: calls.append(jti) or False, ttl=0)
    cache.is_revoked("j")
    cache.is_revoked("j")
    assert calls == ["j", "j"]
