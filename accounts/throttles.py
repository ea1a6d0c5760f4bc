"""Login throttling that counts failures only, per client address and per account name.

The history lives in the default cache (the database on one machine, Redis when scaled
out), so restarting the server does not reset it. Keying by the name as well stops
guessing one account's password from many addresses.
"""

import hashlib
from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle


class LoginFailureThrottle(SimpleRateThrottle):
    scope = "login"
    num_requests: int
    duration: int

    def _keys(self, request: Request, login: str | None) -> list[str]:
        keys = [self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}]
        if login:
            digest = hashlib.sha256(login.strip().lower().encode()).hexdigest()[:32]
            keys.append(self.cache_format % {"scope": f"{self.scope}-name", "ident": digest})
        return keys

    @staticmethod
    def _login_of(request: Request) -> str | None:
        try:
            data = request.data
            value = data.get("username") if isinstance(data, dict) or hasattr(data, "get") else None
        except Exception:  # unparsable body: the view reports it; throttle by address only
            return None
        return value if isinstance(value, str) else None

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        return self._keys(request, None)[0]

    def allow_request(self, request: Request, view: Any) -> bool:
        """Refuse while any key has used up its failures in the window; record nothing."""
        if self.rate is None:
            return True
        self.now = self.timer()
        self.history: list[float] = []
        for key in self._keys(request, self._login_of(request)):
            history = [t for t in self.cache.get(key, []) if t > self.now - self.duration]
            if len(history) >= self.num_requests:
                self.history = history
                return False
        return True

    @classmethod
    def record_failure(cls, request: Request, login: str | None) -> None:
        """Count one failed login for the client address and for the name tried."""
        throttle = cls()
        if throttle.rate is None:
            return
        now = throttle.timer()
        for key in throttle._keys(request, login):
            history = [t for t in throttle.cache.get(key, []) if t > now - throttle.duration]
            history.insert(0, now)
            throttle.cache.set(key, history, throttle.duration)
