"""Shared REST plumbing: domain errors become responses the same way everywhere."""

from typing import TYPE_CHECKING, Any, cast

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from happychat.errors import DomainError

if TYPE_CHECKING:
    from accounts.models import User


def me(request: Request) -> "User":
    """The signed-in user of a view whose permission classes require authentication."""
    return cast("User", request.user)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Map a DomainError to `{"code", "detail"}` with its status; defer the rest to DRF."""
    if isinstance(exc, DomainError):
        body: dict[str, Any] = {"code": exc.code, "detail": exc.detail, **exc.extra}
        return Response(body, status=exc.http_status)
    return drf_exception_handler(exc, context)
