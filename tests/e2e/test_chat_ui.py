"""The chat web UI end to end: real daphne, real Chromium, several people at once."""

import base64
import re
import time

import pytest
from playwright.sync_api import expect

from tests.e2e.chat_ui_support import (
    PASSWORD,
    befriend,
    bubble_texts,
    conversation_link,
    login,
    make_group,
    make_user,
    open_conversation,
    run_django,
    send_text,
    set_remark,
    unique,
    wait_chat_loaded,
    wait_live,
)

PC = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# A 2x2 red PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg=="
)


def people(live_server_env, *names):
    """Fresh activated users (unique names per test) as {short name: username}."""
    users = {}
    for name in names:
        username = unique(name)
        make_user(live_server_env, username, nickname=name.title())
        users[name] = username
    return users


def page_for(new_context, live_server, username, viewport=PC):
    ctx = new_context(viewport=viewport)
    page = ctx.new_page()
    login(page, live_server.url, username)
    return ctx, page


def unread_badge(page, title):
    return conversation_link(page, title).locator(".badge")


def test_two_people_chat_both_ways_live_with_unread_badges_and_read_receipts(
    live_server, live_server_env, new_context
):
    u = people(live_server_env, "alice", "bob")
    befriend(live_server_env, u["alice"], u["bob"])
    _, alice = page_for(new_context, live_server, u["alice"])
    _, bob = page_for(new_context, live_server, u["bob"])

    open_conversation(alice, "Bob")
    send_text(alice, "Hello Bob")
    expect(alice.locator("#messages li.msg.mine .text")).to_have_text(["Hello Bob"])
    # Bob has not opened the chat: a live badge, and the total in the tab title.
    expect(unread_badge(bob, "Alice")).to_have_text("1")
    send_text(alice, "Are you there?")
    expect(unread_badge(bob, "Alice")).to_have_text("2")
    expect(bob).to_have_title(re.compile(r"^\(2\) HappyChat"))
    expect(conversation_link(bob, "Alice").locator(".conv-preview")).to_have_text("Are you there?")
    expect(alice.locator("#messages li.msg.mine .status").last).to_have_text("✓")

    open_conversation(bob, "Alice")
    expect(bob.locator("#messages .unread-divider")).to_be_visible()
    assert bubble_texts(bob) == ["Hello Bob", "Are you there?"]
    expect(unread_badge(bob, "Alice")).to_have_count(0)
    expect(bob).to_have_title("HappyChat")
    # Alice sees that Bob has read both (1:1 read receipts).
    expect(alice.locator("#messages li.msg.mine .status.read")).to_have_count(2)

    # Typing shows on the other side, then the message replaces it.
    bob.type("#composer-input", "Hi")
    expect(alice.locator("#chat-subtitle")).to_have_text("typing…")
    expect(conversation_link(alice, "Bob").locator(".conv-preview")).to_have_text("Bob is typing…")
    send_text(bob, "Hi Alice, 你好 😀\nsecond line")
    expect(alice.locator("#messages li.msg.theirs .text")).to_have_text(
        ["Hi Alice, 你好 😀\nsecond line"]
    )
    # Shift+Enter is a newline, not a send.
    alice.fill("#composer-input", "line one")
    alice.press("#composer-input", "Shift+Enter")
    alice.type("#composer-input", "line two")
    assert alice.input_value("#composer-input") == "line one\nline two"
    alice.press("#composer-input", "Enter")
    expect(bob.locator("#messages li.msg.theirs .text").last).to_have_text("line one\nline two")
    # The incoming message was announced to screen readers.
    expect(bob.locator("#announcer")).to_contain_text("line one")

    # Nothing twice after a reload: history comes from REST, live from the socket.
    alice.reload()
    wait_live(alice)
    open_conversation(alice, "Bob")
    assert bubble_texts(alice) == [
        "Hello Bob",
        "Are you there?",
        "Hi Alice, 你好 😀\nsecond line",
        "line one\nline two",
    ]


def test_register_activate_log_in_and_talk_to_the_pinned_robot(live_server, new_context, mailbox):
    username = unique("carol")
    ctx = new_context(viewport=PC)
    page = ctx.new_page()
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.goto(f"{live_server.url}/accounts/signup/")
    page.fill("input[name=username]", username)
    page.fill("input[name=email]", f"{username}@example.com")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.locator("main form [type=submit]").first.click()
    page.wait_for_load_state()
    deadline = time.monotonic() + 10
    links: list[str] = []
    while not links and time.monotonic() < deadline:
        links = mailbox.links(f"{username}@example.com")
        time.sleep(0.2)
    assert links, "no activation mail"
    page.goto(links[-1])
    login(page, live_server.url, username)

    first = page.locator("#conversations li").first
    expect(first.locator(".conv-preview")).to_have_text("Say hello to the robot!")
    first.locator("a.conv").click()
    wait_chat_loaded(page)
    send_text(page, "hello")
    expect(page.locator("#messages li.msg.theirs .text").first).not_to_have_text("", timeout=10000)
    expect(page.locator("#messages li.msg.theirs")).to_have_count(1, timeout=10000)


def test_images_by_button_and_by_paste_show_thumbnails_and_open_in_the_lightbox(
    live_server, live_server_env, new_context, tmp_path
):
    u = people(live_server_env, "dora", "eric")
    befriend(live_server_env, u["dora"], u["eric"])
    _, dora = page_for(new_context, live_server, u["dora"])
    _, eric = page_for(new_context, live_server, u["eric"])
    open_conversation(dora, "Eric")
    open_conversation(eric, "Dora")

    # By the button: a preview first, nothing sent until confirmed.
    image = tmp_path / "red.png"
    image.write_bytes(PNG)
    with dora.expect_file_chooser() as chooser:
        dora.click("#image-button")
    chooser.value.set_files(str(image))
    expect(dora.locator("#preview-dialog")).to_be_visible()
    expect(dora.locator("#preview-image")).to_have_attribute("src", re.compile("^blob:"))
    dora.click("#preview-dialog button[value=cancel]")
    expect(dora.locator("#messages li.msg")).to_have_count(0)
    with dora.expect_file_chooser() as chooser:
        dora.click("#image-button")
    chooser.value.set_files(str(image))
    dora.click("#preview-send")
    expect(eric.locator("#messages li.msg.theirs .thumb img")).to_have_count(1)
    expect(dora.locator("#messages li.msg.mine .thumb img")).to_have_count(1)

    # By paste into the composer.
    eric.focus("#composer-input")
    eric.evaluate(
        """(b64) => {
            const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
            const dt = new DataTransfer();
            dt.items.add(new File([bytes], "pasted.png", {type: "image/png"}));
            const ev = new ClipboardEvent(
                "paste", {clipboardData: dt, bubbles: true, cancelable: true});
            document.getElementById("composer-input").dispatchEvent(ev);
        }""",
        base64.b64encode(PNG).decode(),
    )
    expect(eric.locator("#preview-dialog")).to_be_visible()
    eric.click("#preview-send")
    expect(dora.locator("#messages li.msg.theirs .thumb img")).to_have_count(1)

    # A thumbnail opens the full image in the lightbox; Escape closes it.
    thumb = dora.locator("#messages li.msg.theirs .thumb img")
    expect(thumb).to_have_attribute("src", re.compile(r"/api/v1/uploads/\d+/thumbnail/$"))
    dora.wait_for_function(
        "document.querySelector('#messages li.msg.theirs .thumb img').naturalWidth > 0"
    )
    dora.locator("#messages li.msg.theirs .thumb").click()
    expect(dora.locator("#lightbox")).to_be_visible()
    expect(dora.locator("#lightbox-image")).to_have_attribute(
        "src", re.compile(r"/api/v1/uploads/\d+/file/$")
    )
    dora.keyboard.press("Escape")
    expect(dora.locator("#lightbox")).to_be_hidden()

    # A file that is not an image is refused in the preview and never uploaded.
    bad = tmp_path / "notes.txt"
    bad.write_text("hello")
    with dora.expect_file_chooser() as chooser:
        dora.click("#image-button")
    chooser.value.set_files(str(bad))
    expect(dora.locator("#preview-error")).to_contain_text("Only JPEG, PNG, GIF and WebP")
    expect(dora.locator("#preview-send")).to_be_disabled()
    dora.click("#preview-dialog button[value=cancel]")
    expect(dora.locator("#messages li.msg")).to_have_count(2)


def test_group_chat_among_three(live_server, live_server_env, new_context):
    u = people(live_server_env, "fay", "gus", "hal")
    befriend(live_server_env, u["fay"], u["gus"])
    befriend(live_server_env, u["fay"], u["hal"])
    name = unique("Trio ")
    make_group(live_server_env, u["fay"], name, [u["gus"], u["hal"]])
    pages = {n: page_for(new_context, live_server, u[n])[1] for n in ("fay", "gus", "hal")}
    for page in pages.values():
        open_conversation(page, name)

    send_text(pages["fay"], "hi all")
    send_text(pages["gus"], "hi from gus")
    send_text(pages["hal"], "hal here")
    for n, page in pages.items():
        expect(page.locator("#messages li.msg .text")).to_have_text(
            ["hi all", "hi from gus", "hal here"]
        )
        # Sender names appear on other people's bubbles in groups.
        others = {"fay": "Fay", "gus": "Gus", "hal": "Hal"}
        del others[n]
        senders = page.locator("#messages li.msg.theirs .sender").all_text_contents()
        assert sorted(senders) == sorted(others.values())


def test_going_offline_and_back_loses_and_doubles_nothing(
    live_server, live_server_env, new_context
):
    u = people(live_server_env, "ivy", "jon")
    befriend(live_server_env, u["ivy"], u["jon"])
    ivy_ctx, ivy = page_for(new_context, live_server, u["ivy"])
    _, jon = page_for(new_context, live_server, u["jon"])
    open_conversation(ivy, "Jon")
    open_conversation(jon, "Ivy")
    send_text(jon, "before")
    expect(ivy.locator("#messages .text")).to_have_text(["before"])

    ivy_ctx.set_offline(True)
    expect(ivy.locator("#banner")).to_be_visible(timeout=15000)
    # Ivy writes while offline: it waits in the outbox, shown as sending.
    send_text(ivy, "written offline")
    expect(ivy.locator("#pending li.pending-msg .text")).to_have_text(["written offline"])
    # Jon writes while Ivy is away.
    send_text(jon, "while you were away 1")
    send_text(jon, "while you were away 2")
    time.sleep(1)

    ivy_ctx.set_offline(False)
    expect(ivy.locator("#banner")).to_be_hidden(timeout=40000)
    expected = ["before", "while you were away 1", "while you were away 2", "written offline"]
    expect(jon.locator("#messages .text")).to_have_text(
        ["before", "while you were away 1", "while you were away 2", "written offline"],
        timeout=15000,
    )
    ivy_texts = ivy.locator("#messages .text")
    expect(ivy_texts).to_have_count(4, timeout=15000)
    assert sorted(ivy_texts.all_text_contents()) == sorted(expected)
    expect(ivy.locator("#pending li")).to_have_count(0)
    # The server stored each exactly once.
    bodies = run_django(
        live_server_env,
        f"""
from chat.models import Message
result = list(Message.objects.filter(sender__username__in=[{u["ivy"]!r}, {u["jon"]!r}])
              .exclude(kind="system").order_by("seq").values_list("body", flat=True))
""",
    )
    assert sorted(bodies) == sorted(expected)
    assert len(bodies) == 4


def test_a_refused_message_is_marked_failed_and_can_be_retried(
    live_server, live_server_env, new_context
):
    u = people(live_server_env, "kim", "lou")
    befriend(live_server_env, u["kim"], u["lou"])
    _, kim = page_for(new_context, live_server, u["kim"])
    open_conversation(kim, "Lou")
    run_django(
        live_server_env,
        f"""
from accounts.models import User
from friends.services import friend_delete
kim = User.objects.get(username={u["kim"]!r}); lou = User.objects.get(username={u["lou"]!r})
friend_delete(user=kim, friend_id=lou.pk)
""",
    )
    send_text(kim, "are we still friends?")
    failed = kim.locator("#pending li.pending-msg.failed")
    expect(failed).to_have_count(1)
    expect(failed.locator(".status")).to_have_text("Not sent")
    befriend(live_server_env, u["kim"], u["lou"])
    failed.locator("button.retry").click()
    expect(kim.locator("#messages li.msg.mine .text")).to_have_text(["are we still friends?"])
    expect(kim.locator("#pending li")).to_have_count(0)


def test_phone_viewport_works_end_to_end(live_server, live_server_env, new_context):
    u = people(live_server_env, "max", "ned")
    befriend(live_server_env, u["max"], u["ned"])
    _, phone = page_for(new_context, live_server, u["max"], viewport=PHONE)
    _, pc = page_for(new_context, live_server, u["ned"])
    # One pane at a time: the list first, the chat hidden.
    expect(phone.locator(".list-pane")).to_be_visible()
    expect(phone.locator(".chat-pane")).to_be_hidden()
    open_conversation(phone, "Ned")
    expect(phone.locator(".list-pane")).to_be_hidden()
    expect(phone.locator("#back")).to_be_visible()
    send_text(phone, "from my phone")
    open_conversation(pc, "Max")
    expect(pc.locator("#messages .text")).to_have_text(["from my phone"])
    send_text(pc, "from the desk")
    expect(phone.locator("#messages .text")).to_have_text(["from my phone", "from the desk"])
    # Touch targets are at least 44 px.
    for selector in ("#back", "#info-open", "#emoji-toggle", "#image-button", "#send-button"):
        box = phone.locator(selector).bounding_box()
        assert box is not None, selector
        assert box["width"] >= 44, selector
        assert box["height"] >= 44, selector
    # The emoji picker works offline from vendored data.
    phone.click("#emoji-toggle")
    phone.locator("#emoji-picker .emoji").first.click()
    assert phone.input_value("#composer-input") == "😀"
    phone.click("#send-button")
    expect(pc.locator("#messages .text").last).to_have_text("😀")
    phone.click("#back")
    expect(phone.locator(".list-pane")).to_be_visible()
    expect(conversation_link(phone, "Ned").locator(".conv-preview")).to_have_text("😀")
    # Mute from the phone, in the chat's info screen (pushed over the chat, with back).
    open_conversation(phone, "Ned")
    phone.click("#info-open")
    expect(phone).to_have_url(re.compile(r"/chats/\d+/info/$"))
    expect(phone.locator("#chat-view")).to_be_hidden()
    expect(phone.locator("#person-name")).to_have_text("Ned")
    row = phone.locator(".switch-row", has=phone.locator("#mute-toggle"))
    assert row.bounding_box()["height"] >= 44
    row.click()
    expect(phone.locator("#mute-toggle")).to_be_checked()
    expect(conversation_link(phone, "Ned").locator(".muted-icon")).to_have_count(1)
    muted = run_django(
        live_server_env,
        f"""
from chat.models import ConversationMember
result = ConversationMember.objects.get(user__username={u["max"]!r},
    conversation__kind="direct").muted
""",
    )
    assert muted is True
    phone.locator("#side-root .panel-back").click()
    expect(phone.locator("#chat-view")).to_be_visible()


XSS = [
    "<img src=x onerror=window.__xss=1>",
    "<script>window.__xss=2</script>",
    '"><svg onload=window.__xss=3>',
    "javascript:window.__xss=4",
    '<a href="javascript:window.__xss=5">click</a>',
]


@pytest.mark.parametrize("viewport", [PC], ids=["pc"])
def test_xss_corpus_in_messages_nicknames_remarks_and_group_names_renders_as_text(
    live_server, live_server_env, new_context, viewport
):
    evil_nick = '<img src=x onerror=window.__xss=6>"><svg onload=window.__xss=7>'
    oscar = unique("oscar")
    pat = unique("pat")
    make_user(live_server_env, oscar, nickname=evil_nick)
    make_user(live_server_env, pat, nickname="Pat")
    befriend(live_server_env, oscar, pat)
    evil_remark = "<script>window.__xss=8</script>"
    set_remark(live_server_env, oscar, pat, evil_remark)
    evil_group = '<img src=x onerror="window.__xss=9">'
    make_group(live_server_env, oscar, evil_group, [pat])

    _, o = page_for(new_context, live_server, oscar, viewport)
    _, p = page_for(new_context, live_server, pat, viewport)
    expect(conversation_link(o, evil_remark)).to_have_count(1)
    expect(conversation_link(p, evil_nick)).to_have_count(1)
    open_conversation(o, evil_remark)
    open_conversation(p, evil_nick)
    for text in XSS:
        send_text(o, text)
    expect(p.locator("#messages .text")).to_have_text(XSS)
    expect(o.locator("#chat-title")).to_have_text(evil_remark)
    expect(p.locator("#chat-title")).to_have_text(evil_nick)
    open_conversation(p, evil_group)
    expect(p.locator("#chat-title")).to_have_text(evil_group)
    send_text(o, "x")  # a preview in the list with the group's evil name around
    for page in (o, p):
        page.wait_for_timeout(300)
        assert page.evaluate("window.__xss") is None
        assert (
            page.locator("#app img[src='x'], #app svg[onload], #app script:not([src])").count() == 0
        )
