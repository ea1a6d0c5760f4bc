"""Deleting stored files: an upload no message carries, orphans, replaced avatars; storage
outages answer a retryable error and never stop text (local storage here; S3 in
tests/system/test_s3_media.py)."""

import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import TestCase
from django.utils import timezone
from PIL import Image

from chat.models import Upload
from chat.services.messages import message_send
from chat.uploads import upload_create, upload_delete
from groups.services import group_create, group_update
from tests.chat.conftest import befriend
from tests.chat.test_uploads import as_file, image_bytes


def stored(settings) -> set[str]:
    root = Path(settings.MEDIA_ROOT)
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def committed():
    return TestCase.captureOnCommitCallbacks(execute=True)


def age(upload: Upload, hours: float) -> None:
    Upload.objects.filter(pk=upload.pk).update(created_at=timezone.now() - timedelta(hours=hours))


def make_old(settings, hours: float = 48) -> None:
    """Date every stored file back, as if written `hours` ago."""
    import os
    import time

    when = time.time() - hours * 3600
    for path in Path(settings.MEDIA_ROOT).rglob("*"):
        if path.is_file():
            os.utime(path, (when, when))


@pytest.fixture
def upload(user):
    return upload_create(owner=user, file=as_file(image_bytes("JPEG")))


def test_upload_delete_removes_the_row_and_both_files_after_commit(settings, upload):
    names = {upload.image.name, upload.thumbnail.name}
    assert names <= stored(settings)

    with committed():
        upload_delete(upload)
        assert names <= stored(settings)  # files go only once the row is gone for good

    assert not Upload.objects.filter(pk=upload.pk).exists()
    assert not names & stored(settings)


def test_upload_delete_rolled_back_keeps_the_files(settings, upload):
    from django.db import transaction

    pk = upload.pk

    def fail_after_delete() -> None:
        with transaction.atomic():
            upload_delete(upload)
            raise RuntimeError("the caller's transaction fails")

    with committed(), pytest.raises(RuntimeError):
        fail_after_delete()

    assert Upload.objects.filter(pk=pk).exists()
    assert upload.image.name in stored(settings)


def test_recall_deletes_the_image_from_storage(user, other_user, upload, settings):
    from chat.services.changes import message_recall

    conversation = befriend(user, other_user)
    message, _ = message_send(
        sender=user,
        conversation_id=conversation.pk,
        client_id="img",
        kind="image",
        attachment_id=upload.pk,
    )

    with committed():
        message_recall(user=user, message_id=message.pk)

    assert not Upload.objects.filter(pk=upload.pk).exists()
    assert not {upload.image.name, upload.thumbnail.name} & stored(settings)


def test_a_failed_delete_is_left_for_the_cleanup(upload, settings, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionRefusedError("storage is down")

    monkeypatch.setattr(FileSystemStorage, "delete", down)
    with committed():
        upload_delete(upload)  # no error: the row is gone, the files wait

    monkeypatch.undo()
    make_old(settings)
    call_command("media_cleanup", stdout=io.StringIO())
    assert not {upload.image.name, upload.thumbnail.name} & stored(settings)


def test_cleanup_removes_old_unsent_uploads_and_keeps_sent_and_young_ones(
    user, other_user, settings
):
    conversation = befriend(user, other_user)
    unsent_old = upload_create(owner=user, file=as_file(image_bytes("JPEG")))
    unsent_young = upload_create(owner=user, file=as_file(image_bytes("JPEG")))
    sent_old = upload_create(owner=user, file=as_file(image_bytes("JPEG")))
    message_send(
        sender=user,
        conversation_id=conversation.pk,
        client_id="sent",
        kind="image",
        attachment_id=sent_old.pk,
    )
    age(unsent_old, 25)
    age(sent_old, 25)
    age(unsent_young, 2)

    with committed():
        call_command("media_cleanup", stdout=io.StringIO())

    assert set(Upload.objects.values_list("pk", flat=True)) == {unsent_young.pk, sent_old.pk}
    files = stored(settings)
    assert unsent_old.image.name not in files
    assert {sent_old.image.name, unsent_young.image.name} <= files


def test_cleanup_removes_old_unreferenced_files_and_keeps_young_ones(upload, settings):
    default_storage.save("uploads/2020/01/left-behind.jpg", io.BytesIO(b"x"))
    default_storage.save("group-avatars/replaced.jpg", io.BytesIO(b"y"))
    make_old(settings)
    default_storage.save("uploads/2020/01/being-uploaded.jpg", io.BytesIO(b"z"))
    out = io.StringIO()

    call_command("media_cleanup", stdout=out)

    files = stored(settings)
    assert "uploads/2020/01/left-behind.jpg" not in files
    assert "group-avatars/replaced.jpg" not in files
    assert "uploads/2020/01/being-uploaded.jpg" in files
    assert {upload.image.name, upload.thumbnail.name} <= files
    assert "2 unreferenced files" in out.getvalue()


def test_cleanup_dry_run_deletes_nothing(upload, settings):
    age(upload, 30)
    make_old(settings)
    before = stored(settings)
    out = io.StringIO()

    call_command("media_cleanup", "--dry-run", stdout=out)

    assert stored(settings) == before
    assert Upload.objects.filter(pk=upload.pk).exists()
    assert "Would delete 1 unsent uploads" in out.getvalue()


def test_cleanup_refuses_a_window_shorter_than_an_hour(db):
    with pytest.raises(CommandError):
        call_command("media_cleanup", "--hours", "0.1", stdout=io.StringIO())


def _png() -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (300, 300), (1, 2, 3)).save(buffer, "PNG")
    buffer.seek(0)
    buffer.name = "a.png"
    return buffer


def test_a_replaced_group_avatar_is_deleted_once_committed(user, settings):
    group = group_create(owner=user, name="pics")
    with committed():
        group = group_update(user=user, group_id=group.pk, avatar=as_file(_png().read(), "a.png"))
    first = group.avatar.name
    assert first in stored(settings)

    with committed():
        group = group_update(user=user, group_id=group.pk, avatar=as_file(_png().read(), "b.png"))

    assert first not in stored(settings)
    assert group.avatar.name in stored(settings)


# --- storage outages ----------------------------------------------------------------------


def test_upload_during_a_storage_outage_is_busy_and_retryable_and_text_still_sends(
    api_client, user, other_user, monkeypatch, settings
):
    conversation = befriend(user, other_user)

    def down(*args, **kwargs):
        raise ConnectionRefusedError("storage is down")

    monkeypatch.setattr(FileSystemStorage, "_save", down)
    response = api_client.post(
        "/api/v1/uploads/", {"file": as_file(image_bytes("JPEG"))}, format="multipart"
    )

    assert response.status_code == 503
    assert response.json()["code"] == "busy"
    assert response.json()["retryable"] is True
    assert Upload.objects.count() == 0
    assert stored(settings) == set()
    sent = api_client.post(
        f"/api/v1/conversations/{conversation.pk}/messages/",
        {"id": "during-outage", "body": "text still works"},
        format="json",
    )
    assert sent.status_code == 201


def test_reading_a_file_during_a_storage_outage_is_busy(api_client, upload, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionRefusedError("storage is down")

    monkeypatch.setattr(FileSystemStorage, "open", down)

    response = api_client.get(f"/api/v1/uploads/{upload.pk}/file/")

    assert response.status_code == 503
    assert response.json()["code"] == "busy"
    assert response.json()["retryable"] is True
