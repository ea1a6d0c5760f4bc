"""Writes of groups: create, edit, dissolve, join, leave, invite, roles, member settings.

Defaults and rules:
- A group is public unless created private. Anyone signed in may find, see and join a
  public group. A private group is invisible to non-members (`not_found`) and is joined
  only by accepting an invitation from one of its members.
- Any member may add a friend: to a public group the friend is added at once; to a
  private group the friend gets an invitation, and joins only by accepting it.
- Roles: the creator is the owner. Owner and admins edit the group (name, notice,
  avatar, public) and remove members below their own role (an admin removes members,
  the owner removes anyone). Only the owner appoints or demotes admins, transfers
  ownership (the old owner becomes a member) and dissolves the group.
- Leaving: a leaving owner needs no transfer first; ownership passes to the oldest admin,
  else the oldest member, never to the robot. The last person leaving dissolves the group,
  even if the robot is still in it.
- A member who leaves or is removed stops receiving at once and cannot send
  (`not_member`), but keeps the history up to that moment (chat's `left_seq`).
- Each member has an alias inside the group (群昵称) and a mute setting (which also mutes
  the group's conversation for them).
- Dissolving ends every membership and hides the group; its history stays for its members.

Events (happychat/events.py): conversation_created, group_joined, group_left, group_updated,
group_invitation, group_dissolved.
"""

from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import are_friends, blocked_either_way
from accounts.serializers import user_payload
from chat.models import ConversationMember
from chat.services.changes import system_message_post
from chat.services.conversations import (
    conversation_group_create,
    conversation_member_remove,
    conversation_members_add,
)
from groups.models import Group, GroupInvitation, GroupMember
from groups.selectors import access_group, group_member_ids, group_muted
from groups.serializers import group_brief, invitation_payload
from happychat import events
from happychat.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    NotFriends,
    NotMember,
    PermissionDenied,
)
from happychat.images import avatar_image
from happychat.media import delete_stored_on_commit, storage_writes
from happychat.validators import clean_text, require_id
from safety.services import text_filter

Role = GroupMember.Role
UNSET: Any = object()

NAME_MAX = 64
NOTICE_MAX = 2000
ALIAS_MAX = 64
MEMBERS_MAX = 500


# --- validation: one place per field (content filtering plugs in here) ----------------


def clean_group_name(name: object) -> str:
    """Validate a group name."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(_("A group needs a name."))
    name = clean_text(name, field="name").strip()
    if len(name) > NAME_MAX:
        raise InvalidInput(_("A group name is at most %(n)d characters.") % {"n": NAME_MAX})
    return text_filter(text=name, field="group_name")


def clean_group_notice(notice: object) -> str:
    """Validate a group notice (announcement)."""
    if not isinstance(notice, str):
        raise InvalidInput(_("The notice must be text."))
    notice = clean_text(notice, field="notice").strip()
    if len(notice) > NOTICE_MAX:
        raise InvalidInput(_("The notice is at most %(n)d characters.") % {"n": NOTICE_MAX})
    return text_filter(text=notice, field="group_notice") if notice else notice


def clean_group_alias(alias: object) -> str:
    """Validate a member's alias inside a group."""
    if not isinstance(alias, str):
        raise InvalidInput(_("The alias must be text."))
    alias = clean_text(alias, field="alias").strip()
    if len(alias) > ALIAS_MAX:
        raise InvalidInput(_("An alias is at most %(n)d characters.") % {"n": ALIAS_MAX})
    return text_filter(text=alias, field="group_alias") if alias else alias


# --- helpers --------------------------------------------------------------------------


def _locked(*, user: User, group_id: int) -> tuple[Group, GroupMember | None]:
    group, member = access_group(user=user, group_id=group_id)
    Group.objects.select_for_update().filter(pk=group.pk).first()
    return group, member


def _require_member(member: GroupMember | None) -> GroupMember:
    if member is None:
        raise NotMember(_("You are not a member of this group."))
    return member


def _require_role(member: GroupMember | None, *roles: str) -> GroupMember:
    member = _require_member(member)
    if member.role not in roles:
        raise PermissionDenied(_("Only the group's owner or admins may do that."))
    return member


def _brief(group: Group) -> dict[str, Any]:
    group.refresh_from_db(fields=["name", "notice", "avatar", "owner", "is_public"])
    return group_brief(group)


def _check_capacity(group: Group, adding: int) -> None:
    if GroupMember.objects.filter(group=group).count() + adding > MEMBERS_MAX:
        raise Conflict(_("A group has at most %(n)d members.") % {"n": MEMBERS_MAX})


def _add_member(*, group: Group, user: User, by: User | None) -> GroupMember:
    """Make `user` a member and tell the group (the newcomer's sockets subscribe)."""
    _check_capacity(group, 1)
    try:
        with transaction.atomic():
            member = GroupMember.objects.create(group=group, user=user, role=Role.MEMBER)
    except IntegrityError:
        raise Conflict(_("%(name)s is already a member.") % {"name": user.display_name}) from None
    conversation_members_add(conversation=group.conversation, user_ids=[user.pk])
    GroupInvitation.objects.filter(
        group=group, invitee=user, status=GroupInvitation.Status.PENDING
    ).update(status=GroupInvitation.Status.ACCEPTED, responded_at=timezone.now())
    data = {
        "group": _brief(group),
        "user": user_payload(user),
        "by": by.pk if by is not None else None,
    }
    system_message_post(
        conversation_id=group.conversation_id,
        actor=by or user,
        event="member_joined",
        body=(
            f"{by.display_name} invited {user.display_name} to the group"
            if by is not None and by.pk != user.pk
            else f"{user.display_name} joined the group"
        ),
        user=user.pk,
        by=by.pk if by is not None else None,
    )
    others = [uid for uid in group_member_ids(group=group) if uid != user.pk]
    events.user_event([user.pk], "group_joined", data, subscribe=group.conversation_id)
    events.user_event(others, "group_joined", data)
    return member


def _oldest_human(group: Group, role: str) -> GroupMember | None:
    """The longest-standing person with `role`; the robot is never a candidate for owner."""
    return (
        GroupMember.objects.filter(group=group, role=role, user__is_robot=False)
        .order_by("created_at", "id")
        .first()
    )


def _remove_member(*, group: Group, member: GroupMember, reason: str, by: User) -> None:
    """End a membership: the person stops receiving at once and keeps history so far."""
    was_owner = member.role == Role.OWNER
    member.delete()
    conversation_member_remove(conversation=group.conversation, user_id=member.user_id)
    remaining = group_member_ids(group=group)
    if not GroupMember.objects.filter(group=group, user__is_robot=False).exists():
        # No people left (at most the robot): nobody could own or use the group.
        _dissolve(group=group, member_ids=[member.user_id, *remaining], by=by)
        return
    new_owner = None
    if was_owner:
        # The rule: ownership passes to the oldest admin, else the oldest member.
        new_owner = _oldest_human(group, Role.ADMIN) or _oldest_human(group, Role.MEMBER)
        assert new_owner is not None  # noqa: S101 -- a person remains
        new_owner.role = Role.OWNER
        new_owner.save(update_fields=["role"])
        Group.objects.filter(pk=group.pk).update(owner=new_owner.user)
    gone = member.user
    system_message_post(
        conversation_id=group.conversation_id,
        actor=by,
        event="member_left" if reason == "left" else "member_removed",
        body=(
            f"{gone.display_name} left the group"
            if reason == "left"
            else f"{by.display_name} removed {gone.display_name} from the group"
        ),
        user=gone.pk,
        by=by.pk,
    )
    if new_owner is not None:
        system_message_post(
            conversation_id=group.conversation_id,
            actor=by,
            event="owner_transferred",
            body=f"{new_owner.user.display_name} is now the group owner",
            user=new_owner.user_id,
            by=None,
        )
    data = {"group": _brief(group), "user": member.user_id, "reason": reason, "by": by.pk}
    events.user_event([member.user_id], "group_left", data, unsubscribe=group.conversation_id)
    events.user_event(remaining, "group_left", data)
    if new_owner is not None:
        events.user_event(
            remaining,
            "group_updated",
            {
                "group": data["group"],
                "changed": ["owner"],
                "member": {"user": new_owner.user_id, "role": Role.OWNER},
            },
        )


def _dissolve(*, group: Group, member_ids: list[int], by: User) -> None:
    group.dissolved_at = timezone.now()
    group.save(update_fields=["dissolved_at"])
    for uid in member_ids:
        conversation_member_remove(conversation=group.conversation, user_id=uid)
    GroupMember.objects.filter(group=group).delete()
    GroupInvitation.objects.filter(group=group, status=GroupInvitation.Status.PENDING).update(
        status=GroupInvitation.Status.REJECTED, responded_at=timezone.now()
    )
    events.user_event(
        member_ids,
        "group_dissolved",
        {"group": group_brief(group, member_count=0), "by": by.pk},
        unsubscribe=group.conversation_id,
    )


# --- services -------------------------------------------------------------------------


@transaction.atomic
def group_create(
    *, owner: User, name: object, member_ids: list[int] | None = None, is_public: bool = True
) -> Group:
    """Create a group owned by `owner` with friends as its first members, and its chat."""
    clean_name = clean_group_name(name)
    ids = {require_id(uid, detail=_("No such person.")) for uid in member_ids or []} - {owner.pk}
    friends = {u.pk: u for u in User.objects.filter(pk__in=ids, is_active=True, is_robot=False)}
    for uid in ids:
        if uid not in friends or not are_friends(owner.pk, uid):
            raise NotFriends(_("You can only add your friends to a group."))
        if blocked_either_way(owner.pk, uid):
            raise PermissionDenied(_("You cannot add this person to a group."))
    if len(ids) + 1 > MEMBERS_MAX:
        raise Conflict(_("A group has at most %(n)d members.") % {"n": MEMBERS_MAX})
    conversation = conversation_group_create(user_ids=[owner.pk, *ids])
    group = Group.objects.create(
        name=clean_name, owner=owner, is_public=bool(is_public), conversation=conversation
    )
    GroupMember.objects.create(group=group, user=owner, role=Role.OWNER)
    GroupMember.objects.bulk_create(
        [GroupMember(group=group, user_id=uid, role=Role.MEMBER) for uid in sorted(ids)]
    )
    system_message_post(
        conversation_id=conversation.pk,
        actor=owner,
        event="group_created",
        body=f'{owner.display_name} created the group "{clean_name}"',
        name=clean_name,
        users=sorted(ids),
        by=owner.pk,
    )
    events.user_event(
        [owner.pk, *ids],
        "conversation_created",
        {
            "conversation": {
                "id": conversation.pk,
                "kind": conversation.kind,
                "peer": None,
                "group": group.pk,
            },
            "group": group_brief(group, member_count=len(ids) + 1),
        },
        subscribe=conversation.pk,
    )
    return group


@transaction.atomic
def group_update(
    *,
    user: User,
    group_id: int,
    name: object = UNSET,
    notice: object = UNSET,
    avatar: UploadedFile | None = UNSET,
    is_public: object = UNSET,
) -> Group:
    """Change the name, notice, avatar or visibility (owner or admin)."""
    group, member = _locked(user=user, group_id=group_id)
    _require_role(member, Role.OWNER, Role.ADMIN)
    changed: list[str] = []
    if name is not UNSET:
        group.name = clean_group_name(name)
        changed.append("name")
    if notice is not UNSET:
        group.notice = clean_group_notice(notice)
        changed.append("notice")
    if is_public is not UNSET:
        if not isinstance(is_public, bool):
            raise InvalidInput(_("is_public must be true or false."))
        group.is_public = is_public
        changed.append("is_public")
    if avatar is not UNSET:
        replaced = group.avatar.name or ""
        if avatar is None:
            group.avatar = ""
        else:
            image = avatar_image(file=avatar)
            with storage_writes():
                group.avatar.save(image.name or "avatar", image, save=False)
        # The replaced picture goes once the change is committed (kept on a rollback).
        delete_stored_on_commit(group.avatar.storage, [replaced])
        changed.append("avatar")
    if not changed:
        raise InvalidInput(_("Nothing to change."))
    group.save(update_fields=changed)
    if "name" in changed:
        system_message_post(
            conversation_id=group.conversation_id,
            actor=user,
            event="group_renamed",
            body=f'{user.display_name} renamed the group to "{group.name}"',
            name=group.name,
            by=user.pk,
        )
    if "notice" in changed:
        system_message_post(
            conversation_id=group.conversation_id,
            actor=user,
            event="notice_changed",
            body=f"{user.display_name} changed the group notice",
            notice=group.notice,
            by=user.pk,
        )
    events.user_event(
        group_member_ids(group=group),
        "group_updated",
        {"group": group_brief(group), "changed": changed, "by": user.pk},
    )
    return group


@transaction.atomic
def group_dissolve(*, user: User, group_id: int) -> None:
    """Dissolve the group (owner only): every membership ends, history stays readable."""
    group, member = _locked(user=user, group_id=group_id)
    if _require_member(member).role != Role.OWNER:
        raise PermissionDenied(_("Only the owner may dissolve the group."))
    _dissolve(group=group, member_ids=group_member_ids(group=group), by=user)


@transaction.atomic
def group_join(*, user: User, group_id: int) -> GroupMember:
    """Join a public group."""
    group, member = _locked(user=user, group_id=group_id)
    if member is not None:
        raise Conflict(_("You are already a member of this group."))
    if not group.is_public:  # unreachable for non-members: access_group hides it
        raise NotFound(_("No such group."))
    return _add_member(group=group, user=user, by=None)


@transaction.atomic
def group_leave(*, user: User, group_id: int) -> None:
    """Leave a group; a leaving owner hands over to the oldest admin, else oldest member."""
    group, member = _locked(user=user, group_id=group_id)
    _remove_member(group=group, member=_require_member(member), reason="left", by=user)


@transaction.atomic
def group_member_add(
    *, user: User, group_id: int, invitee_id: int
) -> GroupMember | GroupInvitation:
    """Add a friend to a public group at once, or invite them to a private one."""
    group, member = _locked(user=user, group_id=group_id)
    _require_member(member)
    invitee_id = require_id(invitee_id, detail=_("No such person."))
    try:
        invitee = User.objects.get(pk=invitee_id, is_active=True, is_robot=False)
    except (User.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such person.")) from None
    if invitee.pk == user.pk:
        raise Conflict(_("You are already a member of this group."))
    if not are_friends(user.pk, invitee.pk):
        raise NotFriends(_("You can only invite your friends."))
    if blocked_either_way(user.pk, invitee.pk):
        raise PermissionDenied(_("You cannot invite this person."))
    if GroupMember.objects.filter(group=group, user=invitee).exists():
        raise Conflict(_("%(name)s is already a member.") % {"name": invitee.display_name})
    if group.is_public:
        return _add_member(group=group, user=invitee, by=user)
    if GroupInvitation.objects.filter(
        group=group, invitee=invitee, status=GroupInvitation.Status.PENDING
    ).exists():
        raise Conflict(_("%(name)s has already been invited.") % {"name": invitee.display_name})
    invitation = GroupInvitation.objects.create(group=group, inviter=user, invitee=invitee)
    events.user_event(
        [invitee.pk], "group_invitation", {"invitation": invitation_payload(invitation)}
    )
    return invitation


def _pending_invitation(*, user: User, invitation_id: int) -> GroupInvitation:
    invitation_id = require_id(invitation_id, detail=_("No such invitation."))
    try:
        invitation = (
            GroupInvitation.objects.select_for_update()
            .select_related("group", "inviter", "invitee")
            .get(pk=invitation_id, invitee=user, group__dissolved_at__isnull=True)
        )
    except (GroupInvitation.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such invitation.")) from None
    if invitation.status != GroupInvitation.Status.PENDING:
        raise Conflict(_("This invitation has already been answered."))
    return invitation


@transaction.atomic
def group_invitation_accept(*, user: User, invitation_id: int) -> GroupMember:
    """Accept an invitation: join the group."""
    invitation = _pending_invitation(user=user, invitation_id=invitation_id)
    group = invitation.group
    Group.objects.select_for_update().filter(pk=group.pk).first()
    return _add_member(group=group, user=user, by=invitation.inviter)


@transaction.atomic
def group_invitation_reject(*, user: User, invitation_id: int) -> GroupInvitation:
    """Decline an invitation."""
    invitation = _pending_invitation(user=user, invitation_id=invitation_id)
    invitation.status = GroupInvitation.Status.REJECTED
    invitation.responded_at = timezone.now()
    invitation.save(update_fields=["status", "responded_at"])
    events.user_event([user.pk], "group_invitation", {"invitation": invitation_payload(invitation)})
    return invitation


def _target(group: Group, member_user_id: int) -> GroupMember:
    member_user_id = require_id(
        member_user_id, detail=_("That person is not a member of this group.")
    )
    try:
        return GroupMember.objects.select_related("user").get(group=group, user_id=member_user_id)
    except (GroupMember.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("That person is not a member of this group.")) from None


@transaction.atomic
def group_member_remove(*, user: User, group_id: int, member_user_id: int) -> None:
    """Remove a member (owner removes anyone, an admin removes plain members)."""
    group, member = _locked(user=user, group_id=group_id)
    actor = _require_role(member, Role.OWNER, Role.ADMIN)
    target = _target(group, member_user_id)
    if target.user_id == user.pk:
        raise InvalidInput(_("To leave the group, use leave."))
    rank = {Role.OWNER: 0, Role.ADMIN: 1, Role.MEMBER: 2}
    if rank[Role(target.role)] <= rank[Role(actor.role)]:
        raise PermissionDenied(_("You may only remove members below your own role."))
    _remove_member(group=group, member=target, reason="removed", by=user)


@transaction.atomic
def group_member_role_set(
    *, user: User, group_id: int, member_user_id: int, role: object
) -> GroupMember:
    """Appoint or demote an admin (owner only)."""
    group, member = _locked(user=user, group_id=group_id)
    if _require_member(member).role != Role.OWNER:
        raise PermissionDenied(_("Only the owner may appoint admins."))
    if role not in (Role.ADMIN, Role.MEMBER):
        raise InvalidInput(_("The role must be admin or member; to hand over, transfer."))
    target = _target(group, member_user_id)
    if target.role == Role.OWNER:
        raise InvalidInput(_("The owner's role changes only by transfer."))
    if target.role == role:
        return target
    target.role = str(role)
    target.save(update_fields=["role"])
    events.user_event(
        group_member_ids(group=group),
        "group_updated",
        {
            "group": _brief(group),
            "changed": ["roles"],
            "member": {"user": target.user_id, "role": target.role},
            "by": user.pk,
        },
    )
    return target


@transaction.atomic
def group_owner_transfer(*, user: User, group_id: int, new_owner_id: int) -> Group:
    """Hand the group to another member (owner only); the old owner becomes a member."""
    group, member = _locked(user=user, group_id=group_id)
    old = _require_member(member)
    if old.role != Role.OWNER:
        raise PermissionDenied(_("Only the owner may transfer the group."))
    target = _target(group, new_owner_id)
    if target.pk == old.pk:
        raise InvalidInput(_("You already own this group."))
    if target.user.is_robot:
        raise InvalidInput(_("The robot cannot own a group."))
    # Demote first: the database allows one owner per group at any moment.
    old.role = Role.MEMBER
    old.save(update_fields=["role"])
    target.role = Role.OWNER
    target.save(update_fields=["role"])
    group.owner = target.user
    group.save(update_fields=["owner"])
    system_message_post(
        conversation_id=group.conversation_id,
        actor=user,
        event="owner_transferred",
        body=f"{user.display_name} made {target.user.display_name} the group owner",
        user=target.user_id,
        by=user.pk,
    )
    events.user_event(
        group_member_ids(group=group),
        "group_updated",
        {
            "group": group_brief(group),
            "changed": ["owner"],
            "member": {"user": target.user_id, "role": Role.OWNER},
            "by": user.pk,
        },
    )
    return group


@transaction.atomic
def group_member_settings_set(
    *, user: User, group_id: int, alias: object = UNSET, muted: object = UNSET
) -> tuple[GroupMember, bool]:
    """Set the user's own alias in the group and whether the group is muted for them."""
    group, member = _locked(user=user, group_id=group_id)
    mine = _require_member(member)
    if alias is UNSET and muted is UNSET:
        raise InvalidInput(_("Nothing to change."))
    if muted is not UNSET and not isinstance(muted, bool):
        raise InvalidInput(_("muted must be true or false."))
    if alias is not UNSET:
        mine.alias = clean_group_alias(alias)
        mine.save(update_fields=["alias"])
        events.user_event(
            group_member_ids(group=group),
            "group_updated",
            {
                "group": _brief(group),
                "changed": ["alias"],
                "member": {"user": user.pk, "alias": mine.alias},
                "by": user.pk,
            },
        )
    if muted is not UNSET:
        ConversationMember.objects.filter(conversation_id=group.conversation_id, user=user).update(
            muted=muted
        )
        # Muting is private: only the member's own devices hear of it.
        events.user_event(
            [user.pk],
            "group_updated",
            {"group": _brief(group), "changed": ["muted"], "muted": muted, "by": user.pk},
        )
    return mine, group_muted(group=group, user=user)
