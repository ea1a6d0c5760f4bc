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
from happychat.validators import clean_text


def iso(dt: datetime | None) -> str | None:
    return dt.isoformat().replace("+00:00", "Z") if dt is not None else None


def attachment_payload(upload: Upload | None) -> dict[str, Any] | None:
    """The attachment object; its URLs are stable and answer only those allowed to see it."""
    if upload is None:
        return None
    if upload.kind == Upload.Kind.FILE:
        return {
            "id": upload.pk,
            "kind": "file",
            "url": reverse("upload-file", args=[upload.pk]),
            "name": upload.name,
            "size": upload.size,
            "content_type": upload.content_type,
        }
    return {
        "id": upload.pk,
        "kind": "image",
        "url": reverse("upload-file", args=[upload.pk]),
        "thumbnail_url": reverse("upload-thumbnail", args=[upload.pk]),
        "width": upload.width,
        "height": upload.height,
    }


# The kinds a person sends; the others are written by services (system) or are entries
# that change an earlier message (docs/message-changes.md).
CONTENT_KINDS = ("text", "image", "file")
CHANGE_KINDS = ("recall", "edit", "reaction")
# What the unread count counts: others' messages, not system messages nor changes.
UNREAD_KINDS = CONTENT_KINDS
QUOTE_CHARS = 100


def reactions_payload(message: Message) -> list[dict[str, Any]]:
    """[{emoji, count, users}] in the fixed order of the reaction set, then by first use."""
    if message.change_seq == 0 or message.kind in CHANGE_KINDS:
        return []  # never changed: no reaction yet, and no query
    by_emoji: dict[str, list[int]] = {}
    for reaction in sorted(message.reactions.all(), key=lambda r: (r.created_at, r.pk)):
        by_emoji.setdefault(reaction.emoji, []).append(reaction.user_id)
    return [{"emoji": e, "count": len(users), "users": users} for e, users in by_emoji.items()]


def quote_payload(message: Message) -> dict[str, Any]:
    """The quoted original of a reply: enough to show the quote and jump to it."""
    author = message.sender
    return {
        "id": message.pk,
        "seq": message.seq,
        "sender": {"id": author.pk, "nickname": author.nickname or author.username},
        "kind": message.kind,
        "body": "" if message.recalled else message.body[:QUOTE_CHARS],
        "recalled": message.recalled,
    }


def recalled_by(message: Message) -> int | None:
    """Who recalled `message`, when it was a group's owner or admin rather than its sender.

    None otherwise: not recalled, recalled by its sender, or taken down by an operator (a
    takedown always has a reason, and members are not told who did it).
    """
    if not message.recalled or message.recall_reason:
        return None
    actor = message.recalled_by_id
    return actor if actor is not None and actor != message.sender_id else None


def message_payload(
    message: Message, *, sender: User | None = None, remarks: dict[int, str] | None = None
) -> dict[str, Any]:
    """The Message object; `remarks` (viewer's aliases by user id) only on per-viewer paths.

    A recalled message keeps its place but loses its body and attachment in every API.
    """
    author = sender if sender is not None else message.sender
    recalled = message.recalled
    payload = {
        "id": message.pk,
        "conversation": message.conversation_id,
        "seq": message.seq,
        "sender": user_payload(author, remark=(remarks or {}).get(author.pk)),
        "kind": message.kind,
        "body": "" if recalled else message.body,
        "attachment": None if recalled else attachment_payload(message.attachment),
        "client_id": message.client_id,
        "created_at": iso(message.created_at),
        "recalled": recalled,
        "recalled_by": recalled_by(message),
        "edited": message.edited,
        "reply_to": message.reply_to_id,
        "reply": quote_payload(message.reply_to) if message.reply_to is not None else None,
        "mentions": list(message.mentions or []),
        "mention_all": message.mention_all,
        "reactions": reactions_payload(message),
        "target": message.target_id,
        "data": message.data,
        "change_seq": message.change_seq,
    }
    return payload


# --- schema and input -----------------------------------------------------------------


class AttachmentSchema(serializers.Serializer):
    """An upload: `POST uploads/` answers with it, image and file messages carry it."""

    id = serializers.IntegerField(help_text="Use as `attachment` of an image or file message.")
    kind = serializers.ChoiceField(choices=["image", "file"])
    url = serializers.CharField(
        help_text="`/api/v1/uploads/<id>/file/`: the image or document, for its owner and the "
        "active members of a conversation where a message carries it (session or token auth)."
    )
    thumbnail_url = serializers.CharField(
        required=False,
        help_text="Images: `/api/v1/uploads/<id>/thumbnail/`, at most 320 px on the longest "
        "side; same access as `url`.",
    )
    width = serializers.IntegerField(required=False)
    height = serializers.IntegerField(required=False)
    name = serializers.CharField(required=False, help_text="Files: the name given by the sender.")
    size = serializers.IntegerField(required=False, help_text="Files: bytes.")
    content_type = serializers.CharField(required=False)


class ReactionSchema(serializers.Serializer):
    emoji = serializers.CharField()
    count = serializers.IntegerField()
    users = serializers.ListField(child=serializers.IntegerField(), help_text="Oldest first.")


class QuoteSchema(serializers.Serializer):
    id = serializers.IntegerField()
    seq = serializers.IntegerField()
    sender = serializers.DictField(help_text="{id, nickname}")
    kind = serializers.CharField()
    body = serializers.CharField(help_text="At most 100 characters; empty when recalled.")
    recalled = serializers.BooleanField()


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
    recalled = serializers.BooleanField(help_text="Body and attachment are empty when true.")
    recalled_by = serializers.IntegerField(
        allow_null=True,
        help_text="The group owner or admin who recalled a member's message (null when not "
        "recalled, recalled by its sender, or taken down by an operator).",
    )
    edited = serializers.BooleanField()
    reply_to = serializers.IntegerField(allow_null=True, help_text="The quoted message's id.")
    reply = QuoteSchema(allow_null=True, help_text="The quoted message, folded.")
    mentions = serializers.ListField(child=serializers.IntegerField(), help_text="User ids.")
    mention_all = serializers.BooleanField()
    reactions = ReactionSchema(many=True)
    target = serializers.IntegerField(
        allow_null=True, help_text="Change entries (recall, edit, reaction): the message changed."
    )
    change_seq = serializers.IntegerField(
        help_text="The seq of the newest change entry folded into this message (0: none)."
    )


# A field named `data` would shadow Serializer.data, so it is declared after the class.
MessageSchema._declared_fields["data"] = serializers.DictField(
    allow_null=True,
    help_text="system: {event, …}; reaction: {emoji, on}; recall: {by}; "
    "forwarded copies: {forwarded_from: {id, sender}}.",
)


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
    unread = serializers.IntegerField(
        help_text="Others' messages after last_read_seq (not system messages nor changes)."
    )
    mentioned = serializers.BooleanField(
        help_text="An unread message mentions you (or @all): show [@me] until read."
    )
    muted = serializers.BooleanField()
    is_active = serializers.BooleanField(help_text="False after leaving or removal.")


class MessageSendInput(serializers.Serializer):
    """The body of the socket `send` frame (without `type`/`conversation` over REST)."""

    id = serializers.CharField(min_length=1, max_length=64, help_text="Client message id.")
    kind = serializers.ChoiceField(choices=["text", "image", "file"], default="text")
    body = serializers.CharField(allow_blank=True, default="", trim_whitespace=False)
    attachment = IdField(required=False, allow_null=True, help_text="An upload id.")
    reply_to = IdField(required=False, allow_null=True, help_text="Quote this message.")
    mentions = serializers.ListField(
        child=IdField(),
        required=False,
        allow_null=True,
        max_length=50,
        help_text="Groups: user ids mentioned. Omitted: @names in the text are resolved.",
    )
    mention_all = serializers.BooleanField(
        required=False, default=False, help_text="Groups: @all (owner and admins)."
    )

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
    around = SeqField(required=False, min_value=1)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=200, default=50)


class EditInput(serializers.Serializer):
    body = serializers.CharField(trim_whitespace=False)


class ReactInput(serializers.Serializer):
    emoji = serializers.CharField(help_text="One of 👍 ❤️ 😂 😮 😢 🙏.")
    on = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="Omitted: toggle."
    )


class ForwardInput(serializers.Serializer):
    id = serializers.CharField(
        min_length=1, max_length=56, help_text="Client id; copy n gets '<id>:<n>'."
    )
    conversation = IdField()
    messages = serializers.ListField(child=IdField(), min_length=1)


class SearchQuery(serializers.Serializer):
    q = serializers.CharField(max_length=200)
    conversation = IdField(required=False)
    sender = IdField(required=False)
    before = IdField(required=False)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=50, default=20)

    def validate_q(self, value: str) -> str:
        return clean_text(value, field="q")


class SnippetPieceSchema(serializers.Serializer):
    text = serializers.CharField()
    hit = serializers.BooleanField()


class SearchHitSchema(MessageSchema):
    snippet = SnippetPieceSchema(many=True, help_text="The text around the first hit.")


class SearchPageSchema(serializers.Serializer):
    results = SearchHitSchema(many=True, help_text="Newest first.")
    has_more = serializers.BooleanField(help_text="Ask again with before=<last result id>.")
