"""Server-rendered pages of the chat app: the app shell that hosts the JS client."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language_info
from django.views.decorators.http import require_GET

from accounts.serializers import user_payload


@require_GET
@login_required
def app_shell(request: HttpRequest, **route: object) -> HttpResponse:
    """Render the app shell for any of its routes; the JS router draws the screen, and
    everything live comes over the socket and REST."""
    languages = [
        {"code": code, "name": get_language_info(code)["name_local"]}
        for code, _name in settings.LANGUAGES
    ]
    return render(
        request,
        "chat/app.html",
        {"me": user_payload(request.user), "languages_data": languages},  # type: ignore[arg-type]
    )
