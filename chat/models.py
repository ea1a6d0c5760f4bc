"""Conversations, their members' cursors, messages with gap-free seq, and uploads."""

from django.conf import settings
from django.db import models
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
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="uploads"
    )
    image = models.ImageField(upload_to="uploads/%Y/%m/")
    thumbnail = models.ImageField(upload_to="uploads/%Y/%m/")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    content_type = models.CharField(max_length=32)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"upload #{self.pk} by {self.owner_id}"


class Message(models.Model):
    class Kind(models.TextChoices):
        TEXT = "text", _("Text")
        IMAGE = "image", _("Image")
        SYSTEM = "system", _("System")

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    seq = models.BigIntegerField()
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="messages_sent"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.TEXT)
    body = models.TextField(blank=True)
    attachment = models.ForeignKey(
        Upload, on_delete=models.PROTECT, null=True, blank=True, related_name="messages"
    )
    client_id = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["conversation", "seq"]
        constraints = [
            # The (conversation, seq) unique index doubles as the keyset-paging index.
            models.UniqueConstraint(fields=["conversation", "seq"], name="message_conv_seq"),
            models.UniqueConstraint(fields=["sender", "client_id"], name="message_sender_cid"),
        ]

    def __str__(self) -> str:
        return f"#{self.conversation_id}:{self.seq}"
