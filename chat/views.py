"""Server-rendered pages of the chat app: the app shell that hosts the JS client."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.serializers import user_payload


@require_GET
@login_required
def app_shell(request: HttpRequest) -> HttpResponse:
    """Render the two-pane chat shell; everything live comes over the socket and REST."""
    return render(request, "chat/app.html", {"me": user_payload(request.user)})  # type: ignore[arg-type]
