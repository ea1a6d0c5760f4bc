"""Property-based fuzz of the socket (hypothesis) through WebsocketCommunicator.

For any sequence of hostile frames: every answer is a JSON frame of the contract, every
error code is in the contract's set (and never `busy`: the database is fine, so `busy`
would mean a frame got past validation and crashed something), nothing is logged as an
exception, the socket is never closed, a valid `send` afterwards still gets its ack (the
write worker lives), and after the disconnect the socket has left every group, the user
is offline and no write is left reserved. Bounded to well under a minute.
"""

import json
import logging
from itertools import count

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from knox.models import AuthToken

from accounts.models import Friendship, User
from chat import presence, writer
from chat.services import conversation_direct_get_or_create
from happychat.asgi import application
from tests.factories import UserFactory
from tests.frames import CONTRACT_ERRORS, SERVER_TYPES, frames

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

probe_ids = count()


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def world(transactional_db):
    alice = UserFactory(username="fuzz-alice")
    bob = UserFactory(username="fuzz-bob")
    Friendship.objects.get_or_create(user=alice, friend=bob)
    Friendship.objects.get_or_create(user=bob, friend=alice)
    conversation, _ = conversation_direct_get_or_create(user_a=alice, user_b=bob)
    return {"alice": alice, "conversation": conversation.pk}


@pytest.fixture
def errors_logged():
    handler = Collect()
    logger = logging.getLogger("happychat")
    logger.addHandler(handler)
    yield handler.records
    logger.removeHandler(handler)


async def open_socket(user: User) -> WebsocketCommunicator:
    _, token = await sync_to_async(AuthToken.objects.create)(user)
    ws = WebsocketCommunicator(
        application, "/ws/chat/", headers=[(b"authorization", f"Token {token}".encode())]
    )
    connected, _ = await ws.connect()
    assert connected
    return ws


def check_output(output: dict) -> dict:
    assert output["type"] == "websocket.send", f"socket closed: {output}"
    output["text"].encode("utf-8")  # what daphne does with it (lone surrogates fail here)
    frame = json.loads(output["text"])
    assert frame["type"] in SERVER_TYPES, frame
    if frame["type"] == "error":
        assert frame["code"] in CONTRACT_ERRORS - {"busy"}, frame
    return frame


# The fixture's conversation is the first one of a fresh database on each worker run, but
# not necessarily id 1: the strategies take it from here, set before the test runs.
CONVERSATION = {"id": 0}


@st.composite
def frame_lists(draw):
    return draw(st.lists(frames(CONVERSATION["id"], real_socket=False), min_size=1, max_size=8))


@settings(
    max_examples=120,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sent=frame_lists())
async def test_no_frame_sequence_breaks_the_socket(world, errors_logged, sent):
    errors_logged.clear()  # each example answers for its own
    conversation = world["conversation"]
    user = world["alice"]
    layer = get_channel_layer()
    groups_before = {g: set(members) for g, members in layer.groups.items() if members}
    ws = await open_socket(user)
    try:
        assert check_output(await ws.receive_output(timeout=5))["type"] == "hello"
        for kind, payload in sent:
            await ws.send_input({"type": "websocket.receive", kind: payload})
        probe = f"probe-{next(probe_ids)}"
        await ws.send_json_to(
            {"type": "send", "id": probe, "conversation": conversation, "body": "still here"}
        )
        while True:
            frame = check_output(await ws.receive_output(timeout=10))
            if frame["type"] == "ack" and frame["id"] == probe:
                break
        assert not ws.future.done()
    finally:
        await ws.disconnect()
    groups_after = {g: set(members) for g, members in layer.groups.items() if members}
    assert groups_after == groups_before, "the socket was left in a channel-layer group"
    assert await presence.store().online([user.pk]) == set()
    assert writer.pending() == 0
    assert errors_logged == []


@pytest.fixture(autouse=True)
def _conversation_for_strategies(world):
    CONVERSATION["id"] = world["conversation"]


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sent=frame_lists())
async def test_frames_before_auth_get_errors_or_a_clean_close(world, errors_logged, sent):
    errors_logged.clear()
    ws = WebsocketCommunicator(application, "/ws/chat/")
    connected, _ = await ws.connect()
    assert connected
    try:
        for kind, payload in sent:
            await ws.send_input({"type": "websocket.receive", kind: payload})
        await ws.send_json_to({"type": "ping"})
        while True:
            output = await ws.receive_output(timeout=10)
            if output["type"] == "websocket.close":
                # A bad `auth` (4001) or, with a real token by luck, nothing else.
                assert output["code"] == 4001, output
                break
            frame = check_output(output)
            if frame["type"] == "pong":
                break
        assert not ws.future.done() or ws.future.exception() is None
    finally:
        await ws.disconnect()
    assert writer.pending() == 0
    assert errors_logged == []
