"""Uploads: verified, re-encoded images with thumbnails, and documents (PDF, Office, text,
archives) checked by their first bytes; attach only your own.

Uploaded files are private. Payloads carry stable URLs of ours (`upload_payload`), which
check `access_upload` before answering with the bytes or a short-lived signed URL
(`happychat.media`); nothing under MEDIA_URL serves them. Every read, write and delete
goes through the field's storage, so the local disk and S3 behave the same.
"""

import logging
import uuid
from typing import Any, cast

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.fields.files import FieldFile
from django.http import HttpRequest, HttpResponseBase
from django.utils.translation import gettext as _

from accounts.models import User
from chat.models import ConversationMember, Message, Upload
from happychat.errors import Busy, InvalidAttachment, NotFound
from happychat.images import EncodedImage, process_image
from happychat.media import (
    StorageUnavailable,
    delete_stored_on_commit,
    storage_errors,
    storage_writes,
    stored_file_response,
)
from happychat.validators import id_or_none

logger = logging.getLogger("happychat.uploads")

MAX_SIDE = 4096
THUMBNAIL_SIDE = 320


def upload_create(*, owner: User, file: UploadedFile) -> Upload:
    """Verify and re-encode an image, store it and its thumbnail under random names."""
    processed = process_image(
        file=file,
        max_bytes=settings.UPLOAD_MAX_BYTES,
        max_pixels=settings.UPLOAD_MAX_PIXELS,
        max_side=MAX_SIDE,
        thumbnail_side=THUMBNAIL_SIDE,
    )
    image = processed.image
    thumbnail = processed.thumbnail or image
    upload = Upload(
        owner=owner,
        width=image.width,
        height=image.height,
        content_type=image.content_type,
        size=len(image.content),
    )
    try:
        with storage_writes():
            # The user's file name is never used: it may carry personal data or path tricks.
            upload.image.save(_random_name(image), ContentFile(image.content), save=False)
            upload.thumbnail.save(
                _random_name(thumbnail), ContentFile(thumbnail.content), save=False
            )
        with transaction.atomic():
            upload.save()
    except BaseException:
        # Files are not transactional: remove what was written when the row is not stored.
        _delete_files(upload)
        raise
    return upload


# Documents: extension → (content type, check of the first bytes). The stored type comes
# from this table, never from the client.
_OLE = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
DOCUMENT_TYPES: dict[str, tuple[str, tuple[bytes, ...] | None]] = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "doc": ("application/msword", _OLE),
    "xls": ("application/vnd.ms-excel", _OLE),
    "ppt": ("application/vnd.ms-powerpoint", _OLE),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", _ZIP),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", _ZIP),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", _ZIP),
    "odt": ("application/vnd.oasis.opendocument.text", _ZIP),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", _ZIP),
    "odp": ("application/vnd.oasis.opendocument.presentation", _ZIP),
    "rtf": ("application/rtf", (b"{\\rtf",)),
    "txt": ("text/plain", None),
    "md": ("text/markdown", None),
    "csv": ("text/csv", None),
    "zip": ("application/zip", _ZIP),
    "7z": ("application/x-7z-compressed", (b"7z\xbc\xaf\x27\x1c",)),
    "rar": ("application/vnd.rar", (b"Rar!\x1a\x07",)),
    "gz": ("application/gzip", (b"\x1f\x8b",)),
    "tgz": ("application/gzip", (b"\x1f\x8b",)),
}
_NAME_MAX = 255


def document_create(*, owner: User, file: UploadedFile, name: str | None = None) -> Upload:
    """Store a document (size limit CHAT_FILE_MAX_BYTES) under a random name, keeping the
    name the user gave it (`name`, else the uploaded file's) for display and download."""
    name = clean_file_name(name or file.name or "")
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in DOCUMENT_TYPES:
        raise InvalidAttachment(
            _("Send a PDF, Office, text or archive file (%(types)s).")
            % {"types": ", ".join(sorted(DOCUMENT_TYPES))}
        )
    limit = settings.CHAT_FILE_MAX_BYTES
    if file.size is None or file.size > limit:
        raise InvalidAttachment(
            _("The file is too large; the limit is %(mb)s MB.") % {"mb": round(limit / 2**20, 1)}
        )
    if file.size == 0:
        raise InvalidAttachment(_("The file is empty."))
    content_type, magic = DOCUMENT_TYPES[extension]
    file.seek(0)
    head = file.read(4096)
    file.seek(0)
    if magic is None:
        if b"\x00" in head:
            raise InvalidAttachment(_("A text file must not contain binary data."))
    elif not head.startswith(magic):
        raise InvalidAttachment(
            _("The file's content does not match its type (.%(ext)s).") % {"ext": extension}
        )
    upload = Upload(
        owner=owner,
        kind=Upload.Kind.FILE,
        name=name,
        content_type=content_type,
        size=file.size,
    )
    try:
        with storage_writes():
            upload.file.save(f"{uuid.uuid4().hex}.{extension}", file, save=False)
        with transaction.atomic():
            upload.save()
    except BaseException:
        _delete_files(upload)
        raise
    return upload


def clean_file_name(name: str) -> str:
    """The name to show: its last path part, without control characters, at most 255."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip().strip(".")
    if len(name) > _NAME_MAX:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: _NAME_MAX - len(ext) - 1] + dot + ext) if dot else name[:_NAME_MAX]
    return name or "file"


def upload_delete(upload: Upload) -> None:
    """Delete an upload's row now and, once the transaction commits, its stored files (image,
    thumbnail, document) on every storage backend. Callers make sure no message carries
    it any more (recall lets go of it first); a file that cannot be deleted now is left for
    `manage.py media_cleanup`."""
    fields = [f for f in (upload.image, upload.thumbnail, upload.file) if f.name]
    upload.delete()
    for field in fields:
        delete_stored_on_commit(field.storage, [field.name or ""])


def upload_payload(upload: Upload) -> dict[str, Any]:
    """The attachment object of docs/protocol.md §7: id, url, thumbnail_url, width, height."""
    from chat.serializers import attachment_payload

    return cast(dict[str, Any], attachment_payload(upload))


def access_upload(*, user: User, upload_id: Any) -> Upload:
    """The upload if `user` may see it, else NotFound (missing and forbidden look the same).

    Allowed: its owner; an active member of a conversation where a message carries it;
    operators with the `chat.view_upload` permission (moderating reports in the admin).
    People who left or were removed lose access with their membership.
    """
    pk = id_or_none(upload_id)
    if pk is None or not user.is_authenticated:
        raise NotFound(_("No such upload."))
    uploads = Upload.objects.filter(pk=pk)
    if not user.has_perm("chat.view_upload"):
        shared = Message.objects.filter(
            attachment_id=OuterRef("pk"),
            conversation_id__in=ConversationMember.objects.filter(user=user, is_active=True).values(
                "conversation_id"
            ),
        )
        uploads = uploads.filter(Q(owner=user) | Exists(shared))
    upload = uploads.first()
    if upload is None:
        raise NotFound(_("No such upload."))
    return upload


def stored_field_response(
    request: HttpRequest,
    *,
    field: FieldFile,
    content_type: str | None = None,
    download_name: str | None = None,
) -> HttpResponseBase:
    """Answer with a private stored file the caller has authorized, mapping storage failures
    to domain errors (missing: NotFound; storage down: retryable Busy)."""
    try:
        return stored_file_response(
            request,
            storage=field.storage,
            name=field.name or "",
            content_type=content_type,
            download_name=download_name,
        )
    except FileNotFoundError:
        raise NotFound(_("The file is no longer stored.")) from None
    except StorageUnavailable as exc:
        raise Busy(_("File storage is temporarily unavailable. Retry."), retryable=True) from exc


def access_upload_for_attachment(*, user: User, upload_id: Any, kind: str = "") -> Upload:
    """Return the user's own upload, or raise InvalidAttachment (missing or someone else's).

    An `image` message takes an image upload, a `file` message a file upload.
    """
    digits = isinstance(upload_id, str) and upload_id.isascii() and upload_id.isdigit()
    if not digits and (isinstance(upload_id, bool) or not isinstance(upload_id, int)):
        raise InvalidAttachment(_("The attachment must be an upload id."))
    pk = id_or_none(upload_id)
    if pk is None:
        raise InvalidAttachment(_not_found_detail())
    upload = Upload.objects.filter(pk=pk, owner=user).first()
    if upload is None:
        # Someone else's upload gets the same answer as a missing one: ids reveal nothing.
        raise InvalidAttachment(_not_found_detail())
    if kind in (Upload.Kind.IMAGE, Upload.Kind.FILE) and upload.kind != kind:
        raise InvalidAttachment(_("This upload is not a %(kind)s.") % {"kind": kind})
    return upload


def _not_found_detail() -> str:
    return _("No such upload of yours; upload the image first.")


def _random_name(encoded: EncodedImage) -> str:
    return f"{uuid.uuid4().hex}.{encoded.extension}"


def _delete_files(upload: Upload) -> None:
    for field in (upload.image, upload.thumbnail, upload.file):
        if field.name:
            try:
                field.storage.delete(field.name)
            except storage_errors():
                logger.warning("could not delete %s now (media_cleanup will)", field.name)
