"""What the robot knows (FAQ, small talk; edited in the admin) and remembers (recent turns)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Language(models.TextChoices):
    EN = "en", _("English")
    ZH = "zh", _("Chinese")


class FaqEntry(models.Model):
    """A question about HappyChat and its answer, found by fuzzy matching."""

    language = models.CharField(max_length=8, choices=Language.choices, default=Language.EN)
    question = models.CharField(_("question"), max_length=200)
    # Extra phrasings, comma-separated: any one found in the user's text is a strong hint.
    keywords = models.CharField(_("keywords"), max_length=300, blank=True)
    answer = models.TextField(_("answer"))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["language", "question"]
        verbose_name = _("FAQ entry")
        verbose_name_plural = _("FAQ entries")

    def __str__(self) -> str:
        return self.question


class SmallTalk(models.Model):
    """A greeting or chit-chat phrase and the robot's reply."""

    language = models.CharField(max_length=8, choices=Language.choices, default=Language.EN)
    # Phrases that trigger the reply, comma-separated ("hi, hello, hey").
    patterns = models.CharField(_("patterns"), max_length=300)
    reply = models.TextField(_("reply"))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["language", "patterns"]
        verbose_name = _("small talk")
        verbose_name_plural = _("small talk")

    def __str__(self) -> str:
        return self.patterns


class RobotTurn(models.Model):
    """One turn of a user's conversation with the robot; only the last few are kept."""

    class Role(models.TextChoices):
        USER = "user", _("User")
        ROBOT = "assistant", _("Robot")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="robot_turns"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user", "id"]
        indexes = [models.Index(fields=["user", "-id"], name="robot_turn_user_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.role}: {self.text[:30]}"
