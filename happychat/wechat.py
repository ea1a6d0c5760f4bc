"""WeChat's server API: mini-program log-in (jscode2session), access token, text check.

Every call is bounded (WECHAT_TIMEOUT, at most 5 s) and talks to WECHAT_API_BASE, so tests
and a proxy can point it elsewhere. WeChat answers JSON, sometimes labelled `text/plain`:
the body is parsed whatever its content type. Secrets, login codes and `session_key` are
never logged and never leave this module (`session_key` is dropped on arrival).
"""

import json
import logging
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger("happychat.wechat")

MAX_TIMEOUT = 5.0
# errcodes WeChat uses for an access token that expired or was replaced.
TOKEN_EXPIRED = frozenset({40001, 40014, 42001})
# Refresh a cached access token this long before WeChat says it expires.
TOKEN_MARGIN_SECONDS = 300


class WeChatError(Exception):
    """WeChat could not be asked, or its answer was not usable."""


class WeChatUnavailable(WeChatError):
    """Unreachable, timed out, 5xx, not JSON, or busy (errcode -1): retrying may succeed."""


class WeChatNotConfigured(WeChatError):
    """WECHAT_APP_ID / WECHAT_APP_SECRET are not set."""


class WeChatApiError(WeChatError):
    """WeChat answered with a non-zero errcode."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        self.errcode = errcode
        self.errmsg = errmsg
        super().__init__(f"errcode {errcode}: {errmsg}")


@dataclass(frozen=True)
class WeChatSession:
    """Who a `wx.login` code belongs to (the session_key is deliberately not kept)."""

    openid: str
    unionid: str


def configured() -> bool:
    return bool(settings.WECHAT_APP_ID and settings.WECHAT_APP_SECRET)


def timeout() -> float:
    return max(0.05, min(float(settings.WECHAT_TIMEOUT), MAX_TIMEOUT))


def _call(
    method: str,
    path: str,
    *,
    params: dict[str, str],
    body: dict[str, Any] | None = None,
    wait: float | None = None,
) -> dict[str, Any]:
    """Call WeChat and return its JSON object; raise WeChatError on any failure."""
    if not configured():
        raise WeChatNotConfigured("WECHAT_APP_ID and WECHAT_APP_SECRET are not set")
    url = settings.WECHAT_API_BASE.rstrip("/") + path
    content = None if body is None else json.dumps(body, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json"} if content is not None else {}
    try:
        response = httpx.request(
            method,
            url,
            params=params,
            content=content,
            headers=headers,
            timeout=wait if wait is not None else timeout(),
        )
    except httpx.HTTPError as exc:
        # The exception text may contain the URL with its secret: log the kind only.
        logger.warning("WeChat %s unreachable: %s", path, type(exc).__name__)
        raise WeChatUnavailable(type(exc).__name__) from None
    if response.status_code != 200:
        logger.warning("WeChat %s answered HTTP %s", path, response.status_code)
        raise WeChatUnavailable(f"HTTP {response.status_code}")
    try:
        data = json.loads(response.content)
    except ValueError:
        logger.warning("WeChat %s answered something that is not JSON", path)
        raise WeChatUnavailable("not JSON") from None
    if not isinstance(data, dict):
        raise WeChatUnavailable("not a JSON object")
    errcode = data.get("errcode") or 0
    if errcode == -1:
        raise WeChatUnavailable("WeChat is busy (errcode -1)")
    if errcode != 0:
        raise WeChatApiError(int(errcode), str(data.get("errmsg", "")))
    return data


def code_to_session(code: str) -> WeChatSession:
    """Exchange a `wx.login` code for the user's openid (and unionid when WeChat has one)."""
    data = _call(
        "GET",
        "/sns/jscode2session",
        params={
            "appid": settings.WECHAT_APP_ID,
            "secret": settings.WECHAT_APP_SECRET,
            "js_code": code,
            "grant_type": "authorization_code",
        },
    )
    openid = data.get("openid")
    if not isinstance(openid, str) or not openid:
        raise WeChatUnavailable("no openid in the answer")
    unionid = data.get("unionid")
    return WeChatSession(openid=openid, unionid=unionid if isinstance(unionid, str) else "")


def _token_cache_key() -> str:
    return f"wechat.access_token.{settings.WECHAT_APP_ID}"


def access_token(*, refresh: bool = False, wait: float | None = None) -> str:
    """The app's access token, cached (shared by every process) until shortly before expiry."""
    key = _token_cache_key()
    if not refresh:
        cached = cache.get(key)
        if isinstance(cached, str) and cached:
            return cached
    data = _call(
        "GET",
        "/cgi-bin/token",
        params={
            "grant_type": "client_credential",
            "appid": settings.WECHAT_APP_ID,
            "secret": settings.WECHAT_APP_SECRET,
        },
        wait=wait,
    )
    token = data.get("access_token")
    if not isinstance(token, str) or not token:
        raise WeChatUnavailable("no access_token in the answer")
    expires_in = data.get("expires_in")
    lifetime = int(expires_in) if isinstance(expires_in, int) else 7200
    cache.set(key, token, max(1, lifetime - TOKEN_MARGIN_SECONDS))
    return token


def text_is_safe(text: str, *, wait: float | None = None) -> bool:
    """Ask WeChat's text security check (msgSecCheck) whether `text` may be published.

    An expired or replaced access token is refreshed once and the check asked again.
    """
    token = access_token(wait=wait)
    for attempt in range(2):
        try:
            data = _call(
                "POST",
                "/wxa/msg_sec_check",
                params={"access_token": token},
                body={"content": text},
                wait=wait,
            )
        except WeChatApiError as exc:
            if exc.errcode == 87014:  # "risky content"
                return False
            if exc.errcode in TOKEN_EXPIRED and attempt == 0:
                token = access_token(refresh=True, wait=wait)
                continue
            raise
        # Version 2 answers errcode 0 with a verdict in `result.suggest`.
        result = data.get("result")
        return not (isinstance(result, dict) and result.get("suggest") == "risky")
    raise WeChatUnavailable("the access token was refused twice")  # pragma: no cover
