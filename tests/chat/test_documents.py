"""Documents: upload, send as a `file` message, members-only download, recall deletes."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from chat.models import Upload
from chat.services.changes import message_recall
from chat.services.messages import message_send
from happychat.errors import InvalidAttachment
from tests.chat.test_private_media import body_of
from tests.factories import UserFactory

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def upload(client: APIClient, name: str, content: bytes, kind: str = "file"):
    return client.post(
        "/api/v1/uploads/",
        {"file": SimpleUploadedFile(name, content), "kind": kind},
        format="multipart",
    )


@pytest.mark.django_db
def test_a_document_is_uploaded_sent_and_downloaded_by_members(alice, bob, direct):
    response = upload(client_for(alice), "Q3 report (final).pdf", PDF)
    assert response.status_code == 201
    attachment = response.json()
    assert attachment["kind"] == "file"
    assert attachment["name"] == "Q3 report (final).pdf"
    assert attachment["size"] == len(PDF)
    assert attachment["content_type"] == "application/pdf"
    sent = client_for(alice).post(
        f"/api/v1/conversations/{direct.pk}/messages/",
        {"id": "f1", "kind": "file", "attachment": attachment["id"]},
        format="json",
    )
    assert sent.status_code == 201
    assert sent.json()["attachment"] == attachment
    download = client_for(bob).get(attachment["url"])
    assert download.status_code == 200
    assert body_of(download) == PDF
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment;")
    assert "Q3%20report%20%28final%29.pdf" in download["Content-Disposition"]


@pytest.mark.django_db
def test_strangers_and_anonymous_cannot_download(alice, bob, direct, anon_client):
    attachment = upload(client_for(alice), "a.pdf", PDF).json()
    message_send(
        sender=alice,
        conversation_id=direct.pk,
        client_id="f",
        kind="file",
        attachment_id=attachment["id"],
    )
    assert client_for(UserFactory()).get(attachment["url"]).status_code == 404
    assert anon_client.get(attachment["url"]).status_code in (401, 403)
    assert client_for(bob).get(f"/api/v1/uploads/{attachment['id']}/thumbnail/").status_code == 404


@pytest.mark.django_db
def test_a_document_not_yet_sent_is_only_its_owners(alice, bob):
    attachment = upload(client_for(alice), "a.pdf", PDF).json()
    assert client_for(alice).get(attachment["url"]).status_code == 200
    assert client_for(bob).get(attachment["url"]).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("run.exe", b"MZ\x90\x00"),
        ("page.html", b"<html></html>"),
        ("fake.pdf", b"<html>not a pdf</html>"),
        ("notes.txt", b"text\x00with nul"),
        ("noextension", PDF),
    ],
)
def test_unsupported_or_mislabelled_files_are_refused(alice, name, content):
    response = upload(client_for(alice), name, content)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_attachment"
    assert not Upload.objects.exists()


@pytest.mark.django_db
def test_the_size_limit_is_a_setting(alice, settings):
    settings.CHAT_FILE_MAX_BYTES = 10
    response = upload(client_for(alice), "big.txt", b"x" * 11)
    assert response.status_code == 400
    assert upload(client_for(alice), "ok.txt", b"x" * 10).status_code == 201


@pytest.mark.django_db
def test_kinds_must_match(alice, direct):
    document = upload(client_for(alice), "a.txt", b"plain text").json()
    with pytest.raises(InvalidAttachment):
        message_send(
            sender=alice,
            conversation_id=direct.pk,
            client_id="i",
            kind="image",
            attachment_id=document["id"],
        )


@pytest.mark.django_db(transaction=True)
def test_recall_deletes_the_stored_file(alice, bob, direct):
    attachment = upload(client_for(alice), "a.pdf", PDF).json()
    message, _ = message_send(
        sender=alice,
        conversation_id=direct.pk,
        client_id="f",
        kind="file",
        attachment_id=attachment["id"],
    )
    stored = Upload.objects.get()
    storage, name = stored.file.storage, stored.file.name
    assert storage.exists(name)
    message_recall(user=alice, message_id=message.pk)
    assert not storage.exists(name)
    assert not Upload.objects.exists()
    assert client_for(bob).get(attachment["url"]).status_code == 404


@pytest.mark.django_db
def test_a_name_field_names_a_document_whose_file_part_has_a_temp_name(alice):
    # wx.uploadFile sends the temp file's name ("tmp_8f3a.pdf"): `name` says the real one.
    client = client_for(alice)
    response = client.post(
        "/api/v1/uploads/",
        {"file": SimpleUploadedFile("tmp_8f3a.pdf", PDF), "kind": "file", "name": "年报 2026.pdf"},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    assert response.json()["name"] == "年报 2026.pdf"
    download = client.get(response.json()["url"])
    assert "filename*=UTF-8''%E5%B9%B4%E6%8A%A5%202026.pdf" in download["Content-Disposition"]
    # The given name's extension decides the type: a PDF named .docx is refused.
    refused = client.post(
        "/api/v1/uploads/",
        {"file": SimpleUploadedFile("tmp_1.pdf", PDF), "kind": "file", "name": "x.docx"},
        format="multipart",
    )
    assert refused.json()["code"] == "invalid_attachment"
    assert Upload.objects.count() == 1
    # A blank name is no name (the multipart convention): the file part's name is used.
    blank = client.post(
        "/api/v1/uploads/",
        {"file": SimpleUploadedFile("plan.pdf", PDF), "kind": "file", "name": ""},
        format="multipart",
    )
    assert blank.status_code == 201, blank.content
    assert blank.json()["name"] == "plan.pdf"
