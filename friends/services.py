"""Writes of the friend graph: requests, friendships with remarks, blocks.

Rules:
- A request goes to an active person other than yourself, not a robot, who has not
  blocked you and whom you have not blocked; a second pending request to the same person
  is refused (`conflict`), and a request to someone who already asked you accepts theirs.
- Accepting makes both friends (one Friendship row per side, each with its own remark) and
  opens their one direct conversation, reused with its history if they befriend again.
- Deleting a friend removes both rows; the direct conversation stays readable, but the
  chat pipeline refuses sending in it (`not_friends`, via `accounts.selectors.are_friends`).
- Blocking refuses that person's requests and messages (`accounts.selectors.is_blocked`)
  and rejects any pending request between the two; it does not end a friendship.

Events (happychat/events.py): friend_request, friend_added, friend_updated, friend_removed,
conversation_created, user_blocked, user_unblocked.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Block, FriendRequest, Friendship, User
from accounts.selectors import are_friends, blocked_either_way, is_blocked
from accounts.serializers import user_payload
from chat import events as chat_events
from chat.services.changes import system_message_post
from chat.services.conversations import conversation_direct_get_or_create
from friends.hooks import announce_friend_request_sent
from friends.serializers import friend_request_payload
from happychat import events
from happychat.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from happychat.validators import clean_text, require_id
from safety.services import text_filter

REMARK_MAX = 64
REQUEST_MESSAGE_MAX = 200


def clean_remark(remark: object) -> str:
    """The one place a remark is validated (and, later, content-filtered)."""
    if not isinstance(remark, str):
        raise InvalidInput(_("A remark must be text."))
    remark = clean_text(remark, field="remark").strip()
    if len(remark) > REMARK_MAX:
        raise InvalidInput(_("A remark is at most %(n)d characters.") % {"n": REMARK_MAX})
    return text_filter(text=remark, field="remark") if remark else remark


def clean_request_message(message: object) -> str:
    """The one place a friend request's message is validated and content-filtered."""
    if message is None:
        return ""
    if not isinstance(message, str):
        raise InvalidInput(_("The message must be text."))
    message = clean_text(message, field="message").strip()
    if len(message) > REQUEST_MESSAGE_MAX:
        raise InvalidInput(
            _("The message is at most %(n)d characters.") % {"n": REQUEST_MESSAGE_MAX}
        )
    return text_filter(text=message, field="friend_request") if message else message


def _person(user_id: int) -> User:
    user_id = require_id(user_id, detail=_("No such person."))
    try:
        return User.objects.get(pk=user_id, is_active=True, is_robot=False)
    except (User.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such person.")) from None


def _publish_request(request: FriendRequest) -> None:
    events.user_event(
        [request.from_user_id, request.to_user_id],
        "friend_request",
        {"request": friend_request_payload(request)},
    )


@transaction.atomic
def friend_request_send(*, from_user: User, to_user_id: int, message: object = "") -> FriendRequest:
    """Ask `to_user_id` to be friends; if they already asked, accept their request instead."""
    text = clean_request_message(message)
    to_user = _person(to_user_id)
    if to_user.pk == from_user.pk:
        raise InvalidInput(_("You cannot send a friend request to yourself."))
    if is_blocked(from_user.pk, to_user.pk):
        raise PermissionDenied(_("You have blocked this person; unblock them first."))
    if is_blocked(to_user.pk, from_user.pk):
        raise PermissionDenied(_("You cannot send a friend request to this person."))
    if are_friends(from_user.pk, to_user.pk):
        raise Conflict(_("You are already friends."))
    theirs = (
        FriendRequest.objects.select_for_update()
        .filter(from_user=to_user, to_user=from_user, status=FriendRequest.Status.PENDING)
        .first()
    )
    if theirs is not None:
        return _accept(theirs)
    if FriendRequest.objects.filter(
        from_user=from_user, to_user=to_user, status=FriendRequest.Status.PENDING
    ).exists():
        raise Conflict(_("You have already sent this person a request; wait for the answer."))
    try:
        with transaction.atomic():
            request = FriendRequest.objects.create(
                from_user=from_user, to_user=to_user, message=text
            )
    except IntegrityError:
        raise Conflict(_("You have already sent this person a request.")) from None
    _publish_request(request)
    announce_friend_request_sent(request.pk)
    return request


def _pending_for(*, user: User, request_id: int) -> FriendRequest:
    request_id = require_id(request_id, detail=_("No such friend request."))
    try:
        request = (
            FriendRequest.objects.select_for_update()
            .select_related("from_user", "to_user")
            .get(pk=request_id, to_user=user)
        )
    except (FriendRequest.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such friend request.")) from None
    if request.status != FriendRequest.Status.PENDING:
        raise Conflict(_("This request has already been answered."))
    return request


def _accept(request: FriendRequest) -> FriendRequest:
    a, b = request.from_user, request.to_user
    if blocked_either_way(a.pk, b.pk):
        raise PermissionDenied(_("You cannot become friends with this person."))
    request.status = FriendRequest.Status.ACCEPTED
    request.responded_at = timezone.now()
    request.save(update_fields=["status", "responded_at"])
    Friendship.objects.get_or_create(user=a, friend=b)
    Friendship.objects.get_or_create(user=b, friend=a)
    conversation, created = conversation_direct_get_or_create(user_a=a, user_b=b)
    system_message_post(
        conversation_id=conversation.pk,
        actor=b,
        event="friend_added",
        body="You are now friends. Say hello!",
        users=[a.pk, b.pk],
    )
    _publish_request(request)
    for me, other in ((a, b), (b, a)):
        if created:
            events.user_event(
                [me.pk],
                "conversation_created",
                {
                    "conversation": {
                        "id": conversation.pk,
                        "kind": conversation.kind,
                        "peer": user_payload(other),
                        "group": None,
                    }
                },
                subscribe=conversation.pk,
            )
        events.user_event(
            [me.pk],
            "friend_added",
            {"user": user_payload(other), "conversation": conversation.pk},
            subscribe=conversation.pk,
        )
    return request


@transaction.atomic
def friend_request_accept(*, user: User, request_id: int) -> FriendRequest:
    """Accept a pending request sent to `user`: both become friends, the direct chat opens."""
    return _accept(_pending_for(user=user, request_id=request_id))


@transaction.atomic
def friend_request_reject(*, user: User, request_id: int) -> FriendRequest:
    """Reject a pending request sent to `user`."""
    request = _pending_for(user=user, request_id=request_id)
    request.status = FriendRequest.Status.REJECTED
    request.responded_at = timezone.now()
    request.save(update_fields=["status", "responded_at"])
    _publish_request(request)
    return request


def _friendship(*, user: User, friend_id: int) -> Friendship:
    friend_id = require_id(friend_id, detail=_("This person is not your friend."))
    try:
        return (
            Friendship.objects.select_for_update()
            .select_related("friend")
            .get(user=user, friend_id=friend_id)
        )
    except (Friendship.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("This person is not your friend.")) from None


@transaction.atomic
def friend_remark_set(*, user: User, friend_id: int, remark: object) -> Friendship:
    """Set (or clear, with "") the user's private name for a friend."""
    text = clean_remark(remark)
    friendship = _friendship(user=user, friend_id=friend_id)
    friendship.remark = text
    friendship.save(update_fields=["remark"])
    events.user_event(
        [user.pk],
        "friend_updated",
        {"user": user_payload(friendship.friend, remark=friendship.remark or None)},
    )
    return friendship


@transaction.atomic
def friend_delete(*, user: User, friend_id: int) -> None:
    """End a friendship on both sides; the direct conversation's history stays."""
    friendship = _friendship(user=user, friend_id=friend_id)
    other = friendship.friend
    Friendship.objects.filter(user__in=[user, other], friend__in=[user, other]).delete()
    for me, them in ((user, other), (other, user)):
        events.user_event([me.pk], "friend_removed", {"user": them.pk})


@transaction.atomic
def user_block(*, user: User, blocked_id: int) -> tuple[Block, bool]:
    """Block a person (idempotent): their requests and messages are refused from now on."""
    target = _person(blocked_id)
    if target.pk == user.pk:
        raise InvalidInput(_("You cannot block yourself."))
    block, created = Block.objects.get_or_create(user=user, blocked=target)
    if created:
        FriendRequest.objects.filter(
            from_user__in=[user, target],
            to_user__in=[user, target],
            status=FriendRequest.Status.PENDING,
        ).update(status=FriendRequest.Status.REJECTED, responded_at=timezone.now())
        # Only the blocker's own devices hear of it: the blocked person is never told.
        events.user_event([user.pk], "user_blocked", {"user": user_payload(target)})
        chat_events.visibility_changed(user_a=user.pk, user_b=target.pk, hidden=True)
    return block, created


@transaction.atomic
def user_unblock(*, user: User, blocked_id: int) -> None:
    """Lift a block."""
    blocked_id = require_id(blocked_id, detail=_("You have not blocked this person."))
    deleted, _rows = Block.objects.filter(user=user, blocked_id=blocked_id).delete()
    if not deleted:
        raise NotFound(_("You have not blocked this person."))
    events.user_event([user.pk], "user_unblocked", {"user": blocked_id})
    chat_events.visibility_changed(
        user_a=user.pk, user_b=blocked_id, hidden=blocked_either_way(user.pk, blocked_id)
    )
