"""Cookie-authenticated sockets: the Origin must be exactly this site (scheme, host, port)
or listed in WEBSOCKET_ALLOWED_ORIGINS. Token sockets do not depend on an Origin."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from knox.models import AuthToken

from chat.transport import origin_allowed
from happychat.asgi import application
from tests.chat.conftest import receive_type

pytestmark = pytest.mark.django_db(transaction=True)


def scope(origin: str | None, host: str = "chat.example.com", **extra) -> dict:
    headers = [(b"host", host.encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    headers += [(k.encode(), v.encode()) for k, v in extra.pop("headers", {}).items()]
    return {"type": "websocket", "headers": headers, **extra}


@pytest.fixture
def site(settings):
    settings.ALLOWED_HOSTS = ["chat.example.com", "127.0.0.1", "[::1]"]
    settings.WEBSOCKET_ALLOWED_ORIGINS = []
    settings.SECURE_PROXY_SSL_HEADER = None
    return settings


@pytest.mark.parametrize(
    ("origin", "host", "allowed"),
    [
        ("http://chat.example.com", "chat.example.com", True),
        ("http://Chat.Example.com:80", "chat.example.com", True),  # default port, any case
        ("http://chat.example.com/", "chat.example.com", True),
        ("https://chat.example.com", "chat.example.com", False),  # other scheme
        ("http://chat.example.com:8080", "chat.example.com", False),  # other port
        ("http://127.0.0.1:8000", "127.0.0.1:8000", True),
        ("http://127.0.0.1:9000", "127.0.0.1:8000", False),
        ("https://127.0.0.1:8000", "127.0.0.1:8000", False),
        ("http://[::1]:8000", "[::1]:8000", True),
        ("http://evil.example", "chat.example.com", False),
        ("http://chat.example.com.evil.example", "chat.example.com", False),
        ("http://evil.example", "evil.example", False),  # a Host not allowed is no site
        ("null", "chat.example.com", False),
        ("http://chat.example.com/page", "chat.example.com", False),
        ("http://user@chat.example.com", "chat.example.com", False),
        ("http://chat.example.com:99999", "chat.example.com", False),
        ("ftp://chat.example.com", "chat.example.com", False),
        ("", "chat.example.com", False),
    ],
)
def test_the_sites_own_origin_must_match_exactly(site, origin, host, allowed):
    assert origin_allowed(scope(origin, host)) is allowed


def test_no_origin_is_not_allowed(site):
    assert origin_allowed(scope(None)) is False


def test_a_wildcard_allowed_host_does_not_admit_every_subdomain_as_an_origin(site):
    site.ALLOWED_HOSTS = [".example.com"]
    assert origin_allowed(scope("http://chat.example.com", "chat.example.com"))
    assert not origin_allowed(scope("http://evil.example.com", "chat.example.com"))
    assert not origin_allowed(scope("https://evil.example.com", "chat.example.com"))


def test_tls_is_the_https_origin_directly_or_as_the_proxy_says(site):
    assert origin_allowed(scope("https://chat.example.com", scheme="wss"))
    assert not origin_allowed(scope("http://chat.example.com", scheme="wss"))
    site.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    forwarded = {"headers": {"x-forwarded-proto": "https"}}
    assert origin_allowed(scope("https://chat.example.com", **forwarded))
    assert not origin_allowed(scope("http://chat.example.com", **forwarded))
    assert origin_allowed(scope("http://chat.example.com"))  # the proxy said nothing


def test_listed_origins_match_exactly_too(site):
    site.WEBSOCKET_ALLOWED_ORIGINS = ["https://app.example.org", "http://localhost:3000"]
    assert origin_allowed(scope("https://app.example.org"))
    assert origin_allowed(scope("https://app.example.org:443"))
    assert not origin_allowed(scope("http://app.example.org"))
    assert not origin_allowed(scope("https://app.example.org:8443"))
    assert not origin_allowed(scope("https://sub.app.example.org"))
    assert origin_allowed(scope("http://localhost:3000"))
    assert not origin_allowed(scope("http://localhost:3001"))


async def session_socket(user, origin: bytes, host: bytes = b"testserver") -> WebsocketCommunicator:
    client = Client()
    await sync_to_async(client.force_login)(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    ws = WebsocketCommunicator(
        application,
        "/ws/chat/",
        headers=[(b"cookie", cookie), (b"host", host), (b"origin", origin)],
    )
    await ws.connect()
    return ws


async def test_a_cookie_socket_from_another_port_of_the_same_host_is_not_trusted(alice, settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    settings.CHAT_AUTH_TIMEOUT_SECONDS = 0.3
    ws = await session_socket(alice, b"http://127.0.0.1:9999", b"127.0.0.1:8000")
    assert (await ws.receive_output(timeout=2))["code"] == 4001
    await ws.disconnect()
    ws = await session_socket(alice, b"http://127.0.0.1:8000", b"127.0.0.1:8000")
    assert (await receive_type(ws, "hello"))["user"]["id"] == alice.pk
    await ws.disconnect()


async def test_a_token_socket_needs_no_origin_and_any_origin_does_not_matter(alice, settings):
    settings.ALLOWED_HOSTS = ["testserver"]
    _, key = await sync_to_async(AuthToken.objects.create)(alice)
    for headers in ([], [(b"origin", b"https://evil.example")]):
        ws = WebsocketCommunicator(
            application,
            "/ws/chat/",
            headers=[(b"authorization", f"Token {key}".encode()), *headers],
        )
        await ws.connect()
        assert (await receive_type(ws, "hello"))["user"]["id"] == alice.pk
        await ws.disconnect()
