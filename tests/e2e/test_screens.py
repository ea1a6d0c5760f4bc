"""Screenshots of the main chat screens: light and dark, PC and phone, English and Chinese.

Written to test-artifacts/screenshots/<screen>-<device>-<theme>-<lang>.png for people to
look at; each run also checks the screen is laid out (nothing overflows sideways).
"""

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
)
from tests.e2e.conftest import ARTIFACTS

SHOTS = ARTIFACTS / "screenshots"
DEVICES = {"pc": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
LOCALES = {"en": "en-US", "zh": "zh-CN"}


@pytest.fixture(scope="module")
def cast(live_server_env):
    """A user with a friend, a group and some history to show."""
    me, friend, third = unique("mia"), unique("leo"), unique("zoe")
    make_user(live_server_env, me, nickname="Mia")
    make_user(live_server_env, friend, nickname="Leo 李")
    make_user(live_server_env, third, nickname="Zoe")
    befriend(live_server_env, me, friend)
    befriend(live_server_env, me, third)
    group_conv = make_group(live_server_env, me, "Weekend hiking 周末爬山", [friend, third])
    run_django(
        live_server_env,
        f"""
import uuid
from accounts.models import User
from chat.models import Conversation
from chat.services.messages import message_send
me = User.objects.get(username={me!r})
leo = User.objects.get(username={friend!r})
zoe = User.objects.get(username={third!r})
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
for sender, body in [(zoe, "Who is driving?"), (leo, "I can take three people"),
                     (zoe, "天气预报说周六晴天 ☀️")]:
    message_send(sender=sender, conversation_id={group_conv}, client_id=str(uuid.uuid4()),
                 body=body)
""",
    )
    return {"me": me}


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("device", ["pc", "phone"])
def test_main_screens_are_captured(live_server, new_context, cast, device, theme, lang):
    SHOTS.mkdir(parents=True, exist_ok=True)
    ctx = new_context(viewport=DEVICES[device], color_scheme=theme, locale=LOCALES[lang])
    page = ctx.new_page()
    login(page, live_server.url, cast["me"])
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans" if lang == "zh" else "en")
    page.wait_for_timeout(4500)  # let the login toast fade

    def shot(screen: str) -> None:
        overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        assert not overflow, f"{screen} overflows sideways"
        page.screenshot(path=str(SHOTS / f"{screen}-{device}-{theme}-{lang}.png"))

    if device == "phone":
        shot("list")
    open_conversation(page, "Leo 李")
    shot("chat")
    if device == "phone":
        page.click("#back")
    open_conversation(page, "Weekend hiking")
    shot("group")
    page.click("#emoji-toggle")
    page.wait_for_selector("#emoji-picker .emoji")
    shot("emoji")
    page.keyboard.press("Escape")
    if device == "phone":
        page.click("#back")
    page.click("#settings-open")
    expect(page.locator("#settings-dialog")).to_be_visible()
    shot("settings")
