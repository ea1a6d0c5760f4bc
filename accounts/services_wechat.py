"""WeChat identities: log in with a `wx.login` code, link and unlink WeChat on an account.

WeChat is asked before any transaction opens; its answers map to domain errors one way:
a refused code → `invalid_code` (400); WeChat's rate limit → `rate_limited` (429,
retryable); busy, unreachable, 5xx or slower than WECHAT_TIMEOUT → `upstream_unavailable`
(503, retryable). Nothing is stored unless WeChat said who the user is.
"""

import logging
import secrets
import string

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from knox.models import AuthToken

from accounts.models import User, WeChatIdentity
from accounts.services import token_create
from accounts.signals import user_registered
from happychat import wechat
from happychat.errors import (
    AccountInactive,
    Conflict,
    InvalidCode,
    NotConfigured,
    NotFound,
    RateLimited,
    UpstreamUnavailable,
)

logger = logging.getLogger("happychat.accounts")

# jscode2session errcodes: the code is wrong, expired or used; the user is blocked by WeChat.
INVALID_CODE = frozenset({40029, 40163, 40226})
RATE_LIMITED = frozenset({45011})
USERNAME_ALPHABET = string.ascii_lowercase + string.digits


def _session_for(code: str) -> wechat.WeChatSession:
    """Ask WeChat whose code this is, mapping every failure to its domain error."""
    try:
        return wechat.code_to_session(code)
    except wechat.WeChatNotConfigured:
        raise NotConfigured(_("WeChat log-in is not configured on this server.")) from None
    except wechat.WeChatUnavailable:
        raise UpstreamUnavailable(retryable=True) from None
    except wechat.WeChatApiError as exc:
        if exc.errcode in INVALID_CODE:
            raise InvalidCode() from None
        if exc.errcode in RATE_LIMITED:
            raise RateLimited(
                _("WeChat is limiting log-ins right now; retry shortly."), retryable=True
            ) from None
        # Anything else (a wrong AppSecret, say) is the operator's to fix: log the code only.
        logger.error("WeChat jscode2session refused with errcode %s", exc.errcode)
        raise UpstreamUnavailable(
            _("WeChat refused this server's request; the operator has to check its settings."),
            retryable=False,
        ) from None


def _new_username() -> str:
    while True:
        name = "wx_" + "".join(secrets.choice(USERNAME_ALPHABET) for _ in range(10))
        if not User.objects.filter(username__iexact=name).exists():
            return name


def _user_for_session(session: wechat.WeChatSession) -> tuple[User, bool]:
    """The user this WeChat account maps to, creating one (no e-mail needed) the first time."""
    app_id = settings.WECHAT_APP_ID
    identity = (
        WeChatIdentity.objects.select_related("user")
        .filter(app_id=app_id, openid=session.openid)
        .first()
    )
    if identity is not None:
        if session.unionid and not identity.unionid:
            identity.unionid = session.unionid
            identity.save(update_fields=["unionid"])
        return identity.user, False
    same_person = (
        WeChatIdentity.objects.select_related("user").filter(unionid=session.unionid).first()
        if session.unionid
        else None
    )
    if same_person is not None:
        user, created = same_person.user, False
    else:
        user = User(username=_new_username())
        user.set_unusable_password()
        user.save()
        # The apps above accounts react (the robot opens the new user's conversation).
        user_registered.send(sender=User, user=user)
        created = True
    WeChatIdentity.objects.create(
        user=user, app_id=app_id, openid=session.openid, unionid=session.unionid
    )
    return user, created


def wechat_login(*, code: str) -> tuple[AuthToken, str, User, bool]:
    """Log in with a `wx.login` code: a token for the user of this WeChat account.

    Returns the token, its key (to hand to the client once), the user and whether the
    account was just created.
    """
    session = _session_for(code)
    for attempt in range(2):
        try:
            with transaction.atomic():
                user, created = _user_for_session(session)
                if not user.is_active or user.is_robot:
                    raise AccountInactive(_("This account is disabled."))
                token, key = token_create(user=user)
            return token, key, user, created
        except IntegrityError:
            # A concurrent first log-in of the same WeChat account won: use its user.
            if attempt == 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def wechat_link(*, user: User, code: str) -> WeChatIdentity:
    """Link the WeChat account behind `code` to `user`, so it can log in with WeChat too."""
    session = _session_for(code)
    app_id = settings.WECHAT_APP_ID
    try:
        with transaction.atomic():
            taken = WeChatIdentity.objects.filter(app_id=app_id, openid=session.openid).first()
            if taken is not None and taken.user_id == user.pk:
                return taken
            if taken is not None:
                raise Conflict(_("This WeChat account is already linked to another account."))
            if WeChatIdentity.objects.filter(user=user, app_id=app_id).exists():
                raise Conflict(_("Your account is already linked to another WeChat account."))
            return WeChatIdentity.objects.create(
                user=user, app_id=app_id, openid=session.openid, unionid=session.unionid
            )
    except IntegrityError:
        raise Conflict(_("This WeChat account was just linked elsewhere.")) from None


def wechat_unlink(*, user: User) -> None:
    """Remove the user's WeChat link; refused while WeChat is their only way to log in."""
    with transaction.atomic():
        links = WeChatIdentity.objects.filter(user=user, app_id=settings.WECHAT_APP_ID)
        if not links.exists():
            raise NotFound(_("Your account is not linked to WeChat."))
        if not user.has_usable_password():
            raise Conflict(
                _("WeChat is the only way into this account: set a password before unlinking.")
            )
        links.delete()
