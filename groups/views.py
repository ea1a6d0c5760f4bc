"""The /groups/ pages: my groups, search, create, invitations; a group's detail and actions.

Each POST parses its form, calls one service and redirects back with a message in words.
"""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.models import User
from accounts.selectors import friend_remarks, friendship_list
from groups import selectors, services
from groups.models import Group, GroupInvitation, GroupMember
from happychat.errors import DomainError, InvalidInput, NotFound

StrOrPromise = str | Promise


def _int(value: str | None) -> int:
    try:
        return int(value or "")
    except ValueError:
        raise InvalidInput(_("Choose a person first.")) from None


def group_action(
    success: StrOrPromise | Callable[[object], str], *, to_list: bool = False
) -> Callable:
    """Run a page action: show `success` or the domain error's words, then go back."""

    def wrap(view: Callable[..., object]) -> Callable[..., HttpResponse]:
        @login_required
        @require_POST
        def run(request: HttpRequest, **kwargs: int) -> HttpResponse:
            group_id = kwargs.get("group_id")
            try:
                result = view(request, **kwargs)
            except DomainError as exc:
                messages.error(request, exc.detail)
                if isinstance(exc, NotFound) or group_id is None:
                    return redirect("groups")
                return redirect("group", group_id=group_id)
            messages.success(request, str(success(result) if callable(success) else success))
            if isinstance(result, Group) and not to_list:
                return redirect("group", group_id=result.pk)
            if to_list or group_id is None:
                return redirect("groups")
            return redirect("group", group_id=group_id)

        run.__name__ = view.__name__
        return run

    return wrap


@login_required
def groups_page(request: HttpRequest) -> HttpResponse:
    """Show my groups, public groups matching the search, invitations and the create form."""
    user: User = request.user  # type: ignore[assignment]
    query = request.GET.get("q", "").strip()
    found = selectors.group_list(user=user, query=query)
    context = {
        "query": query,
        "mine": [(g, GroupMember.Role(role).label) for g, role in found if role],
        "others": [(g, role) for g, role in found if not role],
        "invitations": selectors.group_invitation_list(user=user),
        "friendships": friendship_list(user=user),
    }
    return render(request, "groups/list.html", context)


@login_required
def group_page(request: HttpRequest, group_id: int) -> HttpResponse:
    """Show one group: notice, members with roles, and what the viewer may do."""
    user: User = request.user  # type: ignore[assignment]
    try:
        group, member = selectors.access_group(user=user, group_id=group_id)
    except NotFound:
        raise Http404(_("No such group.")) from None
    members = selectors.group_members_sorted(group=group)
    in_group = {m.user_id for m in members}
    role = member.role if member else None
    remarks = friend_remarks(user.pk)
    context = {
        "group": group,
        "me": member,
        "role": role,
        "can_manage": role in (GroupMember.Role.OWNER, GroupMember.Role.ADMIN),
        "is_owner": role == GroupMember.Role.OWNER,
        # Shown name: the member's alias here, else the viewer's remark, else their nickname.
        "members": [(m, m.alias or remarks.get(m.user_id) or m.user.display_name) for m in members],
        "invitable": [f for f in friendship_list(user=user) if f.friend_id not in in_group],
        "muted": selectors.group_muted(group=group, user=user) if member else False,
        "robot_here": any(m.user.is_robot for m in members),
    }
    return render(request, "groups/detail.html", context)


@group_action(gettext_lazy("Group created."))
def create(request: HttpRequest) -> Group:
    members = [_int(v) for v in request.POST.getlist("members")]
    return services.group_create(
        owner=request.user,  # type: ignore[arg-type]
        name=request.POST.get("name", ""),
        member_ids=members,
        is_public=request.POST.get("is_public") == "on",
    )


@group_action(gettext_lazy("You joined the group."))
def join(request: HttpRequest, group_id: int) -> None:
    services.group_join(user=request.user, group_id=group_id)  # type: ignore[arg-type]


@group_action(gettext_lazy("You left the group."), to_list=True)
def leave(request: HttpRequest, group_id: int) -> None:
    services.group_leave(user=request.user, group_id=group_id)  # type: ignore[arg-type]


@group_action(gettext_lazy("Group saved."))
def update(request: HttpRequest, group_id: int) -> Group:
    changes: dict[str, object] = {
        "name": request.POST.get("name", ""),
        "notice": request.POST.get("notice", ""),
        "is_public": request.POST.get("is_public") == "on",
    }
    if request.FILES.get("avatar"):
        changes["avatar"] = request.FILES["avatar"]
    return services.group_update(user=request.user, group_id=group_id, **changes)  # type: ignore[arg-type]


@group_action(gettext_lazy("The group was dissolved."), to_list=True)
def dissolve(request: HttpRequest, group_id: int) -> None:
    services.group_dissolve(user=request.user, group_id=group_id)  # type: ignore[arg-type]


def _invited(result: object) -> str:
    if isinstance(result, GroupInvitation):
        return _("Invitation sent: they join when they accept it.")
    return _("Added to the group.")


@group_action(_invited)
def invite(request: HttpRequest, group_id: int) -> object:
    return services.group_member_add(
        user=request.user,  # type: ignore[arg-type]
        group_id=group_id,
        invitee_id=_int(request.POST.get("user")),
    )


@group_action(gettext_lazy("Member removed."))
def remove(request: HttpRequest, group_id: int, user_id: int) -> None:
    services.group_member_remove(user=request.user, group_id=group_id, member_user_id=user_id)  # type: ignore[arg-type]


@group_action(gettext_lazy("Role changed."))
def role(request: HttpRequest, group_id: int, user_id: int) -> None:
    services.group_member_role_set(
        user=request.user,  # type: ignore[arg-type]
        group_id=group_id,
        member_user_id=user_id,
        role=request.POST.get("role", ""),
    )


@group_action(gettext_lazy("Ownership transferred."))
def transfer(request: HttpRequest, group_id: int) -> None:
    services.group_owner_transfer(
        user=request.user,  # type: ignore[arg-type]
        group_id=group_id,
        new_owner_id=_int(request.POST.get("user")),
    )


@group_action(gettext_lazy("Your settings for this group were saved."))
def my_settings(request: HttpRequest, group_id: int) -> None:
    services.group_member_settings_set(
        user=request.user,  # type: ignore[arg-type]
        group_id=group_id,
        alias=request.POST.get("alias", ""),
        muted=request.POST.get("muted") == "on",
    )


@group_action(gettext_lazy("You joined the group."))
def invitation_accept(request: HttpRequest, invitation_id: int) -> Group:
    member = services.group_invitation_accept(user=request.user, invitation_id=invitation_id)  # type: ignore[arg-type]
    return member.group


@group_action(gettext_lazy("Invitation declined."))
def invitation_reject(request: HttpRequest, invitation_id: int) -> None:
    services.group_invitation_reject(user=request.user, invitation_id=invitation_id)  # type: ignore[arg-type]
