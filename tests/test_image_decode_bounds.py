"""Image decodes are bounded per process: how many at once, and the memory each may take."""

import io

import pytest
from PIL import Image, ImageChops

from chat.models import Upload
from happychat.errors import Busy, InvalidAttachment
from happychat.images import _resized, decode_cost, decode_slot, process_image


def png(size: tuple[int, int], mode: str = "RGBA") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, (10, 20, 30, 255) if mode == "RGBA" else 0).save(buffer, "PNG")
    return buffer.getvalue()


def process(data: bytes, max_side: int | None = 4096):
    return process_image(
        file=io.BytesIO(data),
        max_bytes=10 * 2**20,
        max_pixels=40_000_000,
        max_side=max_side,
        thumbnail_side=320,
    )


def test_cost_is_estimated_from_the_header_before_decoding():
    rgba = decode_cost(width=6320, height=6320, mode="RGBA", frames=1, max_side=4096)
    palette = decode_cost(width=6320, height=6320, mode="P", frames=1, max_side=4096)
    small = decode_cost(width=640, height=480, mode="RGB", frames=1, max_side=4096)

    # Decoded RGBA source (4 bytes a pixel), then two copies of at most 4096².
    assert rgba == 6320 * 6320 * 4 + 4096 * 4096 * 4 * 2
    # A palette image is converted to RGBA before shrinking.
    assert palette == 6320 * 6320 * (1 + 4) + 4096 * 4096 * 4 * 2
    assert small == 640 * 480 * 4 * 3
    # The largest allowed images fit the default budget.
    assert max(rgba, palette) < 400 * 2**20


def test_animation_cost_counts_every_kept_frame():
    cost = decode_cost(width=1000, height=1000, mode="P", frames=10, max_side=4096)

    assert cost == 1000 * 1000 * 5 + 10 * 1000 * 1000 * 8


def test_an_image_over_the_memory_budget_is_refused_before_decoding(
    api_client, settings, monkeypatch
):
    settings.UPLOAD_DECODE_MAX_BYTES = 20 * 2**20
    data = png((3000, 3000))
    decoded: list[object] = []
    monkeypatch.setattr(Image.Image, "load", lambda self: decoded.append(self))

    response = api_client.post("/api/v1/uploads/", {"file": io.BytesIO(data)}, format="multipart")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_attachment"
    assert "too much memory" in body["detail"]
    assert "20 MB" in body["detail"]
    assert decoded == []
    assert Upload.objects.count() == 0


def test_decodes_past_the_per_process_limit_wait_then_answer_busy(settings):
    settings.UPLOAD_DECODE_CONCURRENCY = 1
    settings.UPLOAD_DECODE_WAIT_SECONDS = 0.05

    with decode_slot(), pytest.raises(Busy) as caught:
        process(png((64, 64)))

    assert caught.value.extra == {"retryable": True}
    assert process(png((64, 64))).image.width == 64  # the slot is free again


def test_a_busy_decode_answers_503_retryable_over_rest(api_client, settings):
    settings.UPLOAD_DECODE_CONCURRENCY = 1
    settings.UPLOAD_DECODE_WAIT_SECONDS = 0.05

    with decode_slot():
        response = api_client.post(
            "/api/v1/uploads/", {"file": io.BytesIO(png((64, 64)))}, format="multipart"
        )

    assert response.status_code == 503
    assert response.json()["code"] == "busy"
    assert response.json()["retryable"] is True


def test_a_failed_decode_gives_its_slot_back(settings):
    settings.UPLOAD_DECODE_CONCURRENCY = 1
    settings.UPLOAD_DECODE_WAIT_SECONDS = 0.05

    with pytest.raises(InvalidAttachment):
        process(b"\x89PNG\r\n\x1a\n" + b"broken" * 100)

    assert process(png((32, 32))).image.width == 32


def test_large_jpeg_decodes_at_a_reduced_scale_and_keeps_max_side():
    buffer = io.BytesIO()
    Image.new("RGB", (8400, 4000), (90, 120, 200)).save(buffer, "JPEG", quality=70)

    result = process(buffer.getvalue())

    assert (result.image.width, result.image.height) == (4096, 1950)
    assert max(result.thumbnail.width, result.thumbnail.height) == 320


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "LA"])
def test_banded_resize_matches_a_whole_image_resize(mode):
    source = Image.linear_gradient("L").resize((1500, 1100))
    img = Image.merge("RGBA", [source, source.rotate(90), source, source]).convert(mode)

    whole = img.resize((700, 513), Image.Resampling.LANCZOS)
    banded = _resized(img, (700, 513))

    assert (banded.size, banded.mode) == (whole.size, whole.mode)
    diff = ImageChops.difference(whole.convert("RGBA"), banded.convert("RGBA"))
    assert all(high <= 2 for _, high in diff.getextrema())
