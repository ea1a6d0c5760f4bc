"""A fake WeChat server API on a free loopback port, answering as WeChat does.

Codes for `jscode2session` say what to answer, so tests (and the Node suites, through
the daphne they talk to) need no set-up:
  ok:<openid>[:<unionid>]   success (single use: a second exchange answers 40163)
  ratelimit                 errcode 45011        busy      errcode -1
  slow                      answers after `slow_seconds`
  boom                      HTTP 500             anything else: errcode 40029 (invalid code)
Answers carry `Content-Type: text/plain`, as WeChat's often do. `msg_sec_check` calls text
containing "risky" risky (87014); tokens listed in `expired_tokens` answer 42001.
"""

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.servers import free_port

APP_ID = "wx-test-app"
APP_SECRET = "test-secret-do-not-log"


@dataclass
class FakeWeChat:
    url: str
    slow_seconds: float = 6.0
    token_lifetime: int = 7200
    requests: list[dict[str, Any]] = field(default_factory=list)
    used_codes: set[str] = field(default_factory=set)
    tokens_issued: int = 0
    expired_tokens: set[str] = field(default_factory=set)
    # Force an answer for msg_sec_check: (status, body, delay) or None for the usual.
    sec_check_answer: tuple[int, Any, float] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def session_answer(self, query: dict[str, str]) -> tuple[int, Any, float]:
        if query.get("appid") != APP_ID or query.get("secret") != APP_SECRET:
            return 200, {"errcode": 40125, "errmsg": "invalid appsecret"}, 0
        code = query.get("js_code", "")
        if code == "ratelimit":
            return 200, {"errcode": 45011, "errmsg": "api minute-quota reach limit"}, 0
        if code == "busy":
            return 200, {"errcode": -1, "errmsg": "system error"}, 0
        if code == "slow":
            return 200, {"openid": "o-slow", "session_key": "sk-slow"}, self.slow_seconds
        if code == "boom":
            return 500, "<html>Internal Server Error</html>", 0
        if not code.startswith("ok:"):
            return 200, {"errcode": 40029, "errmsg": "invalid code"}, 0
        with self.lock:
            if code in self.used_codes:
                return 200, {"errcode": 40163, "errmsg": "code been used"}, 0
            self.used_codes.add(code)
        parts = code.split(":")
        answer = {"openid": parts[1], "session_key": f"SECRET-SESSION-KEY-{parts[1]}"}
        if len(parts) > 2:
            answer["unionid"] = parts[2]
        return 200, answer, 0

    def token_answer(self, query: dict[str, str]) -> tuple[int, Any, float]:
        if query.get("appid") != APP_ID or query.get("secret") != APP_SECRET:
            return 200, {"errcode": 40125, "errmsg": "invalid appsecret"}, 0
        with self.lock:
            self.tokens_issued += 1
            token = f"access-{self.tokens_issued}"
        return 200, {"access_token": token, "expires_in": self.token_lifetime}, 0

    def sec_check(self, query: dict[str, str], body: Any) -> tuple[int, Any, float]:
        if self.sec_check_answer is not None:
            return self.sec_check_answer
        token = query.get("access_token", "")
        if not token.startswith("access-") or token in self.expired_tokens:
            return 200, {"errcode": 42001, "errmsg": "access_token expired"}, 0
        if "risky" in str(body.get("content", "")):
            return 200, {"errcode": 87014, "errmsg": "risky content"}, 0
        return 200, {"errcode": 0, "errmsg": "ok"}, 0

    def of_path(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"] == path]


@contextmanager
def fake_wechat() -> Iterator[FakeWeChat]:
    port = free_port()
    stub = FakeWeChat(url=f"http://127.0.0.1:{port}")

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, body: Any) -> None:
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            stub.requests.append({"path": parts.path, "query": query, "body": body})
            if parts.path == "/sns/jscode2session":
                status, payload, delay = stub.session_answer(query)
            elif parts.path == "/cgi-bin/token":
                status, payload, delay = stub.token_answer(query)
            elif parts.path == "/wxa/msg_sec_check":
                status, payload, delay = stub.sec_check(query, body)
            else:
                status, payload, delay = 404, {"errcode": 404, "errmsg": "no such api"}, 0
            time.sleep(delay)
            data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the client gave up (timeout), as intended

        def do_GET(self) -> None:
            self._answer(None)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) or b"{}"
            self._answer(json.loads(raw))

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
