"""The one shell in Chromium: group info, person cards, contacts, search, settings and the
details a careful user notices — two or three people at once, PC and phone."""

import re

from playwright.sync_api import expect

from tests.e2e.chat_ui_support import (
    befriend,
    conversation_link,
    login,
    make_group,
    make_user,
    open_conversation,
    run_django,
    send_text,
    unique,
    wait_chat_loaded,
    wait_live,
)

PC = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def people(env, *names, nicknames=None):
    """Fresh activated users as {short name: username}."""
    users = {}
    for name in names:
        users[name] = unique(name)
        make_user(env, users[name], nickname=(nicknames or {}).get(name, name.title()))
    return users


def page_for(new_context, live_server, username, viewport=PC, **kwargs):
    ctx = new_context(viewport=viewport, **kwargs)
    page = ctx.new_page()
    login(page, live_server.url, username)
    return ctx, page


def user_id(env, username):
    code = f"from accounts.models import User\nresult = User.objects.get(username={username!r}).pk"
    return run_django(env, code)


def box(page, selector):
    found = page.locator(selector).first.bounding_box()
    assert found is not None, selector
    return found


def overlaps(a, b):
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def test_group_info_from_the_chat_alias_roles_and_a_removal_seen_at_once(
    live_server, live_server_env, new_context
):
    u = people(live_server_env, "amy", "bob", "cal")
    befriend(live_server_env, u["amy"], u["bob"])
    befriend(live_server_env, u["amy"], u["cal"])
    name = unique("Choir ")
    conv = make_group(live_server_env, u["amy"], name, [u["bob"], u["cal"]])
    _, amy = page_for(new_context, live_server, u["amy"])
    _, bob = page_for(new_context, live_server, u["bob"])
    _, cal = page_for(new_context, live_server, u["cal"])

    # The chat header shows the member count and opens the info panel beside the chat.
    open_conversation(amy, name)
    expect(amy.locator("#chat-count")).to_have_text("(3)")
    amy.click("#chat-heading")
    expect(amy).to_have_url(re.compile(rf"/chats/{conv}/info/$"))
    expect(amy.locator("#chat-view")).to_be_visible()
    members = amy.locator("#member-list li")
    expect(members).to_have_count(3)
    expect(amy.locator(f".member[data-user={u['amy']}] .role")).to_have_text("Owner")

    # Bob has the same panel open (a deep link); it follows Amy's changes live.
    bob.goto(f"{live_server.url}/chats/{conv}/info/")
    wait_live(bob)
    expect(bob.locator("#member-list li")).to_have_count(3)
    expect(bob.locator("#alias-input")).to_be_visible()

    amy.fill("#alias-input", "Conductor Amy")
    amy.click("#alias-save")
    expect(amy.locator(f".member[data-user={u['amy']}] .row-sub")).to_have_text(
        "In this group: Conductor Amy"
    )
    expect(bob.locator(f".member[data-user={u['amy']}] .row-sub")).to_have_text(
        "In this group: Conductor Amy"
    )
    stored = run_django(
        live_server_env,
        f"""
from groups.models import GroupMember
result = GroupMember.objects.get(user__username={u["amy"]!r}, group__conversation_id={conv}).alias
""",
    )
    assert stored == "Conductor Amy"

    # The owner makes Bob an admin; Bob's panel shows his new role without a reload.
    amy.locator(f".member[data-user={u['bob']}] summary").click()
    amy.get_by_role("button", name="Make admin").click()
    expect(amy.locator(f".member[data-user={u['bob']}] .role")).to_have_text("Admin")
    expect(bob.locator(f".member[data-user={u['bob']}] .role")).to_have_text("Admin")

    # Cal is reading the chat when Amy removes him: it turns read-only at once.
    open_conversation(cal, name)
    expect(cal.locator("#composer")).to_be_visible()
    amy.locator(f".member[data-user={u['cal']}] summary").click()
    amy.get_by_role("button", name="Remove from group").click()
    amy.locator("dialog[open] [data-confirm]").click()
    expect(amy.locator("#member-list li")).to_have_count(2)
    expect(amy.locator("#chat-count")).to_have_text("(2)")
    expect(cal.locator("#read-only")).to_be_visible()
    expect(cal.locator("#read-only")).to_contain_text("You were removed from this group")
    expect(cal.locator("#composer")).to_be_hidden()
    expect(cal.locator("#pending li")).to_have_count(0)

    # Browser back and forward move between the chat and its info.
    amy.go_back()
    expect(amy).to_have_url(re.compile(rf"/chats/{conv}/$"))
    expect(amy.locator("#side-root")).to_be_hidden()
    amy.go_forward()
    expect(amy.locator("#group-info")).to_be_visible()


def test_from_a_friends_card_start_a_chat_on_a_phone(live_server, live_server_env, new_context):
    u = people(live_server_env, "dan", "eve")
    befriend(live_server_env, u["dan"], u["eve"])
    _, dan = page_for(new_context, live_server, u["dan"], viewport=PHONE)
    _, eve = page_for(new_context, live_server, u["eve"])

    # Tabs at the bottom of the top-level screens; Contacts lists friends.
    expect(dan.locator("#nav-contacts")).to_be_visible()
    dan.click("#nav-contacts")
    expect(dan).to_have_url(f"{live_server.url}/contacts/")
    dan.locator("#friend-list a", has_text="Eve").click()
    expect(dan).to_have_url(re.compile(r"/people/\d+/$"))
    expect(dan.locator("#person-name")).to_have_text("Eve")
    expect(dan.locator("#nav-contacts")).to_be_hidden()  # a pushed screen: no tabs

    # A remark on the card renames Eve everywhere.
    dan.fill("#remark-input", "Evie from the choir")
    dan.locator("#person-card button[type=submit]").click()
    expect(dan.locator("#person-name")).to_have_text("Evie from the choir")

    dan.click("#person-message")
    expect(dan).to_have_url(re.compile(r"/chats/\d+/$"))
    wait_chat_loaded(dan)
    expect(dan.locator("#chat-title")).to_have_text("Evie from the choir")
    send_text(dan, "hello from the card")
    open_conversation(eve, "Dan")
    expect(eve.locator("#messages .text")).to_have_text(["hello from the card"])

    # Back goes where Dan came from: the card, then the contacts.
    dan.click("#back")
    expect(dan.locator("#person-name")).to_be_visible()
    dan.go_back()
    expect(dan).to_have_url(f"{live_server.url}/contacts/")
    expect(dan.locator("#friend-list")).to_be_visible()
    dan.go_forward()
    expect(dan.locator("#person-name")).to_have_text("Evie from the choir")


def test_search_the_list_then_a_friend_request_signalled_live_and_after_a_reload(
    live_server, live_server_env, new_context
):
    u = people(live_server_env, "fay", "gus", nicknames={"gus": "Gustav"})
    club = unique("Knitting ")
    make_group(live_server_env, u["gus"], club, [])
    _, fay = page_for(new_context, live_server, u["fay"])
    _, gus = page_for(new_context, live_server, u["gus"])
    expect(gus.locator("#requests-badge")).to_have_count(0)

    search = fay.locator("#list-search")
    search.fill("happy")
    chats = fay.locator("[data-section=chats] .conv-title")
    expect(chats).to_have_text(["HappyBot"])
    search.fill(club)
    groups = fay.locator("[data-section=groups] li")
    expect(groups).to_have_count(1)
    groups.get_by_role("button", name=f"Join {club}").click()
    expect(fay).to_have_url(re.compile(r"/chats/\d+/$"))
    expect(fay.locator("#chat-title")).to_have_text(club)
    expect(fay.locator("#chat-count")).to_have_text("(2)")
    expect(fay.locator("#composer")).to_be_visible()
    search.fill(u["gus"])
    person = fay.locator("[data-section=people] a", has_text="Gustav")
    expect(person).to_have_count(1)
    person.click()
    expect(fay.locator("#person-name")).to_have_text("Gustav")
    fay.fill("#request-note", "Knitting together?")
    fay.click("#person-add")
    expect(fay.locator("#person-card")).to_contain_text("Friend request sent")

    # Gus sees it live, and still after a reload (the badge is loaded, not only pushed).
    expect(gus.locator("#requests-badge")).to_have_text("1")
    gus.reload()
    wait_live(gus)
    expect(gus.locator("#requests-badge")).to_have_text("1")
    gus.click("#nav-contacts")
    gus.click("#tab-requests")
    incoming = gus.locator("#incoming li")
    expect(incoming).to_contain_text("Knitting together?")
    incoming.get_by_role("button", name="Accept").click()
    expect(gus.locator("#requests-badge")).to_have_count(0)
    gus.click("#nav-chats")
    expect(conversation_link(gus, "Fay")).to_have_count(1)
    # Fay's open card turns into a friend's card.
    expect(fay.locator("#person-message")).to_be_visible()
    search = fay.locator("#list-search")
    search.fill("gust")
    expect(fay.locator("[data-section=contacts] .row-title")).to_have_text(["Gustav"])
    search.fill("")
    expect(fay.locator("#conversations")).to_be_visible()


def test_dark_theme_holds_on_every_screen_after_a_reload_and_on_every_page(
    live_server, live_server_env, new_context
):
    u = people(live_server_env, "hana", "ian")
    befriend(live_server_env, u["hana"], u["ian"])
    ian = user_id(live_server_env, u["ian"])
    _, page = page_for(new_context, live_server, u["hana"], color_scheme="light")
    base = live_server.url
    dark = (
        "() => getComputedStyle(document.body).backgroundColor.match(/\\d+/g)"
        ".slice(0, 3).every(v => Number(v) < 60)"
    )
    assert page.evaluate(dark) is False

    page.click("#nav-settings")
    page.locator("#theme-choice input[value=dark]").check()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert page.evaluate(dark) is True
    for path in ("/", "/contacts/", "/contacts/find/", f"/people/{ian}/", "/me/", "/settings/"):
        page.goto(f"{base}{path}")
        wait_live(page)
        assert page.evaluate(dark) is True, path
    open_conversation(page, "Ian")
    page.click("#info-open")
    assert page.evaluate(dark) is True
    page.reload()
    wait_live(page)
    expect(page.locator("#side-root")).to_be_visible()
    assert page.evaluate(dark) is True
    # The pages outside the shell follow the same choice.
    for path in ("/friends/", "/groups/", "/profile/", "/accounts/password/change/"):
        page.goto(f"{base}{path}")
        assert page.evaluate(dark) is True, path
    page.goto(f"{base}/settings/")
    page.click("#logout")
    page.wait_for_url(re.compile(r"/accounts/"))
    page.goto(f"{base}/accounts/login/")
    assert page.evaluate(dark) is True


def test_details_in_the_chat_a_careful_user_notices(live_server, live_server_env, new_context):
    u = people(live_server_env, "kay", "lin", nicknames={"kay": "Christopher Columbus"})
    befriend(live_server_env, u["kay"], u["lin"])
    kay_ctx, kay = page_for(new_context, live_server, u["kay"])

    # Your own name is whole at 1280 px.
    expect(kay.locator("#me-name")).to_have_text("Christopher Columbus")
    assert kay.evaluate("(e => e.scrollWidth <= e.clientWidth)(document.getElementById('me-name'))")

    # The robot is marked as a bot in the list and in its chat.
    robot_row = conversation_link(kay, "HappyBot")
    expect(robot_row.locator(".bot-badge")).to_have_text("Bot")
    expect(robot_row.locator(".avatar.bot")).to_have_count(1)
    open_conversation(kay, "HappyBot")
    expect(kay.locator("#chat-bot")).to_be_visible()

    # With nothing under it, the title is centred with its avatar.
    open_conversation(kay, "Lin")
    expect(kay.locator("#chat-subtitle")).to_be_hidden()
    title, avatar = box(kay, "#chat-title"), box(kay, "#chat-avatar")
    assert abs((title["y"] + title["height"] / 2) - (avatar["y"] + avatar["height"] / 2)) <= 2

    # Lin comes online; while Kay is disconnected, Lin is not shown online.
    _, lin = page_for(new_context, live_server, u["lin"])
    expect(kay.locator("#chat-subtitle")).to_have_text("online")
    expect(conversation_link(kay, "Lin").locator(".online-dot")).to_have_count(1)
    kay_ctx.set_offline(True)
    expect(kay.locator("#banner")).to_be_visible(timeout=15000)
    expect(kay.locator("#chat-subtitle")).to_be_hidden()
    expect(conversation_link(kay, "Lin").locator(".online-dot")).to_have_count(0)
    # The reconnect banner covers no header.
    assert not overlaps(box(kay, "#banner"), box(kay, ".chat-bar"))
    assert not overlaps(box(kay, "#banner"), box(kay, ".list-bar"))
    kay_ctx.set_offline(False)
    expect(kay.locator("#banner")).to_be_hidden(timeout=40000)
    expect(kay.locator("#chat-subtitle")).to_have_text("online")

    # Times sit on a bubble's last line, not on a line of their own.
    open_conversation(lin, "Christopher Columbus")
    send_text(lin, "buy cheap watches at example dot com")
    bubble = kay.locator("#messages li.msg.theirs .bubble").last
    expect(bubble.locator(".text")).to_have_text("buy cheap watches at example dot com")
    one_line = kay.evaluate(
        """() => {
            const b = [...document.querySelectorAll('#messages li.msg.theirs .bubble')].pop();
            const line = parseFloat(getComputedStyle(b.querySelector('.text')).lineHeight);
            const meta = b.querySelector('.meta').getBoundingClientRect();
            const text = b.querySelector('.text').getBoundingClientRect();
            return {height: b.getBoundingClientRect().height, line,
                    metaInLine: meta.top >= text.top && meta.top < text.bottom};
        }"""
    )
    assert one_line["height"] < one_line["line"] * 1.9, one_line
    assert one_line["metaInLine"], one_line

    # Avatars look the same everywhere: list, header, bubble, card, contacts.
    lin_id = user_id(live_server_env, u["lin"])
    style = (
        "e => [getComputedStyle(e).backgroundColor, getComputedStyle(e).borderTopLeftRadius,"
        " e.textContent, getComputedStyle(e).color]"
    )
    looks = {
        "list": conversation_link(kay, "Lin").locator(".avatar").evaluate(style),
        "header": kay.locator("#chat-avatar").evaluate(style),
        "bubble": kay.locator("#messages li.msg.theirs .avatar").last.evaluate(style),
    }
    kay.goto(f"{live_server.url}/people/{lin_id}/")
    wait_live(kay)
    looks["card"] = kay.locator("#person-card .avatar").evaluate(style)
    kay.goto(f"{live_server.url}/contacts/")
    looks["contacts"] = kay.locator("#friend-list .avatar").first.evaluate(style)
    assert len({tuple(v) for v in looks.values()}) == 1, looks

    # A report button on others' messages; the operators get the report.
    kay.click("#nav-chats")
    open_conversation(kay, "Lin")
    message = kay.locator("#messages li.msg.theirs").last
    message.hover()
    message.locator(".msg-more").click()
    kay.locator("#msg-menu [data-action=report]").click()
    expect(kay.locator("#report-dialog")).to_be_visible()
    kay.locator("#report-dialog input[value=spam]").check()
    kay.fill("#report-details", "a watch shop")
    kay.click("#report-send")
    expect(kay.locator("#report-dialog")).to_be_hidden()
    toast = kay.locator("#toasts .toast-item").last
    expect(toast).to_contain_text("The operators will look at this message")
    # Toasts do not cover the chat header.
    assert not overlaps(box(kay, "#toasts .toast-item"), box(kay, ".chat-bar"))
    reason = run_django(
        live_server_env,
        f"""
from moderation.models import MessageReport
result = MessageReport.objects.get(reporter__username={u["kay"]!r}).reason
""",
    )
    assert reason == "Spam or advertising: a watch shop"
    # One's own messages have no report action.
    send_text(kay, "mine")
    mine = kay.locator("#messages li.msg.mine").last
    mine.hover()
    mine.locator(".msg-more").click()
    expect(kay.locator("#msg-menu [data-action=report]")).to_have_count(0)


def test_emoji_picker_on_a_phone_in_chinese(live_server, live_server_env, new_context):
    u = people(live_server_env, "mo")
    _, page = page_for(new_context, live_server, u["mo"], viewport=PHONE, locale="zh-CN")
    open_conversation(page, "HappyBot")
    page.click("#emoji-toggle")
    picker = page.locator("#emoji-picker")
    expect(picker.locator(".emoji").first).to_be_visible()
    # Categories in the reader's language.
    expect(picker.locator(".emoji-tab").first).to_have_attribute("aria-label", "笑脸和情感")
    # The whole picker, tabs included, fits a 390 px screen.
    fits = page.evaluate(
        """() => [...document.querySelectorAll('#emoji-picker, #emoji-picker .emoji-tab')]
              .every(e => { const r = e.getBoundingClientRect();
                            return r.left >= 0 && r.right <= window.innerWidth; })"""
    )
    assert fits
    # Escape closes it, from the grid and from the composer.
    page.keyboard.press("Escape")
    expect(picker).to_be_hidden()
    expect(page.locator("#chat-view")).to_be_visible()  # Escape did not leave the chat
    page.click("#emoji-toggle")
    page.focus("#composer-input")
    page.keyboard.press("Escape")
    expect(picker).to_be_hidden()
    # Picking keeps it open for more; sending closes it.
    page.click("#emoji-toggle")
    picker.locator(".emoji").first.click()
    expect(picker).to_be_visible()
    page.click("#send-button")
    expect(picker).to_be_hidden()
    expect(page.locator("#messages li.msg.mine .text")).to_have_text(["😀"])


def test_the_app_never_links_to_the_fallback_pages(live_server, live_server_env, new_context):
    u = people(live_server_env, "ned", "ola")
    befriend(live_server_env, u["ned"], u["ola"])
    _, page = page_for(new_context, live_server, u["ned"])
    ola = user_id(live_server_env, u["ola"])
    fallback = "a[href^='/friends/'], a[href^='/groups/'], a[href^='/profile/']"
    for path in (
        "/",
        "/contacts/",
        "/contacts/requests/",
        "/contacts/groups/",
        f"/people/{ola}/",
        "/me/",
        "/settings/",
        "/new/group/",
    ):
        page.goto(f"{live_server.url}{path}")
        wait_live(page)
        page.wait_for_timeout(200)
        assert page.locator(fallback).count() == 0, path
