"""Image uploads: store a verified, re-encoded image and its thumbnail; attach only your own."""

import uuid
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from chat.models import Upload
from happychat.errors import InvalidAttachment
from happychat.images import EncodedImage, process_image

MAX_SIDE = 4096
_MAX_ID = 2**63 - 1
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
    # The user's file name is never used: it may carry personal data or path tricks.
    upload.image.save(_random_name(image), ContentFile(image.content), save=False)
    try:
        upload.thumbnail.save(_random_name(thumbnail), ContentFile(thumbnail.content), save=False)
        with transaction.atomic():
            upload.save()
    except BaseException:
        # Files are not transactional: remove what was written when the row is not stored.
        _delete_files(upload)
        raise
    return upload


def upload_payload(upload: Upload) -> dict[str, Any]:
    """The attachment object of docs/protocol.md §7: id, url, thumbnail_url, width, height."""
    return {
        "id": upload.pk,
        "url": upload.image.url,
        "thumbnail_url": upload.thumbnail.url,
        "width": upload.width,
        "height": upload.height,
    }


def access_upload_for_attachment(*, user: User, upload_id: Any) -> Upload:
    """Return the user's own upload, or raise InvalidAttachment (missing or someone else's)."""
    if isinstance(upload_id, str) and upload_id.isascii() and upload_id.isdigit():
        upload_id = int(upload_id)
    if isinstance(upload_id, bool) or not isinstance(upload_id, int):
        raise InvalidAttachment(_("The attachment must be an upload id."))
    if not 0 < upload_id <= _MAX_ID:
        raise InvalidAttachment(_not_found_detail())
    upload = Upload.objects.filter(pk=upload_id, owner=user).first()
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
            field.storage.delete(field.name)
