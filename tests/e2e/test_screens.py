"""Every main screen of the shell — chat, contacts, group info, person card, profile,
settings — on PC and phone, light and dark, English and Chinese. The group chat shows the
everyday-messaging features (issue 10): system messages, a reply with its quote, an
@mention of the reader, reactions, a document, an edited and a recalled message, a
forwarded one; then its actions menu, the reply bar with the @ picker, multi-select, and
the list's message search.

Written to test-artifacts/screenshots/<screen>-<device>-<theme>-<lang>.png for people to
look at. Each screen is also checked: nothing overflows sideways, and axe-core (vendored
under static/vendor/axe-core) finds no serious or critical accessibility violation.
"""

import json

import pytest
from playwright.sync_api import expect

from tests.e2e.chat_ui_support import (
    befriend,
    login,
    make_group,
    make_user,
    open_conversation,
    run_django,
    unique,
    wait_chat_loaded,
)
from tests.e2e.conftest import ARTIFACTS

SHOTS = ARTIFACTS / "screenshots"
DEVICES = {"pc": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
LOCALES = {"en": "en-US", "zh": "zh-CN"}
AXE = "/static/vendor/axe-core/axe.min.js"


@pytest.fixture(scope="module")
def cast(live_server_env):
    """A user with friends, a group (with the robot), history and a pending request."""
    me, friend, third, stranger = unique("mia"), unique("leo"), unique("zoe"), unique("sam")
    make_user(live_server_env, me, nickname="Mia")
    make_user(live_server_env, friend, nickname="Leo 李")
    make_user(live_server_env, third, nickname="Zoe")
    make_user(live_server_env, stranger, nickname="Sam")
    befriend(live_server_env, me, friend)
    befriend(live_server_env, me, third)
    group_conv = make_group(live_server_env, me, "Weekend hiking 周末爬山", [friend, third])
    run_django(
        live_server_env,
        f"""
import uuid
from accounts.models import User
from friends.services import friend_remark_set, friend_request_send
from chat.models import Conversation
from chat.services.messages import message_send
from groups.models import Group
from groups.services import group_update
from robot.services import robot_group_join
me = User.objects.get(username={me!r})
leo = User.objects.get(username={friend!r})
zoe = User.objects.get(username={third!r})
sam = User.objects.get(username={stranger!r})
direct = Conversation.objects.filter(kind="direct", members__user=me).filter(
    members__user=leo).get()
lines = [
    (leo, "Hi Mia! Are we still on for Saturday?"),
    (me, "Yes! Meet at the station at 8 😀"),
    (leo, "Great. I'll bring snacks.\\nAnd the map 🗺️"),
    (me, "Perfect, see you then"),
    (leo, "周六见！"),
]
for sender, body in lines:
    message_send(sender=sender, conversation_id=direct.pk, client_id=str(uuid.uuid4()), body=body)
group = Group.objects.get(conversation_id={group_conv})
group_update(user=me, group_id=group.pk, notice="Bring water and a hat. 带水和帽子。")
robot_group_join(user=me, group_id=group.pk)
def say(sender, body, **kw):
    return message_send(sender=sender, conversation_id={group_conv},
                        client_id=str(uuid.uuid4()), body=body, **kw)[0]
say(zoe, "Who is driving?")
driving = say(leo, "I can take three people")
say(zoe, "天气预报说周六晴天 ☀️")
from django.core.files.uploadedfile import SimpleUploadedFile
from chat.services.changes import message_edit, message_react, message_recall, messages_forward
from chat.uploads import document_create
doc = document_create(owner=leo, file=SimpleUploadedFile(
    "Route map 路线图.pdf", b"%PDF-1.4\\n" + b"0" * 180000, content_type="application/pdf"))
message_send(sender=leo, conversation_id={group_conv}, client_id=str(uuid.uuid4()),
             kind="file", attachment_id=doc.pk)
say(zoe, "@Mia can you bring the first-aid kit?", reply_to=driving.pk, mentions=[me.pk])
for who, emoji in [(leo, "👍"), (zoe, "👍"), (me, "❤️")]:
    message_react(user=who, message_id=driving.pk, emoji=emoji, on=True)
mine = say(me, "Sure, I'll pack it tonight")
message_edit(user=me, message_id=mine.pk, body="Sure, I'll pack it tonight 🎒")
oops = say(leo, "wrong photo, sorry")
message_recall(user=leo, message_id=oops.pk)
messages_forward(user=me, message_ids=[direct.messages.order_by("seq").last().pk],
                 conversation_id={group_conv}, client_id=str(uuid.uuid4()))
friend_remark_set(user=me, friend_id=zoe.pk, remark="Zoe (climbing)")
friend_request_send(from_user=sam, to_user_id=me.pk, message="Hi, we met at the station")
result = leo.pk
""",
    )
    leo_id = run_django(
        live_server_env,
        f"from accounts.models import User\nresult = User.objects.get(username={friend!r}).pk",
    )
    return {"me": me, "group_conv": group_conv, "leo_id": leo_id}


def check_axe(page, screen: str) -> None:
    """No serious or critical violation on what is on the screen now."""
    if not page.evaluate("Boolean(window.axe)"):
        page.add_script_tag(url=AXE)
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ["violations"]});
            return r.violations.filter(v => v.impact === "serious" || v.impact === "critical")
              .map(v => ({id: v.id, impact: v.impact, help: v.help,
                          nodes: v.nodes.slice(0, 4).map(n => n.target.join(" ") + " :: "
                            + (n.failureSummary || "").slice(0, 200))}));
        }"""
    )
    assert result == [], f"{screen}: " + json.dumps(result, ensure_ascii=False, indent=1)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("device", ["pc", "phone"])
def test_main_screens_are_captured_and_accessible(
    live_server, new_context, cast, device, theme, lang
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    ctx = new_context(viewport=DEVICES[device], color_scheme=theme, locale=LOCALES[lang])
    page = ctx.new_page()
    login(page, live_server.url, cast["me"])
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans" if lang == "zh" else "en")
    page.evaluate("document.getElementById('toast')?.remove()")  # the login toast

    def shot(screen: str) -> None:
        page.wait_for_timeout(150)
        overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        assert not overflow, f"{screen} overflows sideways"
        page.screenshot(path=str(SHOTS / f"{screen}-{device}-{theme}-{lang}.png"))
        if lang == "en":
            check_axe(page, f"{screen}-{device}-{theme}")

    base = live_server.url
    if device == "phone":
        shot("list")
    open_conversation(page, "Leo 李")
    shot("chat")
    page.goto(f"{base}/chats/{cast['group_conv']}/")
    page.wait_for_selector("#chat-view:not([hidden])")
    wait_chat_loaded(page)
    expect(page.locator("#chat-count")).to_have_text("(4)")
    expect(page.locator("#messages .file-card")).to_have_count(1)
    expect(page.locator("#messages .reaction")).to_have_count(2)
    expect(page.locator("#messages .quote")).to_have_count(1)
    expect(page.locator("#messages li.recalled")).to_have_count(1)
    shot("group")
    # The actions menu with the quick reactions, on the message with reactions.
    item = page.locator("#messages li.msg", has=page.locator(".reaction"))
    item.hover()
    item.locator(".msg-more").click()
    expect(page.locator("#msg-menu")).to_be_visible()
    shot("message-menu")
    page.locator("#msg-menu [data-action=reply]").click()
    page.locator("#composer-input").type("@")
    expect(page.locator("#mention-picker [role=option]")).to_have_count(4)
    shot("reply-mention")
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    page.locator("#composer-input").fill("")
    item.hover()
    item.locator(".msg-more").click()
    page.locator("#msg-menu [data-action=select]").click()
    expect(page.locator("#select-bar")).to_be_visible()
    shot("select")
    page.click("#select-cancel")
    page.click("#emoji-toggle")
    page.wait_for_selector("#emoji-picker .emoji")
    shot("emoji")
    page.keyboard.press("Escape")
    page.click("#info-open")
    expect(page.locator("#member-list li")).to_have_count(4)
    shot("group-info")
    if device == "phone":
        page.goto(f"{base}/")
    # (English words: a short-lived seeding process exits before its background thread
    # indexes Chinese text, docs/message-changes.md.)
    page.fill("#list-search", "station")
    expect(page.locator("#message-results li mark").first).to_have_text("station")
    shot("search")
    page.fill("#list-search", "")
    page.goto(f"{base}/contacts/")
    expect(page.locator("#friend-list li")).to_have_count(2)
    shot("contacts")
    page.goto(f"{base}/contacts/requests/")
    expect(page.locator("#incoming li")).to_have_count(1)
    shot("requests")
    page.goto(f"{base}/people/{cast['leo_id']}/")
    expect(page.locator("#person-message")).to_be_visible()
    shot("person")
    page.goto(f"{base}/me/")
    expect(page.locator("#profile-form")).to_be_visible()
    shot("profile")
    page.goto(f"{base}/settings/")
    expect(page.locator("#theme-choice")).to_be_visible()
    shot("settings")
