"""Admin for people: search, filters, and the device tokens of each user."""

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from knox.models import AuthToken

from accounts.models import User


class AuthTokenInline(admin.TabularInline):
    """Device tokens (hashed; only the first characters of each key are kept)."""

    model = AuthToken
    fields = ("token_key", "created", "expiry")
    readonly_fields = ("token_key", "created", "expiry")
    extra = 0
    can_delete = True
    verbose_name = _("API token")
    verbose_name_plural = _("API tokens (one per device; delete to revoke)")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = (
        "username",
        "nickname",
        "email",
        "is_active",
        "is_staff",
        "is_robot",
        "date_joined",
    )
    list_filter = ("is_active", "is_staff", "is_robot", "gender", "date_joined")
    search_fields = ("username", "nickname", "email")
    ordering = ("-date_joined",)
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        (_("Profile"), {"fields": ("nickname", "avatar", "bio", "gender", "region", "is_robot")}),
    )
    inlines = (AuthTokenInline,)


from accounts import admin_friends  # noqa: E402, F401  (friend graph admin, registered on import)
