"""Account services: registration, activation, tokens, passwords, profile."""

import datetime as dt
import time
from unittest import mock

import pytest
from allauth.account import app_settings as allauth_settings
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from django.core import mail, signing
from django.test import RequestFactory
from knox.models import AuthToken

from accounts import services
from accounts.models import User
from accounts.selectors_auth import activation_link_state, user_is_activated
from chat.models import Conversation, ConversationMember
from happychat.errors import AccountInactive, InvalidCredentials, ValidationFailed
from tests.accounts.conftest import activation_links, committed
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_cache")]

GOOD_PASSWORD = "correct horse battery 42"


@pytest.fixture
def request_():
    return RequestFactory().post("/", HTTP_HOST="chat.example.org")


@pytest.fixture(autouse=True)
def _host(settings):
    settings.ALLOWED_HOSTS = ["chat.example.org"]


def register(request_, **overrides):
    values = {
        "username": "carol",
        "email": "Carol@Example.org",
        "password": GOOD_PASSWORD,
        "nickname": "Caz",
    }
    values.update(overrides)
    with committed():
        return services.user_register(**values, request=request_)


def test_register_creates_inactive_account_with_robot_conversation_and_mails_link(request_):
    user = register(request_)

    assert user.check_password(GOOD_PASSWORD)
    assert user.email == "carol@example.org"
    assert user.nickname == "Caz"
    assert not user_is_activated(user=user)
    address = EmailAddress.objects.get(user=user)
    assert (address.email, address.primary, address.verified) == ("carol@example.org", True, False)
    robot_conversation = Conversation.objects.get(kind=Conversation.Kind.ROBOT)
    assert ConversationMember.objects.filter(
        conversation=robot_conversation, user=user, is_active=True
    ).exists()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["carol@example.org"]
    assert mail.outbox[0].subject.startswith("[HappyChat] ")
    assert 'HappyChat account "carol"' in mail.outbox[0].body
    [link] = activation_links("carol@example.org")
    assert link.startswith("http://chat.example.org/accounts/confirm-email/")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"username": "ALICE"}, "username"),
        ({"email": "ALICE@example.com"}, "email"),
        ({"password": "password"}, "password"),
        ({"password": "12345678901"}, "password"),
        ({"password": "carol1234"}, "password"),
        ({"username": "bad name!"}, "username"),
        ({"username": ""}, "username"),
        ({"email": "not-an-address"}, "email"),
        ({"nickname": "x" * 65}, "nickname"),
    ],
)
def test_register_refuses_bad_input_and_creates_nothing(request_, user, overrides, field):
    users_before = User.objects.count()

    with pytest.raises(ValidationFailed) as excinfo:
        register(request_, **overrides)

    assert field in excinfo.value.extra["errors"]
    assert excinfo.value.code == "invalid"
    assert User.objects.count() == users_before
    assert not EmailAddress.objects.filter(email__iexact="carol@example.org").exists()
    assert mail.outbox == []


def test_activation_link_states_valid_used_expired_invalid(request_):
    user = register(request_)
    address = EmailAddress.objects.get(user=user)
    key = EmailConfirmationHMAC(address).key
    assert activation_link_state(key=key) == "valid"

    later = dt.timedelta(days=allauth_settings.EMAIL_CONFIRMATION_EXPIRE_DAYS, hours=1)
    with mock.patch("time.time", return_value=time.time() + later.total_seconds()):
        assert activation_link_state(key=key) == "expired"

    address.verified = True
    address.save()
    assert activation_link_state(key=key) == "used"
    assert activation_link_state(key="garbage:key") == "invalid"
    forged = signing.dumps(address.pk, salt="another-salt")
    assert activation_link_state(key=forged) == "invalid"


def test_resend_mails_a_fresh_link_only_to_accounts_awaiting_activation(request_, user):
    register(request_)
    mail.outbox.clear()
    from django.core.cache import cache

    cache.clear()  # the registration mail itself used up the per-address cooldown

    with committed():
        services.activation_resend(email="CAROL@example.org", request=request_)
        services.activation_resend(email=user.email, request=request_)  # already active
        services.activation_resend(email="nobody@example.org", request=request_)

    assert [m.to for m in mail.outbox] == [["carol@example.org"]]
    assert len(activation_links("carol@example.org")) == 1


def test_resend_right_after_registration_waits_for_the_cooldown(request_):
    register(request_)

    with committed():
        services.activation_resend(email="carol@example.org", request=request_)

    assert len(mail.outbox) == 1  # the first link still works; no mail flood


def test_token_needs_right_password_and_never_says_which_part_was_wrong(request_, user):
    with pytest.raises(InvalidCredentials) as wrong_password:
        services.token_issue(login="alice", password="nope", request=request_)
    with pytest.raises(InvalidCredentials) as unknown_user:
        services.token_issue(login="nobody", password="password", request=request_)

    assert wrong_password.value.detail == unknown_user.value.detail
    assert AuthToken.objects.count() == 0


def test_token_by_username_or_email_one_per_device(request_, user):
    first, first_key = services.token_issue(login="alice", password="password", request=request_)
    second, second_key = services.token_issue(
        login="ALICE@example.com", password="password", request=request_
    )

    assert first.user == second.user == user
    assert first_key != second_key
    assert AuthToken.objects.filter(user=user).count() == 2
    # Stored hashed: the key itself is nowhere in the table.
    assert not AuthToken.objects.filter(digest=first_key).exists()


def test_token_refused_with_inactive_code_before_activation(request_):
    register(request_)

    with pytest.raises(AccountInactive) as excinfo:
        services.token_issue(login="carol", password=GOOD_PASSWORD, request=request_)

    assert excinfo.value.code == "inactive"
    assert AuthToken.objects.count() == 0


def test_robot_cannot_get_a_token(request_):
    with pytest.raises(InvalidCredentials):
        services.token_issue(login="robot", password="", request=request_)


def test_token_limit_retires_the_oldest_device(request_, user, settings):
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_LIMIT_PER_USER": 2}
    first, _ = services.token_issue(login="alice", password="password", request=request_)
    services.token_issue(login="alice", password="password", request=request_)
    services.token_issue(login="alice", password="password", request=request_)

    assert AuthToken.objects.filter(user=user).count() == 2
    assert not AuthToken.objects.filter(digest=first.digest).exists()


def test_token_revoke_deletes_only_that_token(request_, user):
    token, _ = services.token_issue(login="alice", password="password", request=request_)
    other, _ = services.token_issue(login="alice", password="password", request=request_)

    services.token_revoke(token=token)

    assert list(AuthToken.objects.values_list("digest", flat=True)) == [other.digest]


def test_password_set_revokes_every_token(request_, user):
    services.token_issue(login="alice", password="password", request=request_)

    services.user_password_set(user=user, password=GOOD_PASSWORD)

    user.refresh_from_db()
    assert user.check_password(GOOD_PASSWORD)
    assert not AuthToken.objects.filter(user=user).exists()


def test_password_set_refuses_a_weak_password_and_keeps_the_old_one(request_, user):
    services.token_issue(login="alice", password="password", request=request_)

    with pytest.raises(ValidationFailed):
        services.user_password_set(user=user, password="123")

    user.refresh_from_db()
    assert user.check_password("password")
    assert AuthToken.objects.filter(user=user).exists()


def test_profile_update_changes_given_fields_only(user):
    services.user_profile_update(user=user, nickname="  Ally ", region="杭州")

    user.refresh_from_db()
    assert (user.nickname, user.region, user.bio) == ("Ally", "杭州", "")


@pytest.mark.parametrize(
    "changes",
    [{"nickname": "n" * 65}, {"bio": "b" * 281}, {"region": "r" * 65}, {"gender": "robot"}],
)
def test_profile_update_refuses_bad_values_and_changes_nothing(user, changes):
    with pytest.raises(ValidationFailed) as excinfo:
        services.user_profile_update(user=user, **{"region": "Changed", **changes})

    assert set(excinfo.value.extra["errors"]) == set(changes)
    user.refresh_from_db()
    assert (user.nickname, user.region, user.bio, user.gender) == ("Alice", "", "", "unknown")


def test_registered_then_activated_user_gets_a_token(request_):
    user = register(request_)
    EmailAddress.objects.filter(user=user).update(verified=True)

    token, key = services.token_issue(login="carol", password=GOOD_PASSWORD, request=request_)

    assert token.user == user
    assert key


def test_factory_users_count_as_activated():
    assert user_is_activated(user=UserFactory())
    assert not user_is_activated(user=UserFactory(verified=False))


def test_username_differing_only_in_case_is_refused_by_the_database(user):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username=user.username.upper(), email="other@example.com")
