"""Reporting a message: who may, what is stored, and the report in the admin with context."""

import pytest
from django.db.models import F

from accounts.models import User
from chat.models import Conversation, Message
from chat.services.conversations import conversation_group_create, conversation_member_remove
from moderation.models import MessageReport
from safety.models import SensitiveWord
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def post(conversation: Conversation, sender: User, body: str) -> Message:
    Conversation.objects.filter(pk=conversation.pk).update(last_seq=F("last_seq") + 1)
    conversation.refresh_from_db()
    return Message.objects.create(
        conversation=conversation,
        seq=conversation.last_seq,
        sender=sender,
        body=body,
        client_id=f"c{conversation.last_seq}",
    )


@pytest.fixture
def group_chat(user, other_user):
    conversation = conversation_group_create(user_ids=[user.pk, other_user.pk])
    messages = [post(conversation, other_user, f"line {i}") for i in range(1, 10)]
    return conversation, messages


def url(message_id: int) -> str:
    return f"/api/v1/messages/{message_id}/report/"


def test_member_reports_a_message(api_client, user, group_chat):
    _conversation, messages = group_chat
    response = api_client.post(url(messages[4].pk), {"reason": "spam"})
    assert response.status_code == 201
    report = MessageReport.objects.get()
    assert (report.message, report.reporter, report.reason, report.status) == (
        messages[4],
        user,
        "spam",
        "open",
    )
    assert response.json() == {
        "id": report.pk,
        "message": messages[4].pk,
        "reason": "spam",
        "status": "open",
        "created_at": report.created_at.isoformat(),
    }


def test_reporting_twice_keeps_one_report(api_client, group_chat):
    message = group_chat[1][0]
    assert api_client.post(url(message.pk), {"reason": "spam"}).status_code == 201
    again = api_client.post(url(message.pk), {"reason": "really spam"})
    assert again.status_code == 200
    assert again.json()["reason"] == "spam"
    assert MessageReport.objects.count() == 1


def test_non_member_gets_404_and_nothing_is_stored(group_chat):
    from rest_framework.test import APIClient

    stranger = APIClient()
    stranger.force_authenticate(UserFactory(username="mallory"))
    response = stranger.post(url(group_chat[1][0].pk), {"reason": "spam"})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert not MessageReport.objects.exists()


def test_unknown_message_is_404(api_client, db):
    assert api_client.post(url(999999), {"reason": "spam"}).status_code == 404


def test_former_member_may_report_only_what_they_saw(api_client, user, other_user, group_chat):
    conversation, messages = group_chat
    conversation_member_remove(conversation=conversation, user_id=user.pk)
    later = post(conversation, other_user, "after you left")
    assert api_client.post(url(messages[-1].pk), {"reason": "rude"}).status_code == 201
    assert api_client.post(url(later.pk), {"reason": "rude"}).status_code == 404
    assert list(MessageReport.objects.values_list("message", flat=True)) == [messages[-1].pk]


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 501}])
def test_report_without_a_valid_reason_is_refused(api_client, group_chat, body):
    response = api_client.post(url(group_chat[1][0].pk), body, format="json")
    assert response.status_code == 400
    assert not MessageReport.objects.exists()


def test_anonymous_cannot_report(anon_client, group_chat):
    assert anon_client.post(url(group_chat[1][0].pk), {"reason": "spam"}).status_code in (401, 403)
    assert not MessageReport.objects.exists()


@pytest.fixture
def admin_client(client):
    admin = User.objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(admin)
    return client


def test_report_reaches_the_admin_with_the_message_in_context(api_client, admin_client, group_chat):
    _conversation, messages = group_chat
    messages[3].body = "<script>alert(1)</script>"
    messages[3].save()
    api_client.post(url(messages[4].pk), {"reason": "harassment"})
    report = MessageReport.objects.get()

    listing = admin_client.get("/admin/moderation/messagereport/")
    assert listing.status_code == 200
    assert b"harassment" in listing.content

    page = admin_client.get(f"/admin/moderation/messagereport/{report.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    # Three messages before and after the reported one (seq 5), in order, escaped.
    for seq in (2, 3, 5, 6, 7, 8):
        assert f"line {seq}" in html
    assert "line 1" not in html
    assert "line 9" not in html
    assert html.index("line 2") < html.index("line 5") < html.index("line 8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html


def test_admin_action_resolves_open_reports(api_client, admin_client, group_chat):
    api_client.post(url(group_chat[1][0].pk), {"reason": "spam"})
    report = MessageReport.objects.get()
    response = admin_client.post(
        "/admin/moderation/messagereport/",
        {"action": "mark_dismissed", "_selected_action": [report.pk]},
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == "dismissed"
    assert report.resolved_at is not None


def test_admin_word_edit_applies_at_once(admin_client):
    from safety.services import text_filter

    response = admin_client.post(
        "/admin/safety/sensitiveword/add/", {"word": "frobnicate", "action": "mask"}
    )
    assert response.status_code == 302
    assert text_filter(text="do not frobnicate", field="message") == "do not ***"
    word_id = SensitiveWord.objects.get().pk
    admin_client.post(f"/admin/safety/sensitiveword/{word_id}/delete/", {"post": "yes"})
    assert text_filter(text="do not frobnicate", field="message") == "do not frobnicate"
