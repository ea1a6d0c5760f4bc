"""The installable app in Chromium: service worker under a strict CSP, a manifest Chromium
accepts, the shell offline with what the device saved, pushes shown by the worker, and
desktop notifications with sound for an open but hidden tab.
"""

import json

import pytest

from tests.e2e.chat_ui_support import (
    befriend,
    login,
    make_user,
    open_conversation,
    send_text,
    unique,
    wait_live,
)

# What the hardening work sets for every page; the worker and the manifest must live with it.
CSP = (
    "default-src 'self'; script-src 'self'; worker-src 'self'; manifest-src 'self'; "
    "connect-src 'self' ws: wss:; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)

# Records what the page asks of the notification and audio APIs, and lets a test say that
# the tab is hidden (document.visibilityState and hasFocus follow window.__visibility).
RECORDER = """
window.__notes = [];
window.__played = 0;
window.__visibility = "visible";
Object.defineProperty(Document.prototype, "visibilityState", {
  configurable: true, get() { return window.__visibility; } });
Object.defineProperty(Document.prototype, "hidden", {
  configurable: true, get() { return window.__visibility !== "visible"; } });
Document.prototype.hasFocus = function () { return window.__visibility === "visible"; };
HTMLMediaElement.prototype.play = function () { window.__played += 1; return Promise.resolve(); };
if (self.ServiceWorkerRegistration) {
  const show = ServiceWorkerRegistration.prototype.showNotification;
  ServiceWorkerRegistration.prototype.showNotification = function (title, options) {
    const url = options.data && options.data.url;
    window.__notes.push({ title, body: options.body, tag: options.tag, url });
    return show.call(this, title, options);
  };
}
"""


def with_csp(context, base_url: str) -> list[str]:
    """Serve every page with the strict CSP; returns the list that collects violations."""

    def add_header(route):
        if route.request.resource_type != "document":
            route.fallback()
            return
        response = route.fetch(max_redirects=0)  # a redirect stays a redirect for the browser
        headers = {**response.headers, "content-security-policy": CSP}
        route.fulfill(response=response, headers=headers)

    context.route(lambda url: url.startswith(base_url) and "/static/" not in url, add_header)
    return []


def watch_violations(page, found: list[str]) -> None:
    page.on(
        "console",
        lambda msg: found.append(msg.text) if "Content Security Policy" in msg.text else None,
    )


def test_worker_registers_under_csp_the_manifest_is_installable_and_the_shell_opens_offline(
    live_server, live_server_env, new_context
):
    name = unique("pwa")
    make_user(live_server_env, name, "Pia")
    context = new_context(base_url=live_server.url)
    violations = with_csp(context, live_server.url)
    page = context.new_page()
    watch_violations(page, violations)
    login(page, live_server.url, name)
    assert page.evaluate("document.querySelector('link[rel=manifest]').href").endswith(
        "/manifest.webmanifest"
    )

    script = page.evaluate("navigator.serviceWorker.ready.then(r => r.active.scriptURL)")
    assert script == f"{live_server.url}/sw.js"
    page.wait_for_function("navigator.serviceWorker.controller !== null")

    # Chromium's own verdict on the manifest and on installability.
    cdp = context.new_cdp_session(page)
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["errors"] == []
    assert json.loads(manifest["data"])["name"] == "HappyChat"
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    # Playwright's contexts are incognito profiles, where Chromium never offers to install.
    assert [e["errorId"] for e in errors if e["errorId"] != "in-incognito"] == []

    # Talk to the robot, so the device has something to show offline.
    open_conversation(page, "HappyBot")
    send_text(page, "what time is it")
    page.wait_for_selector("#messages li.msg .text:has-text('It is ')")
    page.wait_for_function(
        "(localStorage.getItem('happychat.offline') || '').includes('what time is it')"
    )
    assert violations == []

    context.set_offline(True)
    page.goto(f"{live_server.url}/")
    page.wait_for_selector("h1:has-text('You are offline')")
    assert "Saved on this device" in page.locator("#offline-saved-at").inner_text()
    page.locator("#offline-list button", has_text="HappyBot").click()
    texts = page.locator("#offline-messages li").all_inner_texts()
    assert any("what time is it" in t for t in texts)
    assert any("It is " in t for t in texts)
    # The cached stylesheet applies offline too.
    assert (
        page.evaluate("getComputedStyle(document.querySelector('.offline-messages')).listStyleType")
        == "none"
    )

    context.set_offline(False)
    page.locator("#offline-back").click()
    page.locator("#offline-retry").click()
    wait_live(page)
    assert violations == []


def test_logging_out_forgets_the_offline_copy(live_server, live_server_env, new_context):
    name = unique("out")
    make_user(live_server_env, name)
    context = new_context(base_url=live_server.url)
    page = context.new_page()
    login(page, live_server.url, name)
    page.wait_for_function("localStorage.getItem('happychat.offline') !== null")
    page.click("#nav-settings")
    page.click("#logout")
    page.wait_for_url("**/accounts/login/**")
    assert page.evaluate("localStorage.getItem('happychat.offline')") is None


def test_a_push_is_shown_by_the_worker_and_clicking_opens_the_conversation(
    live_server, live_server_env, new_context
):
    name = unique("sw")
    make_user(live_server_env, name)
    context = new_context(base_url=live_server.url)
    context.grant_permissions(["notifications"], origin=live_server.url)
    page = context.new_page()
    login(page, live_server.url, name)
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    robot = page.evaluate("[...window.happychat.store.conversations.keys()][0]")

    registration = page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
    cdp = context.new_cdp_session(page)
    registrations: list[dict] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda e: registrations.extend(e["registrations"]),
    )
    cdp.send("ServiceWorker.enable")
    page.wait_for_timeout(500)
    [reg] = [r for r in registrations if r["scopeURL"] == registration and not r["isDeleted"]]
    payload = {
        "type": "message",
        "title": "Alice",
        "body": "Lunch at noon?",
        "url": f"/chats/{robot}/",
        "tag": f"conversation-{robot}",
        "conversation": robot,
    }
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": live_server.url,
            "registrationId": reg["registrationId"],
            "data": json.dumps(payload),
        },
    )
    shown = []
    for _attempt in range(50):
        shown = page.evaluate(
            """navigator.serviceWorker.ready.then(r => r.getNotifications()).then(ns =>
                 ns.map(n => ({title: n.title, body: n.body, tag: n.tag, url: n.data.url})))"""
        )
        if shown:
            break
        page.wait_for_timeout(100)
    assert shown == [
        {
            "title": "Alice",
            "body": "Lunch at noon?",
            "tag": f"conversation-{robot}",
            "url": f"/chats/{robot}/",
        }
    ]

    # The worker's click handler focuses this window and posts {type: "open", url}.
    page.evaluate(
        """url => navigator.serviceWorker.dispatchEvent(
             new MessageEvent("message", {data: {type: "open", url}}))""",
        f"{live_server.url}/chats/{robot}/",
    )
    page.wait_for_function(
        f"window.happychat.chat.current && window.happychat.chat.current.id === {robot}"
    )


@pytest.mark.parametrize("muted", [False, True])
def test_a_hidden_tab_notifies_with_sound_unless_the_conversation_is_muted(
    live_server, live_server_env, new_context, muted
):
    alice, bob = unique("alice"), unique("bob")
    make_user(live_server_env, alice, "Alice")
    make_user(live_server_env, bob, "Bob")
    befriend(live_server_env, alice, bob)

    sender = new_context(base_url=live_server.url).new_page()
    login(sender, live_server.url, alice)
    receiving = new_context(base_url=live_server.url)
    receiving.grant_permissions(["notifications"], origin=live_server.url)
    receiving.add_init_script(RECORDER)
    page = receiving.new_page()
    login(page, live_server.url, bob)
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    page.click("#nav-settings")
    page.check("#notify-toggle")
    page.click("#nav-chats")
    if muted:
        open_conversation(page, "Alice")
        page.click("#info-open")
        page.check("#mute-toggle")
        page.wait_for_function(
            "[...window.happychat.store.conversations.values()].some(c => c.muted)"
        )
        page.goto(f"{live_server.url}/")
        wait_live(page)
    page.evaluate(
        "window.__visibility = 'hidden'; document.dispatchEvent(new Event('visibilitychange'))"
    )

    open_conversation(sender, "Bob")
    send_text(sender, "Are you there?")
    conversation = sender.evaluate("window.happychat.chat.current.id")
    page.wait_for_function(
        f"(window.happychat.store.conversations.get({conversation}) || {{}}).last_message"
    )
    page.wait_for_timeout(300)
    notes = page.evaluate("window.__notes")
    played = page.evaluate("window.__played")
    if muted:
        assert notes == []
        assert played == 0
    else:
        assert notes == [
            {
                "title": "Alice",
                "body": "Are you there?",
                "tag": f"conversation-{conversation}",
                "url": f"/chats/{conversation}/",
            }
        ]
        assert played == 1
