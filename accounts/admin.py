"""Admin for people: search, filters, and the device tokens of each user."""

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from knox.admin import AuthTokenAdmin as KnoxAuthTokenAdmin
from knox.models import AuthToken

from accounts.models import User, WeChatIdentity
from accounts.services import token_revoke, user_active_set, user_delete


class AuthTokenInline(admin.TabularInline):
    """Device tokens (hashed; only the first characters of each key are kept)."""

    model = AuthToken
    fields = ("token_key", "created", "expiry")
    readonly_fields = ("token_key", "created", "expiry")
    # The primary key (knox's digest) is not shown; excluding it makes the admin post it
    # back as a hidden field, without which no user that has a token could be saved.
    exclude = ("digest",)
    extra = 0
    can_delete = True
    verbose_name = _("API token")
    verbose_name_plural = _("API tokens (one per device; delete to revoke)")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class WeChatIdentityInline(admin.TabularInline):
    """The user's WeChat link (identifiers only; WeChat's session_key is never stored)."""

    model = WeChatIdentity
    fields = ("app_id", "openid", "unionid", "created_at")
    readonly_fields = ("app_id", "openid", "unionid", "created_at")
    extra = 0
    can_delete = True
    verbose_name = _("WeChat link")
    verbose_name_plural = _("WeChat links (delete to unlink)")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WeChatIdentity)
class WeChatIdentityAdmin(admin.ModelAdmin):
    list_display = ("user", "app_id", "openid", "unionid", "created_at")
    search_fields = ("user__username", "openid", "unionid")
    readonly_fields = ("user", "app_id", "openid", "unionid", "created_at")
    list_select_related = ("user",)

    def has_add_permission(self, request: HttpRequest) -> bool:
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
    inlines = (AuthTokenInline, WeChatIdentityInline)

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data:
            # Through the service, so deactivating closes the user's sockets at once.
            user_active_set(user=obj, active=obj.is_active)

    def delete_model(self, request: HttpRequest, obj: User) -> None:
        user_delete(user=obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for user in queryset:
            user_delete(user=user)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not AuthToken:
            super().save_formset(request, form, formset, change)
            return
        # Tokens are only ever deleted here, and through the service, so the sockets that
        # authenticated with them close too.
        formset.save(commit=False)
        for token in formset.deleted_objects:
            token_revoke(token=token)


admin.site.unregister(AuthToken)


@admin.register(AuthToken)
class AuthTokenAdmin(KnoxAuthTokenAdmin):
    """knox's token admin, revoking through the service (which closes the sockets)."""

    def delete_model(self, request: HttpRequest, obj: AuthToken) -> None:
        token_revoke(token=obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for token in queryset:
            token_revoke(token=token)
