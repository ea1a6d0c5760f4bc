"""Account reads for sign-in and activation (the friend graph has its own selectors)."""

from typing import Literal

from allauth.account import app_settings as allauth_settings
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core import signing

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
