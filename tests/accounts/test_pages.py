"""Browser flows through django-allauth and our pages, with Django's test client."""

import io
import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.db import connection
from knox.models import AuthToken

from accounts.models import User
from chat.services.conversations import robot_user
from tests.accounts.conftest import activation_links, committed, image_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_cache")]

PASSWORD = "correct horse battery 42"


def signup(client, **overrides):
    data = {
        "username": "erin",
        "email": "erin@example.org",
        "nickname": "Erin E.",
        "password1": PASSWORD,
        "password2": PASSWORD,
    }
    data.update(overrides)
    with committed():
        return client.post("/accounts/signup/", data, HTTP_ACCEPT_LANGUAGE="en")


def login(client, login_name, password=PASSWORD):
    with committed():
        return client.post(
            "/accounts/login/",
            {"login": login_name, "password": password},
            HTTP_ACCEPT_LANGUAGE="en",
        )


def test_signup_creates_an_inactive_account_and_mails_one_link(client):
    response = signup(client)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    user = User.objects.get(username="erin")
    assert user.nickname == "Erin E."
    assert not EmailAddress.objects.get(user=user).verified
    assert len(mail.outbox) == 1
    assert len(activation_links("erin@example.org")) == 1
    assert "_auth_user_id" not in client.session


def test_cannot_log_in_before_activation(client):
    signup(client)

    response = login(client, "erin")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert "_auth_user_id" not in client.session


def test_activate_then_log_in_by_username_or_email_then_log_out(client):
    signup(client)
    [link] = activation_links("erin@example.org")

    activated = client.get(link.removeprefix("http://testserver"))
    assert activated.status_code == 302
    assert login(client, "erin").status_code == 302
    assert client.session["_auth_user_id"] == str(User.objects.get(username="erin").pk)

    client.post("/accounts/logout/")
    assert "_auth_user_id" not in client.session
    assert login(client, "ERIN@example.org").status_code == 302
    assert "_auth_user_id" in client.session


def test_signup_with_a_taken_email_shows_the_error_and_creates_nothing(client, user):
    response = signup(client, email="Alice@Example.com")

    assert response.status_code == 200
    assert b"already registered" in response.content
    assert not User.objects.filter(username="erin").exists()
    assert mail.outbox == []


def test_signup_with_a_taken_username_in_other_case_is_refused(client, user):
    response = signup(client, username="ALICE")

    assert response.status_code == 200
    assert User.objects.filter(username__iexact="alice").count() == 1


def test_signup_with_a_weak_password_is_refused(client):
    response = signup(client, password1="12345678", password2="12345678")

    assert response.status_code == 200
    assert b"entirely numeric" in response.content
    assert not User.objects.filter(username="erin").exists()


def test_resend_page_mails_a_new_link_without_saying_whether_the_address_exists(client):
    signup(client)
    mail.outbox.clear()
    from django.core.cache import cache

    cache.clear()

    with committed():
        known = client.post("/accounts/activation/resend/", {"email": "erin@example.org"})
        unknown = client.post("/accounts/activation/resend/", {"email": "zz@example.org"})

    assert known.status_code == unknown.status_code == 302
    assert len(mail.outbox) == 1


def test_wrong_password_login_is_rate_limited_by_allauth_in_the_shared_cache(client, user):
    for _ in range(5):
        login(client, "alice", "wrong")

    response = login(client, "alice", "password")

    assert b"Too many failed login attempts" in response.content
    assert "_auth_user_id" not in client.session
    # The counter is in the database cache, shared by processes and kept across restarts.
    with connection.cursor() as cursor:
        cursor.execute("SELECT cache_key FROM happychat_cache WHERE cache_key LIKE %s", ["%rl:%"])
        assert cursor.fetchall()


def test_password_change_revokes_api_tokens_but_keeps_this_session(client, user):
    AuthToken.objects.create(user=user)
    client.force_login(user)

    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": "password", "password1": PASSWORD, "password2": PASSWORD},
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert not AuthToken.objects.filter(user=user).exists()
    assert client.get("/profile/").status_code == 200


def test_password_reset_by_mail(client, user):
    with committed():
        client.post("/accounts/password/reset/", {"email": "alice@example.com"})
    [message] = mail.outbox
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", message.body)
    assert link

    form = client.get(link.group(1), follow=True)
    response = client.post(
        form.redirect_chain[-1][0], {"password1": PASSWORD, "password2": PASSWORD}
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_profile_requires_login(client):
    response = client.get("/profile/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_profile_page_saves_fields_and_avatar(client, user):
    client.force_login(user)
    avatar = io.BytesIO(image_bytes("PNG", (500, 400)))
    avatar.name = "me.png"

    with committed():
        response = client.post(
            "/profile/",
            {
                "nickname": "Ally",
                "bio": "hi",
                "gender": "female",
                "region": "成都",
                "avatar": avatar,
            },
        )

    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.nickname, user.region) == ("Ally", "成都")
    assert user.avatar.name.startswith("avatars/")
    page = client.get("/profile/")
    assert user.avatar.url.encode() in page.content


def test_profile_page_shows_avatar_errors_in_words_and_saves_nothing(client, user):
    client.force_login(user)
    bogus = io.BytesIO(b"GIF89a but not really")
    bogus.name = "x.gif"

    response = client.post(
        "/profile/",
        {"nickname": "Changed", "gender": "unknown", "avatar": bogus},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 400
    assert b"Upload a JPEG, PNG, GIF or WebP image." in response.content
    assert b"Nothing was saved" in response.content
    user.refresh_from_db()
    assert user.nickname == "Alice"


def test_pages_follow_the_browser_language(client):
    english = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en")
    chinese = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")

    assert b'<html lang="en">' in english.content
    assert b'<html lang="zh-hans">' in chinese.content
    assert "登录".encode() in chinese.content
    assert "忘记密码".encode() in chinese.content


def test_language_switcher_sets_the_language(client):
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/accounts/login/"})

    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en")

    assert b'<html lang="zh-hans">' in page.content


def test_base_layout_has_the_navigation_for_signed_in_people(client, user):
    client.force_login(user)

    page = client.get("/profile/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    for href in ('href="/"', 'href="/friends/"', 'href="/groups/"', 'href="/profile/"'):
        assert href in page
    assert 'action="/accounts/logout/"' in page
    assert 'action="/i18n/setlang/"' in page
    assert "/static/css/base.css" in page


def test_admin_searches_and_filters_users(admin_client, user, other_user):
    robot_user()  # present from the migrations unless a transactional test flushed it
    found = admin_client.get("/admin/accounts/user/", {"q": "bob"})
    filtered = admin_client.get("/admin/accounts/user/", {"is_robot__exact": "1"})

    assert found.status_code == filtered.status_code == 200
    assert found.context["cl"].result_count == 1
    assert [u.username for u in filtered.context["cl"].result_list] == ["robot"]


def test_admin_user_page_lists_device_tokens(admin_client, user):
    token, _ = AuthToken.objects.create(user=user)

    page = admin_client.get(f"/admin/accounts/user/{user.pk}/change/")

    assert page.status_code == 200
    assert token.token_key.encode() in page.content


def test_admin_deleting_a_token_closes_its_sockets(
    admin_client, user, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr("happychat.events._group_send", lambda groups, event: sent.append(event))
    token, _ = AuthToken.objects.create(user=user)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/admin/knox/authtoken/{token.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not AuthToken.objects.filter(pk=token.pk).exists()
    revokes = [e for e in sent if e["type"] == "chat.revoke"]
    assert [e["token_key"] for e in revokes] == [token.token_key]


def test_admin_logout_closes_that_sessions_sockets(
    admin_client, admin_user, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr("happychat.events._group_send", lambda groups, event: sent.append(event))
    session_key = admin_client.session.session_key

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post("/admin/logout/")

    assert response.status_code == 302
    assert admin_client.get("/admin/").status_code == 302  # back to the login page
    revokes = [e for e in sent if e["type"] == "chat.revoke"]
    assert [e["session_key"] for e in revokes] == [session_key]
