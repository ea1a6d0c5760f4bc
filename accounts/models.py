"""People and the friend graph: users, friend requests, friendships (with remarks), blocks."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    class Gender(models.TextChoices):
        UNKNOWN = "unknown", _("Prefer not to say")
        MALE = "male", _("Male")
        FEMALE = "female", _("Female")
        OTHER = "other", _("Other")

    nickname = models.CharField(_("nickname"), max_length=64, blank=True)
    avatar = models.ImageField(_("avatar"), upload_to="avatars/", blank=True)
    bio = models.CharField(_("bio"), max_length=280, blank=True)
    gender = models.CharField(
        _("gender"), max_length=16, choices=Gender.choices, default=Gender.UNKNOWN
    )
    region = models.CharField(_("region"), max_length=64, blank=True)
    is_robot = models.BooleanField(_("robot"), default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                condition=~models.Q(email=""),
                name="user_email_unique_ci",
            ),
            # "Alice" and "alice" are one person to everyone reading a chat.
            models.UniqueConstraint(Lower("username"), name="user_username_unique_ci"),
        ]

    def __str__(self) -> str:
        return self.username

    @property
    def display_name(self) -> str:
        return self.nickname or self.username


class FriendRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")

    from_user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="friend_requests_sent"
    )
    to_user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="friend_requests_received"
    )
    message = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["from_user", "to_user"],
                condition=models.Q(status="pending"),
                name="friend_request_one_pending_per_pair",
            ),
            models.CheckConstraint(
                condition=~models.Q(from_user=models.F("to_user")),
                name="friend_request_not_to_self",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_user} → {self.to_user} ({self.status})"


class Friendship(models.Model):
    """One direction of a friendship: `user` sees `friend`, under `remark` if set.

    A friendship is always stored as two rows, one per side, so each side owns its remark.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="friendships")
    friend = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    remark = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "friend"], name="friendship_unique_pair"),
            models.CheckConstraint(
                condition=~models.Q(user=models.F("friend")), name="friendship_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ↔ {self.friend}"


class Block(models.Model):
    """`user` blocked `blocked`: no friend requests and no messages from them."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="blocks")
    blocked = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "blocked"], name="block_unique_pair"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ⊘ {self.blocked}"


class WeChatIdentity(models.Model):
    """A WeChat account (openid of one mini-program, unionid when WeChat gives one) → a user.

    Only identifiers are kept: WeChat's `session_key` is never stored.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="wechat_identities")
    app_id = models.CharField(_("mini-program AppID"), max_length=64)
    openid = models.CharField(max_length=128)
    unionid = models.CharField(max_length=128, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("WeChat link")
        verbose_name_plural = _("WeChat links")
        constraints = [
            # The same openid always maps to the same user.
            models.UniqueConstraint(fields=["app_id", "openid"], name="wechat_openid_unique"),
            # One WeChat account per user and mini-program.
            models.UniqueConstraint(fields=["user", "app_id"], name="wechat_one_per_user_app"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ↔ WeChat {self.openid[:6]}…"
