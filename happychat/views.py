"""Project-level views: public media (avatars), and errors in the API's shape under /api/."""

from django.core.exceptions import RequestDataTooBig
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.http import require_safe

from happychat.media import StorageUnavailable, stored_file_response

# Folders whose files anyone may fetch: avatars of users and groups. Everything else in
# the storage (chat uploads, documents) is private and served only by access-checked views.
PUBLIC_MEDIA_FOLDERS = ("avatars/", "group-avatars/")


@require_safe
def public_media(request: HttpRequest, path: str) -> HttpResponseBase:
    """Serve a public stored file (an avatar) by its name under MEDIA_URL."""
    if not path.startswith(PUBLIC_MEDIA_FOLDERS) or ".." in path.split("/"):
        raise Http404
    try:
        return stored_file_response(request, storage=default_storage, name=path, private=False)
    except FileNotFoundError:
        raise Http404 from None
    except StorageUnavailable:
        return HttpResponse(status=503, headers={"Retry-After": "5"})


# --- errors outside DRF's views (unknown paths, bodies too large, crashes) --------------


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _api_error(code: str, detail: str, status: int) -> JsonResponse:
    return JsonResponse({"code": code, "detail": detail}, status=status)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponseBase:
    """400 (e.g. a body past DATA_UPLOAD_MAX_MEMORY_SIZE): JSON under /api/, a page elsewhere."""
    if _is_api(request):
        if isinstance(exception, RequestDataTooBig):
            return _api_error("too_large", _("The request body is too large."), 413)
        return _api_error("invalid", _("Bad request."), 400)
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponseBase:
    """403: JSON under /api/, a page elsewhere."""
    if _is_api(request):
        return _api_error("permission_denied", _("You may not do that."), 403)
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponseBase:
    """404: JSON under /api/ (no such endpoint, or an id out of range), a page elsewhere."""
    if _is_api(request):
        return _api_error("not_found", _("Not found."), 404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponseBase:
    """500: JSON under /api/, a page elsewhere."""
    if _is_api(request):
        return _api_error("server_error", _("Something went wrong on the server."), 500)
    return defaults.server_error(request)
