"""Admin for groups: the group with its members inline, memberships, invitations."""

from django.contrib import admin

from groups.models import Group, GroupInvitation, GroupMember


class GroupMemberInline(admin.TabularInline):
    model = GroupMember
    fields = ("user", "role", "alias", "created_at")
    readonly_fields = ("created_at",)
    raw_id_fields = ("user",)
    extra = 0


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "is_public", "created_at", "dissolved_at")
    list_filter = ("is_public", ("dissolved_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "owner__username")
    raw_id_fields = ("owner", "conversation")
    inlines = [GroupMemberInline]


@admin.register(GroupMember)
class GroupMemberAdmin(admin.ModelAdmin):
    list_display = ("group", "user", "role", "alias", "created_at")
    list_filter = ("role",)
    search_fields = ("group__name", "user__username", "alias")
    raw_id_fields = ("group", "user")


@admin.register(GroupInvitation)
class GroupInvitationAdmin(admin.ModelAdmin):
    list_display = ("group", "inviter", "invitee", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("group__name", "inviter__username", "invitee__username")
    raw_id_fields = ("group", "inviter", "invitee")
