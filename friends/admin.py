"""Admin for the friend graph: friendships (with remarks), friend requests, blocks."""

from django.contrib import admin

from accounts.models import Block, FriendRequest, Friendship


@admin.register(Friendship)
class FriendshipAdmin(admin.ModelAdmin):
    list_display = ("user", "friend", "remark", "created_at")
    search_fields = ("user__username", "friend__username", "remark")
    raw_id_fields = ("user", "friend")
    date_hierarchy = "created_at"


@admin.register(FriendRequest)
class FriendRequestAdmin(admin.ModelAdmin):
    list_display = ("from_user", "to_user", "status", "message", "created_at", "responded_at")
    list_filter = ("status",)
    search_fields = ("from_user__username", "to_user__username", "message")
    raw_id_fields = ("from_user", "to_user")
    date_hierarchy = "created_at"


@admin.register(Block)
class BlockAdmin(admin.ModelAdmin):
    list_display = ("user", "blocked", "created_at")
    search_fields = ("user__username", "blocked__username")
    raw_id_fields = ("user", "blocked")
