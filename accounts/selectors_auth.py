"""Account reads for sign-in and activation (the friend graph has its own selectors)."""

from typing import Literal

from allauth.account import app_settings as allauth_settings
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.models import Session
from django.core import signing
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from accounts.models import User, WeChatIdentity

LinkState = Literal["valid", "used", "expired", "invalid"]


def user_is_activated(*, user: User) -> bool:
    """Whether the user confirmed an e-mail address (the account is active)."""
    return EmailAddress.objects.filter(user=user, verified=True).exists()


def activation_link_state(*, key: str) -> LinkState:
    """Say whether an activation link can still be used, or why not."""
    max_age = 60 * 60 * 24 * allauth_settings.EMAIL_CONFIRMATION_EXPIRE_DAYS
    try:
        pk = signing.loads(key, salt=allauth_settings.SALT)
    except signing.BadSignature:
        return "invalid"
    address = EmailAddress.objects.filter(pk=pk).first()
    if address is None:
        return "invalid"
    if address.verified:
        return "used"
    try:
        signing.loads(key, salt=allauth_settings.SALT, max_age=max_age)
    except signing.SignatureExpired:
        return "expired"
    return "valid"


def wechat_identity_get(*, user: User) -> WeChatIdentity | None:
    """The user's link to this server's mini-program, if any."""
    return WeChatIdentity.objects.filter(user=user, app_id=settings.WECHAT_APP_ID).first()


def socket_credentials_valid(
    *, user_id: int, session_key: str | None = None, token_key: str | None = None
) -> bool:
    """Whether a socket that authenticated this way may stay open.

    The user is still active, and the token still exists (unexpired) or the session still
    exists (unexpired, for this user, with the current password). Sockets ask after an
    outage of the channel layer, which may have dropped the event that would have closed
    them (logout, token revoked, password changed, account deactivated).
    """
    from knox.models import AuthToken

    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    now = timezone.now()
    if token_key is not None:
        return AuthToken.objects.filter(
            Q(expiry__isnull=True) | Q(expiry__gt=now), user_id=user_id, token_key=token_key
        ).exists()
    if session_key is not None:
        session = Session.objects.filter(session_key=session_key, expire_date__gt=now).first()
        if session is None:
            return False
        data = session.get_decoded()
        return str(data.get(SESSION_KEY)) == str(user_id) and constant_time_compare(
            data.get(HASH_SESSION_KEY, ""), user.get_session_auth_hash()
        )
    return True
