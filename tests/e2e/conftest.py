"""A real daphne on a throwaway SQLite database, mail written to files, and Chromium.

Screenshots of failing tests are kept in test-artifacts/failures/.
"""

import email
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import ROOT, Daphne, django_env, manage

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class Mailbox:
    """The mails the server wrote with the file backend, newest last."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def messages(self) -> list[email.message.Message]:
        files = sorted(self.path.glob("*.log"), key=lambda p: p.stat().st_mtime)
        found = []
        for f in files:
            for chunk in f.read_text().split("-" * 79):
                if chunk.strip():
                    found.append(email.message_from_string(chunk.strip()))
        return found

    def links(self, to: str) -> list[str]:
        out = []
        for msg in self.messages():
            if to in (msg.get("To") or ""):
                body = msg.get_payload(decode=False)
                if isinstance(body, list):
                    body = body[0].get_payload(decode=False)
                out.extend(re.findall(r"https?://\S+", str(body)))
        return out


@pytest.fixture(scope="session")
def live_server_env(tmp_path_factory) -> dict[str, str]:
    base = tmp_path_factory.mktemp("e2e")
    (base / "mail").mkdir()
    env = django_env(
        {
            "DATABASE_URL": f"sqlite:///{base / 'db.sqlite3'}",
            # Four slashes: django-environ drops one, and the path must stay absolute.
            "EMAIL_URL": f"filemail:///{base / 'mail'}",
            "MEDIA_ROOT": str(base / "media"),
            "DJANGO_DEBUG": "False",
            "THROTTLE_LOGIN": "1000/min",
            "THROTTLE_REGISTER": "1000/min",
        }
    )
    manage(env, "migrate", "--noinput")
    manage(env, "createcachetable")
    return env


@pytest.fixture(autouse=True)
def _live_server_helper() -> None:
    """Replace pytest-django's helper of the same name: our `live_server` is a real daphne,
    and that helper would set up a test database inside Playwright's event loop."""


@pytest.fixture(scope="session")
def live_server(live_server_env, tmp_path_factory) -> Iterator[Daphne]:
    log = tmp_path_factory.mktemp("logs") / "daphne.log"
    server = Daphne(live_server_env, log).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mailbox(live_server_env) -> Mailbox:
    return Mailbox(Path(live_server_env["EMAIL_URL"].removeprefix("filemail:///")))


# Module scope: sync Playwright keeps an event loop running in this thread while it is open,
# and async tests collected after the browser tests cannot start their own until it closes.
@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def new_context(browser, request):
    """Open browser contexts (one per simulated person); screenshot them if the test fails."""
    contexts = []

    def make(**kwargs):
        kwargs.setdefault("locale", "en-US")
        # Playwright's string predicates (wait_for_function) are evaluated like eval(),
        # which the site's CSP forbids; tests/e2e/test_csp.py checks the CSP without this.
        kwargs.setdefault("bypass_csp", True)
        ctx = browser.new_context(**kwargs)
        contexts.append(ctx)
        return ctx

    yield make
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for i, ctx in enumerate(contexts):
        if failed:
            shots = ARTIFACTS / "failures"
            shots.mkdir(parents=True, exist_ok=True)
            for j, page in enumerate(ctx.pages):
                page.screenshot(path=str(shots / f"{request.node.name}-{i}-{j}.png"))
        ctx.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
