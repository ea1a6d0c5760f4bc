"""Sensitive words with their action and the global policy (reports live in `moderation`)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Action(models.TextChoices):
    REJECT = "reject", _("Reject the text")
    MASK = "mask", _("Mask the word with ***")


class SafetyPolicy(models.Model):
    """The one policy row (pk=1): the default action and the word list's version."""

    default_action = models.CharField(
        _("default action"), max_length=16, choices=Action.choices, default=Action.REJECT
    )
    # A fresh random value from every service that edits words, so each process rebuilds
    # its automaton (random, not a counter: a restored backup must not reuse a version).
    words_version = models.CharField(max_length=32, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("safety policy")
        verbose_name_plural = _("safety policy")

    def __str__(self) -> str:
        return f"default: {self.default_action}"


class SensitiveWord(models.Model):
    class WordAction(models.TextChoices):
        DEFAULT = "default", _("Use the policy default")
        REJECT = "reject", _("Reject the text")
        MASK = "mask", _("Mask the word with ***")

    word = models.CharField(_("word"), max_length=100, unique=True)
    action = models.CharField(
        _("action"), max_length=16, choices=WordAction.choices, default=WordAction.DEFAULT
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["word"]
        verbose_name = _("sensitive word")
        verbose_name_plural = _("sensitive words")

    def __str__(self) -> str:
        return self.word
