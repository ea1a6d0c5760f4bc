"""REST for WeChat: log in with a `wx.login` code, and link or unlink WeChat on an account.

Errors have the usual shape `{"code", "detail"}`, plus `"retryable": true` where retrying
the same request later can succeed. See docs/protocol.md §1.
"""

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts.api import ErrorSerializer, TokenSerializer, parse
from accounts.models import User, WeChatIdentity
from accounts.selectors_auth import wechat_identity_get
from accounts.serializers import user_payload
from accounts.services_wechat import wechat_link, wechat_login, wechat_unlink
from happychat.api import me


class CodeSerializer(serializers.Serializer):
    code = serializers.CharField(
        max_length=256, help_text="The code `wx.login()` gave the mini-program (single use)."
    )


WeChatLinkSerializer = inline_serializer(
    "WeChatLink",
    {
        "linked": serializers.BooleanField(),
        "unionid": serializers.BooleanField(help_text="Whether WeChat gave a unionid."),
        "created_at": serializers.DateTimeField(allow_null=True),
    },
)

WECHAT_ERRORS = {
    400: OpenApiResponse(
        ErrorSerializer,
        description="`invalid` (missing or empty `code`) or `invalid_code` (WeChat refused "
        "the code: wrong, expired or already used; call `wx.login` again).",
    ),
    429: OpenApiResponse(
        ErrorSerializer, description="`rate_limited`, `retryable: true` (WeChat's or ours)."
    ),
    503: OpenApiResponse(
        ErrorSerializer,
        description="`upstream_unavailable` (WeChat busy, unreachable, 5xx or slower than "
        "5 s; `retryable: true`), or `not_configured`.",
    ),
}


def link_payload(identity: WeChatIdentity | None) -> dict[str, Any]:
    return {
        "linked": identity is not None,
        "unionid": bool(identity and identity.unionid),
        "created_at": identity.created_at if identity else None,
    }


class WeChatLoginApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "wechat"

    @extend_schema(
        operation_id="auth_wechat",
        request=CodeSerializer,
        responses={
            200: TokenSerializer,
            201: OpenApiResponse(TokenSerializer, description="A new account was created."),
            **WECHAT_ERRORS,
        },
        description="Log in from a WeChat mini-program: exchanges the `wx.login` code with "
        "WeChat and answers like the password log-in. The first log-in of a WeChat account "
        "creates a HappyChat account (no e-mail needed).",
    )
    def post(self, request: Request) -> Response:
        data = parse(CodeSerializer, request.data)
        _token, key, user, created = wechat_login(code=data["code"])
        return Response(
            {"token": key, "user": user_payload(user)},
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class MeWeChatApi(APIView):
    def get_throttles(self) -> list:
        return [ScopedRateThrottle()] if self.request.method == "POST" else []

    throttle_scope = "wechat"

    @extend_schema(operation_id="me_wechat_retrieve", responses={200: WeChatLinkSerializer})
    def get(self, request: Request) -> Response:
        return Response(link_payload(wechat_identity_get(user=me(request))))

    @extend_schema(
        operation_id="me_wechat_link",
        request=CodeSerializer,
        responses={
            200: WeChatLinkSerializer,
            409: OpenApiResponse(
                ErrorSerializer,
                description="`conflict`: that WeChat account belongs to another user, or "
                "yours is linked to a different one.",
            ),
            **WECHAT_ERRORS,
        },
        description="Link the WeChat account behind a `wx.login` code to your account.",
    )
    def post(self, request: Request) -> Response:
        data = parse(CodeSerializer, request.data)
        identity = wechat_link(user=me(request), code=data["code"])
        return Response(link_payload(identity))

    @extend_schema(
        operation_id="me_wechat_unlink",
        request=None,
        responses={
            204: OpenApiResponse(description="Unlinked."),
            404: OpenApiResponse(ErrorSerializer, description="`not_found`: not linked."),
            409: OpenApiResponse(ErrorSerializer, description="`conflict`: set a password first."),
        },
        description="Unlink WeChat from your account (refused while it is the only way in).",
    )
    def delete(self, request: Request) -> Response:
        user: User = me(request)
        wechat_unlink(user=user)
        return Response(status=status.HTTP_204_NO_CONTENT)
