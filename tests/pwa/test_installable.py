"""The manifest, the service worker and the offline page, as the server serves them."""

import io
import json

import pytest
from django.contrib.staticfiles import finders
from PIL import Image

pytestmark = pytest.mark.django_db


def test_manifest_makes_the_app_installable(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["name"] == "HappyChat"
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == (
        "/",
        "/",
        "standalone",
    )
    assert manifest["theme_color"] == "#1f8f5f"
    sizes = {(icon["sizes"], icon.get("purpose", "any")) for icon in manifest["icons"]}
    assert {
        ("192x192", "any"),
        ("512x512", "any"),
        ("192x192", "maskable"),
        ("512x512", "maskable"),
    } <= sizes
    for icon in manifest["icons"]:
        response = client.get(icon["src"])
        assert response.status_code == 200
        image = Image.open(io.BytesIO(b"".join(response.streaming_content)))
        assert f"{image.width}x{image.height}" == icon["sizes"]


def test_manifest_speaks_the_visitors_language(client):
    manifest = json.loads(
        client.get("/manifest.webmanifest", headers={"accept-language": "zh-hans"}).content
    )
    assert manifest["lang"] == "zh-hans"
    assert manifest["description"] == "在每台设备上与好友和群聊天。"


def test_icons_are_the_sizes_they_claim():
    for name, size in [
        ("icon-192", 192),
        ("icon-512", 512),
        ("maskable-192", 192),
        ("maskable-512", 512),
    ]:
        image = Image.open(finders.find(f"icons/{name}.png"))
        assert image.size == (size, size)
    # A maskable icon fills its square: launchers cut their own shape out of it.
    assert (
        Image.open(finders.find("icons/maskable-512.png")).convert("RGBA").getpixel((2, 2))[3]
        == 255
    )


def test_pages_link_the_manifest_and_register_the_worker(client, user):
    client.force_login(user)
    html = client.get("/").content.decode()
    assert '<link rel="manifest" href="/manifest.webmanifest">' in html
    assert "js/pwa.js" in html
    assert f'data-user-id="{user.pk}"' in html


def test_service_worker_is_served_from_the_root_with_its_version(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Cache-Control"] == "no-cache"
    source = response.content.decode()
    first_line, rest = source.split("\n", 1)
    assert first_line.startswith("const CONFIG = ")
    config = json.loads(first_line.removeprefix("const CONFIG = ").rstrip(";"))
    assert len(config["version"]) == 12
    assert config["offline"] == "/offline/"
    assert "/offline/" in config["shell"]
    assert "/static/css/offline.css" in config["shell"]
    for url in config["shell"]:
        assert client.get(url).status_code == 200, url
    assert 'addEventListener("push"' in rest
    assert 'addEventListener("notificationclick"' in rest


def test_offline_page_holds_no_user_data_and_no_inline_script(client, user):
    client.force_login(user)
    response = client.get("/offline/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "You are offline" in html
    assert user.username not in html
    assert "csrfmiddlewaretoken" not in html
    assert "<script>" not in html.replace(" ", "")
    assert all("src=" in tag for tag in html.split("<script")[1:])
