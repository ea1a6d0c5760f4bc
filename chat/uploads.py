"""Image uploads: store a verified, re-encoded image and its thumbnail; attach only your own.

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


def upload_delete(*, upload_id: int) -> bool:
    """Delete an upload that no message carries any more: its row now, its stored image and
    thumbnail after commit (on every storage backend). Return whether it was deleted.

    Recalling an image message lets go of the upload first (the message's attachment
    becomes null), then calls this; an upload still carried by another message stays.
    """
    with transaction.atomic():
        upload = Upload.objects.select_for_update().filter(pk=upload_id).first()
        if upload is None or Message.objects.filter(attachment_id=upload_id).exists():
            return False
        names = [upload.image.name or "", upload.thumbnail.name or ""]
        storage = upload.image.storage
        upload.delete()
        delete_stored_on_commit(storage, names)
    return True


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
    request: HttpRequest, *, field: FieldFile, content_type: str | None = None
) -> HttpResponseBase:
    """Answer with a private stored file the caller has authorized, mapping storage failures
    to domain errors (missing: NotFound; storage down: retryable Busy)."""
    try:
        return stored_file_response(
            request, storage=field.storage, name=field.name or "", content_type=content_type
        )
    except FileNotFoundError:
        raise NotFound(_("The file is no longer stored.")) from None
    except StorageUnavailable as exc:
        raise Busy(_("File storage is temporarily unavailable. Retry."), retryable=True) from exc


def access_upload_for_attachment(*, user: User, upload_id: Any) -> Upload:
    """Return the user's own upload, or raise InvalidAttachment (missing or someone else's)."""
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
    return upload


def _not_found_detail() -> str:
    return _("No such upload of yours; upload the image first.")


def _random_name(encoded: EncodedImage) -> str:
    return f"{uuid.uuid4().hex}.{encoded.extension}"


def _delete_files(upload: Upload) -> None:
    for field in (upload.image, upload.thumbnail):
        if field.name:
            try:
                field.storage.delete(field.name)
            except storage_errors():
                logger.warning("could not delete %s now (media_cleanup will)", field.name)
