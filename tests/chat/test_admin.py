"""The chat admin: pages load for a superuser, show what operators need, allow no edits."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from chat.models import Conversation, ConversationMember, Message
from chat.uploads import upload_create
from tests.factories import UserFactory


def jpeg() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 200)).save(buffer, "JPEG")
    return SimpleUploadedFile("p.jpg", buffer.getvalue(), content_type="image/jpeg")


@pytest.fixture
def admin_client(client, db):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def chat_rows(user, other_user):
    conversation = Conversation.objects.create(kind=Conversation.Kind.DIRECT, pair_key="x:y")
    for member in (user, other_user):
        ConversationMember.objects.create(conversation=conversation, user=member)
    upload = upload_create(owner=user, file=jpeg())
    messages = [
        Message.objects.create(
            conversation=conversation,
            seq=seq,
            sender=user,
            body=f"<b>hello</b> number {seq} " + "x" * 80,
            client_id=f"c{seq}",
        )
        for seq in range(1, 4)
    ]
    image = Message.objects.create(
        conversation=conversation,
        seq=4,
        sender=user,
        kind=Message.Kind.IMAGE,
        attachment=upload,
        client_id="c4",
    )
    conversation.last_seq = 4
    conversation.save()
    return conversation, [*messages, image], upload


@pytest.mark.parametrize("model", ["conversation", "conversationmember", "message", "upload"])
def test_changelist_and_change_pages_load_for_a_superuser(admin_client, chat_rows, model):
    conversation, messages, upload = chat_rows
    obj = {
        "conversation": conversation,
        "conversationmember": conversation.members.first(),
        "message": messages[-1],
        "upload": upload,
    }[model]

    changelist = admin_client.get(reverse(f"admin:chat_{model}_changelist"))
    change = admin_client.get(reverse(f"admin:chat_{model}_change", args=[obj.pk]))

    assert changelist.status_code == 200
    assert change.status_code == 200


def test_message_list_escapes_and_shortens_the_body(admin_client, chat_rows):
    response = admin_client.get(reverse("admin:chat_message_changelist"))

    html = response.content.decode()
    assert "&lt;b&gt;hello&lt;/b&gt; number 1" in html
    assert "<b>hello</b>" not in html
    assert "x" * 80 not in html


def test_message_search_by_body_and_sender(admin_client, chat_rows, user):
    url = reverse("admin:chat_message_changelist")

    by_body = admin_client.get(url, {"q": "number 2"}).context["cl"]
    by_sender = admin_client.get(url, {"q": user.username}).context["cl"]
    by_kind = admin_client.get(url, {"kind__exact": "image"}).context["cl"]

    assert [m.seq for m in by_body.result_list] == [2]
    assert len(by_sender.result_list) == 4
    assert [m.seq for m in by_kind.result_list] == [4]


def test_message_list_query_count_does_not_grow_with_rows(admin_client, chat_rows, user):
    url = reverse("admin:chat_message_changelist")
    with CaptureQueriesContext(connection) as few:
        admin_client.get(url)
    conversation = chat_rows[0]
    Message.objects.bulk_create(
        Message(conversation=conversation, seq=seq, sender=user, body="more", client_id=f"m{seq}")
        for seq in range(5, 45)
    )

    with CaptureQueriesContext(connection) as many:
        admin_client.get(url)

    assert len(many) == len(few)


def test_image_message_page_shows_the_thumbnail(admin_client, chat_rows):
    _, messages, upload = chat_rows

    response = admin_client.get(reverse("admin:chat_message_change", args=[messages[-1].pk]))

    html = response.content.decode()
    assert f"/api/v1/uploads/{upload.pk}/thumbnail/" in html
    # The operator (a superuser here) may open it: the view permission grants access.
    assert admin_client.get(f"/api/v1/uploads/{upload.pk}/thumbnail/").status_code == 200


def test_upload_list_shows_preview_owner_and_size(admin_client, chat_rows, user):
    upload = chat_rows[2]

    html = admin_client.get(reverse("admin:chat_upload_changelist")).content.decode()

    assert f"/api/v1/uploads/{upload.pk}/thumbnail/" in html
    assert user.username in html
    assert "64 × 48" in html


def test_conversation_page_lists_members_read_only(admin_client, chat_rows, user, other_user):
    conversation = chat_rows[0]

    response = admin_client.get(reverse("admin:chat_conversation_change", args=[conversation.pk]))

    html = response.content.decode()
    assert user.username in html
    assert other_user.username in html
    assert 'name="members-0-last_read_seq"' not in html  # shown, not editable


def test_admin_cannot_edit_or_delete_messages(admin_client, chat_rows):
    message = chat_rows[1][0]

    post = admin_client.post(
        reverse("admin:chat_message_change", args=[message.pk]), {"body": "rewritten"}
    )
    delete = admin_client.post(
        reverse("admin:chat_message_delete", args=[message.pk]), {"post": "yes"}
    )
    add = admin_client.get(reverse("admin:chat_message_add"))

    assert post.status_code == 403
    assert delete.status_code == 403
    assert add.status_code == 403
    message.refresh_from_db()
    assert message.body.startswith("<b>hello</b> number 1")


def test_non_staff_user_cannot_open_the_chat_admin(client, user, chat_rows):
    client.force_login(user)

    response = client.get(reverse("admin:chat_message_changelist"))

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
