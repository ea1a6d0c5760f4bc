"""Shared REST plumbing: every error becomes `{"code", "detail"}` the same way everywhere.

Field errors add `errors`: `{"code": "invalid", "detail", "errors": {"<field>": ["…"]}}`.
Domain errors carry their own code; DRF's own exceptions are mapped to the codes below.
"""

from typing import TYPE_CHECKING, Any, cast

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import set_rollback

from happychat.errors import DomainError
from happychat.validators import MAX_ID

if TYPE_CHECKING:
    from accounts.models import User

# DRF exception class → our code (PROTOCOL.md's set where one fits).
_CODES: list[tuple[type[exceptions.APIException], str]] = [
    (exceptions.NotAuthenticated, "unauthenticated"),
    (exceptions.AuthenticationFailed, "unauthenticated"),
    (exceptions.PermissionDenied, "permission_denied"),
    (exceptions.NotFound, "not_found"),
    (exceptions.MethodNotAllowed, "method_not_allowed"),
    (exceptions.NotAcceptable, "not_acceptable"),
    (exceptions.UnsupportedMediaType, "unsupported_media_type"),
    (exceptions.Throttled, "rate_limited"),
    (exceptions.ParseError, "invalid"),
]


class IdField(serializers.IntegerField):
    """An object id: a positive integer that fits the database (1 … 2**63 - 1)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


class SeqField(serializers.IntegerField):
    """A message seq or cursor: 0 … 2**63 - 1."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


def me(request: Request) -> "User":
    """The signed-in user of a view whose permission classes require authentication."""
    return cast("User", request.user)


def error_body(code: str, detail: str, **extra: Any) -> dict[str, Any]:
    """The one error shape of the REST API."""
    return {"code": code, "detail": detail, **extra}


def field_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Flatten DRF's nested error detail into `{"field" or "field.sub": ["message", …]}`."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            out.update(field_errors(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        for index, item in enumerate(detail):
            out.update(field_errors(item, f"{prefix}.{index}" if prefix else str(index)))
    else:
        items = detail if isinstance(detail, list) else [detail]
        out[prefix or "non_field_errors"] = [str(item) for item in items]
    return out


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Map domain errors, DRF's exceptions and Django's 404/403 to the one error shape."""
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.detail, **exc.extra), status=exc.http_status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        return Response(error_body("too_large", _("The request body is too large.")), status=413)
    if not isinstance(exc, exceptions.APIException):
        return None
    set_rollback()
    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = cast(str, exc.auth_header)  # type: ignore[attr-defined]
    wait = getattr(exc, "wait", None)
    if isinstance(exc, exceptions.Throttled) and wait is not None:
        headers["Retry-After"] = str(int(wait))
    if isinstance(exc, exceptions.ValidationError):
        body = error_body("invalid", _("Some fields are invalid."), errors=field_errors(exc.detail))
        return Response(body, status=exc.status_code, headers=headers)
    code = next((c for cls, c in _CODES if isinstance(exc, cls)), None)
    if code is None:
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else "error"
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.default_detail)
    return Response(error_body(code, str(detail)), status=exc.status_code, headers=headers)
