"""Image uploads: verification, metadata stripping, thumbnails, storage, access, REST."""

import io
import re
import struct
import zlib
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError
from PIL import Image, ImageCms, PngImagePlugin
from rest_framework.throttling import ScopedRateThrottle

from chat.models import Message, Upload
from chat.uploads import access_upload_for_attachment, upload_create, upload_payload
from happychat.errors import InvalidAttachment
from tests.chat.conftest import befriend

URL = "/api/v1/uploads/"
RED, BLUE = (255, 0, 0), (0, 0, 255)


def image_bytes(
    fmt: str, *, mode: str = "RGB", size: tuple[int, int] = (640, 480), **save: object
) -> bytes:
    colour: object = (200, 30, 30, 120) if mode == "RGBA" else (200, 30, 30)
    if mode in ("1", "L"):
        colour = 1
    buffer = io.BytesIO()
    Image.new(mode, size, colour).save(buffer, fmt, **save)
    return buffer.getvalue()


def as_file(data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def post(client, data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg"):
    return client.post(URL, {"file": as_file(data, name, content_type)}, format="multipart")


def stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def open_stored(field) -> Image.Image:
    with field.open("rb") as f:
        img = Image.open(io.BytesIO(f.read()))
        img.load()
        return img


def png_with_header(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims the given size (a decompression bomb's shape)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.fixture
def assert_nothing_stored(db, settings):
    def check() -> None:
        assert Upload.objects.count() == 0
        assert stored_files(settings) == []

    return check


# --- accepted images ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "mode", "stored_format"),
    [
        ("JPEG", "RGB", "JPEG"),
        ("PNG", "RGB", "JPEG"),
        ("PNG", "RGBA", "PNG"),
        ("PNG", "L", "JPEG"),
        ("GIF", "RGB", "JPEG"),
        ("WEBP", "RGB", "JPEG"),
        ("WEBP", "RGBA", "WEBP"),
    ],
)
def test_each_allowed_format_is_stored_reencoded(
    api_client, user, settings, fmt, mode, stored_format
):
    response = post(api_client, image_bytes(fmt, mode=mode), name=f"x.{fmt.lower()}")

    assert response.status_code == 201, response.json()
    body = response.json()
    upload = Upload.objects.get()
    assert body == upload_payload(upload)
    assert set(body) == {"id", "kind", "url", "thumbnail_url", "width", "height"}
    assert (body["width"], body["height"]) == (640, 480)
    assert upload.owner == user
    stored = open_stored(upload.image)
    assert stored.format == stored_format
    assert stored.size == (640, 480)
    assert upload.content_type == Image.MIME[stored_format]
    assert upload.size == upload.image.size
    assert len(stored_files(settings)) == 2


def test_transparency_survives_reencoding(api_client):
    response = post(api_client, image_bytes("PNG", mode="RGBA"), name="x.png")

    assert response.status_code == 201
    stored = open_stored(Upload.objects.get().image)
    assert stored.mode == "RGBA"
    assert stored.getpixel((0, 0))[3] == 120


@pytest.mark.parametrize(
    ("fmt", "mode", "colour", "expected"),
    [
        ("JPEG", "CMYK", (0, 255, 255, 0), RED),
        ("PNG", "I;16", 30000, (117, 117, 117)),
        ("JPEG", "L", 77, (77, 77, 77)),
    ],
)
def test_other_colour_modes_keep_their_colours(api_client, fmt, mode, colour, expected):
    buffer = io.BytesIO()
    Image.new(mode, (40, 40), colour).save(buffer, fmt)

    response = post(api_client, buffer.getvalue(), name="x.img")

    assert response.status_code == 201
    pixel = open_stored(Upload.objects.get().image).convert("RGB").getpixel((20, 20))
    assert all(abs(a - b) <= 3 for a, b in zip(pixel, expected, strict=True)), pixel


def test_animated_gif_keeps_its_frames_and_timing(api_client):
    frames = [Image.new("RGB", (120, 90), c) for c in (RED, (0, 255, 0), BLUE)]
    buffer = io.BytesIO()
    frames[0].save(
        buffer, "GIF", save_all=True, append_images=frames[1:], duration=[100, 200, 300], loop=0
    )

    response = post(api_client, buffer.getvalue(), name="a.gif", content_type="image/gif")

    assert response.status_code == 201
    upload = Upload.objects.get()
    with upload.image.open("rb") as f:
        stored = Image.open(io.BytesIO(f.read()))
        assert stored.format == "GIF"
        assert stored.n_frames == 3
        durations = []
        for i in range(3):
            stored.seek(i)
            durations.append(stored.info["duration"])
            assert stored.convert("RGB").getpixel((60, 45)) == [RED, (0, 255, 0), BLUE][i]
    assert durations == [100, 200, 300]
    assert open_stored(upload.thumbnail).format in {"JPEG", "PNG"}


# --- metadata, orientation, size --------------------------------------------------------


def test_exif_gps_and_icc_metadata_are_stripped(api_client):
    exif = Image.Exif()
    exif[0x010F] = "SecretCameraMaker"  # Make
    exif[0x0131] = "SecretSoftware"  # Software
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}  # GPS IFD
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    original = image_bytes("JPEG", exif=exif.tobytes(), icc_profile=icc, comment=b"SecretNote")
    assert b"SecretCameraMaker" in original  # the fixture really carries the metadata

    response = post(api_client, original)

    assert response.status_code == 201
    upload = Upload.objects.get()
    for field in (upload.image, upload.thumbnail):
        with field.open("rb") as f:
            raw = f.read()
        for secret in (b"Exif", b"SecretCameraMaker", b"SecretSoftware", b"SecretNote"):
            assert secret not in raw
        stored = Image.open(io.BytesIO(raw))
        assert dict(stored.getexif()) == {}
        assert "icc_profile" not in stored.info
        assert "exif" not in stored.info


def test_png_text_chunks_are_stripped(api_client):
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "my home address")
    original = image_bytes("PNG", mode="RGBA", pnginfo=info)
    assert b"my home address" in original

    response = post(api_client, original, name="x.png", content_type="image/png")

    assert response.status_code == 201
    with Upload.objects.get().image.open("rb") as f:
        assert b"my home address" not in f.read()


def test_exif_orientation_is_applied_before_stripping(api_client):
    img = Image.new("RGB", (200, 100), BLUE)
    img.paste(RED, (0, 0, 100, 100))  # left half red
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: display rotated 90° clockwise
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", exif=exif.tobytes(), quality=95)

    response = post(api_client, buffer.getvalue())

    assert response.status_code == 201
    assert (response.json()["width"], response.json()["height"]) == (100, 200)
    stored = open_stored(Upload.objects.get().image)
    assert stored.size == (100, 200)
    assert dict(stored.getexif()) == {}
    top, bottom = stored.getpixel((50, 40)), stored.getpixel((50, 160))
    # The red half is now on top, the blue one at the bottom.
    assert (top[0] > 200, top[2] < 60) == (True, True)
    assert (bottom[2] > 200, bottom[0] < 60) == (True, True)


def test_thumbnail_fits_320_and_keeps_aspect_ratio(api_client):
    response = post(api_client, image_bytes("JPEG", size=(1600, 900)))

    assert response.status_code == 201
    upload = Upload.objects.get()
    assert open_stored(upload.image).size == (1600, 900)
    assert open_stored(upload.thumbnail).size == (320, 180)


def test_small_image_thumbnail_is_not_enlarged(api_client):
    post(api_client, image_bytes("PNG", size=(100, 50)), name="x.png")

    assert open_stored(Upload.objects.get().thumbnail).size == (100, 50)


def test_very_long_side_is_downsized_to_4096(api_client):
    response = post(api_client, image_bytes("PNG", size=(8192, 64)), name="x.png")

    assert response.status_code == 201
    assert (response.json()["width"], response.json()["height"]) == (4096, 32)
    assert open_stored(Upload.objects.get().image).size == (4096, 32)


def test_stored_names_are_random_never_the_users_filename(api_client):
    first = post(api_client, image_bytes("JPEG"), name="alice-passport-scan.jpg")
    second = post(api_client, image_bytes("JPEG"), name="alice-passport-scan.jpg")

    assert first.status_code == second.status_code == 201
    names = [n for u in Upload.objects.all() for n in (u.image.name, u.thumbnail.name)]
    assert len(set(names)) == 4
    for name in names:
        assert "passport" not in name
        assert re.fullmatch(r"uploads/\d{4}/\d{2}/[0-9a-f]{32}\.jpg", name), name


# --- refused uploads --------------------------------------------------------------------


def test_text_file_named_png_is_refused_and_nothing_stored(api_client, assert_nothing_stored):
    response = post(api_client, b"hello, I am not a picture\n" * 20, "x.png", "image/png")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_attachment"
    assert "JPEG, PNG, GIF or WebP" in response.json()["detail"]
    assert_nothing_stored()


@pytest.mark.parametrize("fmt", ["BMP", "TIFF", "ICO", "PPM"])
def test_real_images_of_other_formats_are_refused(api_client, assert_nothing_stored, fmt):
    response = post(api_client, image_bytes(fmt, size=(64, 64)), "x.png", "image/png")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_attachment"
    assert_nothing_stored()


def test_truncated_image_is_refused(api_client, assert_nothing_stored):
    data = image_bytes("JPEG", size=(800, 600), quality=95)

    response = post(api_client, data[: len(data) // 2])

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_attachment"
    assert_nothing_stored()


def test_png_with_bad_checksum_is_refused(api_client, assert_nothing_stored):
    data = bytearray(image_bytes("PNG", size=(64, 64)))
    data[40] ^= 0xFF  # inside the IDAT chunk: its CRC no longer matches

    response = post(api_client, bytes(data), "x.png", "image/png")

    assert response.status_code == 400
    assert_nothing_stored()


def test_empty_file_is_refused(api_client, assert_nothing_stored):
    response = api_client.post(
        URL, {"file": SimpleUploadedFile("x.jpg", b"", "image/jpeg")}, format="multipart"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_attachment"
    assert_nothing_stored()


def test_missing_file_field_is_refused(api_client, assert_nothing_stored):
    response = api_client.post(URL, {"picture": "nope"}, format="multipart")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_attachment"
    assert "file" in response.json()["detail"]
    assert_nothing_stored()


def test_file_over_the_byte_limit_is_refused(api_client, settings, assert_nothing_stored):
    settings.UPLOAD_MAX_BYTES = 2000
    data = image_bytes("JPEG", size=(400, 400))
    assert len(data) > 2000

    response = post(api_client, data)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_attachment"
    assert "too large" in response.json()["detail"]
    assert_nothing_stored()


def test_image_over_the_pixel_limit_is_refused(api_client, settings, assert_nothing_stored):
    settings.UPLOAD_MAX_PIXELS = 10_000

    response = post(api_client, image_bytes("PNG", mode="1", size=(200, 100)), "x.png")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_attachment"
    assert "pixels" in response.json()["detail"]
    assert_nothing_stored()


def test_real_decompression_bomb_is_refused_at_the_default_limit(api_client, assert_nothing_stored):
    # 7000 x 7000 one-bit pixels compress to a few kilobytes but are 49 megapixels.
    data = image_bytes("PNG", mode="1", size=(7000, 7000), optimize=True)
    assert len(data) < 100_000

    response = post(api_client, data, "bomb.png", "image/png")

    assert response.status_code == 400
    assert "pixels" in response.json()["detail"]
    assert_nothing_stored()


def test_forged_header_claiming_ten_gigapixels_is_refused(api_client, assert_nothing_stored):
    response = post(api_client, png_with_header(100_000, 100_000), "bomb.png", "image/png")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_attachment"
    assert "pixels" in response.json()["detail"]
    assert_nothing_stored()


def test_animation_counts_the_pixels_of_every_frame(api_client, settings, assert_nothing_stored):
    settings.UPLOAD_MAX_PIXELS = 25_000  # one 100x100 frame fits, three do not
    frames = [Image.new("RGB", (100, 100), c) for c in (RED, (0, 255, 0), BLUE)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])

    response = post(api_client, buffer.getvalue(), "a.gif", "image/gif")

    assert response.status_code == 400
    assert "pixels" in response.json()["detail"]
    assert_nothing_stored()


# --- access, throttling, failures -------------------------------------------------------


def test_anonymous_upload_is_refused(anon_client, assert_nothing_stored):
    response = post(anon_client, image_bytes("JPEG"))

    assert response.status_code in (401, 403)
    assert_nothing_stored()


def test_uploads_are_throttled_per_user(api_client, monkeypatch):
    # DRF binds the rates when the throttle class is defined, so patch them there.
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"upload": "2/min"})
    cache.clear()
    data = image_bytes("JPEG", size=(32, 32))

    statuses = [post(api_client, data).status_code for _ in range(3)]

    assert statuses == [201, 201, 429]
    assert Upload.objects.count() == 2


def test_uploader_may_attach_own_upload(user):
    upload = upload_create(owner=user, file=as_file(image_bytes("JPEG")))

    assert access_upload_for_attachment(user=user, upload_id=upload.pk) == upload
    assert access_upload_for_attachment(user=user, upload_id=str(upload.pk)) == upload


def test_someone_elses_upload_cannot_be_attached(user, other_user):
    upload = upload_create(owner=other_user, file=as_file(image_bytes("JPEG")))

    with pytest.raises(InvalidAttachment) as excinfo:
        access_upload_for_attachment(user=user, upload_id=upload.pk)

    assert excinfo.value.code == "invalid_attachment"


@pytest.mark.parametrize("upload_id", [987654, 0, -1, 2**70, "abc", "12x", True, None, 1.5, [1]])
def test_missing_or_malformed_upload_id_cannot_be_attached(user, upload_id):
    with pytest.raises(InvalidAttachment):
        access_upload_for_attachment(user=user, upload_id=upload_id)


def test_files_are_removed_when_the_row_cannot_be_saved(user, settings, monkeypatch):
    def fail(*args, **kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(Upload, "save", fail)

    with pytest.raises(DatabaseError):
        upload_create(owner=user, file=as_file(image_bytes("JPEG")))

    assert stored_files(settings) == []


# --- image messages (the path through message_send) -------------------------------------


def test_image_message_carries_the_upload_payload(api_client, user, other_user):
    conversation = befriend(user, other_user)
    upload = post(api_client, image_bytes("JPEG")).json()

    response = api_client.post(
        f"/api/v1/conversations/{conversation.pk}/messages/",
        {"id": "img-1", "kind": "image", "attachment": upload["id"]},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["kind"] == "image"
    assert response.json()["attachment"] == upload


def test_image_message_with_someone_elses_upload_is_refused(api_client, user, other_user):
    conversation = befriend(user, other_user)
    theirs = upload_create(owner=other_user, file=as_file(image_bytes("JPEG")))

    response = api_client.post(
        f"/api/v1/conversations/{conversation.pk}/messages/",
        {"id": "img-2", "kind": "image", "attachment": theirs.pk},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_attachment"
    assert not Message.objects.filter(client_id="img-2").exists()
