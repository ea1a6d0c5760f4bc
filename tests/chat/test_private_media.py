"""Private media: an upload's image and thumbnail only for its owner and active members."""

import io

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.models import Permission
from django.core.files.storage import default_storage
from django.test import Client
from knox.models import AuthToken
from PIL import Image
from rest_framework.test import APIClient

from chat.services import conversation_member_remove
from chat.services.messages import message_send
from chat.uploads import access_upload, upload_create
from happychat.errors import NotFound
from happychat.media import etag_for
from tests.chat.test_uploads import as_file, image_bytes
from tests.factories import UserFactory


def body_of(response) -> bytes:
    """The whole body of a plain or streaming (sync or async iterator) response."""
    if not getattr(response, "streaming", False):
        return response.content

    async def collect() -> bytes:
        return b"".join([chunk async for chunk in response.streaming_content])

    if response.is_async:
        return async_to_sync(collect)()
    return b"".join(response.streaming_content)


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def send_image(sender, conversation, upload) -> None:
    message_send(
        sender=sender,
        conversation_id=conversation.pk,
        client_id=f"img-{upload.pk}-{conversation.pk}",
        kind="image",
        attachment_id=upload.pk,
    )


@pytest.fixture
def upload(alice):
    return upload_create(owner=alice, file=as_file(image_bytes("JPEG", size=(800, 600))))


@pytest.fixture
def shared_in_trio(alice, trio, upload):
    send_image(alice, trio, upload)
    return upload


def fetch(client, upload, which: str = "file"):
    return client.get(f"/api/v1/uploads/{upload.pk}/{which}/")


# --- who sees what --------------------------------------------------------------------


@pytest.mark.parametrize("which", ["file", "thumbnail"])
def test_owner_gets_the_bytes_of_an_upload_not_yet_sent(alice, upload, which):
    response = fetch(client_for(alice), upload, which)

    assert response.status_code == 200
    field = upload.image if which == "file" else upload.thumbnail
    with field.open("rb") as stored:
        assert body_of(response) == stored.read()
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Length"] == str(field.size)
    assert response["Cache-Control"].startswith("private")
    assert response["ETag"] == etag_for(field.name)


def test_thumbnail_is_the_small_image(alice, upload):
    data = body_of(fetch(client_for(alice), upload, "thumbnail"))

    assert max(Image.open(io.BytesIO(data)).size) == 320


def test_an_upload_not_yet_sent_is_hidden_from_everyone_else(bob, carol, trio, upload):
    for person in (bob, carol):
        response = fetch(client_for(person), upload)

        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("which", ["file", "thumbnail"])
def test_active_members_of_the_conversation_get_it(bob, carol, shared_in_trio, which):
    for person in (bob, carol):
        assert fetch(client_for(person), shared_in_trio, which).status_code == 200


def test_a_direct_peer_gets_an_image_sent_to_them(alice, bob, direct, upload):
    send_image(alice, direct, upload)

    assert fetch(client_for(bob), upload).status_code == 200


def test_a_stranger_gets_404_like_a_missing_upload(shared_in_trio):
    stranger = UserFactory(username="mallory")

    shared = fetch(client_for(stranger), shared_in_trio)
    missing = client_for(stranger).get("/api/v1/uploads/999999/file/")

    assert shared.status_code == missing.status_code == 404
    assert shared.json() == missing.json() == {"code": "not_found", "detail": "No such upload."}


@pytest.mark.parametrize("which", ["file", "thumbnail"])
def test_anonymous_gets_401_in_the_error_shape(shared_in_trio, which):
    response = fetch(APIClient(), shared_in_trio, which)

    assert response.status_code == 401
    assert set(response.json()) >= {"code", "detail"}


def test_removed_member_loses_access(bob, trio, shared_in_trio):
    conversation_member_remove(conversation=trio, user_id=bob.pk)

    assert fetch(client_for(bob), shared_in_trio).status_code == 404
    assert fetch(client_for(bob), shared_in_trio, "thumbnail").status_code == 404


def test_a_member_of_another_conversation_where_it_is_not_sent_gets_404(
    alice, bob, direct, carol, trio, upload
):
    send_image(alice, direct, upload)

    assert fetch(client_for(carol), upload).status_code == 404


def test_access_helper_answers_the_same_rules(alice, bob, carol, trio, upload):
    assert access_upload(user=alice, upload_id=upload.pk) == upload
    with pytest.raises(NotFound):
        access_upload(user=bob, upload_id=upload.pk)
    send_image(alice, trio, upload)
    assert access_upload(user=bob, upload_id=str(upload.pk)) == upload
    for bad in (0, -1, 2**63, 2**70, "x", None, True, 1.5):
        with pytest.raises(NotFound):
            access_upload(user=alice, upload_id=bad)


def test_operators_with_the_view_permission_may_see_any_upload(upload):
    operator = UserFactory(username="op", is_staff=True)
    operator.user_permissions.add(Permission.objects.get(codename="view_upload"))

    assert fetch(client_for(operator), upload).status_code == 200


# --- how clients authenticate ---------------------------------------------------------


def test_token_client_fetches_with_the_authorization_header(bob, shared_in_trio):
    _, token = AuthToken.objects.create(bob)
    client = APIClient()

    response = client.get(
        f"/api/v1/uploads/{shared_in_trio.pk}/file/",
        HTTP_AUTHORIZATION=f"Token {token}",
        HTTP_ACCEPT="image/*",
    )

    assert response.status_code == 200
    assert body_of(response)[:2] == b"\xff\xd8"  # JPEG


def test_bad_token_is_refused(shared_in_trio):
    response = APIClient().get(
        f"/api/v1/uploads/{shared_in_trio.pk}/file/", HTTP_AUTHORIZATION="Token nope"
    )

    assert response.status_code == 401


def test_browser_session_fetches_like_an_img_tag(bob, shared_in_trio):
    browser = Client()
    browser.force_login(bob)

    response = browser.get(
        f"/api/v1/uploads/{shared_in_trio.pk}/thumbnail/",
        HTTP_ACCEPT="image/avif,image/webp,image/apng,image/svg+xml,image/*;q=0.8",
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"


def test_matching_etag_answers_304_without_the_bytes(alice, upload):
    client = client_for(alice)
    etag = fetch(client, upload)["ETag"]

    again = client.get(f"/api/v1/uploads/{upload.pk}/file/", HTTP_IF_NONE_MATCH=etag)

    assert again.status_code == 304
    assert again.content == b""


def test_etag_does_not_bypass_the_access_check(bob, upload):
    response = client_for(bob).get(
        f"/api/v1/uploads/{upload.pk}/file/", HTTP_IF_NONE_MATCH=etag_for(upload.image.name)
    )

    assert response.status_code == 404


def test_files_never_run_as_pages(alice, upload):
    response = fetch(client_for(alice), upload)

    assert "sandbox" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == "inline"


def test_behind_nginx_the_bytes_are_left_to_x_accel_redirect(alice, upload, settings):
    settings.MEDIA_ACCEL_REDIRECT = "/_protected/"

    response = fetch(client_for(alice), upload)

    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == "/_protected/" + upload.image.name
    assert body_of(response) == b""


def test_a_file_lost_from_storage_answers_404(alice, upload):
    default_storage.delete(upload.image.name)

    response = fetch(client_for(alice), upload)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


# --- nothing private under MEDIA_URL; avatars stay public ---------------------------------


def test_media_url_no_longer_serves_uploads(settings, shared_in_trio):
    for name in (shared_in_trio.image.name, shared_in_trio.thumbnail.name):
        assert Client().get(settings.MEDIA_URL + name).status_code == 404


def test_media_url_refuses_path_tricks(settings):
    default_storage.save("uploads/secret.jpg", io.BytesIO(b"x"))

    for path in ("avatars/../uploads/secret.jpg", "avatars/%2e%2e/uploads/secret.jpg"):
        assert Client().get(settings.MEDIA_URL + path).status_code == 404


def test_user_avatars_are_public(settings, alice):
    alice.avatar.save("abc.jpg", as_file(image_bytes("JPEG", size=(64, 64))))

    response = Client().get(alice.avatar.url)

    assert alice.avatar.url.startswith(settings.MEDIA_URL + "avatars/")
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("public")
    with alice.avatar.open("rb") as stored:
        assert body_of(response) == stored.read()


def test_payload_urls_are_the_stable_access_checked_ones(alice, upload):
    from chat.uploads import upload_payload

    payload = upload_payload(upload)

    assert payload["url"] == f"/api/v1/uploads/{upload.pk}/file/"
    assert payload["thumbnail_url"] == f"/api/v1/uploads/{upload.pk}/thumbnail/"
