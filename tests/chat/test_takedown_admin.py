"""Operators take messages down from the admin: a recall for members, who and why kept."""

import pytest

from chat.models import Message
from chat.services.messages import message_send
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_takedown_asks_why_then_recalls_and_records(admin_client, admin_user, alice, bob, direct):
    message, _ = message_send(sender=alice, conversation_id=direct.pk, client_id="1", body="spam")
    url = "/admin/chat/message/"
    confirm = admin_client.post(url, {"action": "take_down", "_selected_action": [message.pk]})
    assert confirm.status_code == 200
    assert b"Why" in confirm.content
    message.refresh_from_db()
    assert not message.recalled
    done = admin_client.post(
        url,
        {
            "action": "take_down",
            "_selected_action": [message.pk],
            "reason": "reported as spam",
            "apply": "1",
        },
    )
    assert done.status_code == 302
    message.refresh_from_db()
    assert message.recalled
    assert message.recalled_by == admin_user
    assert message.recall_reason == "reported as spam"
    assert message.body == ""
    assert Message.objects.get(kind="recall").data == {"by": "operator"}


def test_staff_without_the_permission_cannot_take_down(client, alice, direct):
    message, _ = message_send(sender=alice, conversation_id=direct.pk, client_id="1", body="x")
    staff = UserFactory(username="helper", is_staff=True)
    client.force_login(staff)
    client.post(
        "/admin/chat/message/",
        {"action": "take_down", "_selected_action": [message.pk], "reason": "r", "apply": "1"},
    )
    message.refresh_from_db()
    assert not message.recalled
