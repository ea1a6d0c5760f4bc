"""Users' reports of messages to the operators (above chat: a report points at a Message)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class MessageReport(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        RESOLVED = "resolved", _("Resolved: action taken")
        DISMISSED = "dismissed", _("Dismissed")

    message = models.ForeignKey("chat.Message", on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="message_reports"
    )
    reason = models.CharField(_("reason"), max_length=500)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Reporting the same message twice keeps the first report (idempotent retry).
            models.UniqueConstraint(fields=["message", "reporter"], name="report_once_per_user"),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="report_status_idx")]
        # Created by the safety app before reports moved here; the table kept its name.
        db_table = "safety_messagereport"

    def __str__(self) -> str:
        return f"report #{self.pk} on message {self.message_id}"
