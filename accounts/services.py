"""Account writes: registration and activation mail, API tokens, sessions, password, profile.

The browser (django-allauth, through `accounts.adapter` and `accounts.forms`) and REST
(`accounts.api`) both come here, so there is one registration and one activation mechanism:
allauth's EmailAddress with its HMAC link (one-time in effect: a confirmed address cannot
be confirmed again; it expires after ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS).
"""

import logging

from allauth.account.models import EmailAddress
from allauth.core import context as allauth_context
from allauth.core import ratelimit
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from knox.models import AuthToken

from accounts.models import User
from accounts.selectors_auth import user_is_activated
from accounts.signals import user_registered
from happychat import events
from happychat.errors import (
    AccountInactive,
    ContentBlocked,
    InvalidAttachment,
    InvalidCredentials,
    UnreadableImage,
    ValidationFailed,
)
from happychat.images import avatar_image
from happychat.media import delete_stored_on_commit, storage_writes
from happychat.validators import text_problem
from safety.services import text_filter

logger = logging.getLogger("happychat.accounts")

NICKNAME_MAX = User._meta.get_field("nickname").max_length or 64
BIO_MAX = User._meta.get_field("bio").max_length or 280
REGION_MAX = User._meta.get_field("region").max_length or 64
USERNAME_MAX = User._meta.get_field("username").max_length or 150

Errors = dict[str, list[str]]


def _add(errors: Errors, field: str, message: str) -> None:
    errors.setdefault(field, []).append(str(message))


def _messages(exc: ValidationError) -> list[str]:
    return [str(m) for m in exc.messages]


# --- registration and activation ------------------------------------------------------


def user_register_check(*, username: str, email: str, password: str, nickname: str = "") -> Errors:
    """Return the field errors a registration with these values would get (empty: none)."""
    errors: Errors = {}
    fields = {"username": username, "email": email, "password": password, "nickname": nickname}
    for field, value in fields.items():
        problem = text_problem(value) if isinstance(value, str) else _("Must be text.")
        if problem is not None:
            _add(errors, field, problem)
    if errors:
        return errors
    if not username:
        _add(errors, "username", _("Choose a username."))
    elif len(username) > USERNAME_MAX:
        _add(errors, "username", _("Use at most %(n)d characters.") % {"n": USERNAME_MAX})
    else:
        try:
            User.username_validator(username)
        except ValidationError as exc:
            errors.setdefault("username", []).extend(_messages(exc))
        if User.objects.filter(username__iexact=username).exists():
            _add(errors, "username", _("A user with that username already exists."))
    try:
        validate_email(email)
    except ValidationError:
        _add(errors, "email", _("Enter a valid e-mail address."))
    else:
        if (
            User.objects.filter(email__iexact=email).exists()
            or EmailAddress.objects.filter(email__iexact=email).exists()
        ):
            _add(errors, "email", _("A user is already registered with this e-mail address."))
    if len(nickname) > NICKNAME_MAX:
        _add(errors, "nickname", _("Use at most %(n)d characters.") % {"n": NICKNAME_MAX})
    elif nickname:
        try:
            text_filter(text=nickname, field="nickname")
        except ContentBlocked as exc:
            _add(errors, "nickname", exc.detail)
    if not password:
        _add(errors, "password", _("Choose a password."))
    else:
        try:
            validate_password(password, User(username=username, email=email, nickname=nickname))
        except ValidationError as exc:
            errors.setdefault("password", []).extend(_messages(exc))
    return errors


def user_register(
    *, username: str, email: str, password: str, nickname: str = "", request: HttpRequest
) -> User:
    """Create an inactive account, announce it (the robot opens its conversation), and mail
    the activation link.

    `request` gives the activation link its scheme and host.
    """
    username = username.strip()
    email = email.strip().lower()
    nickname = nickname.strip()
    errors = user_register_check(
        username=username, email=email, password=password, nickname=nickname
    )
    if errors:
        raise ValidationFailed(_("Some fields are invalid."), errors=errors)
    nickname = text_filter(text=nickname, field="nickname") if nickname else nickname  # masks
    try:
        with transaction.atomic():
            user = User(username=username, email=email, nickname=nickname)
            user.set_password(password)
            user.save()
            address = EmailAddress.objects.create(
                user=user, email=email, primary=True, verified=False
            )
            user_registered.send(sender=User, user=user)
            transaction.on_commit(lambda: _activation_mail_send(request, address, signup=True))
    except IntegrityError as exc:
        # Lost a race with a concurrent registration of the same name or address.
        raise ValidationFailed(
            _("Some fields are invalid."),
            errors={"username": [_("That username or e-mail address was just taken.")]},
        ) from exc
    return user


def _activation_mail_send(request: HttpRequest, address: EmailAddress, *, signup: bool) -> bool:
    # One mail per address per cooldown (allauth's "confirm_email" limit, kept in the
    # shared cache): the links already sent stay valid, so skipping is harmless.
    if not ratelimit.consume(request, action="confirm_email", key=address.email.lower()):
        return False
    with allauth_context.request_context(request):
        address.send_confirmation(request, signup=signup)
    return True


def activation_resend(*, email: str, request: HttpRequest) -> None:
    """Mail a fresh activation link if `email` belongs to an account not yet activated.

    Says nothing either way, so nobody learns which addresses are registered.
    """
    address = (
        EmailAddress.objects.filter(
            email__iexact=email.strip(), verified=False, user__is_active=True
        )
        .select_related("user")
        .first()
    )
    if address is None or user_is_activated(user=address.user):
        return
    _activation_mail_send(request, address, signup=False)


# --- API tokens and sessions ----------------------------------------------------------


def token_issue(*, login: str, password: str, request: HttpRequest) -> tuple[AuthToken, str]:
    """Check the credentials (username or e-mail) and issue a new device token.

    Returns the stored token (hashed) and the key to hand to the client once.
    """
    if text_problem(login) is not None or text_problem(password) is not None:
        raise InvalidCredentials(_("Unable to log in with the given username and password."))
    user = authenticate(request, username=login.strip(), password=password)
    if not isinstance(user, User) or user.is_robot:
        raise InvalidCredentials(_("Unable to log in with the given username and password."))
    if not user_is_activated(user=user):
        raise AccountInactive(
            _("This account is not activated yet: open the link in the activation mail.")
        )
    return token_create(user=user)


def token_create(*, user: User) -> tuple[AuthToken, str]:
    """Issue a device token for a user whose identity was just proven (password, WeChat)."""
    raw_limit = settings.REST_KNOX.get("TOKEN_LIMIT_PER_USER")
    limit = int(raw_limit) if raw_limit else 0
    with transaction.atomic():
        if limit:
            # A new device must be able to log in: retire the oldest tokens beyond the limit.
            for old in AuthToken.objects.filter(user=user).order_by("-created")[limit - 1 :]:
                token_revoke(token=old)
        return AuthToken.objects.create(user=user)


def token_revoke(*, token: AuthToken) -> None:
    """Delete a device token and close the sockets that authenticated with it."""
    with transaction.atomic():
        AuthToken.objects.filter(digest=token.digest).delete()
        events.sessions_revoked(user_id=token.user_id, token_key=token.token_key)


def session_revoke(*, user: User, session_key: str | None) -> None:
    """Close the sockets of a browser session that just ended (logout)."""
    if session_key:
        events.sessions_revoked(user_id=user.pk, session_key=session_key)


def user_active_set(*, user: User, active: bool) -> User:
    """Activate or deactivate an account; deactivating closes every socket of it at once.

    Its tokens and sessions are kept but refused while it is inactive (knox and Django's
    backends check `is_active`), so reactivating gives the same devices their access back.
    """
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_active=active)
        user.is_active = active
        if not active:
            events.sessions_revoked(user_id=user.pk, all_sessions=True)
    return user


def user_delete(*, user: User) -> None:
    """Delete an account (and, by cascade, what is only its), closing its sockets."""
    with transaction.atomic():
        events.sessions_revoked(user_id=user.pk, all_sessions=True)
        user.delete()


def user_password_set(*, user: User, password: str) -> None:
    """Set a new password, revoke every token and close every socket of the user.

    Other browser sessions end too (Django checks the password hash on each request);
    the caller keeps the current session alive with update_session_auth_hash.
    """
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationFailed(
            _("Some fields are invalid."), errors={"password": _messages(exc)}
        ) from exc
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        AuthToken.objects.filter(user=user).delete()
        events.sessions_revoked(user_id=user.pk, all_sessions=True)


# --- profile --------------------------------------------------------------------------


def user_profile_update(
    *,
    user: User,
    nickname: str | None = None,
    bio: str | None = None,
    gender: str | None = None,
    region: str | None = None,
    avatar: UploadedFile | None = None,
) -> User:
    """Change the given profile fields; on any error nothing changes (the old avatar stays)."""
    errors: Errors = {}
    changes: dict[str, str] = {}
    for field, value, limit in (
        ("nickname", nickname, NICKNAME_MAX),
        ("bio", bio, BIO_MAX),
        ("region", region, REGION_MAX),
    ):
        if value is None:
            continue
        problem = text_problem(value)
        if problem is not None:
            _add(errors, field, problem)
            continue
        value = value.strip()
        if len(value) > limit:
            _add(errors, field, _("Use at most %(n)d characters.") % {"n": limit})
        elif value and field in ("nickname", "bio"):
            # Raises ContentBlocked (nothing changes yet) or masks the words.
            value = text_filter(text=value, field=field)
        changes[field] = value
    if gender is not None:
        if gender not in User.Gender.values:
            _add(errors, "gender", _("Choose one of the offered values."))
        changes["gender"] = gender
    new_avatar = None
    if avatar is not None:
        try:
            new_avatar = avatar_image(file=avatar)
        except UnreadableImage:
            _add(errors, "avatar", _("Upload a JPEG, PNG, GIF or WebP image."))
        except InvalidAttachment as exc:
            _add(errors, "avatar", exc.detail)
    if errors:
        raise ValidationFailed(_("Some fields are invalid."), errors=errors)

    old_avatar_name = (user.avatar.name or "") if user.avatar else ""
    with transaction.atomic():
        for field, value in changes.items():
            setattr(user, field, value)
        update_fields = list(changes)
        if new_avatar is not None:
            with storage_writes():
                user.avatar.save(new_avatar.name or "avatar", new_avatar, save=False)
            update_fields.append("avatar")
        if update_fields:
            user.save(update_fields=update_fields)
        if new_avatar is not None:
            delete_stored_on_commit(user.avatar.storage, [old_avatar_name])
    return user
