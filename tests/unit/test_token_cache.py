"""The per-process verification and revocation caches never widen what is accepted."""

from __future__ import annotations

import time
from pathlib import Path

from identity.services.token_cache import RevocationCache, VerifiedTokens
from identity.storage.revocation_stamp import RevocationStamp


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


def test_version_probe_keeps_answers_exact_until_a_revocation_is_announced() -> None:
    store: set[str] = set()
    calls: list[str] = []
    version = [0]

    def lookup(jti: str) -> bool:
        calls.append(jti)
        return jti in store

    cache = RevocationCache(lookup, ttl=0, version=lambda: version[0])
    assert cache.is_revoked("j", fresh=True) is False
    assert cache.is_revoked("j", fresh=True) is False
    assert cache.is_revoked("k", fresh=True) is False
    assert calls == ["j", "k"]  # unchanged version: "not revoked" is still exact, even fresh
    store.add("j")
    version[0] += 1  # what RevocationStamp.touch announces after the commit
    assert cache.is_revoked("j", fresh=True) is True
    assert cache.is_revoked("k", fresh=True) is False  # every answer is re-asked once
    assert calls == ["j", "k", "j", "k"]


def test_stamp_changes_on_every_touch(tmp_path: Path) -> None:
    stamp = RevocationStamp.for_database(f"sqlite:///{tmp_path / 'identity.db'}")
    assert stamp is not None and stamp.path == tmp_path / "identity.db-revocations"
    assert stamp.version() is None
    seen = set()
    for _ in range(20):
        stamp.touch()
        seen.add(stamp.version())
    assert len(seen) == 20 and None not in seen
    assert sorted(p.name for p in tmp_path.iterdir()) == ["identity.db-revocations"]
    assert RevocationStamp.for_database("postgresql+psycopg://h/db") is None
    assert RevocationStamp.for_database("sqlite:///:memory:") is None


def test_version_probe_answers_are_re_asked_after_the_trust_bound() -> None:
    """Should a stamp ever be missed, a "not revoked" answer still ages out."""
    from identity.services import token_cache

    now = [1000.0]
    calls: list[str] = []
    cache = RevocationCache(
        lambda jti: calls.append(jti) or False, ttl=0, version=lambda: 1, clock=lambda: now[0]
    )
    cache.is_revoked("j")
    now[0] += token_cache.STAMP_TRUST_SECONDS - 1
    cache.is_revoked("j")
    assert calls == ["j"]
    now[0] += 2
    cache.is_revoked("j")
    assert calls == ["j", "j"]
