"""Over the real ASGI app: a `send` frame gets its ack, then the robot's typing and reply."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from knox.models import AuthToken

from chat.services.conversations import conversation_robot_ensure, robot_user
from happychat.asgi import application
from robot import dispatch

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("robot_knowledge")]


@database_sync_to_async
def setup(user):
    _token, key = AuthToken.objects.create(user)
    return key, conversation_robot_ensure(user=user).pk, robot_user().pk


async def test_robot_reply_arrives_on_the_socket(user):
    key, conversation_id, robot_id = await setup(user)
    ws = WebsocketCommunicator(
        application, "/ws/chat/", headers=[(b"authorization", f"Token {key}".encode())]
    )
    connected, _ = await ws.connect()
    assert connected
    try:
        assert (await ws.receive_json_from(timeout=3))["type"] == "hello"
        await ws.send_json_to(
            {
                "type": "send",
                "id": "w1",
                "conversation": conversation_id,
                "kind": "text",
                "body": "/calc 2+2",
            }
        )
        frames = [await ws.receive_json_from(timeout=3) for _ in range(3)]
        by_type = {f["type"]: f for f in frames}
        assert by_type["ack"]["id"] == "w1"
        assert by_type["typing"] == {
            "type": "typing",
            "conversation": conversation_id,
            "user": robot_id,
        }
        assert by_type["message"]["message"]["body"] == "2+2 = 4"
        assert by_type["message"]["message"]["sender"]["id"] == robot_id
        order = [f["type"] for f in frames]
        assert order.index("typing") < order.index("message")
    finally:
        await ws.disconnect()
        await database_sync_to_async(dispatch.wait_idle)(10)
