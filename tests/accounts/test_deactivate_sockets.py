"""Deactivating (or deleting) an account closes its open sockets at once: through the service
and through the admin, which goes through the service."""

from html.parser import HTMLParser

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from knox.models import AuthToken

from accounts.models import User
from accounts.services import user_active_set
from happychat.asgi import application
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


async def token_socket(user: User) -> tuple[WebsocketCommunicator, str]:
    _, key = await sync_to_async(AuthToken.objects.create)(user)
    ws = WebsocketCommunicator(
        application, "/ws/chat/", headers=[(b"authorization", f"Token {key}".encode())]
    )
    connected, _ = await ws.connect()
    assert connected
    assert (await ws.receive_json_from(timeout=2))["type"] == "hello"
    return ws, key


async def close_code(ws: WebsocketCommunicator) -> int:
    while True:
        output = await ws.receive_output(timeout=1)  # "at once": well within a second
        if output["type"] == "websocket.close":
            return int(output["code"])


async def assert_still_open(ws: WebsocketCommunicator) -> None:
    await ws.send_json_to({"type": "ping"})
    while (await ws.receive_json_from(timeout=2))["type"] != "pong":
        pass


class FormFields(HTMLParser):
    """The fields of the admin's change form as a browser would post them."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            default = "on" if a.get("type") in ("checkbox", "radio") else ""
            self.data.setdefault(name, []).append(a.get("value") or default)
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self.data.setdefault(self._select, []).append(a.get("value") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def change_form(client: Client, user: User) -> dict[str, list[str]]:
    page = client.get(f"/admin/accounts/user/{user.pk}/change/")
    assert page.status_code == 200
    parser = FormFields()
    parser.feed(page.content.decode())
    return parser.data


async def test_deactivating_through_the_service_closes_every_socket_of_the_user_only():
    alice = await sync_to_async(UserFactory)(username="alice")
    bob = await sync_to_async(UserFactory)(username="bob")
    phone, phone_key = await token_socket(alice)
    laptop, _ = await token_socket(alice)
    other, _ = await token_socket(bob)

    await sync_to_async(user_active_set)(user=alice, active=False)

    assert await close_code(phone) == 4003
    assert await close_code(laptop) == 4003
    await assert_still_open(other)
    # The same token cannot open a socket while the account is inactive.
    again = WebsocketCommunicator(
        application, "/ws/chat/", headers=[(b"authorization", f"Token {phone_key}".encode())]
    )
    await again.connect()
    assert await close_code(again) == 4001
    for ws in (phone, laptop, other, again):
        await ws.disconnect()


async def test_unticking_active_in_the_admin_closes_the_users_sockets():
    alice = await sync_to_async(UserFactory)(username="alice")
    admin = await sync_to_async(User.objects.create_superuser)("root", "root@example.com", "pw")
    ws, _ = await token_socket(alice)
    client = Client()
    await sync_to_async(client.force_login)(admin)

    data = await sync_to_async(change_form)(client, alice)
    assert data.pop("is_active") == ["on"]
    data["_save"] = ["Save"]
    response = await sync_to_async(client.post)(f"/admin/accounts/user/{alice.pk}/change/", data)

    assert response.status_code == 302
    assert await close_code(ws) == 4003
    assert not (await sync_to_async(User.objects.get)(pk=alice.pk)).is_active
    await ws.disconnect()


async def test_other_admin_edits_leave_the_sockets_open():
    alice = await sync_to_async(UserFactory)(username="alice")
    admin = await sync_to_async(User.objects.create_superuser)("root", "root@example.com", "pw")
    ws, _ = await token_socket(alice)
    client = Client()
    await sync_to_async(client.force_login)(admin)

    data = await sync_to_async(change_form)(client, alice)
    data["nickname"] = ["Ally"]
    data["_save"] = ["Save"]
    response = await sync_to_async(client.post)(f"/admin/accounts/user/{alice.pk}/change/", data)

    assert response.status_code == 302
    await assert_still_open(ws)
    await ws.disconnect()


async def test_deleting_a_user_in_the_admin_closes_their_sockets():
    alice = await sync_to_async(UserFactory)(username="alice")
    admin = await sync_to_async(User.objects.create_superuser)("root", "root@example.com", "pw")
    ws, _ = await token_socket(alice)
    client = Client()
    await sync_to_async(client.force_login)(admin)

    response = await sync_to_async(client.post)(
        f"/admin/accounts/user/{alice.pk}/delete/", {"post": "yes"}
    )

    assert response.status_code == 302
    assert await close_code(ws) == 4003
    assert not await sync_to_async(User.objects.filter(pk=alice.pk).exists)()
    await ws.disconnect()


async def test_deleting_a_token_on_the_users_admin_page_closes_only_its_socket():
    alice = await sync_to_async(UserFactory)(username="alice")
    admin = await sync_to_async(User.objects.create_superuser)("root", "root@example.com", "pw")
    phone, phone_key = await token_socket(alice)
    laptop, _ = await token_socket(alice)
    client = Client()
    await sync_to_async(client.force_login)(admin)

    data = await sync_to_async(change_form)(client, alice)
    phone_token = await sync_to_async(AuthToken.objects.get)(token_key=phone_key[:15])
    row = next(
        key.split("-")[1]
        for key, value in data.items()
        if key.endswith("-digest") and value == [phone_token.digest]
    )
    data[f"auth_token_set-{row}-DELETE"] = ["on"]
    data["_save"] = ["Save"]
    response = await sync_to_async(client.post)(f"/admin/accounts/user/{alice.pk}/change/", data)

    assert response.status_code == 302
    assert await close_code(phone) == 4003
    await assert_still_open(laptop)
    await phone.disconnect()
    await laptop.disconnect()
