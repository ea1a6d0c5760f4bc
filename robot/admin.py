"""Operators edit the robot's FAQ and small talk here (answers pick edits up within seconds)."""

from django.contrib import admin

from robot.models import FaqEntry, RobotTurn, SmallTalk


@admin.register(FaqEntry)
class FaqEntryAdmin(admin.ModelAdmin):
    list_display = ["question", "language", "is_active"]
    list_filter = ["language", "is_active"]
    search_fields = ["question", "keywords", "answer"]


@admin.register(SmallTalk)
class SmallTalkAdmin(admin.ModelAdmin):
    list_display = ["patterns", "language", "is_active"]
    list_filter = ["language", "is_active"]
    search_fields = ["patterns", "reply"]


@admin.register(RobotTurn)
class RobotTurnAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "text", "created_at"]
    list_select_related = ["user"]
    search_fields = ["user__username"]
    readonly_fields = ["user", "role", "text", "created_at"]

    def has_add_permission(self, request: object) -> bool:
        return False
