"""The JS SDK end to end: `node --test` suites against a real daphne and a fake WeChat.

pytest starts the fake WeChat (loopback), a migrated SQLite site with seeded people and
daphne, plus a small control server through which the Node suites SIGKILL and restart
daphne and read what the database holds. The suites are in tests/js/: the WeChat adapter
through a `wx` shim (tests/js/wx-shim.mjs), the Node adapter, and the example
mini-program's pages.
"""

import json
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.servers import ROOT, free_port, node_suite
from tests.system.conftest import Site
from tests.wechat_stub import APP_ID, APP_SECRET, fake_wechat


def control_server(site: Site, port: int) -> ThreadingHTTPServer:
    """POST /kill, POST /start (same port), GET /dump?conversation=<id> for the Node suites."""
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def _reply(self, payload: object) -> None:
            data = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            with lock:
                server = site.daphnes[-1]
                if self.path == "/kill":
                    server.kill()
                elif self.path == "/start":
                    site.daphne(port=port)
                else:
                    self.send_error(404)
                    return
            self._reply({"ok": True})

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            ids = [int(c) for c in parse_qs(parts.query).get("conversation", [])]
            self._reply(site.dump(ids or None))

        def log_message(self, *args: object) -> None:
            pass

    return ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)


@pytest.fixture
def js_site(sqlite_site: Site) -> Iterator[tuple[Site, dict]]:
    if shutil.which("node") is None or not (ROOT / "node_modules" / "ws").is_dir():
        pytest.fail("node and the npm packages (npm ci) are needed: run ./scripts/test")
    with fake_wechat() as wechat:
        sqlite_site.env.update(
            WECHAT_APP_ID=APP_ID,
            WECHAT_APP_SECRET=APP_SECRET,
            WECHAT_API_BASE=wechat.url,
            CHAT_HEARTBEAT_SECONDS="5",
        )
        # dave and erin have real password hashes (erin never activated her account).
        passwords = {"dave": "correct horse battery 42", "erin": "erin's own passphrase 7"}
        seeded = sqlite_site.seed(
            users=["bob", "carol", "dave", "erin"],
            friends=[["bob", "carol"], ["bob", "dave"]],
            passwords=passwords,
            inactive=["erin"],
        )
        port = free_port()
        daphne = sqlite_site.daphne(port=port)
        control = control_server(sqlite_site, port)
        thread = threading.Thread(target=control.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        config = {
            "base": daphne.url,
            "control": f"http://127.0.0.1:{control.server_address[1]}",
            "users": seeded["users"],
            "passwords": passwords,
        }
        try:
            yield sqlite_site, config
        finally:
            control.shutdown()
            control.server_close()


def run_node(config: dict, suite: str, tmp_path: Path) -> None:
    node_suite(suite, HC_CONFIG=json.dumps(config), HC_TMP=str(tmp_path))


def test_wechat_adapter_against_daphne(js_site, tmp_path):
    site, config = js_site
    try:
        run_node(config, "sdk-wechat.test.mjs", tmp_path)
    except AssertionError:
        print(site.logs())
        raise


def test_node_adapter_round_trip(js_site, tmp_path):
    _, config = js_site
    run_node(config, "sdk-node.test.mjs", tmp_path)


def test_miniprogram_pages_through_the_wx_shim(js_site, tmp_path):
    _, config = js_site
    run_node(config, "miniprogram.test.mjs", tmp_path)
