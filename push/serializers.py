"""Push subscription shapes on the wire (input checks live in push.services)."""

from typing import Any

from rest_framework import serializers

from push.models import PushSubscription


class PushKeysSchema(serializers.Serializer):
    p256dh = serializers.CharField(help_text="The browser's P-256 public key, base64url.")
    auth = serializers.CharField(help_text="The browser's 16-byte auth secret, base64url.")


class PushSubscriptionInput(serializers.Serializer):
    endpoint = serializers.URLField(max_length=2000, help_text="PushSubscription.endpoint.")
    keys = PushKeysSchema()
    language = serializers.CharField(
        required=False, help_text="Language of the notifications, e.g. `en` or `zh-hans`."
    )


class PushSubscriptionDeleteInput(serializers.Serializer):
    endpoint = serializers.URLField(max_length=2000)


class PushSubscriptionSchema(serializers.Serializer):
    id = serializers.IntegerField()
    endpoint = serializers.URLField()
    language = serializers.CharField()
    user_agent = serializers.CharField()
    created_at = serializers.DateTimeField()
    last_success_at = serializers.DateTimeField(allow_null=True)


class PushConfigSchema(serializers.Serializer):
    public_key = serializers.CharField(
        allow_null=True,
        help_text="The VAPID public key (base64url) for PushManager.subscribe's "
        "applicationServerKey; null when this server sends no pushes.",
    )
    preview = serializers.ChoiceField(
        choices=["text", "sender", "none"], help_text="What a message push shows."
    )


def subscription_payload(subscription: PushSubscription) -> dict[str, Any]:
    return {
        "id": subscription.pk,
        "endpoint": subscription.endpoint,
        "language": subscription.language,
        "user_agent": subscription.user_agent,
        "created_at": subscription.created_at,
        "last_success_at": subscription.last_success_at,
    }
