"""Messages from people pass the word filter inside message_send: blocked or masked."""

import pytest

from chat.models import Conversation, Message
from chat.services.conversations import conversation_robot_ensure
from chat.services.messages import message_send
from happychat.errors import ContentBlocked
from safety.services import sensitive_word_save

pytestmark = pytest.mark.django_db


@pytest.fixture
def chat(user):
    sensitive_word_save(word="scam", action="reject")
    sensitive_word_save(word="darn", action="mask")
    return conversation_robot_ensure(user=user)


@pytest.mark.parametrize("body", ["a SCAM", "a ｓ ｃ ａ ｍ", "a sc\u200bam"])
def test_blocked_message_is_refused_and_nothing_is_stored(user, chat, body):
    with pytest.raises(ContentBlocked):
        message_send(sender=user, conversation_id=chat.pk, client_id="b1", body=body)
    assert not Message.objects.exists()
    assert Conversation.objects.get(pk=chat.pk).last_seq == 0


def test_masked_message_is_stored_masked(user, chat):
    message, created = message_send(
        sender=user, conversation_id=chat.pk, client_id="m1", body="oh D A R N it"
    )
    assert created
    assert Message.objects.get(pk=message.pk).body == "oh *** it"


def test_blocked_message_over_rest_answers_content_blocked(api_client, chat):
    response = api_client.post(
        f"/api/v1/conversations/{chat.pk}/messages/",
        {"id": "r1", "kind": "text", "body": "ＳＣＡＭ"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "content_blocked"
    assert not Message.objects.exists()
