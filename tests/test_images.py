"""Avatars go through the same verification as chat uploads, then become a centred square."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from happychat.errors import InvalidAttachment, UnreadableImage
from happychat.images import avatar_image


def upload(fmt: str, size: tuple[int, int], mode: str = "RGB", **save: object):
    colour: object = (0, 0, 0, 0) if mode == "RGBA" else (200, 40, 90)
    buffer = io.BytesIO()
    Image.new(mode, size, colour).save(buffer, fmt, **save)
    return SimpleUploadedFile(f"holiday.{fmt.lower()}", buffer.getvalue())


def opened(content) -> Image.Image:
    return Image.open(io.BytesIO(content.read()))


@pytest.mark.parametrize("size", [(600, 300), (300, 600), (40, 40)])
def test_avatar_is_a_centred_square_of_avatar_size(settings, size):
    with opened(avatar_image(file=upload("PNG", size))) as image:
        assert image.size == (settings.AVATAR_SIZE, settings.AVATAR_SIZE)
        assert image.format == "JPEG"


def test_the_square_is_cut_from_the_middle(settings):
    wide = Image.new("RGB", (900, 300), "red")
    wide.paste(Image.new("RGB", (300, 300), "blue"), (300, 0))
    buffer = io.BytesIO()
    wide.save(buffer, "PNG")

    with opened(avatar_image(file=SimpleUploadedFile("w.png", buffer.getvalue()))) as image:
        red, _green, blue = image.convert("RGB").getpixel((settings.AVATAR_SIZE // 2, 10))
        assert blue > 200
        assert red < 60


def test_transparent_avatar_stays_png_and_opaque_becomes_jpeg():
    with opened(avatar_image(file=upload("WEBP", (300, 300), "RGBA"))) as image:
        assert image.format == "PNG"
    with opened(avatar_image(file=upload("WEBP", (300, 300)))) as image:
        assert image.format == "JPEG"


def test_animated_avatar_keeps_its_first_frame_still():
    frames = [Image.new("RGB", (120, 80), colour) for colour in ("red", "green", "blue")]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=50)

    with opened(avatar_image(file=SimpleUploadedFile("a.gif", buffer.getvalue()))) as image:
        assert getattr(image, "n_frames", 1) == 1
        red, green, _blue = image.convert("RGB").getpixel((5, 5))
        assert red > 200
        assert green < 60


def test_avatar_metadata_is_stripped_and_its_name_is_random():
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"
    content = avatar_image(file=upload("JPEG", (300, 300), exif=exif.tobytes()))

    assert "holiday" not in (content.name or "")
    data = content.read()
    assert b"SpyCam" not in data
    with Image.open(io.BytesIO(data)) as image:
        assert not image.getexif()


def test_unreadable_avatar_is_an_unreadable_image():
    with pytest.raises(UnreadableImage) as caught:
        avatar_image(file=SimpleUploadedFile("x.gif", b"GIF89a but not really"))
    assert caught.value.code == "invalid_attachment"


def test_avatar_pixel_and_size_limits_are_the_upload_limits(settings):
    settings.UPLOAD_MAX_PIXELS = 10_000
    with pytest.raises(InvalidAttachment, match="pixels"):
        avatar_image(file=upload("PNG", (200, 200)))
    settings.UPLOAD_MAX_BYTES = 1000
    with pytest.raises(InvalidAttachment, match="too large"):
        avatar_image(file=upload("BMP", (60, 60)))
