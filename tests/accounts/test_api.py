"""The REST identity flow of docs/protocol.md §1 and `me/`, seen from a plain HTTP client."""

import io

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.db import connection
from knox.models import AuthToken
from PIL import Image
from rest_framework.test import APIClient

from accounts.models import User
from tests.accounts.conftest import activation_links, committed, image_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_cache")]

PASSWORD = "correct horse battery 42"
REGISTER = "/api/v1/auth/register/"
TOKEN = "/api/v1/auth/token/"
RESEND = "/api/v1/auth/activation/resend/"
ME = "/api/v1/me/"


def post(client, url, data, **kw):
    with committed():
        return client.post(url, data, format="json", **kw)


def register(client, **overrides):
    data = {"username": "dave", "email": "dave@example.org", "password": PASSWORD}
    data.update(overrides)
    return post(client, REGISTER, data)


def token_for(client, login="alice"):
    response = post(client, TOKEN, {"username": login, "password": "password"})
    assert response.status_code == 200, response.content
    return response.json()["token"]


def test_whole_rest_flow_register_activate_token_me_revoke(anon_client):
    response = register(anon_client, nickname="Davy")
    assert response.status_code == 201
    assert response.json()["username"] == "dave"
    assert response.json()["nickname"] == "Davy"

    refused = post(anon_client, TOKEN, {"username": "dave", "password": PASSWORD})
    assert refused.status_code == 400
    assert refused.json()["code"] == "inactive"

    [link] = activation_links("dave@example.org")
    activation = anon_client.get(link.removeprefix("http://testserver"))  # a plain GET
    assert activation.status_code == 302
    assert EmailAddress.objects.get(email="dave@example.org").verified

    response = post(anon_client, TOKEN, {"username": "dave@example.org", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "user"}
    assert body["user"] == {
        "id": User.objects.get(username="dave").pk,
        "username": "dave",
        "nickname": "Davy",
        "avatar": None,
    }

    device = APIClient()
    device.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    me = device.get(ME)
    assert me.status_code == 200
    assert me.json()["email"] == "dave@example.org"

    assert device.delete(TOKEN).status_code == 204
    assert device.get(ME).status_code == 401
    assert not AuthToken.objects.filter(user__username="dave").exists()


def test_activation_link_used_twice_does_nothing_the_second_time_and_says_so(anon_client):
    register(anon_client)
    [link] = activation_links("dave@example.org")
    path = link.removeprefix("http://testserver")
    assert anon_client.get(path).status_code == 302

    again = anon_client.get(path, HTTP_ACCEPT_LANGUAGE="en")

    assert again.status_code == 400
    assert b"already been used" in again.content


def test_expired_activation_link_says_so_and_leaves_the_account_inactive(anon_client, monkeypatch):
    import time

    register(anon_client)
    [link] = activation_links("dave@example.org")
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 4 * 24 * 3600)

    response = anon_client.get(link.removeprefix("http://testserver"), HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert b"has expired" in response.content
    assert not EmailAddress.objects.get(email="dave@example.org").verified


def test_broken_activation_link_says_so(anon_client):
    response = anon_client.get("/accounts/confirm-email/MQ:1tamper:ed/")

    assert response.status_code == 400
    assert b"not valid" in response.content


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"username": "Alice"}, "username"),
        ({"email": "ALICE@EXAMPLE.COM"}, "email"),
        ({"password": "12345678"}, "password"),
        ({"password": "short"}, "password"),
        ({"email": "nope"}, "email"),
        ({"username": ""}, "username"),
        ({"username": "x" * 151}, "username"),
    ],
)
def test_register_bad_input_is_400_with_field_errors_and_creates_nothing(
    anon_client, user, overrides, field
):
    before = User.objects.count()

    response = register(anon_client, **overrides)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert field in body["errors"]
    assert all(isinstance(m, str) and m for m in body["errors"][field])
    assert User.objects.count() == before
    assert mail.outbox == []


def test_register_missing_fields_are_named(anon_client):
    response = post(anon_client, REGISTER, {})

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"username", "email", "password"}


def test_wrong_password_and_unknown_user_get_the_same_answer(anon_client, user):
    wrong = post(anon_client, TOKEN, {"username": "alice", "password": "wrong"})
    unknown = post(anon_client, TOKEN, {"username": "zed", "password": "wrong"})

    assert wrong.status_code == unknown.status_code == 400
    assert wrong.json() == unknown.json()
    assert wrong.json()["code"] == "invalid_credentials"


def test_repeated_login_failures_are_throttled_even_with_the_right_password(
    anon_client, user, throttle_rates
):
    throttle_rates(login="3/min")
    for _ in range(3):
        assert post(anon_client, TOKEN, {"username": "alice", "password": "x"}).status_code == 400

    response = post(anon_client, TOKEN, {"username": "alice", "password": "password"})

    assert response.status_code == 429
    assert AuthToken.objects.count() == 0


def test_successful_logins_do_not_use_up_the_failure_allowance(anon_client, user, throttle_rates):
    throttle_rates(login="2/min")
    for _ in range(4):
        token_for(anon_client)


def test_failures_against_one_name_are_throttled_from_any_address(user, throttle_rates):
    throttle_rates(login="3/min")
    for i in range(3):
        client = APIClient(REMOTE_ADDR=f"10.0.0.{i}")
        post(client, TOKEN, {"username": "ALICE", "password": "x"})

    fresh_address = APIClient(REMOTE_ADDR="10.9.9.9")
    response = post(fresh_address, TOKEN, {"username": "alice", "password": "password"})

    assert response.status_code == 429


def test_login_throttle_lives_in_the_database_cache_so_restarts_keep_it(
    anon_client, user, throttle_rates
):
    throttle_rates(login="3/min")
    post(anon_client, TOKEN, {"username": "alice", "password": "x"})

    assert isinstance(caches["default"], DatabaseCache)
    with connection.cursor() as cursor:
        cursor.execute("SELECT cache_key FROM happychat_cache")
        keys = [row[0] for row in cursor.fetchall()]
    assert any("throttle_login" in key for key in keys)


def test_register_is_throttled(anon_client, throttle_rates):
    throttle_rates(register="2/min")
    register(anon_client, username="u1", email="u1@example.org")
    register(anon_client, username="u2", email="u2@example.org")

    response = register(anon_client, username="u3", email="u3@example.org")

    assert response.status_code == 429
    assert not User.objects.filter(username="u3").exists()


def test_resend_is_always_202_and_mails_only_an_inactive_account(anon_client, user):
    register(anon_client)
    mail.outbox.clear()
    caches["default"].clear()  # the registration mail started the per-address cooldown

    answers = [
        post(anon_client, RESEND, {"email": "DAVE@example.org"}).status_code,
        post(anon_client, RESEND, {"email": "alice@example.com"}).status_code,
        post(anon_client, RESEND, {"email": "nobody@example.org"}).status_code,
        post(anon_client, RESEND, {"email": "not an address"}).status_code,
        post(anon_client, RESEND, {}).status_code,
    ]

    assert answers == [202] * 5
    assert [m.to for m in mail.outbox] == [["dave@example.org"]]


def test_resend_is_throttled(anon_client, throttle_rates):
    throttle_rates(resend="2/min")
    for _ in range(2):
        post(anon_client, RESEND, {"email": "a@example.org"})

    assert post(anon_client, RESEND, {"email": "a@example.org"}).status_code == 429


def test_me_requires_authentication(anon_client):
    assert anon_client.get(ME).status_code == 401


def test_me_patch_updates_profile_fields(api_client, user):
    response = api_client.patch(
        ME, {"nickname": "Ally", "bio": "你好", "gender": "female", "region": "上海"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["nickname"] == "Ally"
    user.refresh_from_db()
    assert (user.nickname, user.bio, user.gender, user.region) == ("Ally", "你好", "female", "上海")


def test_me_patch_bad_gender_is_400_and_changes_nothing(api_client, user):
    response = api_client.patch(ME, {"nickname": "New", "gender": "x"}, format="json")

    assert response.status_code == 400
    assert "gender" in response.json()["errors"]
    user.refresh_from_db()
    assert user.nickname == "Alice"


def upload(client, data: bytes, name: str = "a.png"):
    file = io.BytesIO(data)
    file.name = name
    with committed():
        return client.patch(ME, {"avatar": file}, format="multipart")


@pytest.mark.parametrize(
    ("fmt", "mode", "expected_format"),
    [
        ("PNG", "RGB", "JPEG"),
        ("JPEG", "RGB", "JPEG"),
        ("GIF", "P", "JPEG"),
        ("WEBP", "RGBA", "PNG"),
    ],
)
def test_avatar_is_cropped_square_resized_and_reencoded(
    api_client, user, settings, fmt, mode, expected_format
):
    response = upload(api_client, image_bytes(fmt, (600, 300), mode))

    assert response.status_code == 200, response.content
    url = response.json()["avatar"]
    assert url.startswith("/media/avatars/")
    user.refresh_from_db()
    with Image.open(user.avatar.path) as stored:
        assert stored.size == (settings.AVATAR_SIZE, settings.AVATAR_SIZE)
        assert stored.format == expected_format


def test_avatar_metadata_is_stripped_and_name_is_random(api_client, user):
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x8825] = {1: "N"}  # GPS info
    data = image_bytes("JPEG", (300, 300), exif=exif.tobytes())

    upload(api_client, data, name="my-secret-holiday.jpg")

    user.refresh_from_db()
    assert "secret" not in user.avatar.name
    with Image.open(user.avatar.path) as stored:
        assert not stored.getexif()
    with open(user.avatar.path, "rb") as f:
        assert b"SpyCam" not in f.read()


def test_non_image_avatar_is_400_and_the_old_avatar_stays(api_client, user):
    upload(api_client, image_bytes("PNG"))
    user.refresh_from_db()
    old = user.avatar.name

    response = upload(api_client, b"%PDF-1.4 not an image", name="x.png")

    assert response.status_code == 400
    assert "avatar" in response.json()["errors"]
    user.refresh_from_db()
    assert user.avatar.name == old
    assert user.avatar.storage.exists(old)


def test_disallowed_image_format_is_refused(api_client, user):
    response = upload(api_client, image_bytes("BMP"), name="a.bmp")

    assert response.status_code == 400
    assert "avatar" in response.json()["errors"]


def test_oversize_avatar_is_refused(api_client, user, settings):
    settings.UPLOAD_MAX_BYTES = 1000
    big = image_bytes("BMP", (400, 400))  # 480 KB, a valid image that is only too big

    response = upload(api_client, big, name="big.png")

    assert response.status_code == 400
    assert "too large" in response.json()["errors"]["avatar"][0]
    user.refresh_from_db()
    assert not user.avatar


def test_decompression_bomb_avatar_is_refused_without_decoding(api_client, user, settings):
    settings.UPLOAD_MAX_PIXELS = 10_000
    response = upload(api_client, image_bytes("PNG", (200, 200)))

    assert response.status_code == 400
    assert "pixels" in response.json()["errors"]["avatar"][0]
    user.refresh_from_db()
    assert not user.avatar


AVATAR = "/api/v1/me/avatar/"


def post_avatar(client, data: bytes, name: str = "a.png"):
    file = io.BytesIO(data)
    file.name = name
    with committed():
        return client.post(AVATAR, {"file": file}, format="multipart")


def test_avatar_by_post_answers_the_own_profile_like_patch(api_client, user, settings):
    # wx.uploadFile can only POST: me/avatar/ is PATCH me/ {avatar} through the same service.
    response = post_avatar(api_client, image_bytes("PNG", (600, 300)))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body == {**api_client.get(ME).json(), "avatar": body["avatar"]}
    assert body["avatar"].startswith("/media/avatars/")
    user.refresh_from_db()
    assert body["avatar"].endswith(user.avatar.name.split("/")[-1])
    with Image.open(user.avatar.path) as stored:
        assert stored.size == (settings.AVATAR_SIZE, settings.AVATAR_SIZE)
    old = user.avatar.name

    post_avatar(api_client, image_bytes("JPEG"))

    user.refresh_from_db()
    assert user.avatar.name != old
    assert not user.avatar.storage.exists(old)


def test_avatar_by_post_refuses_a_non_image_under_file_and_keeps_the_old(api_client, user):
    post_avatar(api_client, image_bytes("PNG"))
    user.refresh_from_db()
    old = user.avatar.name

    response = post_avatar(api_client, b"%PDF-1.4 not an image", name="x.png")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert list(response.json()["errors"]) == ["file"]
    user.refresh_from_db()
    assert user.avatar.name == old
    assert user.avatar.storage.exists(old)


def test_avatar_by_post_needs_a_multipart_file_and_credentials(api_client, user):
    missing = api_client.post(AVATAR, {}, format="multipart")
    assert missing.status_code == 400
    assert "file" in missing.json()["errors"]
    as_json = api_client.post(AVATAR, {"file": "x"}, format="json")
    assert as_json.status_code == 415
    assert as_json.json()["code"] == "unsupported_media_type"
    assert api_client.get(AVATAR).status_code == 405
    anonymous = APIClient().post(AVATAR, {"file": io.BytesIO(image_bytes())}, format="multipart")
    assert anonymous.status_code == 401
    user.refresh_from_db()
    assert not user.avatar


def test_replacing_the_avatar_deletes_the_old_file(api_client, user):
    upload(api_client, image_bytes("PNG"))
    user.refresh_from_db()
    old = user.avatar.name

    upload(api_client, image_bytes("JPEG"))

    user.refresh_from_db()
    assert user.avatar.name != old
    assert not user.avatar.storage.exists(old)


def test_delete_token_without_a_token_is_refused(api_client):
    response = api_client.delete(TOKEN)

    assert response.status_code == 400


def test_revoking_one_device_keeps_the_others(anon_client, user):
    phone = token_for(anon_client)
    laptop = token_for(anon_client)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {phone}")
    client.delete(TOKEN)

    client.credentials(HTTP_AUTHORIZATION=f"Token {laptop}")
    assert client.get(ME).status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Token {phone}")
    assert client.get(ME).status_code == 401


def test_schema_documents_the_account_endpoints(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    paths = schema["paths"]
    for path in ("/api/v1/auth/register/", "/api/v1/auth/token/", "/api/v1/me/"):
        assert path in paths
    assert "/api/v1/auth/activation/resend/" in paths
    register_body = paths["/api/v1/auth/register/"]["post"]["requestBody"]
    ref = register_body["content"]["application/json"]["schema"]["$ref"]
    props = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"]
    assert {"username", "email", "password", "nickname"} <= set(props)
    assert "delete" in paths["/api/v1/auth/token/"]
    assert "multipart/form-data" in paths["/api/v1/me/"]["patch"]["requestBody"]["content"]
