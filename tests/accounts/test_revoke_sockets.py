"""Logging out, changing the password or revoking a token closes the affected sockets."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts import services
from happychat.asgi import application
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

CLOSE_REVOKED = 4003
NEW_PASSWORD = "correct horse battery 42"


async def token_socket(key: str) -> WebsocketCommunicator:
    ws = WebsocketCommunicator(
        application, "/ws/chat/", headers=[(b"authorization", f"Token {key}".encode())]
    )
    connected, _ = await ws.connect()
    assert connected
    assert (await ws.receive_json_from(timeout=2))["type"] == "hello"
    return ws


async def session_socket(client: Client) -> WebsocketCommunicator:
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    ws = WebsocketCommunicator(
        application,
        "/ws/chat/",
        headers=[
            (b"cookie", cookie.encode()),
            (b"origin", b"http://testserver"),
            (b"host", b"testserver"),
        ],
    )
    connected, _ = await ws.connect()
    assert connected
    assert (await ws.receive_json_from(timeout=2))["type"] == "hello"
    return ws


async def assert_closed_by_revocation(ws: WebsocketCommunicator) -> None:
    output = await ws.receive_output(timeout=1)  # "within a second"
    assert output == {"type": "websocket.close", "code": CLOSE_REVOKED}


async def assert_still_open(ws: WebsocketCommunicator) -> None:
    await ws.send_json_to({"type": "ping"})
    assert (await ws.receive_json_from(timeout=2))["type"] == "pong"


def new_token(user) -> str:
    return AuthToken.objects.create(user=user)[1]


def delete_token_over_rest(key: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.delete("/api/v1/auth/token/").status_code


async def test_revoking_a_token_closes_only_the_socket_that_used_it():
    user = await sync_to_async(UserFactory)(username="alice")
    phone_key = await sync_to_async(new_token)(user)
    laptop_key = await sync_to_async(new_token)(user)
    phone = await token_socket(phone_key)
    laptop = await token_socket(laptop_key)

    assert await sync_to_async(delete_token_over_rest)(phone_key) == 204

    await assert_closed_by_revocation(phone)
    await assert_still_open(laptop)
    await laptop.disconnect()
    await phone.disconnect()


async def test_revoked_token_cannot_open_a_new_socket():
    user = await sync_to_async(UserFactory)(username="alice")
    key = await sync_to_async(new_token)(user)
    await sync_to_async(delete_token_over_rest)(key)

    ws = WebsocketCommunicator(
        application, "/ws/chat/", headers=[(b"authorization", f"Token {key}".encode())]
    )
    await ws.connect()
    output = await ws.receive_output(timeout=2)
    assert output == {"type": "websocket.close", "code": 4001}
    await ws.disconnect()


async def test_logout_closes_that_browser_sessions_socket_only():
    user = await sync_to_async(UserFactory)(username="alice")
    leaving, staying = Client(), Client()
    await sync_to_async(leaving.force_login)(user)
    await sync_to_async(staying.force_login)(user)
    leaving_ws = await session_socket(leaving)
    staying_ws = await session_socket(staying)
    token_ws = await token_socket(await sync_to_async(new_token)(user))

    response = await sync_to_async(leaving.post)("/accounts/logout/")
    assert response.status_code == 302

    await assert_closed_by_revocation(leaving_ws)
    await assert_still_open(staying_ws)
    await assert_still_open(token_ws)
    for ws in (leaving_ws, staying_ws, token_ws):
        await ws.disconnect()


async def test_password_change_closes_every_socket_of_the_user_and_no_one_elses():
    user = await sync_to_async(UserFactory)(username="alice")
    other = await sync_to_async(UserFactory)(username="bob")
    browser = Client()
    await sync_to_async(browser.force_login)(user)
    session_ws = await session_socket(browser)
    token_ws = await token_socket(await sync_to_async(new_token)(user))
    bystander = await token_socket(await sync_to_async(new_token)(other))

    response = await sync_to_async(browser.post)(
        "/accounts/password/change/",
        {"oldpassword": "password", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302

    await assert_closed_by_revocation(session_ws)
    await assert_closed_by_revocation(token_ws)
    await assert_still_open(bystander)
    for ws in (session_ws, token_ws, bystander):
        await ws.disconnect()


async def test_password_set_service_publishes_revocation_of_all_sessions():
    user = await sync_to_async(UserFactory)(username="alice")
    token_ws = await token_socket(await sync_to_async(new_token)(user))

    await sync_to_async(services.user_password_set)(user=user, password=NEW_PASSWORD)

    await assert_closed_by_revocation(token_ws)
    await token_ws.disconnect()
