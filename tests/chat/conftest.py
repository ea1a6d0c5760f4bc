"""Chat fixtures: two friends with their direct conversation, a group, token sockets."""

from collections.abc import AsyncIterator, Callable

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from knox.models import AuthToken

from accounts.models import Friendship, User
from chat.models import Conversation
from chat.services import conversation_direct_get_or_create, conversation_group_create
from happychat.asgi import application
from tests.factories import UserFactory


def befriend(a: User, b: User) -> Conversation:
    Friendship.objects.get_or_create(user=a, friend=b)
    Friendship.objects.get_or_create(user=b, friend=a)
    return conversation_direct_get_or_create(user_a=a, user_b=b)[0]


@pytest.fixture
def alice(db) -> User:
    return UserFactory(username="alice")


@pytest.fixture
def bob(db) -> User:
    return UserFactory(username="bob")


@pytest.fixture
def carol(db) -> User:
    return UserFactory(username="carol")


@pytest.fixture
def direct(alice, bob) -> Conversation:
    return befriend(alice, bob)


@pytest.fixture
def trio(alice, bob, carol) -> Conversation:
    return conversation_group_create(user_ids=[alice.pk, bob.pk, carol.pk])


@pytest.fixture
def _fast_heartbeat(settings):
    settings.CHAT_HEARTBEAT_SECONDS = 25


@pytest.fixture
async def connect() -> AsyncIterator[Callable]:
    """Open token-authenticated sockets (one per device); all are disconnected at the end."""
    opened: list[WebsocketCommunicator] = []

    async def open_socket(user: User, *, hello: bool = True) -> WebsocketCommunicator:
        _, token = await sync_to_async(AuthToken.objects.create)(user)
        ws = WebsocketCommunicator(
            application, "/ws/chat/", headers=[(b"authorization", f"Token {token}".encode())]
        )
        connected, _ = await ws.connect()
        assert connected
        opened.append(ws)
        if hello:
            frame = await ws.receive_json_from(timeout=5)
            assert frame["type"] == "hello"
            await drain(ws)
        return ws

    yield open_socket
    for ws in opened:
        await ws.disconnect()


async def drain(ws: WebsocketCommunicator, timeout: float = 0.2) -> list[dict]:
    """Everything the socket has received so far (presence chatter etc.)."""
    frames = []
    while not await ws.receive_nothing(timeout=timeout):
        frames.append(await ws.receive_json_from())
    return frames


async def receive_type(ws: WebsocketCommunicator, kind: str, timeout: float = 5) -> dict:
    """The next frame of `kind`, skipping presence and other chatter."""
    while True:
        frame = await ws.receive_json_from(timeout=timeout)
        if frame["type"] == kind:
            return frame
