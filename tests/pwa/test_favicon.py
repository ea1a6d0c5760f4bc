"""The site icon: `/favicon.ico` is a real icon, and every page links it."""

import io

import pytest
from PIL import Image


def test_favicon_is_a_real_multi_size_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert "max-age=" in response["Cache-Control"]
    icon = Image.open(io.BytesIO(response.content))
    assert icon.format == "ICO"
    assert {(16, 16), (32, 32), (48, 48)} <= set(icon.info["sizes"])


def test_favicon_only_answers_get(client):
    assert client.post("/favicon.ico").status_code == 405


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/signup/"])
def test_pages_link_the_icons(client, path):
    html = client.get(path).content.decode()
    assert '<link rel="icon" href="/favicon.ico"' in html
    assert "icons/icon-192.png" in html
    assert "icons/apple-touch-icon.png" in html
