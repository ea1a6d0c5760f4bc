from django.contrib import admin

from push.models import PushSubscription


@admin.register(PushSubscription)
class PushSubscriptionAdmin(admin.ModelAdmin):
    list_display = ("user", "endpoint_host", "language", "created_at", "last_success_at")
    list_select_related = ("user",)
    search_fields = ("user__username", "endpoint")
    readonly_fields = ("user", "endpoint", "p256dh", "auth", "session", "token", "created_at")
    exclude = ()

    @admin.display(description="push service")
    def endpoint_host(self, obj: PushSubscription) -> str:
        return obj.endpoint.split("/")[2] if "//" in obj.endpoint else obj.endpoint
