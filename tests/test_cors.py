"""CORS for packaged apps: origins in CORS_ALLOWED_ORIGINS may call the API with a token."""

import pytest
from channels.testing import WebsocketCommunicator
from knox.models import AuthToken
from rest_framework.test import APIClient

from happychat.asgi import application
from tests.factories import UserFactory

APP = "https://appassets.androidplatform.net"
OTHER = "https://evil.example"


@pytest.fixture
def app_origin(settings):
    settings.CORS_ALLOWED_ORIGINS = [APP, "http://localhost"]


@pytest.fixture
def token(db):
    return AuthToken.objects.create(user=UserFactory(username="alice"))[1]


def preflight(origin: str, path: str = "/api/v1/conversations/"):
    return APIClient().options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type",
    )


def test_preflight_from_a_configured_app_origin_is_granted(app_origin, db):
    response = preflight(APP)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == APP
    allowed_headers = response["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed_headers
    assert "content-type" in allowed_headers
    assert "POST" in response["Access-Control-Allow-Methods"]
    # Tokens cross origins, cookies do not.
    assert "Access-Control-Allow-Credentials" not in response


def test_token_request_from_a_configured_app_origin_succeeds(app_origin, token):
    response = APIClient().get("/api/v1/me/", HTTP_ORIGIN=APP, HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 200
    assert response.json()["username"] == "alice"
    assert response["Access-Control-Allow-Origin"] == APP


def test_token_post_from_a_configured_app_origin_needs_no_csrf(app_origin, token):
    client = APIClient(enforce_csrf_checks=True)
    response = client.post(
        "/api/v1/groups/",
        {"name": "From the app"},
        format="json",
        HTTP_ORIGIN=APP,
        HTTP_AUTHORIZATION=f"Token {token}",
    )
    assert response.status_code == 201, response.content
    assert response["Access-Control-Allow-Origin"] == APP


def test_error_answers_carry_the_grant_too(app_origin, db):
    response = APIClient().get("/api/v1/me/", HTTP_ORIGIN=APP)
    assert response.status_code == 401
    assert response["Access-Control-Allow-Origin"] == APP


def test_other_origins_get_no_grant(app_origin, token):
    assert "Access-Control-Allow-Origin" not in preflight(OTHER)
    response = APIClient().get(
        "/api/v1/me/", HTTP_ORIGIN=OTHER, HTTP_AUTHORIZATION=f"Token {token}"
    )
    assert "Access-Control-Allow-Origin" not in response


def test_no_origin_is_granted_by_default(token):
    assert "Access-Control-Allow-Origin" not in preflight(APP)


def test_pages_outside_the_api_get_no_grant(app_origin, db):
    response = APIClient().get("/accounts/login/", HTTP_ORIGIN=APP)
    assert "Access-Control-Allow-Origin" not in response


@pytest.mark.django_db(transaction=True)
async def test_token_socket_from_a_configured_app_origin_works(app_origin):
    from asgiref.sync import sync_to_async

    key = await sync_to_async(lambda: AuthToken.objects.create(user=UserFactory())[1])()
    ws = WebsocketCommunicator(
        application, "/ws/chat/", headers=[(b"origin", APP.encode()), (b"host", b"chat.example")]
    )
    connected, _ = await ws.connect()
    assert connected
    await ws.send_json_to({"type": "auth", "token": key})
    assert (await ws.receive_json_from(timeout=3))["type"] == "hello"
    await ws.disconnect()
