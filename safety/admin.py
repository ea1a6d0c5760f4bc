"""Operators edit words and the policy here (reports are reviewed in `moderation`).

Edits go through the services (not plain model saves) so every process notices the new
word list at once.
"""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from safety import services
from safety.models import SafetyPolicy, SensitiveWord


@admin.register(SensitiveWord)
class SensitiveWordAdmin(admin.ModelAdmin):
    list_display = ["word", "action", "created_at"]
    list_filter = ["action"]
    search_fields = ["word"]

    def save_model(self, request: HttpRequest, obj: SensitiveWord, form: Any, change: bool) -> None:
        saved = services.sensitive_word_save(
            word=obj.word, action=obj.action, word_id=obj.pk if change else None
        )
        obj.pk, obj.word = saved.pk, saved.word

    def delete_model(self, request: HttpRequest, obj: SensitiveWord) -> None:
        services.sensitive_words_delete(word_ids=[obj.pk])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[SensitiveWord]) -> None:
        services.sensitive_words_delete(word_ids=list(queryset.values_list("pk", flat=True)))


@admin.register(SafetyPolicy)
class SafetyPolicyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not SafetyPolicy.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: SafetyPolicy, form: Any, change: bool) -> None:
        saved = services.safety_policy_update(default_action=obj.default_action)
        obj.pk = saved.pk
