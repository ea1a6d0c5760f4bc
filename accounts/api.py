"""REST for identity and the own profile (docs/protocol.md §1 and `me/`).

Each view parses input, calls one service and serializes. Field errors, whether the input
is malformed or refused by a service, have one shape:
`{"code": "invalid", "detail": "...", "errors": {"<field>": ["..."]}}`.
"""

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts import services
from accounts.models import User
from accounts.serializers import UserSerializer, user_payload
from accounts.throttles import LoginFailureThrottle
from happychat.api import field_errors, me
from happychat.errors import InvalidCredentials, InvalidInput, ValidationFailed

# --- shapes ---------------------------------------------------------------------------


class MeSerializer(UserSerializer):
    email = serializers.EmailField()
    bio = serializers.CharField()
    gender = serializers.ChoiceField(choices=User.Gender.choices)
    region = serializers.CharField()


ErrorSerializer = inline_serializer(
    "AccountError",
    {
        "code": serializers.CharField(),
        "detail": serializers.CharField(),
        "errors": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()), required=False
        ),
    },
)


class RegisterSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, trim_whitespace=True)
    email = serializers.EmailField()
    password = serializers.CharField(write_only=True, trim_whitespace=False)
    nickname = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(help_text="Username or e-mail address.")
    password = serializers.CharField(trim_whitespace=False)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    user = UserSerializer()


class ResendSerializer(serializers.Serializer):
    email = serializers.EmailField()


class MeUpdateSerializer(serializers.Serializer):
    nickname = serializers.CharField(required=False, allow_blank=True, max_length=64)
    bio = serializers.CharField(required=False, allow_blank=True, max_length=280)
    gender = serializers.ChoiceField(required=False, choices=User.Gender.choices)
    region = serializers.CharField(required=False, allow_blank=True, max_length=64)
    avatar = serializers.FileField(
        required=False, help_text="JPEG, PNG, GIF or WebP, at most 10 MB (multipart)."
    )


class AvatarUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="JPEG, PNG, GIF or WebP, at most 10 MB.")


def parse(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    """Validate input or raise ValidationFailed with the field errors."""
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        errors = field_errors(serializer.errors)
        raise ValidationFailed(_("Some fields are invalid."), errors=errors)
    return dict(serializer.validated_data)


def me_payload(user: User) -> dict[str, Any]:
    return {
        **user_payload(user),
        "email": user.email,
        "bio": user.bio,
        "gender": user.gender,
        "region": user.region,
    }


# --- views ----------------------------------------------------------------------------


class RegisterApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "register"

    @extend_schema(
        operation_id="auth_register",
        request=RegisterSerializer,
        responses={
            201: MeSerializer,
            400: OpenApiResponse(ErrorSerializer, description="Field errors; nothing created."),
            429: OpenApiResponse(description="Too many registrations from this address."),
        },
        description="Create an account. It stays inactive until the link mailed to `email` "
        "is opened (a plain GET).",
    )
    def post(self, request: Request) -> Response:
        data = parse(RegisterSerializer, request.data)
        user = services.user_register(**data, request=request._request)
        return Response(me_payload(user), status=status.HTTP_201_CREATED)


class TokenApi(APIView):
    permission_classes = [AllowAny]

    def _logging_in(self) -> bool:
        request = getattr(self, "request", None)
        return request is not None and request.method == "POST"

    def get_throttles(self) -> list:
        return [LoginFailureThrottle()] if self._logging_in() else []

    def get_authenticators(self) -> list:
        # Logging in needs no credentials (and must not trip over a stale session's CSRF).
        return [] if self._logging_in() else super().get_authenticators()

    def get_permissions(self) -> list:
        return [AllowAny()] if self._logging_in() else [IsAuthenticated()]

    @extend_schema(
        operation_id="auth_token_create",
        request=TokenRequestSerializer,
        responses={
            200: TokenSerializer,
            400: OpenApiResponse(
                ErrorSerializer,
                description="`invalid_credentials` (no hint which part was wrong) or "
                "`inactive` (right password, account not activated yet).",
            ),
            429: OpenApiResponse(description="Too many failed attempts; retry later."),
        },
        description="Issue a token for this device: send it as `Authorization: Token <key>`.",
    )
    def post(self, request: Request) -> Response:
        data = parse(TokenRequestSerializer, request.data)
        try:
            token, key = services.token_issue(
                login=data["username"], password=data["password"], request=request._request
            )
        except InvalidCredentials:
            LoginFailureThrottle.record_failure(request, data["username"])
            raise
        return Response({"token": key, "user": user_payload(token.user)})

    @extend_schema(
        operation_id="auth_token_revoke",
        request=None,
        responses={
            204: OpenApiResponse(description="Revoked; sockets using it are closed."),
            400: OpenApiResponse(ErrorSerializer, description="Not authenticated by a token."),
        },
        description="Revoke the token this request was authenticated with.",
    )
    def delete(self, request: Request) -> Response:
        from knox.models import AuthToken

        if not isinstance(request.auth, AuthToken):
            raise InvalidInput(_("This request was not authenticated with a token."))
        services.token_revoke(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ActivationResendApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "resend"

    @extend_schema(
        operation_id="auth_activation_resend",
        request=ResendSerializer,
        responses={202: OpenApiResponse(description="Accepted, whether or not a mail is sent.")},
        description="Mail a new activation link if the address awaits activation. Always 202, "
        "so nobody learns which addresses are registered.",
    )
    def post(self, request: Request) -> Response:
        email = request.data.get("email") if hasattr(request.data, "get") else None
        if isinstance(email, str) and email:
            services.activation_resend(email=email, request=request._request)
        return Response(status=status.HTTP_202_ACCEPTED)


class MeApi(APIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(operation_id="me_retrieve", responses={200: MeSerializer})
    def get(self, request: Request) -> Response:
        return Response(me_payload(request.user))  # type: ignore[arg-type]

    @extend_schema(
        operation_id="me_update",
        request={
            "application/json": MeUpdateSerializer,
            "multipart/form-data": MeUpdateSerializer,
        },
        responses={
            200: MeSerializer,
            400: OpenApiResponse(
                ErrorSerializer, description="Field errors (e.g. not an image); nothing changed."
            ),
        },
        description="Change any of the own profile fields; `avatar` is uploaded as multipart.",
    )
    def patch(self, request: Request) -> Response:
        data = parse(MeUpdateSerializer, request.data)
        user = services.user_profile_update(user=request.user, **data)  # type: ignore[arg-type]
        return Response(me_payload(user))


class MeAvatarApi(APIView):
    # POST because WeChat's wx.uploadFile can only POST (PATCH me/ takes the avatar too).
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="me_avatar_upload",
        request={"multipart/form-data": AvatarUploadSerializer},
        responses={
            200: MeSerializer,
            400: OpenApiResponse(
                ErrorSerializer,
                description="`file` missing or not an image (errors under `file`); "
                "the old avatar stays.",
            ),
            503: OpenApiResponse(
                ErrorSerializer,
                description="`busy` (`retryable: true`): the file storage is unreachable; "
                "the old avatar stays. Retry.",
            ),
        },
        description="Replace the own avatar with the uploaded image (multipart `file`): the "
        "same as PATCH `me/` with `avatar`, for clients that can only POST files "
        "(a mini-program's `wx.uploadFile`).",
    )
    def post(self, request: Request) -> Response:
        data = parse(AvatarUploadSerializer, request.data)
        try:
            user = services.user_profile_update(user=me(request), avatar=data["file"])
        except ValidationFailed as exc:
            # The service names the profile field; this endpoint's field is `file`.
            errors = exc.extra.get("errors") or {}
            if "avatar" in errors:
                errors = {"file": errors["avatar"]}
            raise ValidationFailed(exc.detail, errors=errors) from exc
        return Response(me_payload(user))
