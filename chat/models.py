"""Conversations, their members' cursors, messages with gap-free seq, and uploads."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Conversation(models.Model):
    class Kind(models.TextChoices):
        DIRECT = "direct", _("Direct")
        GROUP = "group", _("Group")
        ROBOT = "robot", _("Robot")

    kind = models.CharField(max_length=16, choices=Kind.choices)
    # "<low user id>:<high user id>" for direct and robot conversations: one per pair.
    pair_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    # The seq of the newest message; the next message takes last_seq + 1 in its transaction.
    last_seq = models.BigIntegerField(default=0)
    last_message_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-last_message_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"


class ConversationMember(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversation_members"
    )
    is_active = models.BooleanField(default=True)
    last_read_seq = models.BigIntegerField(default=0)
    # While inactive (left or removed), history is visible up to this seq and no further.
    left_seq = models.BigIntegerField(null=True, blank=True)
    muted = models.BooleanField(default=False)
    # The seq of the newest message that mentions this member (or @all): "[@me]" in the
    # conversation list while it is above last_read_seq.
    mention_seq = models.BigIntegerField(default=0, db_default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "user"], name="conversation_member_unique"
            ),
        ]
        indexes = [models.Index(fields=["user", "is_active"], name="conv_member_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} in {self.conversation}"


class Upload(models.Model):
    class Kind(models.TextChoices):
        IMAGE = "image", _("Image")
        FILE = "file", _("File")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="uploads"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.IMAGE)
    # Images: the re-encoded image and its thumbnail. Files: `file`, with the name the
    # user gave it (shown to the members, never used as a storage path).
    image = models.ImageField(upload_to="uploads/%Y/%m/", blank=True)
    thumbnail = models.ImageField(upload_to="uploads/%Y/%m/", blank=True)
    file = models.FileField(upload_to="files/%Y/%m/", blank=True)
    name = models.CharField(max_length=255, blank=True)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    content_type = models.CharField(max_length=128)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"upload #{self.pk} by {self.owner_id}"


class Message(models.Model):
    """A message, or an entry that changes an earlier one (recall, edit, reaction).

    Change entries take their own seq like any message, so `sync` and history carry them
    and clients fold them into `target`; the target row keeps the folded state
    (`recalled`, `edited`, the latest `body`, `change_seq`) for history pages, the
    conversation list and search. See docs/message-changes.md.
    """

    class Kind(models.TextChoices):
        TEXT = "text", _("Text")
        IMAGE = "image", _("Image")
        FILE = "file", _("File")
        SYSTEM = "system", _("System")
        RECALL = "recall", _("Recall")
        EDIT = "edit", _("Edit")
        REACTION = "reaction", _("Reaction")

    # Indexes cost every send an insert each: the unique (conversation, seq) and (sender,
    # client_id) indexes serve lookups by conversation and by sender, and the references
    # most messages leave empty are indexed only where set (Meta.indexes).
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    seq = models.BigIntegerField()
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="messages_sent",
        db_index=False,
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.TEXT)
    body = models.TextField(blank=True)
    attachment = models.ForeignKey(
        Upload,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="messages",
        db_index=False,
    )
    client_id = models.CharField(max_length=64)
    # Change entries: the message they change.
    target = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="changes",
        db_index=False,
    )
    reply_to = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replies",
        db_index=False,
    )
    # User ids mentioned (robust to renames; null: none); `mention_all` for "@all".
    # Columns a raw INSERT may leave out have database defaults.
    mentions = models.JSONField(null=True, blank=True)
    mention_all = models.BooleanField(default=False, db_default=False)
    # Structured details: system messages {"event", …}; reaction entries {"emoji", "on"};
    # forwarded messages {"forwarded_from": {"id", "sender"}}.
    data = models.JSONField(null=True, blank=True)
    # Folded state of a message (never set on change entries).
    recalled = models.BooleanField(default=False, db_default=False)
    edited = models.BooleanField(default=False, db_default=False)
    change_seq = models.BigIntegerField(default=0, db_default=0)
    # Who recalled it (the sender, a group admin, or an operator) and, for an operator's
    # takedown, why. Shown to operators only.
    recalled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    recall_reason = models.CharField(max_length=500, blank=True, db_default="")
    created_at = models.DateTimeField(auto_now_add=True)

    # Not a column: the send path sets it to the Message object's JSON as it published it,
    # so the sender's `ack` carries the very same text without encoding it again.
    encoded_payload: str | None = None

    class Meta:
        ordering = ["conversation", "seq"]
        constraints = [
            # The (conversation, seq) unique index doubles as the keyset-paging index.
            models.UniqueConstraint(fields=["conversation", "seq"], name="message_conv_seq"),
            models.UniqueConstraint(fields=["sender", "client_id"], name="message_sender_cid"),
        ]
        indexes = [
            models.Index(fields=[name], condition=Q(**{f"{name}__isnull": False}), name=index)
            for name, index in (
                ("attachment", "message_attachment_set"),
                ("target", "message_target_set"),
                ("reply_to", "message_reply_to_set"),
                ("recalled_by", "message_recalled_by_set"),
            )
        ]

    def __str__(self) -> str:
        return f"#{self.conversation_id}:{self.seq}"


class Reaction(models.Model):
    """The current reactions on a message (the entries in the sequence are its history)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    emoji = models.CharField(max_length=16)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message", "user", "emoji"], name="reaction_once"),
        ]

    def __str__(self) -> str:
        return f"{self.emoji} by {self.user_id} on {self.message_id}"
