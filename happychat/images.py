"""Verify, clean and re-encode uploaded images: chat uploads and avatars (users', groups').

Only JPEG, PNG, GIF and WebP are accepted, judged by the decoded data, never by the file
name or the declared content type. The pixel count is checked from the header before any
pixel is decoded, so a small file cannot expand into gigabytes (decompression bomb).

Every output is re-encoded from pixels, so no metadata survives (EXIF with GPS, XMP,
comments, ICC profiles): the EXIF orientation is applied first and a colour profile is
converted to sRGB. A still image becomes JPEG when opaque and PNG when it uses
transparency (WebP when the source was WebP). An animated GIF, WebP or APNG keeps its
animation, re-encoded frame by frame in its own format, and all its frames together must
fit the pixel budget; its thumbnail is the first frame, still. An avatar is the cleaned
image (its first frame) cropped to a centred square of AVATAR_SIZE pixels.
"""

import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageCms, ImageOps, ImageSequence

from happychat.errors import InvalidAttachment, UnreadableImage

ALLOWED_FORMATS = ("JPEG", "PNG", "GIF", "WEBP")
ANIMATED_FORMATS = frozenset({"GIF", "WEBP", "PNG"})
MAX_FRAMES = 500
JPEG_QUALITY = 85
WEBP_QUALITY = 85
DEFAULT_FRAME_MS = 100
# An avatar's intermediate re-encode is bounded to this many avatar sides on its long side:
# a 40-megapixel photo is not re-encoded at full size, and only a picture more than this
# many times as long as it is wide has fewer than AVATAR_SIZE source pixels in its square.
AVATAR_SOURCE_SIDES = 8

_MEDIA_TYPES = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "GIF": ("image/gif", "gif"),
    "WEBP": ("image/webp", "webp"),
}
_ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})


@dataclass(frozen=True)
class EncodedImage:
    content: bytes
    content_type: str
    extension: str
    width: int
    height: int


@dataclass(frozen=True)
class ProcessedImage:
    image: EncodedImage
    thumbnail: EncodedImage | None


def process_image(
    *,
    file: File | IO[bytes],
    max_bytes: int,
    max_pixels: int,
    max_side: int | None = None,
    thumbnail_side: int | None = None,
) -> ProcessedImage:
    """Verify an uploaded image; return it re-encoded without metadata, and a thumbnail."""
    data = _read_limited(file, max_bytes)
    try:
        with _open_checked(data, max_pixels) as probe:
            # verify() catches broken PNG checksums and truncated structure cheaply; the
            # image cannot be used afterwards, hence the second open below.
            probe.verify()
        with _open_checked(data, max_pixels) as img:
            # MPO is how Pillow names a multi-picture JPEG (some cameras); the first is kept.
            source_format = "JPEG" if img.format == "MPO" else str(img.format)
            frame_count = _frame_count(img, max_pixels)
            if frame_count > 1:
                return _process_animation(
                    img,
                    source_format=source_format,
                    max_side=max_side,
                    thumbnail_side=thumbnail_side,
                )
            return _process_still(
                img,
                source_format=source_format,
                max_side=max_side,
                thumbnail_side=thumbnail_side,
            )
    except InvalidAttachment:
        raise
    except Image.DecompressionBombError as exc:
        raise InvalidAttachment(_("The image has too many pixels.")) from exc
    except Exception as exc:
        # Crafted files make Pillow raise almost anything (OSError, SyntaxError, struct.error,
        # ValueError, IndexError…); every one of them means "not an image we accept".
        raise UnreadableImage(
            _("The file is not a valid JPEG, PNG, GIF or WebP image, or it is damaged.")
        ) from exc


def avatar_image(*, file: File | IO[bytes]) -> ContentFile:
    """Verify and clean an upload as process_image does; return it as a square avatar."""
    side: int = settings.AVATAR_SIZE
    processed = process_image(
        file=file,
        max_bytes=settings.UPLOAD_MAX_BYTES,
        max_pixels=settings.UPLOAD_MAX_PIXELS,
        max_side=side * AVATAR_SOURCE_SIDES,
    )
    # Our own metadata-free output, already bounded; an animation gives its first frame.
    with Image.open(io.BytesIO(processed.image.content)) as img:
        img.load()
        clean = _to_srgb(img, keep_alpha=False)
    square = ImageOps.fit(clean, (side, side), Image.Resampling.LANCZOS, centering=(0.5, 0.5))
    encoded = _encode_still(_drop_unused_alpha(square), prefer_webp=False)
    # A random name: nobody can guess or overwrite another avatar, and no client name leaks.
    return ContentFile(encoded.content, name=f"{uuid.uuid4().hex}.{encoded.extension}")


def _read_limited(file: File | IO[bytes], max_bytes: int) -> bytes:
    size = getattr(file, "size", None)
    if isinstance(size, int) and size > max_bytes:
        raise _too_large(max_bytes)
    if hasattr(file, "seek"):
        file.seek(0)
    # Read one byte past the limit so a stream that lied about its size is still refused.
    data = file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _too_large(max_bytes)
    if not data:
        raise InvalidAttachment(_("The file is empty."))
    return bytes(data)


def _too_large(max_bytes: int) -> InvalidAttachment:
    return InvalidAttachment(
        _("The image is too large; the limit is %(mb)s MB.") % {"mb": round(max_bytes / 2**20, 1)}
    )


def _open_checked(data: bytes, max_pixels: int) -> Image.Image:
    # Image.open parses the header only; the size is known before any pixel is decoded.
    img = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
    width, height = img.size
    if width < 1 or height < 1:
        img.close()
        raise InvalidAttachment(_("The image has no pixels."))
    if width * height > max_pixels:
        img.close()
        raise _too_many_pixels(max_pixels)
    return img


def _too_many_pixels(max_pixels: int) -> InvalidAttachment:
    return InvalidAttachment(
        _("The image has too many pixels; the limit is %(mp)s megapixels.")
        % {"mp": round(max_pixels / 1_000_000, 1)}
    )


def _frame_count(img: Image.Image, max_pixels: int) -> int:
    if img.format not in ANIMATED_FORMATS:
        return 1
    # Counting frames walks the frame headers without decoding their pixels.
    frames = int(getattr(img, "n_frames", 1))
    if frames > MAX_FRAMES:
        raise InvalidAttachment(
            _("The animation has too many frames; the limit is %(n)s.") % {"n": MAX_FRAMES}
        )
    if img.width * img.height * frames > max_pixels:
        raise _too_many_pixels(max_pixels)
    return frames


def _process_still(
    img: Image.Image, *, source_format: str, max_side: int | None, thumbnail_side: int | None
) -> ProcessedImage:
    img.load()
    oriented = ImageOps.exif_transpose(img)
    clean = _to_srgb(oriented, keep_alpha=False)
    _shrink(clean, max_side)
    prefer_webp = source_format == "WEBP"
    return ProcessedImage(
        image=_encode_still(clean, prefer_webp=prefer_webp),
        thumbnail=_thumbnail(clean, thumbnail_side, prefer_webp=prefer_webp),
    )


def _process_animation(
    img: Image.Image, *, source_format: str, max_side: int | None, thumbnail_side: int | None
) -> ProcessedImage:
    frames: list[Image.Image] = []
    durations: list[int] = []
    for frame in _frames(img):
        durations.append(int(frame.info.get("duration") or DEFAULT_FRAME_MS))
        # Every frame stays RGBA so transparency is encoded the same way throughout.
        clean = _to_srgb(frame, keep_alpha=True)
        _shrink(clean, max_side)
        frames.append(clean)
    options: dict[str, Any] = {"save_all": True, "append_images": frames[1:], "duration": durations}
    if "loop" in img.info:
        options["loop"] = img.info["loop"]
    if source_format == "GIF":
        # Frames are already composited, so each one replaces the last completely.
        options["disposal"] = 2
    elif source_format == "WEBP":
        options["quality"] = WEBP_QUALITY
    first = frames[0]
    buffer = io.BytesIO()
    first.save(buffer, source_format, **options)
    content_type, extension = _MEDIA_TYPES[source_format]
    encoded = EncodedImage(buffer.getvalue(), content_type, extension, first.width, first.height)
    return ProcessedImage(
        image=encoded,
        thumbnail=_thumbnail(
            _drop_unused_alpha(first.copy()), thumbnail_side, prefer_webp=source_format == "WEBP"
        ),
    )


def _frames(img: Image.Image) -> Iterator[Image.Image]:
    for frame in ImageSequence.Iterator(img):
        frame.load()
        yield frame


def _to_srgb(img: Image.Image, *, keep_alpha: bool) -> Image.Image:
    """Return a new RGB or RGBA image in sRGB that carries no metadata at all."""
    if img.mode in ("I", "F") or img.mode.startswith("I;16"):
        # 16-bit greyscale (PNG): scale to 8 bits; a plain convert would clip it to white.
        img = img.convert("I").point(lambda value: value / 256).convert("L")
    has_alpha = img.mode in _ALPHA_MODES or "transparency" in img.info
    target = "RGBA" if has_alpha else "RGB"
    icc = img.info.get("icc_profile")
    base = img if img.mode in (target, "CMYK") else img.convert(target)
    converted: Image.Image | None = None
    if icc:
        try:
            source_profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            srgb = ImageCms.createProfile("sRGB")
            converted = ImageCms.profileToProfile(base, source_profile, srgb, outputMode=target)
        except (ImageCms.PyCMSError, OSError, ValueError):
            # A broken or mismatched profile: keep the raw colours rather than refuse the image.
            converted = None
    if converted is None:
        converted = base.convert(target) if base.mode != target else base.copy()
    # The re-encoders fall back to `info` for ICC, EXIF, XMP and comments; empty it.
    converted.info = {}
    return converted if keep_alpha else _drop_unused_alpha(converted)


def _drop_unused_alpha(img: Image.Image) -> Image.Image:
    if img.mode == "RGBA" and img.getchannel("A").getextrema()[0] == 255:
        opaque = img.convert("RGB")
        opaque.info = {}
        return opaque
    return img


def _shrink(img: Image.Image, side: int | None) -> None:
    if side and max(img.size) > side:
        img.thumbnail((side, side), Image.Resampling.LANCZOS)


def _thumbnail(img: Image.Image, side: int | None, *, prefer_webp: bool) -> EncodedImage | None:
    if not side:
        return None
    thumb = img.copy()
    _shrink(thumb, side)
    return _encode_still(thumb, prefer_webp=prefer_webp)


def _encode_still(img: Image.Image, *, prefer_webp: bool) -> EncodedImage:
    buffer = io.BytesIO()
    image_format = ("WEBP" if prefer_webp else "PNG") if img.mode == "RGBA" else "JPEG"
    if image_format == "JPEG":
        img.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    elif image_format == "WEBP":
        img.save(buffer, "WEBP", quality=WEBP_QUALITY)
    else:
        img.save(buffer, "PNG")
    content_type, extension = _MEDIA_TYPES[image_format]
    return EncodedImage(buffer.getvalue(), content_type, extension, img.width, img.height)
