"""The installable web app's fixed addresses: the favicon, the manifest, the service worker.

Browsers look for these at the site root, not under /static/: `/favicon.ico` by habit,
and a service worker only controls the pages under its own path, so it must be `/sw.js`.
"""

from functools import cache
from pathlib import Path

from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

ICON_CACHE_SECONDS = 7 * 24 * 3600


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
