"""REST for Web Push: the server's public key, and this device's subscription."""

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from knox.models import AuthToken
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from happychat.api import me
from push import services
from push.models import PushSubscription
from push.serializers import (
    PushConfigSchema,
    PushSubscriptionDeleteInput,
    PushSubscriptionInput,
    PushSubscriptionSchema,
    subscription_payload,
)


def _field(data: Any, name: str) -> Any:
    return data.get(name) if isinstance(data, dict) else None


class PushConfigApi(APIView):
    @extend_schema(
        operation_id="push_config",
        responses=PushConfigSchema,
        summary="The VAPID public key to subscribe with (null: no pushes from this server).",
    )
    def get(self, request: Request) -> Response:
        from django.conf import settings

        key = settings.WEBPUSH_VAPID_PUBLIC_KEY if services.push_enabled() else None
        return Response({"public_key": key, "preview": settings.WEBPUSH_PREVIEW})


class PushSubscriptionListApi(APIView):
    @extend_schema(
        operation_id="push_subscriptions_list",
        responses=PushSubscriptionSchema(many=True),
        summary="The user's push subscriptions (one per browser or device).",
    )
    def get(self, request: Request) -> Response:
        rows = PushSubscription.objects.filter(user=me(request)).order_by("-created_at")
        return Response([subscription_payload(s) for s in rows])

    @extend_schema(
        operation_id="push_subscriptions_save",
        request=PushSubscriptionInput,
        responses={
            201: PushSubscriptionSchema,
            200: OpenApiResponse(PushSubscriptionSchema, description="Already known: updated."),
        },
        summary="Register this browser's PushSubscription (JSON as `toJSON()` gives it).",
        description="One subscription per endpoint: sending it again (also as another user) "
        "replaces the stored one. It is tied to this login: logging out or revoking the "
        "token deletes it. `invalid_frame` for a malformed endpoint or keys.",
    )
    def post(self, request: Request) -> Response:
        data = request.data
        subscription, created = services.push_subscription_save(
            user=me(request),
            endpoint=_field(data, "endpoint"),
            keys=_field(data, "keys"),
            language=str(_field(data, "language") or getattr(request, "LANGUAGE_CODE", "")),
            user_agent=request.headers.get("User-Agent", ""),
            session_key=request._request.session.session_key
            if not isinstance(request.auth, AuthToken)
            else None,
            token=request.auth if isinstance(request.auth, AuthToken) else None,
        )
        return Response(
            subscription_payload(subscription),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        operation_id="push_subscriptions_delete",
        request=PushSubscriptionDeleteInput,
        responses={204: None, 404: OpenApiResponse(description="`not_found`")},
        summary="Stop pushes to this browser (the subscription with this endpoint).",
    )
    def delete(self, request: Request) -> Response:
        services.push_subscription_delete(
            user=me(request), endpoint=_field(request.data, "endpoint")
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class PushSubscriptionDetailApi(APIView):
    @extend_schema(
        operation_id="push_subscription_delete",
        responses={204: None, 404: OpenApiResponse(description="`not_found`")},
        summary="Stop pushes to one of the user's devices, by id.",
    )
    def delete(self, request: Request, subscription_id: int) -> Response:
        services.push_subscription_delete_by_id(user=me(request), subscription_id=subscription_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
