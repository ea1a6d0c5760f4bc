"""Domain errors with stable codes, raised by services in every app.

Every caller maps them one way: REST through `happychat.api.exception_handler`
(status from `http_status`), the socket as an `error` frame with `code`.
"""

from typing import Any


class DomainError(Exception):
    code = "invalid"
    http_status = 400
    default_detail = "Invalid request."

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        self.detail = detail or self.default_detail
        self.extra = extra
        super().__init__(self.detail)


class InvalidInput(DomainError):
    code = "invalid_frame"
    default_detail = "The request is missing a field or has a wrong value."


class NotFound(DomainError):
    code = "not_found"
    http_status = 404
    default_detail = "Not found."


class NotMember(DomainError):
    code = "not_member"
    http_status = 403
    default_detail = "You are not a member of this conversation."


class NotFriends(DomainError):
    code = "not_friends"
    http_status = 403
    default_detail = "You can only message your friends."


class PermissionDenied(DomainError):
    code = "permission_denied"
    http_status = 403
    default_detail = "You may not do that."


class Conflict(DomainError):
    code = "conflict"
    http_status = 409
    default_detail = "That conflicts with the current state."


class RateLimited(DomainError):
    code = "rate_limited"
    http_status = 429
    default_detail = "Too many requests; slow down."


class ContentBlocked(DomainError):
    code = "content_blocked"
    http_status = 400
    default_detail = "The text contains words that are not allowed."


class InvalidAttachment(DomainError):
    code = "invalid_attachment"
    http_status = 400
    default_detail = "The attachment is missing, not an allowed image, or not yours."


class UnreadableImage(InvalidAttachment):
    """Not a JPEG, PNG, GIF or WebP image, or damaged (same code; callers may reword it)."""

    default_detail = "The file is not a valid JPEG, PNG, GIF or WebP image, or it is damaged."


class Busy(DomainError):
    code = "busy"
    http_status = 503
    default_detail = "Storage is temporarily unavailable; nothing was stored. Retry."


class ValidationFailed(DomainError):
    """Some fields are invalid; `errors` maps each field to its messages."""

    code = "invalid"
    default_detail = "Some fields are invalid."


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    default_detail = "Unable to log in with the given credentials."


class AccountInactive(DomainError):
    code = "inactive"
    default_detail = "This account is not activated yet: open the link in the activation mail."


class InvalidCode(DomainError):
    """A WeChat `wx.login` code that WeChat refused (invalid, expired or already used)."""

    code = "invalid_code"
    default_detail = "The WeChat login code is invalid or was already used; call wx.login again."


class UpstreamUnavailable(DomainError):
    """A service HappyChat depends on (WeChat) is busy, unreachable or too slow. Retry."""

    code = "upstream_unavailable"
    http_status = 503
    default_detail = "WeChat did not answer in time; nothing was changed. Retry."


class NotConfigured(DomainError):
    """The server is not set up for this feature (e.g. WECHAT_APP_ID is unset)."""

    code = "not_configured"
    http_status = 503
    default_detail = "This server is not configured for that."
