"""The installable web app's fixed addresses: favicon, manifest, service worker, offline page.

Browsers look for these at the site root, not under /static/: `/favicon.ico` by habit,
and a service worker only controls the pages under its own path, so it must be `/sw.js`.
"""

import hashlib
import json
from functools import cache
from pathlib import Path

from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

ICON_CACHE_SECONDS = 7 * 24 * 3600
THEME_COLOR = "#1f8f5f"
OFFLINE_URL = "/offline/"
# What the offline page needs, fetched when the service worker installs. Everything else
# under /static/ is cached the first time a page uses it (stale-while-revalidate).
OFFLINE_ASSETS = [
    "css/base.css",
    "css/offline.css",
    "js/theme.js",
    "js/offline.js",
    "js/offline-store.js",
    "icons/icon-192.png",
    "icons/badge-96.png",
]
SERVICE_WORKER_SOURCE = "js/sw.js"


@cache
def static_bytes(name: str) -> bytes:
    """A static file's content, found like `collectstatic` would (read once per process)."""
    found = finders.find(name)
    path = Path(found if isinstance(found, str) else staticfiles_storage.path(name))
    return path.read_bytes()


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """The site icon at the address every browser asks for first."""
    response = HttpResponse(static_bytes("icons/favicon.ico"), content_type="image/x-icon")
    response["Cache-Control"] = f"public, max-age={ICON_CACHE_SECONDS}"
    return response


@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    """The web app manifest: name, icons, colours, and that it opens standalone at /."""
    icons = [
        {"src": static(f"icons/icon-{size}.png"), "sizes": f"{size}x{size}", "type": "image/png"}
        for size in (192, 512)
    ] + [
        {
            "src": static(f"icons/maskable-{size}.png"),
            "sizes": f"{size}x{size}",
            "type": "image/png",
            "purpose": "maskable",
        }
        for size in (192, 512)
    ]
    data = {
        "id": "/",
        "name": "HappyChat",
        "short_name": "HappyChat",
        "description": _("Chat with friends and groups, on every device."),
        "lang": request.LANGUAGE_CODE,
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "orientation": "any",
        "background_color": "#ffffff",
        "theme_color": THEME_COLOR,
        "categories": ["social", "communication"],
        "icons": icons,
    }
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    response["Cache-Control"] = "no-cache"
    return response


@cache
def service_worker_source() -> str:
    """sw.js with its configuration in front; the version changes whenever an asset does."""
    shell = [OFFLINE_URL, *(static(name) for name in OFFLINE_ASSETS)]
    digest = hashlib.sha256(static_bytes(SERVICE_WORKER_SOURCE))
    for name in OFFLINE_ASSETS:
        digest.update(static_bytes(name))
    config = {
        "version": digest.hexdigest()[:12],
        "shell": shell,
        "offline": OFFLINE_URL,
        "staticPrefix": static(""),
        "icon": static("icons/icon-192.png"),
        "badge": static("icons/badge-96.png"),
    }
    source = static_bytes(SERVICE_WORKER_SOURCE).decode()
    return f"const CONFIG = {json.dumps(config)};\n{source}"


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker, from the site root so that it controls every page."""
    response = HttpResponse(service_worker_source(), content_type="text/javascript")
    # Browsers check for a new worker on every visit; never let a cache answer for it.
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def offline(request: HttpRequest) -> HttpResponse:
    """The page the service worker shows when a page cannot load: what this device kept."""
    response = render(request, "pwa/offline.html")
    # Holds no user data (that stays in the browser's storage): any cache may keep it.
    response["Cache-Control"] = "no-cache"
    return response
