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

Decoding is bounded per process: at most UPLOAD_DECODE_CONCURRENCY images decode at once
(the others wait up to UPLOAD_DECODE_WAIT_SECONDS, then get a retryable `busy`), and an
image whose decode would need more than UPLOAD_DECODE_MAX_BYTES (estimated from its header
before any pixel is decoded) is refused. JPEGs decode at a reduced scale when they are
larger than what is kept (Pillow's draft mode); other images are shrunk right after
decoding, before any copy. Pillow's large pixel blocks are allocated with mmap and freed
memory is handed back to the system after each decode, so a burst of big images leaves
no lasting growth.
"""

import ctypes
import ctypes.util
import io
import logging
import math
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageCms, ImageOps, ImageSequence

from happychat.errors import Busy, InvalidAttachment, UnreadableImage

logger = logging.getLogger("happychat.images")

ALLOWED_FORMATS = ("JPEG", "PNG", "GIF", "WEBP")
ANIMATED_FORMATS = frozenset({"GIF", "WEBP", "PNG"})
MAX_FRAMES = 500
JPEG_QUALITY = 85
WEBP_QUALITY = 85
DEFAULT_FRAME_MS = 100
# Output rows resized at a time (see _resized).
RESIZE_BAND_ROWS = 256
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
        with decode_slot(), _open_checked(data, max_pixels) as img:
            # MPO is how Pillow names a multi-picture JPEG (some cameras); the first is kept.
            source_format = "JPEG" if img.format == "MPO" else str(img.format)
            frame_count = _frame_count(img, max_pixels)
            if frame_count == 1 and source_format == "JPEG" and max_side:
                # Decode at 1/2, 1/4 or 1/8 scale when that still covers max_side.
                img.draft(None, (max_side, max_side))
            _check_decode_cost(img, frames=frame_count, max_side=max_side)
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
    except (InvalidAttachment, Busy):
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
    orientation = img.getexif().get(_ORIENTATION_TAG, 1)
    if img.mode not in _SHRINK_FIRST_MODES:
        # Palette, bilevel and 16-bit images resize badly (or not at all): convert first.
        img = _to_srgb(img, keep_alpha=True)
    # Shrink before any other copy: turning and colour conversion then run on at most
    # max_side² pixels, and the full-size pixels are freed at once.
    small = _shrunk(img, max_side)
    if small is not img:
        img.close()
    upright = _upright(small, orientation)
    clean = _to_srgb(upright, keep_alpha=False, owned=True)
    prefer_webp = source_format == "WEBP"
    return ProcessedImage(
        image=_encode_still(clean, prefer_webp=prefer_webp),
        thumbnail=_thumbnail(clean, thumbnail_side, prefer_webp=prefer_webp),
    )


_ORIENTATION_TAG = 0x0112
# EXIF orientation → the transposition that makes the image upright (as ImageOps does).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _upright(img: Image.Image, orientation: object) -> Image.Image:
    """The image turned upright by its EXIF orientation (the same object when upright)."""
    method = _UPRIGHT.get(orientation) if isinstance(orientation, int) else None
    if method is None:
        return img
    turned = img.transpose(method)
    turned.info = dict(img.info)  # the ICC profile still applies to the turned pixels
    return turned


def _process_animation(
    img: Image.Image, *, source_format: str, max_side: int | None, thumbnail_side: int | None
) -> ProcessedImage:
    frames: list[Image.Image] = []
    durations: list[int] = []
    for frame in _frames(img):
        durations.append(int(frame.info.get("duration") or DEFAULT_FRAME_MS))
        # Every frame stays RGBA so transparency is encoded the same way throughout.
        clean = _to_srgb(frame, keep_alpha=True)
        frames.append(_shrunk(clean, max_side))
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


def _to_srgb(img: Image.Image, *, keep_alpha: bool, owned: bool = False) -> Image.Image:
    """Return an RGB or RGBA image in sRGB that carries no metadata at all.

    The result is a new image unless `owned` (the caller's own, no longer needed otherwise),
    in which case an image already in the right mode is cleaned in place instead of copied.
    """
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
        if base.mode != target:
            converted = base.convert(target)
        else:
            converted = base if owned or base is not img else base.copy()
    # The re-encoders fall back to `info` for ICC, EXIF, XMP and comments; empty it.
    converted.info = {}
    return converted if keep_alpha else _drop_unused_alpha(converted)


def _drop_unused_alpha(img: Image.Image) -> Image.Image:
    if img.mode == "RGBA" and img.getchannel("A").getextrema()[0] == 255:
        opaque = img.convert("RGB")
        opaque.info = {}
        return opaque
    return img


def _fitted(size: tuple[int, int], side: int) -> tuple[int, int]:
    width, height = size
    scale = side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _shrunk(img: Image.Image, side: int | None) -> Image.Image:
    """The image fitted within side × side (the same object when it already fits)."""
    if not side or max(img.size) <= side:
        return img
    return _resized(img, _fitted(img.size, side))


def _resized(img: Image.Image, size: tuple[int, int]) -> Image.Image:
    """A LANCZOS resize done in horizontal bands (the same filter as a whole-image resize;
    Pillow then runs its two passes vertical first, which differs only in rounding).

    Pillow premultiplies an RGBA image into a full-size copy before resizing it and keeps a
    full-height intermediate between its two passes: for a 40-megapixel image that is
    another 260 MB. Band by band, each step holds a few rows of the source at a time.
    """
    out = Image.new(img.mode, size)
    out_width, out_height = size
    scale = img.height / out_height
    # LANCZOS reads 3 source pixels either side, stretched by the scale when shrinking.
    margin = math.ceil(3 * max(scale, 1.0)) + 1
    for top in range(0, out_height, RESIZE_BAND_ROWS):
        bottom = min(out_height, top + RESIZE_BAND_ROWS)
        src_top, src_bottom = top * scale, bottom * scale
        crop_top = max(0, math.floor(src_top) - margin)
        crop_bottom = min(img.height, math.ceil(src_bottom) + margin)
        strip = img.crop((0, crop_top, img.width, crop_bottom))
        part = strip.resize(
            (out_width, bottom - top),
            Image.Resampling.LANCZOS,
            box=(0, src_top - crop_top, img.width, src_bottom - crop_top),
        )
        out.paste(part, (0, top))
    out.info = dict(img.info)
    return out


def _thumbnail(img: Image.Image, side: int | None, *, prefer_webp: bool) -> EncodedImage | None:
    if not side:
        return None
    return _encode_still(_shrunk(img, side), prefer_webp=prefer_webp)


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


# --- bounded decoding -------------------------------------------------------------------

# Modes Pillow resizes with every filter; anything else is converted before shrinking.
_SHRINK_FIRST_MODES = frozenset({"L", "LA", "RGB", "RGBA", "CMYK", "YCbCr"})
_slots_lock = threading.Lock()
_slots: threading.BoundedSemaphore | None = None
_slots_size = 0
_active = 0
_allocator_ready = False
_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number


def _bytes_per_pixel(mode: str) -> int:
    # Pillow stores 1/L/P in one byte a pixel, I;16 in two, everything else (RGB too) in four.
    if mode in ("1", "L", "P"):
        return 1
    if mode.startswith("I;16"):
        return 2
    return 4


def decode_cost(*, width: int, height: int, mode: str, frames: int, max_side: int | None) -> int:
    """Bytes a decode of this image takes at its peak, estimated from the header alone."""
    pixels = width * height
    kept = min(pixels, max_side * max_side) if max_side else pixels
    cost = pixels * _bytes_per_pixel(mode)  # the decoded source (one frame at a time)
    if mode not in _SHRINK_FIRST_MODES:
        cost += pixels * 4  # converted to RGB(A) before shrinking
    if frames > 1:
        # Every frame is kept, cleaned and shrunk, until the animation is re-encoded.
        return cost + frames * kept * 4 * 2
    # The shrunk copy, and its sRGB conversion or the encoder's buffers.
    return cost + kept * 4 * 2


def _check_decode_cost(img: Image.Image, *, frames: int, max_side: int | None) -> None:
    cost = decode_cost(
        width=img.width, height=img.height, mode=img.mode, frames=frames, max_side=max_side
    )
    budget: int = settings.UPLOAD_DECODE_MAX_BYTES
    if cost > budget:
        raise InvalidAttachment(
            _(
                "The image would need too much memory to process (%(need)s MB, the limit is "
                "%(limit)s MB): send a smaller image or one with fewer pixels."
            )
            % {"need": round(cost / 2**20), "limit": round(budget / 2**20)}
        )


@contextmanager
def decode_slot() -> Iterator[None]:
    """Hold one of the process's UPLOAD_DECODE_CONCURRENCY decode slots, waiting at most
    UPLOAD_DECODE_WAIT_SECONDS (then a retryable Busy); give memory back when the last
    decode ends."""
    global _active
    slots = _decode_slots()
    if not slots.acquire(timeout=settings.UPLOAD_DECODE_WAIT_SECONDS):
        raise Busy(
            _("Too many images are being processed right now; retry in a moment."),
            retryable=True,
        )
    with _slots_lock:
        _active += 1
    try:
        yield
    finally:
        with _slots_lock:
            _active -= 1
            last = _active == 0
        slots.release()
        if last:
            _release_memory()


def _decode_slots() -> threading.BoundedSemaphore:
    global _slots, _slots_size
    size = max(1, int(settings.UPLOAD_DECODE_CONCURRENCY))
    with _slots_lock:
        if _slots is None or _slots_size != size:
            _slots, _slots_size = threading.BoundedSemaphore(size), size
            _configure_allocator()
        return _slots


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


def _configure_allocator() -> None:
    """Make Pillow's pixel blocks come from mmap, so freeing them returns them at once.

    glibc raises its mmap threshold after a large block is freed (up to 32 MB), after
    which Pillow's 16 MB blocks come from per-thread heaps that rarely shrink: a few big
    decodes on request threads left gigabytes resident. A fixed threshold stops that.
    """
    global _allocator_ready
    if _allocator_ready:
        return
    _allocator_ready = True
    Image.core.set_blocks_max(0)  # Pillow keeps no freed blocks of its own
    libc = _libc()
    if libc is None:
        return
    threshold = int(settings.UPLOAD_MMAP_THRESHOLD)
    if threshold > 0 and not libc.mallopt(_M_MMAP_THRESHOLD, threshold):
        logger.warning("mallopt(M_MMAP_THRESHOLD) refused; decode memory may stay resident")


def _release_memory() -> None:
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
