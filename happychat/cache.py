"""The scale-out cache: Django's Redis cache, with this process's memory while Redis is away.

The default cache backs the log-in and upload throttles (and a few small caches such as
WeChat's access token). Django's RedisCache raises when Redis does not answer, so a Redis
outage made every throttled endpoint (log-in included) answer 500. Here each call gives
up after REDIS_TIMEOUT_SECONDS and then, until Redis answers again (tried once a second),
goes to a local-memory cache of this process: throttles keep counting, per process instead
of across processes, and nothing fails. Counts kept locally are not copied back; when Redis
returns the shared counts it held (or an empty Redis after a restart) apply again.
"""

from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache

from happychat.redis_health import REDIS_TIMEOUT_SECONDS, RedisHealth, redis_errors

T = TypeVar("T")


class ResilientRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        options = {
            "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
            "socket_timeout": REDIS_TIMEOUT_SECONDS,
            **params.get("OPTIONS", {}),
        }
        super().__init__(server, {**params, "OPTIONS": options})
        self.local = LocMemCache(
            "happychat-redis-fallback", {k: v for k, v in params.items() if k != "OPTIONS"}
        )
        self.health = RedisHealth("cache")

    def _either(self, redis_call: Callable[[], T], local_call: Callable[[], T]) -> T:
        if self.health.worth_trying():
            try:
                result = redis_call()
            except redis_errors() as exc:
                self.health.failed(exc)
            else:
                self.health.ok()
                return result
        return local_call()

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> bool:
        kwargs = {"timeout": timeout, "version": version}
        return self._either(
            lambda: super(ResilientRedisCache, self).add(key, value, **kwargs),
            lambda: self.local.add(key, value, **kwargs),
        )

    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        return self._either(
            lambda: super(ResilientRedisCache, self).get(key, default, version),
            lambda: self.local.get(key, default, version),
        )

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> None:
        kwargs = {"timeout": timeout, "version": version}
        self._either(
            lambda: super(ResilientRedisCache, self).set(key, value, **kwargs),
            lambda: self.local.set(key, value, **kwargs),
        )

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> bool:
        kwargs = {"timeout": timeout, "version": version}
        return self._either(
            lambda: super(ResilientRedisCache, self).touch(key, **kwargs),
            lambda: self.local.touch(key, **kwargs),
        )

    def delete(self, key: Any, version: Any = None) -> bool:
        return self._either(
            lambda: super(ResilientRedisCache, self).delete(key, version),
            lambda: self.local.delete(key, version),
        )

    def get_many(self, keys: Any, version: Any = None) -> dict[Any, Any]:
        return self._either(
            lambda: super(ResilientRedisCache, self).get_many(keys, version),
            lambda: self.local.get_many(keys, version),
        )

    def has_key(self, key: Any, version: Any = None) -> bool:
        return self._either(
            lambda: super(ResilientRedisCache, self).has_key(key, version),
            lambda: self.local.has_key(key, version),
        )

    def incr(self, key: Any, delta: int = 1, version: Any = None) -> int:
        return self._either(
            lambda: super(ResilientRedisCache, self).incr(key, delta, version),
            lambda: self.local.incr(key, delta, version),
        )

    def set_many(
        self, data: dict[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> list[Any]:
        kwargs = {"timeout": timeout, "version": version}
        return self._either(
            lambda: super(ResilientRedisCache, self).set_many(data, **kwargs),
            lambda: self.local.set_many(data, **kwargs),
        )

    def delete_many(self, keys: Any, version: Any = None) -> None:
        self._either(
            lambda: super(ResilientRedisCache, self).delete_many(keys, version),
            lambda: self.local.delete_many(keys, version),
        )

    def clear(self) -> None:
        self._either(lambda: super(ResilientRedisCache, self).clear(), self.local.clear)
