"""WeChat log-in, link and unlink against a fake WeChat on loopback (docs/protocol.md §1)."""

import logging
import time

import pytest
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.models import User, WeChatIdentity
from chat.models import ConversationMember
from tests.accounts.conftest import committed
from tests.factories import UserFactory
from tests.wechat_stub import APP_ID, APP_SECRET, fake_wechat

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_cache")]

LOGIN = "/api/v1/auth/wechat/"
LINK = "/api/v1/me/wechat/"


@pytest.fixture
def wechat(settings):
    with fake_wechat() as stub:
        settings.WECHAT_APP_ID = APP_ID
        settings.WECHAT_APP_SECRET = APP_SECRET
        settings.WECHAT_API_BASE = stub.url
        settings.WECHAT_TIMEOUT = 0.5
        stub.slow_seconds = 4.0  # far past the timeout, so a bounded answer is visible
        yield stub


def login(client, code):
    with committed():
        return client.post(LOGIN, {"code": code}, format="json")


def counts():
    return (User.objects.count(), WeChatIdentity.objects.count(), AuthToken.objects.count())


def test_first_login_creates_an_account_without_email_and_answers_like_password_login(
    anon_client, wechat
):
    response = login(anon_client, "ok:openid-1")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"token", "user"}
    user = User.objects.get(pk=body["user"]["id"])
    assert user.email == ""
    assert not user.has_usable_password()
    assert user.is_active
    assert user.username.startswith("wx_")
    identity = WeChatIdentity.objects.get(user=user)
    assert (identity.app_id, identity.openid, identity.unionid) == (APP_ID, "openid-1", "")
    # The robot conversation every account has from the start.
    assert ConversationMember.objects.filter(user=user, conversation__kind="robot").exists()
    # WeChat was asked exactly as documented.
    [call] = wechat.of_path("/sns/jscode2session")
    assert call["query"] == {
        "appid": APP_ID,
        "secret": APP_SECRET,
        "js_code": "ok:openid-1",
        "grant_type": "authorization_code",
    }
    # The token works on REST.
    me = APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {body['token']}")
    assert me.status_code == 200
    assert me.json()["id"] == user.pk


def test_same_openid_always_maps_to_the_same_user(anon_client, wechat):
    first = login(anon_client, "ok:openid-2").json()["user"]["id"]
    again = login(anon_client, "ok:openid-2:union-2")
    assert again.status_code == 200
    assert again.json()["user"]["id"] == first
    assert User.objects.filter(wechat_identities__openid="openid-2").count() == 1
    # The unionid WeChat gave later is remembered.
    assert WeChatIdentity.objects.get(openid="openid-2").unionid == "union-2"


def test_unionid_maps_another_app_openid_to_the_same_person(anon_client, wechat):
    person = UserFactory(username="carol")
    WeChatIdentity.objects.create(user=person, app_id="other-app", openid="o-x", unionid="u-9")
    response = login(anon_client, "ok:openid-3:u-9")
    assert response.status_code == 200
    assert response.json()["user"]["id"] == person.pk
    assert WeChatIdentity.objects.get(app_id=APP_ID, openid="openid-3").user == person


def test_session_key_is_never_returned_stored_or_logged(anon_client, wechat, caplog):
    caplog.set_level(logging.DEBUG)
    response = login(anon_client, "ok:openid-4")
    assert b"SECRET-SESSION-KEY" not in response.content
    assert "SECRET-SESSION-KEY" not in caplog.text
    assert APP_SECRET not in caplog.text
    for field in ("openid", "unionid", "app_id"):
        assert "SECRET" not in getattr(WeChatIdentity.objects.get(openid="openid-4"), field)
    # Failures log no secret and no code either.
    login(anon_client, "boom")
    login(anon_client, "slow")
    assert APP_SECRET not in caplog.text
    assert "SECRET-SESSION-KEY" not in caplog.text


@pytest.mark.parametrize(
    ("code", "status", "error", "retryable"),
    [
        ("not-a-real-code", 400, "invalid_code", None),
        ("ratelimit", 429, "rate_limited", True),
        ("busy", 503, "upstream_unavailable", True),
        ("boom", 503, "upstream_unavailable", True),
        ("slow", 503, "upstream_unavailable", True),
    ],
    ids=["invalid", "rate-limit", "busy", "http-500", "timeout"],
)
def test_wechat_failures_map_to_documented_answers_and_store_nothing(
    anon_client, wechat, code, status, error, retryable
):
    before = counts()
    started = time.monotonic()
    response = login(anon_client, code)
    # Bounded by WECHAT_TIMEOUT (0.5 s here), not by the stub's 4 s; slack for a loaded machine.
    assert time.monotonic() - started < 2.5
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == error
    assert body["detail"]
    assert body.get("retryable") is retryable
    assert counts() == before


def test_used_code_is_invalid_the_second_time(anon_client, wechat):
    assert login(anon_client, "ok:openid-5").status_code == 201
    before = counts()
    again = login(anon_client, "ok:openid-5")
    assert again.status_code == 400
    assert again.json()["code"] == "invalid_code"
    assert counts() == before


@pytest.mark.parametrize(
    "body", [{}, {"code": ""}, {"code": None}], ids=["missing", "empty", "null"]
)
def test_missing_or_empty_code_is_400_without_asking_wechat(anon_client, wechat, body):
    with committed():
        response = anon_client.post(LOGIN, body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "code" in response.json()["errors"]
    assert wechat.requests == []


def test_unreachable_wechat_is_503(anon_client, wechat, settings):
    settings.WECHAT_API_BASE = "http://127.0.0.1:9"  # discard port: connection refused
    response = login(anon_client, "ok:openid-6")
    assert response.status_code == 503
    assert response.json()["retryable"] is True


def test_wrong_app_secret_is_503_not_retryable(anon_client, wechat, settings):
    settings.WECHAT_APP_SECRET = "wrong"
    response = login(anon_client, "ok:openid-7")
    assert response.status_code == 503
    assert response.json()["retryable"] is False
    assert WeChatIdentity.objects.count() == 0


def test_unconfigured_server_says_so(anon_client, settings):
    settings.WECHAT_APP_ID = ""
    response = login(anon_client, "ok:openid-8")
    assert response.status_code == 503
    assert response.json()["code"] == "not_configured"


def test_timeout_setting_is_capped_at_five_seconds(settings):
    from happychat import wechat as api

    settings.WECHAT_TIMEOUT = 60
    assert api.timeout() == 5.0


# --- link and unlink --------------------------------------------------------------------


@pytest.fixture
def alice_client():
    user = UserFactory(username="alice")
    client = APIClient()
    client.force_authenticate(user)
    client.user = user
    return client


def link(client, code):
    with committed():
        return client.post(LINK, {"code": code}, format="json")


def test_link_then_login_with_wechat_reaches_the_existing_account(
    alice_client, anon_client, wechat
):
    assert alice_client.get(LINK).json() == {"linked": False, "unionid": False, "created_at": None}
    response = link(alice_client, "ok:openid-a:union-a")
    assert response.status_code == 200, response.content
    assert response.json()["linked"] is True
    assert response.json()["unionid"] is True
    assert alice_client.get(LINK).json()["linked"] is True
    logged_in = login(anon_client, "ok:openid-a")
    assert logged_in.status_code == 200
    assert logged_in.json()["user"]["id"] == alice_client.user.pk
    assert User.objects.filter(username__startswith="wx_").count() == 0  # no new account


def test_linking_a_wechat_account_of_someone_else_is_a_conflict(alice_client, anon_client, wechat):
    login(anon_client, "ok:openid-b")  # creates its own account
    response = link(alice_client, "ok:openid-b:again")  # a new code for the same account
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert not WeChatIdentity.objects.filter(user=alice_client.user).exists()


def test_link_with_a_bad_code_stores_nothing(alice_client, wechat):
    response = link(alice_client, "nope")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_code"
    assert WeChatIdentity.objects.count() == 0


def test_unlink_removes_the_link(alice_client, anon_client, wechat):
    link(alice_client, "ok:openid-c")
    with committed():
        response = alice_client.delete(LINK)
    assert response.status_code == 204
    assert not WeChatIdentity.objects.filter(user=alice_client.user).exists()
    # Logging in with that WeChat account now makes a new account.
    assert login(anon_client, "ok:openid-c:2").json()["user"]["id"] != alice_client.user.pk


def test_unlink_is_refused_when_wechat_is_the_only_way_in(anon_client, wechat):
    body = login(anon_client, "ok:openid-d").json()
    client = APIClient(HTTP_AUTHORIZATION=f"Token {body['token']}")
    with committed():
        response = client.delete(LINK)
    assert response.status_code == 409
    assert WeChatIdentity.objects.filter(openid="openid-d").exists()


def test_unlink_without_a_link_is_404(alice_client, wechat):
    assert alice_client.delete(LINK).status_code == 404


def test_link_needs_authentication(anon_client, wechat):
    assert anon_client.post(LINK, {"code": "ok:x"}, format="json").status_code == 401


def test_admin_shows_the_wechat_link(wechat, anon_client):
    body = login(anon_client, "ok:openid-admin").json()
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = APIClient()
    client.force_login(admin)
    page = client.get(f"/admin/accounts/user/{body['user']['id']}/change/")
    assert page.status_code == 200
    assert b"openid-admin" in page.content
    listing = client.get("/admin/accounts/wechatidentity/")
    assert listing.status_code == 200
    assert b"openid-admin" in listing.content
