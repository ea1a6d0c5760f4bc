"""Helpers for the chat UI browser tests: seed people on the live server, log in, chat."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Mapping

from tests.servers import PYTHON, ROOT

PASSWORD = "correct-horse-battery-9"


def run_django(env: Mapping[str, str], code: str) -> object:
    """Run `code` in the live server's Django (its database); it sets `result`."""
    script = (
        "import json, django\ndjango.setup()\nresult = None\n"
        + code
        + "\nprint(json.dumps(result))"
    )
    out = subprocess.run(
        [PYTHON, "-c", script],
        cwd=ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6]}"


def make_user(env: Mapping[str, str], username: str, nickname: str | None = None) -> int:
    """An activated user with PASSWORD and their robot conversation; returns the id."""
    return int(
        run_django(
            env,
            f"""
from tests.factories import UserFactory
from chat.services import conversation_robot_ensure
u = UserFactory(
    username={username!r}, nickname={nickname or username.title()!r}, password={PASSWORD!r}
)
conversation_robot_ensure(user=u)
result = u.pk
""",
        )  # type: ignore[arg-type]
    )


def befriend(env: Mapping[str, str], a: str, b: str) -> None:
    """Make a and b friends through the real services (events and direct conversation)."""
    run_django(
        env,
        f"""
from accounts.models import User
from friends.services import friend_request_send, friend_request_accept
a = User.objects.get(username={a!r}); b = User.objects.get(username={b!r})
req = friend_request_send(from_user=a, to_user_id=b.pk, message="hi")
friend_request_accept(user=b, request_id=req.pk)
""",
    )


def set_remark(env: Mapping[str, str], user: str, friend: str, remark: str) -> None:
    run_django(
        env,
        f"""
from accounts.models import User
from friends.services import friend_remark_set
u = User.objects.get(username={user!r}); f = User.objects.get(username={friend!r})
friend_remark_set(user=u, friend_id=f.pk, remark={remark!r})
""",
    )


def make_group(env: Mapping[str, str], owner: str, name: str, members: list[str]) -> int:
    """A group created through the groups service; returns its conversation id."""
    return int(
        run_django(
            env,
            f"""
from accounts.models import User
from groups import services
owner = User.objects.get(username={owner!r})
ids = list(User.objects.filter(username__in={members!r}).values_list("pk", flat=True))
group = services.group_create(owner=owner, name={name!r}, member_ids=ids)
result = group.conversation_id
""",
        )  # type: ignore[arg-type]
    )


def login(page, base_url: str, username: str) -> None:  # type: ignore[no-untyped-def]
    """Log in through the real form and wait for the chat shell to be live."""
    page.goto(f"{base_url}/accounts/login/?next=/")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form [type=submit]").first.click()
    page.wait_for_url(f"{base_url}/")
    wait_live(page)


def wait_live(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function("window.happychat && window.happychat.client.status === 'open'")


def conversation_link(page, title: str):  # type: ignore[no-untyped-def]
    return page.locator("#conversations a.conv", has=page.locator(".conv-title", has_text=title))


def open_conversation(page, title: str) -> None:  # type: ignore[no-untyped-def]
    conversation_link(page, title).first.click()
    page.wait_for_selector("#chat-view:not([hidden])")
    wait_chat_loaded(page)


def wait_chat_loaded(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function(
        "window.happychat.chat.current && !window.happychat.chat.current.loading"
    )


def send_text(page, text: str) -> None:  # type: ignore[no-untyped-def]
    page.fill("#composer-input", text)
    page.press("#composer-input", "Enter")


def bubble_texts(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.locator("#messages li.msg .text").all_text_contents()
