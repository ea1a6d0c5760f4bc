"""Shared REST plumbing: domain errors become responses the same way everywhere."""

from typing import Any

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from chat.errors import DomainError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Map a DomainError to `{"code", "detail"}` with its status; defer the rest to DRF."""
    if isinstance(exc, DomainError):
        body: dict[str, Any] = {"code": exc.code, "detail": exc.detail, **exc.extra}
        return Response(body, status=exc.http_status)
    return drf_exception_handler(exc, context)
