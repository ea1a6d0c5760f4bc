"""Everyday messaging in the web UI (issue 10), two or three people at once: recall, edit,
reply and jump, @mentions and "[@me]", reactions, files, forward, system messages, search.

One live server and one browser for the file; each test has its own people.
"""

import re

from playwright.sync_api import expect

from tests.e2e.chat_ui_support import (
    PASSWORD,
    conversation_link,
    login,
    open_conversation,
    run_django,
    send_text,
    unique,
    wait_chat_loaded,
)

PC = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# The smallest file the server takes as a PDF (checked by its first bytes).
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def world(env, *names, friends=(), group=None, code=""):
    """One seeding process per test: fresh activated users (unique names), friendships
    (pairs of short names) through the real services, maybe a group (name, owner,
    members) whose conversation id is `conv`, then `code` (see seed(); a string, or a
    function of the names). Returns ({short name: username}, conv or None, code's result).
    """
    u = {name: unique(name) for name in names}
    script = "from tests.factories import UserFactory\n"
    script += "from chat.services import conversation_robot_ensure\n"
    script += "from friends.services import friend_request_send, friend_request_accept\n"
    script += "from groups.services import group_create\n"
    for name, username in u.items():
        script += (
            f"conversation_robot_ensure(user=UserFactory(username={username!r}, "
            f"nickname={name.title()!r}, password={PASSWORD!r}))\n"
        )
    for a, b in friends:
        script += (
            f"friend_request_accept(user=user({u[b]!r}), request_id=friend_request_send("
            f"from_user=user({u[a]!r}), to_user_id=user({u[b]!r}).pk, message='hi').pk)\n"
        )
    script += "conv = None\n"
    if group:
        name, owner, members = group
        ids = "[" + ", ".join(f"user({u[m]!r}).pk" for m in members) + "]"
        script += (
            f"conv = group_create(owner=user({u[owner]!r}), name={name!r}, "
            f"member_ids={ids}).conversation_id\n"
        )
    script += (code(u) if callable(code) else code) + "\nresult = [conv, result]\n"
    conv, result = seed(env, script)  # type: ignore[misc]
    return u, conv, result


def page_for(new_context, live_server, username, viewport=PC, **kwargs):
    ctx = new_context(viewport=viewport, **kwargs)
    page = ctx.new_page()
    login(page, live_server.url, username)
    return page


def seed(env, code: str) -> object:
    return run_django(
        env,
        "import uuid\nfrom accounts.models import User\nfrom chat.models import Conversation\n"
        "from chat.services.messages import message_send\n"
        "def user(name):\n    return User.objects.get(username=name)\n"
        "def direct(a, b):\n"
        "    return Conversation.objects.filter(kind='direct', members__user=user(a))"
        ".filter(members__user=user(b)).get().pk\n"
        "def send(sender, conv, body, **kw):\n"
        "    return message_send(sender=user(sender), conversation_id=conv,"
        " client_id=str(uuid.uuid4()), body=body, **kw)[0]\n" + code,
    )


def bubble(page, text):
    return page.locator("#messages li.msg", has=page.locator(".text", has_text=text))


def menu_action(page, text, action):
    """Open the actions menu of the message showing `text` and choose `action`."""
    item = bubble(page, text).last
    item.hover()
    item.locator(".msg-more").click()
    page.locator(f"#msg-menu [data-action={action}]").click()


def test_recall_leaves_a_tombstone_on_both_sides_and_in_the_list(
    live_server, live_server_env, new_context
):
    u, _conv, _ = world(live_server_env, "alice", "bob", friends=[("alice", "bob")])
    alice = page_for(new_context, live_server, u["alice"])
    bob = page_for(new_context, live_server, u["bob"])
    open_conversation(alice, "Bob")
    send_text(alice, "oops, wrong chat")
    expect(bubble(bob, "oops, wrong chat")).to_have_count(0)  # bob has not opened it
    expect(conversation_link(bob, "Alice").locator(".conv-preview")).to_have_text(
        "oops, wrong chat"
    )
    open_conversation(bob, "Alice")
    expect(bubble(bob, "oops, wrong chat")).to_have_count(1)
    # Bob may not recall Alice's message in a direct chat: no such item in his menu.
    item = bubble(bob, "oops, wrong chat")
    item.hover()
    item.locator(".msg-more").click()
    expect(bob.locator("#msg-menu [data-action=reply]")).to_be_visible()
    expect(bob.locator("#msg-menu [data-action=recall]")).to_have_count(0)
    bob.keyboard.press("Escape")

    # The window is the server's (hello.server_time): with the server's clock 10 minutes
    # ahead of this device, the message is too old to recall.
    alice.evaluate("window.happychat.client.clockOffset = 600000")
    item = bubble(alice, "oops, wrong chat")
    item.hover()
    item.locator(".msg-more").click()
    expect(alice.locator("#msg-menu [data-action=reply]")).to_be_visible()
    expect(alice.locator("#msg-menu [data-action=recall]")).to_have_count(0)
    alice.keyboard.press("Escape")
    alice.evaluate("window.happychat.client.clockOffset = 0")

    menu_action(alice, "oops, wrong chat", "recall")

    expect(alice.locator("#messages li.recalled")).to_have_text(
        re.compile("You recalled a message")
    )
    expect(bob.locator("#messages li.recalled")).to_have_text("Alice recalled a message")
    expect(bubble(bob, "oops, wrong chat")).to_have_count(0)
    expect(conversation_link(alice, "Bob").locator(".conv-preview")).to_have_text(
        "You recalled a message"
    )
    expect(conversation_link(bob, "Alice").locator(".conv-preview")).to_have_text(
        "Alice recalled a message"
    )
    # The sender may take the text back into the composer.
    alice.locator("#messages li.recalled .re-edit").click()
    expect(alice.locator("#composer-input")).to_have_value("oops, wrong chat")
    # After a reload (history from REST) the tombstone stays, the text does not come back.
    bob.reload()
    open_conversation(bob, "Alice")
    expect(bob.locator("#messages li.recalled")).to_have_text("Alice recalled a message")


def test_edit_in_the_composer_marks_the_message_edited_and_shows_a_filter_refusal(
    live_server, live_server_env, new_context
):
    word = unique("forbidden")
    u, _conv, _ = world(
        live_server_env,
        "alice",
        "bob",
        friends=[("alice", "bob")],
        code=f"from safety.services import sensitive_word_save\n"
        f"sensitive_word_save(word={word!r}, action='reject')",
    )
    alice = page_for(new_context, live_server, u["alice"])
    bob = page_for(new_context, live_server, u["bob"])
    open_conversation(alice, "Bob")
    open_conversation(bob, "Alice")
    send_text(alice, "see you at 5")
    expect(bubble(bob, "see you at 5")).to_have_count(1)

    menu_action(alice, "see you at 5", "edit")
    expect(alice.locator("#composer-bar")).to_contain_text("Edit message")
    expect(alice.locator("#send-button")).to_have_text("Save")
    alice.fill("#composer-input", "see you at 6")
    alice.press("#composer-input", "Enter")

    expect(bubble(bob, "see you at 6").locator(".edited")).to_have_text("edited")
    expect(bubble(bob, "see you at 5")).to_have_count(0)
    expect(bubble(alice, "see you at 6").locator(".edited")).to_be_visible()
    expect(alice.locator("#composer-bar")).to_be_hidden()
    expect(alice.locator("#composer-input")).to_have_value("")

    # The content filter applies to the new text: the refusal is said, nothing changes.
    menu_action(alice, "see you at 6", "edit")
    alice.fill("#composer-input", f"see you {word}")
    alice.press("#composer-input", "Enter")
    expect(alice.locator("#composer-bar [role=alert]")).to_have_text(
        "This text is not allowed by the content filter. Please change it."
    )
    expect(alice.locator("#composer-input")).to_have_value(f"see you {word}")
    expect(bubble(bob, "see you at 6")).to_have_count(1)
    # Escape leaves the edit; the composer is empty again.
    alice.press("#composer-input", "Escape")
    expect(alice.locator("#composer-bar")).to_be_hidden()
    expect(alice.locator("#composer-input")).to_have_value("")
    # Bob cannot edit Alice's message.
    item = bubble(bob, "see you at 6")
    item.hover()
    item.locator(".msg-more").click()
    expect(bob.locator("#msg-menu [data-action=edit]")).to_have_count(0)


def test_reply_quotes_and_jumps_to_an_original_not_loaded_yet(
    live_server, live_server_env, new_context
):
    # The original, then 80 messages (the chat loads 30 at first), then a reply to it.
    u, _conv, _ = world(
        live_server_env,
        "alice",
        "bob",
        friends=[("alice", "bob")],
        code=lambda u: (
            f"""
conv = direct({u["alice"]!r}, {u["bob"]!r})
original = send({u["alice"]!r}, conv, "Where shall we meet on Saturday?")
for n in range(80):
    send({u["bob"]!r} if n % 2 else {u["alice"]!r}, conv, f"filler {{n}}")
send({u["bob"]!r}, conv, "At the station, as you asked", reply_to=original.pk)
"""
        ),
    )
    alice = page_for(new_context, live_server, u["alice"])
    bob = page_for(new_context, live_server, u["bob"])
    open_conversation(alice, "Bob")
    open_conversation(bob, "Alice")
    expect(bubble(alice, "Where shall we meet")).to_have_count(0)
    quote = bubble(alice, "At the station").locator(".quote")
    expect(quote).to_contain_text("Where shall we meet on Saturday?")
    expect(quote.locator(".quote-name")).to_have_text("You")

    quote.click()

    original = bubble(alice, "Where shall we meet on Saturday?")
    expect(original).to_have_class(re.compile(r"\bflash\b"))
    expect(original).to_be_in_viewport()

    # Reply from the menu: the composer shows the quote, cancel works, then send.
    menu_action(bob, "filler 79", "reply")
    expect(bob.locator("#composer-bar")).to_contain_text("Reply to You")
    bob.click("#composer-bar-cancel")
    expect(bob.locator("#composer-bar")).to_be_hidden()
    menu_action(bob, "filler 78", "reply")
    expect(bob.locator("#composer-bar")).to_contain_text("Reply to Alice")
    expect(bob.locator("#composer-bar")).to_contain_text("filler 78")
    send_text(bob, "that one")
    expect(bob.locator("#composer-bar")).to_be_hidden()
    sent = bubble(alice, "that one").locator(".quote")
    expect(sent).to_contain_text("filler 78")
    expect(sent.locator(".quote-name")).to_have_text("You")

    # The original recalled: the quote says so, on both sides.
    alice.locator("#jump-bottom").click()
    menu_action(alice, "filler 78", "recall")
    expect(bubble(bob, "that one").locator(".quote")).to_contain_text(
        "The original message was recalled"
    )
    expect(bubble(alice, "that one").locator(".quote.recalled")).to_have_count(1)


def test_mention_picker_sends_ids_marks_the_list_and_notifies_in_a_muted_group(
    live_server, live_server_env, new_context
):
    from tests.e2e.test_pwa_browser import RECORDER

    u, conv, ids = world(
        live_server_env,
        "alice",
        "bob",
        "carol",
        friends=[("alice", "bob"), ("alice", "carol")],
        group=("Book club", "alice", ["bob", "carol"]),
        code=lambda u: (
            f"""
from groups.models import Group
from robot.services import robot_group_join
group = Group.objects.get(conversation_id=conv)
robot_group_join(user=user({u["alice"]!r}), group_id=group.pk)
result = {{n: user(n).pk for n in [{u["alice"]!r}, {u["bob"]!r}, {u["carol"]!r}]}}
"""
        ),
    )
    alice = page_for(new_context, live_server, u["alice"])
    carol_ctx = new_context(viewport=PHONE)
    carol_ctx.grant_permissions(["notifications"], origin=live_server.url)
    carol_ctx.add_init_script(RECORDER)
    carol = carol_ctx.new_page()
    login(carol, live_server.url, u["carol"])
    carol.evaluate("localStorage.setItem('happychat.notify', 'true')")
    carol.reload()
    carol.wait_for_function("window.happychat && window.happychat.client.status === 'open'")
    carol.evaluate(f"window.happychat.store.setMuted({conv}, true)")
    expect(conversation_link(carol, "Book club").locator(".muted-icon")).to_have_count(1)
    carol.evaluate(
        "window.__visibility = 'hidden'; document.dispatchEvent(new Event('visibilitychange'))"
    )

    open_conversation(alice, "Book club")
    alice.wait_for_function(
        f"(window.happychat.store.members.get("
        f"window.happychat.store.conversations.get({conv}).group) || []).length === 4"
    )
    composer = alice.locator("#composer-input")
    composer.type("Hi @")
    picker = alice.locator("#mention-picker")
    expect(picker).to_be_visible()
    expect(picker.locator("[role=option]")).to_have_count(4)  # Everyone, Bob, Carol, Robot
    expect(picker.locator("[role=option]").first).to_contain_text("Everyone")
    composer.type("ca")
    expect(picker.locator("[role=option]")).to_have_count(1)
    composer.press("Enter")
    expect(picker).to_be_hidden()
    expect(composer).to_have_value("Hi @Carol ")
    composer.type("your turn to pick the book")
    composer.press("Enter")

    sent = bubble(alice, "your turn to pick")
    expect(sent.locator(".mention")).to_have_text("@Carol")
    mentions = alice.evaluate(
        "[...window.happychat.chat.current.messages.values()].at(-1).mentions"
    )
    assert mentions == [ids[u["carol"]]]
    # Carol's list says [@me] (while muted), and she was notified all the same.
    row = conversation_link(carol, "Book club")
    expect(row.locator(".mention-mark")).to_have_text("[@me]")
    expect(row).to_have_attribute("aria-label", re.compile("you were mentioned"))
    carol.wait_for_function("window.__notes.length === 1")
    note = carol.evaluate("window.__notes[0]")
    assert note["title"] == "Book club"
    assert note["body"] == "Alice mentioned you: Hi @Carol your turn to pick the book"
    # Opening the chat reads it: the mark goes; her mention is highlighted as hers.
    carol.evaluate(
        "window.__visibility = 'visible'; document.dispatchEvent(new Event('visibilitychange'))"
    )
    open_conversation(carol, "Book club")
    expect(bubble(carol, "your turn to pick").locator(".mention.mention-me")).to_have_text("@Carol")
    carol.locator("#back").click()
    expect(row.locator(".mention-mark")).to_have_count(0)

    # Keyboard: arrows move, Escape closes without inserting; touch: a tap picks.
    composer.type("@")
    expect(picker).to_be_visible()
    composer.press("ArrowDown")
    expect(picker.locator("[aria-selected=true]")).to_contain_text("Bob")
    composer.press("Escape")
    expect(picker).to_be_hidden()
    expect(composer).to_have_value("@")
    composer.fill("")
    # @robot through the picker: the robot answers in the group.
    composer.type("@rob")
    picker.locator("[role=option]", has_text="Robot").click()
    composer.type("help")
    composer.press("Enter")
    expect(alice.locator("#messages li.msg.theirs").last).to_contain_text(
        re.compile("help|/", re.I), timeout=10000
    )


def test_reactions_toggle_with_counts_and_who_reacted(live_server, live_server_env, new_context):
    u, _conv, _ = world(live_server_env, "alice", "bob", friends=[("alice", "bob")])
    alice = page_for(new_context, live_server, u["alice"])
    bob = page_for(new_context, live_server, u["bob"], viewport=PHONE, has_touch=True)
    open_conversation(alice, "Bob")
    open_conversation(bob, "Alice")
    send_text(bob, "I passed the exam!")
    item = bubble(alice, "I passed the exam!")
    expect(item).to_have_count(1)

    item.hover()
    item.locator(".msg-more").click()
    expect(alice.locator("#msg-menu .quick-reaction")).to_have_count(6)  # the fixed set
    alice.locator("#msg-menu .quick-reaction[data-emoji='❤️']").click()

    chip = bubble(bob, "I passed the exam!").locator(".reaction")
    expect(chip).to_have_count(1)
    expect(chip).to_have_attribute("data-emoji", "❤️")
    expect(chip.locator(".reaction-count")).to_have_text("1")
    expect(chip).to_have_attribute("title", "Alice")
    expect(chip).to_have_attribute("aria-pressed", "false")
    # Bob adds his with a tap on the chip: two, both named.
    chip.tap()
    expect(chip.locator(".reaction-count")).to_have_text("2")
    expect(chip).to_have_attribute("aria-pressed", "true")
    mine = bubble(alice, "I passed the exam!").locator(".reaction")
    expect(mine.locator(".reaction-count")).to_have_text("2")
    expect(mine).to_have_attribute("title", "You, Bob")
    # Who reacted, as a list (right click here; a long press on a phone).
    mine.click(button="right")
    expect(alice.locator("#reactors")).to_contain_text("You, Bob")
    alice.keyboard.press("Escape")
    expect(alice.locator("#reactors")).to_be_hidden()
    # Alice takes hers back: a toggle.
    mine.click()
    expect(chip.locator(".reaction-count")).to_have_text("1")
    expect(chip).to_have_attribute("title", "You")
    # A second emoji from the menu on the phone: holding the bubble opens it.
    bob.locator("#messages li.msg .bubble").last.dispatch_event(
        "pointerdown", {"pointerType": "touch", "clientX": 1, "clientY": 1}
    )
    bob.locator("#msg-menu .quick-reaction[data-emoji='👍']").click()
    expect(bubble(alice, "I passed the exam!").locator(".reaction")).to_have_count(2)


def test_a_file_is_sent_and_downloaded_by_members_only(live_server, live_server_env, new_context):
    u, _conv, _ = world(live_server_env, "alice", "bob", "eve", friends=[("alice", "bob")])
    alice = page_for(new_context, live_server, u["alice"])
    bob = page_for(new_context, live_server, u["bob"])
    eve = page_for(new_context, live_server, u["eve"])
    open_conversation(alice, "Bob")
    open_conversation(bob, "Alice")

    alice.set_input_files(
        "#file-input",
        files=[{"name": "Trip plan 行程.pdf", "mimeType": "application/pdf", "buffer": PDF}],
    )

    card = bob.locator("#messages li.msg .file-card")
    expect(card).to_have_count(1)
    expect(card.locator(".file-name")).to_have_text("Trip plan 行程.pdf")
    expect(card.locator(".file-size")).to_have_text(f"{len(PDF)} B")
    expect(card.locator(".file-icon")).to_have_text("PDF")
    expect(alice.locator("#messages li.msg.mine .file-card")).to_have_count(1)
    expect(conversation_link(bob, "Alice").locator(".conv-preview")).to_have_text(
        "[File] Trip plan 行程.pdf"
    )
    with bob.expect_download() as info:
        card.click()
    download = info.value
    assert download.suggested_filename == "Trip plan 行程.pdf"
    assert open(download.path(), "rb").read() == PDF  # noqa: SIM115

    url = card.get_attribute("href")
    assert url
    assert url.startswith("/api/v1/uploads/")
    assert eve.request.get(live_server.url + url).status == 404  # a stranger
    anonymous = new_context().request.get(live_server.url + url)
    assert anonymous.status in (401, 403)

    # Too large for the server's limit (from hello): refused before uploading.
    limit = alice.evaluate("window.happychat.store.limits.file_max_bytes")
    alice.evaluate(
        """limit => {
          const input = document.getElementById('file-input');
          const data = new DataTransfer();
          const big = new Uint8Array(limit + 1);
          data.items.add(new File([big], 'huge.zip', {type: 'application/zip'}));
          input.files = data.files;
          input.dispatchEvent(new Event('change'));
        }""",
        limit,
    )
    expect(alice.locator("#toasts")).to_contain_text("huge.zip")
    expect(alice.locator("#pending li")).to_have_count(0)


def test_forward_several_messages_to_another_chat(live_server, live_server_env, new_context):
    u, _conv, _ = world(
        live_server_env,
        "alice",
        "bob",
        "carol",
        friends=[("alice", "bob"), ("alice", "carol")],
        code=lambda u: (
            f"""
conv = direct({u["alice"]!r}, {u["bob"]!r})
send({u["bob"]!r}, conv, "The museum opens at 9")
send({u["bob"]!r}, conv, "unrelated chatter")
send({u["bob"]!r}, conv, "Tickets are 12 euros")
"""
        ),
    )
    alice = page_for(new_context, live_server, u["alice"])
    carol = page_for(new_context, live_server, u["carol"])
    open_conversation(alice, "Bob")
    open_conversation(carol, "Alice")

    menu_action(alice, "The museum opens at 9", "select")
    expect(alice.locator("#select-bar")).to_be_visible()
    expect(alice.locator("#composer")).to_be_hidden()
    expect(alice.locator("#select-count")).to_have_text("1 selected")
    bubble(alice, "Tickets are 12 euros").click()
    expect(alice.locator("#select-count")).to_have_text("2 selected")
    # No more than the server's forward maximum (hello.limits; made small here).
    alice.evaluate("window.happychat.client.limits.forward_max = 2")
    bubble(alice, "unrelated chatter").click()
    expect(alice.locator("#toasts")).to_contain_text("You can forward at most 2 messages at once.")
    expect(bubble(alice, "unrelated chatter").locator(".select-box")).not_to_be_checked()
    expect(alice.locator("#select-count")).to_have_text("2 selected")
    alice.click("#select-forward")
    dialog = alice.locator("#forward-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("h2")).to_have_text("Forward 2 messages to…")
    dialog.locator("#forward-search").fill("car")
    expect(dialog.locator("#forward-list li")).to_have_count(1)
    dialog.locator("#forward-list li button").click()
    expect(dialog).to_have_count(0)
    expect(alice.locator("#toasts")).to_contain_text("Forwarded to Carol")
    expect(alice.locator("#select-bar")).to_be_hidden()
    expect(alice.locator("#composer")).to_be_visible()

    expect(carol.locator("#messages li.msg .text")).to_have_text(
        ["The museum opens at 9", "Tickets are 12 euros"]
    )
    expect(carol.locator("#messages li.msg .forwarded").first).to_have_text("Forwarded from Bob")


def test_system_messages_show_as_chips_in_the_readers_language(
    live_server, live_server_env, new_context
):
    u, conv, bob_id = world(
        live_server_env,
        "alice",
        "bob",
        friends=[("alice", "bob")],
        group=("Hikers", "alice", []),
        code=lambda u: f"result = user({u['bob']!r}).pk",
    )
    zh = new_context(viewport=PC, locale="zh-CN").new_page()
    login(zh, live_server.url, u["alice"])
    alice = page_for(new_context, live_server, u["alice"])
    open_conversation(alice, "Hikers")
    expect(alice.locator("#messages li.system-message")).to_have_text(
        ["You created the group “Hikers”"]
    )
    # Through the API from the page (the server's own process publishes the live events).
    group = alice.evaluate(f"window.happychat.store.conversations.get({conv}).group")
    alice.evaluate(
        "([g, b]) => window.happychat.store.api.addGroupMember(g, b)"
        ".then(() => window.happychat.store.api.updateGroup(g, {name: 'Hikers 2026'}))",
        [group, bob_id],
    )
    expect(alice.locator("#messages li.system-message")).to_have_text(
        [
            "You created the group “Hikers”",
            "You invited Bob to the group",
            "You renamed the group to “Hikers 2026”",
        ]
    )
    # Not unread, and the list shows the last one as its preview.
    row = conversation_link(alice, "Hikers 2026")
    expect(row.locator(".conv-preview")).to_have_text("You renamed the group to “Hikers 2026”")
    expect(row.locator(".badge")).to_have_count(0)
    # In Chinese, rendered from the data, not the server's English text.
    open_conversation(zh, "Hikers 2026")
    expect(zh.locator("#messages li.system-message").last).to_have_text(re.compile("修改群名为"))
    # A new friendship starts with "You are now friends".
    open_conversation(alice, "Bob")
    expect(alice.locator("#messages li.system-message")).to_have_text(
        ["You are now friends. Say hello!"]
    )


def test_search_finds_messages_and_opens_the_chat_at_one_with_context(
    live_server, live_server_env, new_context
):
    word = unique("zebrafish")
    u, _conv, _ = world(
        live_server_env,
        "alice",
        "bob",
        friends=[("alice", "bob")],
        code=lambda u: (
            f"""
conv = direct({u["alice"]!r}, {u["bob"]!r})
for n in range(120):
    send({u["bob"]!r}, conv, f"line {{n}}")
    if n == 10:
        send({u["bob"]!r}, conv, "I saw a {word} at the aquarium")
for n in range(23):
    send({u["alice"]!r}, conv, f"kiwi{word} number {{n}}")
"""
        ),
    )
    alice = page_for(new_context, live_server, u["alice"])
    alice.fill("#list-search", word)
    results = alice.locator("#message-results li")
    expect(results).to_have_count(1)
    expect(results.first.locator("mark")).to_have_text(word)
    expect(alice.locator("[data-section=messages] .section-title")).to_have_text("Messages")

    results.first.locator("a").click()

    alice.wait_for_selector("#chat-view:not([hidden])")
    wait_chat_loaded(alice)
    found = bubble(alice, f"I saw a {word}")
    expect(found).to_have_class(re.compile(r"\bflash\b"))
    expect(found).to_be_in_viewport()
    # Context on both sides of it, and not the newest page.
    expect(bubble(alice, "line 10")).to_have_count(1)
    expect(bubble(alice, "line 11")).to_have_count(1)
    expect(bubble(alice, "line 119")).to_have_count(0)
    # Scrolling down brings the newer messages; "jump to newest" goes to the end.
    alice.locator("#jump-bottom").click()
    expect(bubble(alice, f"kiwi{word} number 22")).to_be_in_viewport()

    # Paging: 20 results, then "More results" for the rest.
    alice.fill("#list-search", f"kiwi{word}")
    expect(results).to_have_count(20)
    alice.click("#message-results-more")
    expect(results).to_have_count(23)
    expect(alice.locator("#message-results-more")).to_have_count(0)

    # Search within the chat from its info panel.
    alice.fill("#list-search", "")
    open_conversation(alice, "Bob")
    alice.click("#info-open")
    alice.fill("#chat-search", word)
    in_chat = alice.locator("#chat-search-results li")
    expect(in_chat).to_have_count(1)
    in_chat.locator("a").click()
    expect(alice.locator("#side-root")).to_be_hidden()
    expect(bubble(alice, f"I saw a {word}")).to_have_class(re.compile(r"\bflash\b"))


def test_group_admin_recalls_a_members_message_and_only_admins_may_mention_all(
    live_server, live_server_env, new_context
):
    u, conv, _ = world(
        live_server_env,
        "alice",
        "bob",
        "carol",
        friends=[("alice", "bob"), ("alice", "carol")],
        group=("Choir", "alice", ["bob", "carol"]),
        code=lambda u: (
            f"""
from groups.models import Group, GroupMember
from groups.services import group_member_role_set
group = Group.objects.get(conversation_id=conv)
group_member_role_set(user=user({u["alice"]!r}), group_id=group.pk,
                      member_user_id=user({u["bob"]!r}).pk, role=GroupMember.Role.ADMIN)
send({u["bob"]!r}, conv, "Rehearsal moved to Friday")
send({u["carol"]!r}, conv, "buy cheap watches here")
"""
        ),
    )
    alice = page_for(new_context, live_server, u["alice"])
    bob = page_for(new_context, live_server, u["bob"])
    carol = page_for(new_context, live_server, u["carol"], viewport=PHONE, has_touch=True)
    for page in (alice, bob, carol):
        open_conversation(page, "Choir")
        page.wait_for_function(
            f"(window.happychat.store.members.get("
            f"window.happychat.store.conversations.get({conv}).group) || []).length === 3"
        )
    # Carol (a plain member) may not recall the admin's message.
    item = bubble(carol, "Rehearsal moved")
    item.locator(".bubble").dispatch_event(
        "pointerdown", {"pointerType": "touch", "clientX": 1, "clientY": 1}
    )
    expect(carol.locator("#msg-menu [data-action=reply]")).to_be_visible()
    expect(carol.locator("#msg-menu [data-action=recall]")).to_have_count(0)
    carol.keyboard.press("Escape")
    # Bob (an admin) recalls Carol's message: gone for everyone, each told who did it.
    menu_action(bob, "buy cheap watches", "recall")
    for page in (alice, bob, carol):
        expect(bubble(page, "buy cheap watches")).to_have_count(0)
    expect(alice.locator("#messages li.recalled")).to_have_text("Bob recalled a message from Carol")
    expect(bob.locator("#messages li.recalled")).to_have_text("You recalled a message from Carol")
    expect(carol.locator("#messages li.recalled")).to_have_text("Bob recalled your message")
    expect(bob.locator("#messages li.recalled .re-edit")).to_have_count(0)
    # The same after a reload (history from REST carries recalled_by).
    alice.reload()
    open_conversation(alice, "Choir")
    alice.wait_for_function(
        f"(window.happychat.store.members.get("
        f"window.happychat.store.conversations.get({conv}).group) || []).length === 3"
    )
    expect(alice.locator("#messages li.recalled")).to_have_text("Bob recalled a message from Carol")
    expect(conversation_link(alice, "Choir").locator(".conv-preview")).to_have_text(
        "Bob recalled a message from Carol"
    )

    # @all: only the owner and admins are offered "Everyone".
    carol.locator("#composer-input").type("@")
    expect(carol.locator("#mention-picker [role=option]")).to_have_count(2)  # Alice, Bob
    expect(carol.locator("#mention-picker")).not_to_contain_text("Everyone")
    # A tap picks, on a phone.
    carol.locator("#mention-picker [role=option]", has_text="Alice").tap()
    expect(carol.locator("#mention-picker")).to_be_hidden()
    expect(carol.locator("#composer-input")).to_have_value("@Alice ")
    carol.locator("#composer-input").fill("")
    carol.locator("#back").click()

    composer = alice.locator("#composer-input")
    composer.type("@")
    option = alice.locator("#mention-picker [role=option]").first
    expect(option).to_contain_text("Everyone")
    option.click()
    composer.type("concert at 8, be on time")
    composer.press("Enter")
    sent = bubble(alice, "concert at 8")
    expect(sent.locator(".mention")).to_have_text("@all")
    assert alice.evaluate("[...window.happychat.chat.current.messages.values()].at(-1).mention_all")
    row = conversation_link(carol, "Choir")
    expect(row.locator(".mention-mark")).to_have_text("[@me]")
    open_conversation(carol, "Choir")
    expect(bubble(carol, "concert at 8").locator(".mention.mention-me")).to_have_text("@all")
