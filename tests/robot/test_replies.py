"""The robot answers through message_send, off the request path, once per message, in 2 s."""

import asyncio
import json
import time

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from rest_framework.test import APIClient

from chat.models import Message
from chat.services.conversations import conversation_robot_ensure, robot_user
from chat.services.messages import message_send
from groups.services import group_create, group_join
from happychat.events import conversation_group
from robot import dispatch
from robot.backends import reset_backends
from robot.models import RobotTurn
from robot.selectors import knowledge_forget
from robot.services import robot_group_join
from safety.services import sensitive_word_save
from tests.robot.stub_server import stub_server

# The reply is written by a worker thread with its own connection, so the data must be
# committed; robot_knowledge puts back the seeded FAQ that a flush removes.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("robot_knowledge")]


@pytest.fixture(autouse=True)
def _clean_state():
    reset_backends()
    knowledge_forget()
    yield
    assert dispatch.wait_idle(timeout=10)
    reset_backends()


def robot_messages(conversation_id: int) -> list[Message]:
    return list(
        Message.objects.filter(conversation_id=conversation_id, sender=robot_user()).order_by("seq")
    )


def wait_for_reply(conversation_id: int, count: int = 1, timeout: float = 5.0) -> list[Message]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = robot_messages(conversation_id)
        if len(found) >= count:
            return found
        time.sleep(0.02)
    return robot_messages(conversation_id)


def say(user, conversation_id: int, body: str, client_id: str) -> Message:
    message, _created = message_send(
        sender=user, conversation_id=conversation_id, client_id=client_id, body=body
    )
    return message


@pytest.fixture
def robot_chat(user):
    return conversation_robot_ensure(user=user)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/calc 2*(3+4)", "2*(3+4) = 14"),
        ("/help", "/calc"),
        ("/time", "It is "),
        ("How do I add a friend?", "friend request"),
        ("怎么加好友？", "好友申请"),
        ("hello", "HappyBot"),
    ],
)
def test_robot_answers_in_its_conversation(user, robot_chat, text, expected):
    started = time.monotonic()
    message = say(user, robot_chat.pk, text, "m1")
    # message_send returns at once: the reply is produced off the request path.
    assert time.monotonic() - started < 0.5
    replies = wait_for_reply(robot_chat.pk)
    assert time.monotonic() - started < 2.0
    assert len(replies) == 1
    reply = replies[0]
    assert expected in reply.body
    assert reply.client_id == f"reply:{message.pk}"
    assert reply.seq == message.seq + 1


def test_retried_user_message_gets_one_reply(user, robot_chat):
    first = say(user, robot_chat.pk, "/calc 1+1", "same-id")
    again = say(user, robot_chat.pk, "/calc 1+1", "same-id")
    assert again.pk == first.pk
    wait_for_reply(robot_chat.pk)
    # Even a duplicate hook call (a retry racing the first) does not answer twice.
    dispatch.message_committed(first)
    dispatch.message_committed(first)
    assert dispatch.wait_idle(timeout=5)
    assert [m.body for m in robot_messages(robot_chat.pk)] == ["1+1 = 2"]
    assert Message.objects.filter(conversation=robot_chat).count() == 2


def test_robot_does_not_answer_itself(user, robot_chat):
    robot = robot_user()
    say(robot, robot_chat.pk, "talking to myself", "self-1")
    assert dispatch.wait_idle(timeout=5)
    assert [m.body for m in robot_messages(robot_chat.pk)] == ["talking to myself"]


def test_slow_backend_falls_back_and_the_reply_arrives_within_two_seconds(
    user, robot_chat, settings
):
    with stub_server() as webhook:
        settings.ROBOT_BACKEND = "webhook"
        settings.ROBOT_WEBHOOK_URL = webhook.url
        webhook.respond = lambda body: (200, {"reply": "too late"}, 5.0)
        started = time.monotonic()
        say(user, robot_chat.pk, "how do I create a group", "slow-1")
        replies = wait_for_reply(robot_chat.pk)
        elapsed = time.monotonic() - started
        assert elapsed < 2.0
        assert len(replies) == 1
        assert "New group" in replies[0].body
        assert len(webhook.requests) == 1


def test_smart_backend_reply_is_sent_and_memory_is_passed_next_time(user, robot_chat, settings):
    with stub_server() as webhook:
        settings.ROBOT_BACKEND = "webhook"
        settings.ROBOT_WEBHOOK_URL = webhook.url
        webhook.respond = lambda body: (200, {"reply": f"echo: {body['text']}"}, 0)
        say(user, robot_chat.pk, "my name is Alice", "mem-1")
        assert wait_for_reply(robot_chat.pk)[0].body == "echo: my name is Alice"
        say(user, robot_chat.pk, "what is my name?", "mem-2")
        assert wait_for_reply(robot_chat.pk, count=2)[1].body == "echo: what is my name?"
        assert webhook.requests[1]["body"]["history"] == [
            {"role": "user", "text": "my name is Alice"},
            {"role": "assistant", "text": "echo: my name is Alice"},
        ]


def test_memory_keeps_only_the_last_turns(user, robot_chat, settings):
    settings.ROBOT_MEMORY_TURNS = 4
    for i in range(4):
        say(user, robot_chat.pk, f"/calc {i}+1", f"turn-{i}")
        wait_for_reply(robot_chat.pk, count=i + 1)
    assert list(RobotTurn.objects.filter(user=user).values_list("text", flat=True)) == [
        "/calc 2+1",
        "2+1 = 3",
        "/calc 3+1",
        "3+1 = 4",
    ]


def test_robot_shows_typing_before_it_answers(user, robot_chat):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(conversation_group(robot_chat.pk), channel)

    async def frames(n: int) -> list[dict]:
        return [
            json.loads((await asyncio.wait_for(layer.receive(channel), 3))["frame"])
            for _ in range(n)
        ]

    message = say(user, robot_chat.pk, "hello", "typing-1")
    wait_for_reply(robot_chat.pk)
    received = async_to_sync(frames)(3)
    robot = robot_user()
    assert [f["type"] for f in received] == ["message", "typing", "message"]
    assert received[0]["message"]["id"] == message.pk
    assert received[1] == {"type": "typing", "conversation": robot_chat.pk, "user": robot.pk}
    assert received[2]["message"]["sender"]["id"] == robot.pk


def test_robot_reply_passes_the_content_filter(user, robot_chat, settings):
    with stub_server() as webhook:
        settings.ROBOT_BACKEND = "webhook"
        settings.ROBOT_WEBHOOK_URL = webhook.url
        sensitive_word_save(word="darn", action="mask")
        sensitive_word_save(word="scam", action="reject")
        webhook.respond = lambda body: (200, {"reply": "oh d a r n"}, 0)
        say(user, robot_chat.pk, "say something", "f-1")
        assert wait_for_reply(robot_chat.pk)[0].body == "oh ***"
        webhook.respond = lambda body: (200, {"reply": "buy this ＳＣＡＭ"}, 0)
        say(user, robot_chat.pk, "say something else", "f-2")
        blocked = wait_for_reply(robot_chat.pk, count=2)[1]
        assert blocked.body == "Sorry, I'd better not answer that."


@pytest.fixture
def group_with_robot(user, other_user):
    group = group_create(owner=user, name="Hikers")
    group_join(user=other_user, group_id=group.pk)
    robot_group_join(user=user, group_id=group.pk)
    return group


def test_robot_answers_in_a_group_when_mentioned(other_user, group_with_robot):
    conversation_id = group_with_robot.conversation_id
    say(other_user, conversation_id, "nice weather today", "g-1")
    assert dispatch.wait_idle(timeout=5)
    assert robot_messages(conversation_id) == []
    say(other_user, conversation_id, "@robot /calc 6*7", "g-2")
    replies = wait_for_reply(conversation_id)
    assert [m.body for m in replies] == [f"@{other_user.display_name} 6*7 = 42"]
    say(other_user, conversation_id, "@HappyBot 怎么建群", "g-3")
    replies = wait_for_reply(conversation_id, count=2)
    assert "新建群聊" in replies[1].body


def test_owner_adds_the_robot_over_rest_and_it_answers_in_the_group(user, other_user):
    group = group_create(owner=user, name="Hikers")
    group_join(user=other_user, group_id=group.pk)
    owner = APIClient()
    owner.force_authenticate(user)

    response = owner.post(f"/api/v1/groups/{group.pk}/robot/")

    assert response.status_code == 201, response.content
    assert response.json()["user"]["username"] == robot_user().username
    assert response.json()["role"] == "member"
    say(other_user, group.conversation_id, "@robot /time", "t-1")
    assert dispatch.wait_idle(timeout=5)
    replies = robot_messages(group.conversation_id)
    assert len(replies) == 1
    assert replies[0].body.startswith(f"@{other_user.display_name} It is ")

    assert owner.delete(f"/api/v1/groups/{group.pk}/robot/").status_code == 204
    say(other_user, group.conversation_id, "@robot /time", "t-2")
    assert dispatch.wait_idle(timeout=5)
    assert len(robot_messages(group.conversation_id)) == 1


def test_robot_stays_quiet_in_a_group_it_is_not_in(user, other_user):
    group = group_create(owner=user, name="No bots")
    say(user, group.conversation_id, "@robot /help", "q-1")
    assert dispatch.wait_idle(timeout=5)
    assert robot_messages(group.conversation_id) == []
