"""Message and Conversation objects of docs/protocol.md §7, as plain dicts (encoded once).

The DRF serializers below only describe these shapes for the OpenAPI schema and parse
input; responses are built by the payload functions, which every path shares.
"""

from datetime import datetime
from typing import Any

from django.conf import settings
from django.urls import reverse
from rest_framework import serializers

from accounts.models import User
from accounts.serializers import UserSerializer, user_payload
from chat.models import Message, Upload
from happychat.api import IdField, SeqField


def iso(dt: datetime | None) -> str | None:
    return dt.isoformat().replace("+00:00", "Z") if dt is not None else None


def attachment_payload(upload: Upload | None) -> dict[str, Any] | None:
    """The attachment object; its URLs are stable and answer only those allowed to see it."""
    if upload is None:
        return None
    return {
        "id": upload.pk,
        "url": reverse("upload-file", args=[upload.pk]),
        "thumbnail_url": reverse("upload-thumbnail", args=[upload.pk]),
        "width": upload.width,
        "height": upload.height,
    }


def message_payload(
    message: Message, *, sender: User | None = None, remarks: dict[int, str] | None = None
) -> dict[str, Any]:
    """The Message object; `remarks` (viewer's aliases by user id) only on per-viewer paths."""
    author = sender if sender is not None else message.sender
    return {
        "id": message.pk,
        "conversation": message.conversation_id,
        "seq": message.seq,
        "sender": user_payload(author, remark=(remarks or {}).get(author.pk)),
        "kind": message.kind,
        "body": message.body,
        "attachment": attachment_payload(message.attachment),
        "client_id": message.client_id,
        "created_at": iso(message.created_at),
    }


# --- schema and input -----------------------------------------------------------------


class AttachmentSchema(serializers.Serializer):
    """An upload: `POST uploads/` answers with it, image messages carry it."""

    id = serializers.IntegerField(help_text="Use as `attachment` of a `kind: image` message.")
    url = serializers.CharField(
        help_text="`/api/v1/uploads/<id>/file/`: the image, for its owner and the active "
        "members of a conversation where a message carries it (session or token auth)."
    )
    thumbnail_url = serializers.CharField(
        help_text="`/api/v1/uploads/<id>/thumbnail/`: at most 320 px on the longest side; "
        "same access as `url`."
    )
    width = serializers.IntegerField()
    height = serializers.IntegerField()


class MessageSchema(serializers.Serializer):
    id = serializers.IntegerField()
    conversation = serializers.IntegerField()
    seq = serializers.IntegerField(help_text="1, 2, 3 … per conversation, no gaps.")
    sender = UserSerializer()
    kind = serializers.ChoiceField(choices=Message.Kind.choices)
    body = serializers.CharField(allow_blank=True)
    attachment = AttachmentSchema(allow_null=True)
    client_id = serializers.CharField()
    created_at = serializers.DateTimeField()


class MessagePageSchema(serializers.Serializer):
    results = MessageSchema(many=True, help_text="Oldest first.")
    has_more = serializers.BooleanField()


class ConversationSchema(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=["direct", "group", "robot"])
    title = serializers.CharField()
    avatar = serializers.CharField(allow_null=True)
    peer = UserSerializer(allow_null=True)
    group = serializers.IntegerField(allow_null=True)
    last_message = MessageSchema(allow_null=True)
    last_seq = serializers.IntegerField()
    last_read_seq = serializers.IntegerField()
    peer_last_read_seq = serializers.IntegerField(
        allow_null=True, help_text="Direct/robot: how far the other person has read."
    )
    unread = serializers.IntegerField()
    muted = serializers.BooleanField()
    is_active = serializers.BooleanField(help_text="False after leaving or removal.")


class MessageSendInput(serializers.Serializer):
    """The body of the socket `send` frame (without `type`/`conversation` over REST)."""

    id = serializers.CharField(min_length=1, max_length=64, help_text="Client message id.")
    kind = serializers.ChoiceField(choices=["text", "image"], default="text")
    body = serializers.CharField(allow_blank=True, default="", trim_whitespace=False)
    attachment = IdField(required=False, allow_null=True, help_text="An upload id.")

    def validate_body(self, value: str) -> str:
        if len(value) > settings.CHAT_MAX_BODY_CHARS:
            raise serializers.ValidationError("Message text is too long.")
        return value


class ReadInput(serializers.Serializer):
    seq = SeqField()


class ReadResult(serializers.Serializer):
    conversation = serializers.IntegerField()
    last_read_seq = serializers.IntegerField()
    unread = serializers.IntegerField()


class HistoryQuery(serializers.Serializer):
    before = SeqField(required=False, min_value=1)
    after = SeqField(required=False)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=200, default=50)
