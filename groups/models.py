"""Group chats: the group, its members with roles, and invitations to private groups."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Group(models.Model):
    name = models.CharField(_("name"), max_length=64)
    notice = models.TextField(_("notice"), max_length=2000, blank=True)
    avatar = models.ImageField(_("avatar"), upload_to="group-avatars/", blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_groups"
    )
    is_public = models.BooleanField(_("public"), default=True)
    conversation = models.OneToOneField(
        "chat.Conversation", on_delete=models.PROTECT, related_name="group"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    dissolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["name"], name="group_name_idx")]

    def __str__(self) -> str:
        return self.name


class GroupMember(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        ADMIN = "admin", _("Admin")
        MEMBER = "member", _("Member")

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="group_memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    alias = models.CharField(_("alias in group"), max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["group", "user"], name="group_member_unique"),
            models.UniqueConstraint(
                fields=["group"], condition=models.Q(role="owner"), name="group_one_owner"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.group} ({self.role})"


class GroupInvitation(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="invitations")
    inviter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    invitee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="group_invitations"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "invitee"],
                condition=models.Q(status="pending"),
                name="group_invitation_one_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.invitee} invited to {self.group}"
