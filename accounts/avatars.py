"""Avatar images: verify an upload with Pillow, crop it square, resize and re-encode it.

Re-encoding drops every byte the client sent except the pixels (EXIF, GPS, comments),
and a random file name means nobody can guess or overwrite another person's avatar.
"""

import io
import uuid
import warnings

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from chat.errors import ValidationFailed

ALLOWED_FORMATS = frozenset({"JPEG", "PNG", "GIF", "WEBP"})


def _invalid(message: str) -> ValidationFailed:
    return ValidationFailed(message, errors={"avatar": [message]})


def avatar_process(upload: UploadedFile) -> ContentFile:
    """Return the upload as a square, resized, metadata-free image, or raise ValidationFailed."""
    max_bytes: int = settings.UPLOAD_MAX_BYTES
    if upload.size is None or upload.size > max_bytes:
        raise _invalid(
            _("The image is too large: at most %(mb)d MB.") % {"mb": max_bytes // (1024 * 1024)}
        )
    data = upload.read()
    if len(data) > max_bytes:
        raise _invalid(
            _("The image is too large: at most %(mb)d MB.") % {"mb": max_bytes // (1024 * 1024)}
        )
    not_an_image = _("Upload a JPEG, PNG, GIF or WebP image.")
    try:
        with warnings.catch_warnings():
            # A decompression-bomb warning is an error here: we refuse, not decode.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            if probe.format not in ALLOWED_FORMATS:
                raise _invalid(not_an_image)
            width, height = probe.size
            if width * height > settings.UPLOAD_MAX_PIXELS or not width or not height:
                raise _invalid(_("The image has too many pixels."))
            probe.verify()
            # verify() leaves the image unusable; decode a fresh copy.
            image = Image.open(io.BytesIO(data))
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _invalid(_("The image has too many pixels.")) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise _invalid(not_an_image) from exc
    return _encode(image)


def _encode(image: Image.Image) -> ContentFile:
    size: int = settings.AVATAR_SIZE
    image = ImageOps.exif_transpose(image) or image
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
    image = image.convert("RGBA" if has_alpha else "RGB")
    image = ImageOps.fit(image, (size, size), Image.Resampling.LANCZOS, centering=(0.5, 0.5))
    out = io.BytesIO()
    if has_alpha:
        image.save(out, format="PNG", optimize=True)
        extension = "png"
    else:
        image.save(out, format="JPEG", quality=88, optimize=True)
        extension = "jpg"
    return ContentFile(out.getvalue(), name=f"{uuid.uuid4().hex}.{extension}")
