"""Every page is served under a strict Content-Security-Policy and breaks none of it.

Chromium reports each violation as a `securitypolicyviolation` event and a console message
("Refused to …"); a page that needs an inline script or style, or anything from another
origin, would show up here.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.chat_ui_support import PASSWORD, make_user, run_django, unique

RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


def watch(page) -> list[str]:  # type: ignore[no-untyped-def]
    refused: list[str] = []
    page.on(
        "console",
        lambda msg: refused.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    page.add_init_script(RECORD_VIOLATIONS)
    return refused


def violations(page, refused: list[str]) -> list[str]:  # type: ignore[no-untyped-def]
    return [*page.evaluate("window.__csp || []"), *refused]


def visit(page, url: str, ready: str) -> None:  # type: ignore[no-untyped-def]
    response = page.goto(url)
    assert response is not None
    assert response.status < 400, (url, response.status)
    policy = response.headers.get("content-security-policy", "")
    assert "default-src 'self'" in policy, url
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    page.wait_for_selector(ready)
    page.wait_for_load_state("networkidle")


def test_main_pages_load_without_any_csp_violation(live_server, live_server_env, new_context):
    name = unique("csp")
    make_user(live_server_env, name)
    group_id = run_django(
        live_server_env,
        f"""
from accounts.models import User
from groups.services import group_create
result = group_create(owner=User.objects.get(username={name!r}), name="CSP room").pk
""",
    )
    base = live_server.url
    page = new_context(bypass_csp=False).new_page()
    refused = watch(page)

    visit(page, f"{base}/accounts/login/", "input[name=login]")
    visit(page, f"{base}/accounts/signup/", "input[name=username]")
    visit(page, f"{base}/api/docs/", ".swagger-ui .info")
    # Log in by hand: Playwright's string predicates would themselves need 'unsafe-eval'.
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", name)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form [type=submit]").first.click()
    page.wait_for_url(f"{base}/")
    page.wait_for_selector("#conversations a.conv")
    # The socket opened under the policy (connect-src allows the page's own ws:// origin).
    for _ in range(100):
        if page.evaluate("window.happychat && window.happychat.client.status") == "open":
            break
        page.wait_for_timeout(100)
    assert page.evaluate("window.happychat.client.status") == "open"
    policy = page.evaluate("fetch('/').then(r => r.headers.get('content-security-policy'))")
    assert re.search(r"connect-src 'self' ws://127\.0\.0\.1:\d+", policy)
    for path, ready in [
        ("/", "#conversations"),
        ("/profile/", "main"),
        ("/friends/", "main"),
        ("/groups/", "main"),
        (f"/groups/{group_id}/", "main"),
        ("/offline/", "body"),
    ]:
        visit(page, base + path, ready)
        assert violations(page, refused) == [], path

    assert violations(page, refused) == []


@pytest.mark.parametrize("path", ["/admin/login/"])
def test_admin_pages_load_without_any_csp_violation(live_server, new_context, path):
    page = new_context(bypass_csp=False).new_page()
    refused = watch(page)

    visit(page, live_server.url + path, "form")

    assert violations(page, refused) == []
