"""The /friends/ page: find people, answer requests, manage friends, remarks and blocks.

Each POST parses its form, calls one service and redirects back with a message in words.
"""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import selectors as graph
from accounts.models import FriendRequest, User
from friends import selectors, services
from happychat.errors import DomainError, InvalidInput


def _back(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next") or "/friends/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/friends/"
    return redirect(target)


def _int(value: str | None) -> int:
    try:
        return int(value or "")
    except ValueError:
        raise InvalidInput(_("Choose a person first.")) from None


def _action(success: Callable[[HttpRequest, object], str]) -> Callable:
    """Run a page action: show `success` or the domain error's words, then go back."""

    def wrap(view: Callable[..., object]) -> Callable[..., HttpResponse]:
        @login_required
        @require_POST
        def run(request: HttpRequest, **kwargs: int) -> HttpResponse:
            try:
                result = view(request, **kwargs)
            except DomainError as exc:
                messages.error(request, exc.detail)
            else:
                messages.success(request, success(request, result))
            return _back(request)

        run.__name__ = view.__name__
        return run

    return wrap


@login_required
def friends_page(request: HttpRequest) -> HttpResponse:
    """Show search results, requests, friends and blocks."""
    user: User = request.user  # type: ignore[assignment]
    query = request.GET.get("q", "").strip()
    friend_ids = graph.friend_ids(user.pk)
    requests = list(selectors.friend_request_list(user=user))
    pending = FriendRequest.Status.PENDING
    context = {
        "query": query,
        "results": selectors.user_search(viewer=user, query=query) if query else [],
        "friend_ids": friend_ids,
        "incoming": [r for r in requests if r.to_user_id == user.pk and r.status == pending],
        "outgoing": [r for r in requests if r.from_user_id == user.pk and r.status == pending],
        "friendships": graph.friendship_list(user=user),
        "blocks": selectors.block_list(user=user),
    }
    return render(request, "accounts/friends.html", context)


@_action(
    lambda r, fr: (
        _("Friend request sent.")
        if fr.status == "pending"  # type: ignore[attr-defined]
        else _("You are now friends.")
    )
)
def request_send(request: HttpRequest) -> FriendRequest:
    return services.friend_request_send(
        from_user=request.user,  # type: ignore[arg-type]
        to_user_id=_int(request.POST.get("to")),
        message=request.POST.get("message", ""),
    )


@_action(lambda r, _res: _("You are now friends."))
def request_accept(request: HttpRequest, request_id: int) -> FriendRequest:
    return services.friend_request_accept(user=request.user, request_id=request_id)  # type: ignore[arg-type]


@_action(lambda r, _res: _("Request rejected."))
def request_reject(request: HttpRequest, request_id: int) -> FriendRequest:
    return services.friend_request_reject(user=request.user, request_id=request_id)  # type: ignore[arg-type]


@_action(lambda r, _res: _("Remark saved."))
def remark_set(request: HttpRequest, user_id: int) -> object:
    return services.friend_remark_set(
        user=request.user,  # type: ignore[arg-type]
        friend_id=user_id,
        remark=request.POST.get("remark", ""),
    )


@_action(lambda r, _res: _("Friend deleted."))
def friend_delete(request: HttpRequest, user_id: int) -> None:
    services.friend_delete(user=request.user, friend_id=user_id)  # type: ignore[arg-type]


@_action(lambda r, _res: _("Blocked. They can no longer send you requests or messages."))
def block(request: HttpRequest) -> object:
    return services.user_block(user=request.user, blocked_id=_int(request.POST.get("user")))  # type: ignore[arg-type]


@_action(lambda r, _res: _("Unblocked."))
def unblock(request: HttpRequest, user_id: int) -> None:
    services.user_unblock(user=request.user, blocked_id=user_id)  # type: ignore[arg-type]
