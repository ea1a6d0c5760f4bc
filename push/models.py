"""Web Push subscriptions: one row per browser endpoint, tied to a user and a login."""

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import models
from django.utils.translation import gettext_lazy as _
from knox.models import AuthToken


class PushSubscription(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions"
    )
    # The push service's URL for this browser; unique: a browser that subscribes again
    # (or for another user) replaces its row.
    endpoint = models.URLField(_("endpoint"), max_length=2000, unique=True)
    p256dh = models.CharField(max_length=128)  # the browser's P-256 key, base64url
    auth = models.CharField(max_length=64)  # the browser's 16-byte auth secret, base64url
    language = models.CharField(max_length=16, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    # The login that subscribed: logging out (or revoking the token) deletes the row, so a
    # shared browser stops getting the previous user's messages.
    session = models.ForeignKey(Session, on_delete=models.CASCADE, null=True, blank=True)
    token = models.ForeignKey(AuthToken, on_delete=models.CASCADE, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_success_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user"], name="push_sub_user_idx")]
        verbose_name = _("push subscription")

    def __str__(self) -> str:
        return f"{self.user} @ {self.endpoint[:60]}"

    def info(self) -> dict[str, object]:
        """The subscription as the browser gave it (what pywebpush expects)."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}
