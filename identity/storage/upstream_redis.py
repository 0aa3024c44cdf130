"""The broker's shared level in Redis (when ``REDIS_URL`` is set).

Keys (under the deployment prefix): ``upstream:token:<name>`` (JSON, header sealed, expires
with the token), ``upstream:lock:<name>`` (the lease: ``SET NX PX`` holding the fencing token
from ``INCR upstream:fence:<name>``), ``upstream:breaker:<name>`` (failures, retry_at, kind).
Release and the fenced write are Lua scripts, so only the current holder acts.
"""

from __future__ import annotations

import json
from typing import Any

import redis
from redis.typing import EncodableT, FieldT

from identity.broker.model import BreakerState, StoredToken

# KEYS[1] token key, KEYS[2] lock key; ARGV[1] fence, ARGV[2] value, ARGV[3] ttl ms
FENCED_SET = """
if redis.call('get', KEYS[2]) == ARGV[1] then
  redis.call('set', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
"""
# KEYS[1] lock key; ARGV[1] fence
RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
KEEP_AFTER_EXPIRY_MS = 60_000  # keeps an expired record briefly (IBSSO logout, diagnostics)


def _text(value: bytes | str) -> str:
    """This client returns bytes; redis-py's types also allow ``decode_responses=True``."""
    return value.decode() if isinstance(value, bytes) else value


class RedisUpstreamStore:
    backend = "redis"

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self._fenced_set = client.register_script(FENCED_SET)
        self._release = client.register_script(RELEASE)

    def _k(self, kind: str, name: str) -> str:
        return f"{self.prefix}upstream:{kind}:{name}"

    def load(self, name: str) -> StoredToken | None:
        raw = self.client.get(self._k("token", name))
        if raw is None:
            return None
        data: dict[str, Any] = json.loads(raw)
        return StoredToken(
            data["sealed"],
            data["obtained_at"],
            data["expires_at"],
            data["refresh_at"],
            bool(data.get("invalid")),
        )

    def save(self, name: str, record: StoredToken, fence: int, now: float) -> bool:
        value = json.dumps(
            {
                "sealed": record.sealed,
                "obtained_at": record.obtained_at,
                "expires_at": record.expires_at,
                "refresh_at": record.refresh_at,
            }
        )
        ttl_ms = max(1000, int((record.expires_at - now) * 1000)) + KEEP_AFTER_EXPIRY_MS
        keys = [self._k("token", name), self._k("lock", name)]
        return bool(self._fenced_set(keys=keys, args=[str(fence), value, ttl_ms]))

    def invalidate(self, name: str) -> None:
        key = self._k("token", name)
        raw = self.client.get(key)
        if raw is not None:
            data = json.loads(raw)
            data["invalid"] = True
            self.client.set(key, json.dumps(data), keepttl=True, xx=True)

    def forget(self, name: str) -> None:
        self.client.delete(self._k("token", name), self._k("breaker", name))

    def try_acquire(self, name: str, ttl: float, now: float) -> int | None:
        lock = self._k("lock", name)
        if self.client.exists(lock):
            return None
        fence = int(self.client.incr(self._k("fence", name)))
        if self.client.set(lock, str(fence), px=max(1, int(ttl * 1000)), nx=True):
            return fence
        return None

    def release(self, name: str, fence: int) -> None:
        self._release(keys=[self._k("lock", name)], args=[str(fence)])

    def breaker(self, name: str) -> BreakerState:
        data = self.client.hgetall(self._k("breaker", name))
        if not data:
            return BreakerState()
        values = {_text(k): _text(v) for k, v in data.items()}
        return BreakerState(
            int(values.get("failures", 0)),
            float(values["retry_at"]) if "retry_at" in values else None,
            values.get("kind"),
        )

    def record_failure(self, name: str, state: BreakerState) -> None:
        key = self._k("breaker", name)
        mapping: dict[FieldT, EncodableT] = {
            "failures": state.failures,
            "kind": state.kind or "unavailable",
        }
        if state.retry_at is not None:
            mapping["retry_at"] = repr(state.retry_at)
        pipe = self.client.pipeline()
        pipe.hset(key, mapping=mapping)
        pipe.expire(key, 86400)
        pipe.execute()

    def clear_failures(self, name: str) -> None:
        self.client.delete(self._k("breaker", name))


class FallbackUpstreamStore:
    """Redis first; on a Redis error, the database store (as ``FallbackShared`` does)."""

    def __init__(self, primary: RedisUpstreamStore, fallback: Any) -> None:
        self.primary = primary
        self.fallback = fallback
        self.degraded = False

    @property
    def backend(self) -> str:
        return "database (redis down)" if self.degraded else "redis"

    def _call(self, name: str, *args: Any) -> Any:
        try:
            result = getattr(self.primary, name)(*args)
        except redis.RedisError:
            self.degraded = True
            return getattr(self.fallback, name)(*args)
        self.degraded = False
        return result

    def load(self, name: str) -> StoredToken | None:
        return self._call("load", name)  # type: ignore[no-any-return]

    def save(self, name: str, record: StoredToken, fence: int, now: float) -> bool:
        return bool(self._call("save", name, record, fence, now))

    def invalidate(self, name: str) -> None:
        self._call("invalidate", name)

    def forget(self, name: str) -> None:
        self.fallback.forget(name)  # a row may be left from a Redis outage
        self._call("forget", name)

    def try_acquire(self, name: str, ttl: float, now: float) -> int | None:
        return self._call("try_acquire", name, ttl, now)  # type: ignore[no-any-return]

    def release(self, name: str, fence: int) -> None:
        self._call("release", name, fence)

    def breaker(self, name: str) -> BreakerState:
        return self._call("breaker", name)  # type: ignore[no-any-return]

    def record_failure(self, name: str, state: BreakerState) -> None:
        self._call("record_failure", name, state)

    def clear_failures(self, name: str) -> None:
        self._call("clear_failures", name)
