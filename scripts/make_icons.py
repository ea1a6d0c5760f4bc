"""Draw HappyChat's icons (favicon, install icons, maskable icons) into static/icons/.

Run `.venv/bin/python scripts/make_icons.py` after changing the drawing; the PNG and ICO
files it writes are committed, so serving them needs no Pillow at build time. The mark is
a white speech bubble with a smile on the brand green (#1f8f5f, `--accent` in base.css).
"""

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "static" / "icons"
GREEN = (31, 143, 95, 255)
WHITE = (255, 255, 255, 255)
BIG = 1024  # drawn large, then scaled down with a good filter (anti-aliasing for free)


def mark(draw: ImageDraw.ImageDraw, *, scale: float, face: tuple[int, ...] = GREEN) -> None:
    """The bubble and the smile (in `face`), centred, `scale` of the canvas wide."""
    size = BIG * scale
    left = (BIG - size) / 2
    top = (BIG - size * 0.86) / 2

    def xy(x: float, y: float) -> tuple[float, float]:
        return left + x * size, top + y * size

    draw.rounded_rectangle(
        (*xy(0.0, 0.0), *xy(1.0, 0.72)), radius=size * 0.2, fill=WHITE
    )  # the bubble
    draw.polygon([xy(0.18, 0.66), xy(0.42, 0.66), xy(0.14, 0.86)], fill=WHITE)  # its tail
    eye = size * 0.055
    for cx in (0.35, 0.65):
        x, y = xy(cx, 0.29)
        draw.ellipse((x - eye, y - eye, x + eye, y + eye), fill=face)
    draw.arc(
        (*xy(0.3, 0.2), *xy(0.7, 0.56)), start=25, end=155, fill=face, width=int(size * 0.055)
    )  # the smile


def icon(*, maskable: bool) -> Image.Image:
    """A square icon: rounded with transparent corners, or full-bleed for masking."""
    image = Image.new("RGBA", (BIG, BIG), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if maskable:
        # Launchers cut any shape from the middle 80%: the mark stays well inside it.
        draw.rectangle((0, 0, BIG, BIG), fill=GREEN)
        mark(draw, scale=0.5)
    else:
        draw.rounded_rectangle((0, 0, BIG - 1, BIG - 1), radius=BIG * 0.22, fill=GREEN)
        mark(draw, scale=0.66)
    return image


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    plain, maskable = icon(maskable=False), icon(maskable=True)
    for size in (192, 512):
        plain.resize((size, size), Image.Resampling.LANCZOS).save(OUT / f"icon-{size}.png")
        maskable.resize((size, size), Image.Resampling.LANCZOS).save(OUT / f"maskable-{size}.png")
    # iOS draws its own rounded corners over a full square.
    maskable.resize((180, 180), Image.Resampling.LANCZOS).convert("RGB").save(
        OUT / "apple-touch-icon.png"
    )
    # Android shows the notification badge as a silhouette: white mark, see-through face.
    badge = Image.new("RGBA", (BIG, BIG), (0, 0, 0, 0))
    mark(ImageDraw.Draw(badge), scale=0.9, face=(0, 0, 0, 0))
    badge.resize((96, 96), Image.Resampling.LANCZOS).save(OUT / "badge-96.png")
    plain.save(OUT / "favicon.ico", sizes=[(16, 16), (32, 32), (48, 48)])


if __name__ == "__main__":
    main()
