"""Chat reads: access checks, history pages (keyset on seq), sync batches, the inbox."""

from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Q

from accounts.models import User
from accounts.selectors import blocked_either_way_ids, friend_remarks
from accounts.serializers import user_payload
from chat import hooks
from chat.models import Conversation, ConversationMember, Message
from chat.serializers import message_payload
from happychat.errors import NotFound
from happychat.validators import require_id


def access_conversation(*, user: User, conversation_id: int) -> ConversationMember:
    """The user's membership (active or past) in the conversation, or NotFound."""
    conversation_id = require_id(conversation_id, detail="No such conversation.")
    try:
        return ConversationMember.objects.select_related("conversation").get(
            conversation_id=conversation_id, user=user
        )
    except (ConversationMember.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such conversation.") from None


def visible_last_seq(member: ConversationMember) -> int:
    """The newest seq the member may see: all of it, or up to where they left."""
    last_seq = member.conversation.last_seq
    if not member.is_active and member.left_seq is not None:
        return min(last_seq, member.left_seq)
    return last_seq


def _messages(conversation_id: int) -> Any:
    return Message.objects.filter(conversation_id=conversation_id).select_related(
        "sender", "attachment"
    )


@dataclass(frozen=True)
class Page:
    messages: list[Message]
    has_more: bool


def message_page(
    *,
    member: ConversationMember,
    before: int | None = None,
    after: int | None = None,
    limit: int = 50,
) -> Page:
    """A page of history, oldest first, by keyset on seq (no COUNT, no OFFSET).

    `after` pages forward from a seq; otherwise backward from `before` (default: newest).
    """
    top = visible_last_seq(member)
    qs = _messages(member.conversation_id)
    if after is not None:
        rows = list(qs.filter(seq__gt=after, seq__lte=top).order_by("seq")[: limit + 1])
        return Page(rows[:limit], len(rows) > limit)
    # One upper bound, not two: given `seq <= top AND seq < before`, SQLite seeks the index
    # on one of them and filters the rest row by row, so old pages would cost O(distance).
    end = top + 1 if before is None else min(before, top + 1)
    rows = list(qs.filter(seq__lt=end).order_by("-seq")[: limit + 1])
    return Page(list(reversed(rows[:limit])), len(rows) > limit)


def memberships(*, user: User, active_only: bool = True) -> list[ConversationMember]:
    qs = ConversationMember.objects.filter(user=user).select_related("conversation")
    if active_only:
        qs = qs.filter(is_active=True)
    return list(qs)


def active_conversation_ids(*, user_id: int) -> list[int]:
    return list(
        ConversationMember.objects.filter(user_id=user_id, is_active=True).values_list(
            "conversation_id", flat=True
        )
    )


@dataclass(frozen=True)
class SocketView:
    """What a new socket of the user follows, and whom it must not see live."""

    conversation_ids: list[int]
    hidden_user_ids: set[int]


def socket_view(*, user_id: int) -> SocketView:
    """The user's active conversations and everyone blocked either way (one thread hop)."""
    return SocketView(active_conversation_ids(user_id=user_id), blocked_either_way_ids(user_id))


def direct_peer_ids(*, user_id: int) -> list[int]:
    """Everyone the user has a direct conversation with (friends, past friends)."""
    conversations = ConversationMember.objects.filter(
        user_id=user_id, conversation__kind=Conversation.Kind.DIRECT
    ).values("conversation_id")
    return list(
        ConversationMember.objects.filter(conversation_id__in=conversations)
        .exclude(user_id=user_id)
        .values_list("user_id", flat=True)
    )


@dataclass(frozen=True)
class SyncBatch:
    messages: list[Message]
    cursors: dict[str, int]
    has_more: list[int]


def sync_batch(*, user: User, cursors: dict[int, int], limit: int) -> SyncBatch:
    """What a reconnecting device lacks: for each conversation with a cursor, up to `limit`
    messages right after it (send sync again while `has_more` lists it); for the others,
    the newest `limit` (`has_more` when older history exists)."""
    out: list[Message] = []
    newest: dict[str, int] = {}
    has_more: list[int] = []
    for member in memberships(user=user, active_only=False):
        cid = member.conversation_id
        top = visible_last_seq(member)
        newest[str(cid)] = top
        cursor = cursors.get(cid)
        if cursor is not None and cursor >= top:
            continue
        qs = _messages(cid).filter(seq__lte=top)
        if cursor is not None:
            rows = list(qs.filter(seq__gt=cursor).order_by("seq")[: limit + 1])
            if len(rows) > limit:
                has_more.append(cid)
            out.extend(rows[:limit])
        elif member.is_active and top > 0:
            rows = list(qs.order_by("-seq")[:limit])
            if rows and rows[-1].seq > 1:
                has_more.append(cid)
            out.extend(reversed(rows))
    return SyncBatch(out, newest, has_more)


def conversation_list(*, user: User) -> list[dict[str, Any]]:
    """The inbox: the user's active conversations, newest activity first."""
    return _conversation_rows(user=user, members=memberships(user=user, active_only=True))


def conversation_row(*, member: ConversationMember) -> dict[str, Any]:
    """One Conversation object for the member (also after they left)."""
    return _conversation_rows(user=member.user, members=[member])[0]


def _conversation_rows(*, user: User, members: list[ConversationMember]) -> list[dict[str, Any]]:
    if not members:
        return []
    ids = [m.conversation_id for m in members]
    others = (
        ConversationMember.objects.filter(conversation_id__in=ids)
        .exclude(user=user)
        .filter(conversation__kind__in=[Conversation.Kind.DIRECT, Conversation.Kind.ROBOT])
        .select_related("user")
    )
    peers = {m.conversation_id: m.user for m in others}
    peer_read = {m.conversation_id: m.last_read_seq for m in others}
    remarks = friend_remarks(user.pk)
    # Groups (above chat) name their conversations through the hook.
    decorations = hooks.conversation_decorations(ids)
    tops = {m.conversation_id: visible_last_seq(m) for m in members}
    pairs = [Q(conversation_id=cid, seq=top) for cid, top in tops.items() if top > 0]
    last: dict[int, Message] = {}
    if pairs:
        for found in Message.objects.filter(reduce(or_, pairs)).select_related(
            "sender", "attachment"
        ):
            last[found.conversation_id] = found
    rows: list[tuple[float, dict[str, Any]]] = []
    for m in members:
        conv = m.conversation
        peer = peers.get(conv.pk)
        decoration = decorations.get(conv.pk, {})
        if "title" in decoration:
            title, avatar = decoration["title"], decoration.get("avatar")
        elif peer is not None:
            title = remarks.get(peer.pk) or peer.display_name
            avatar = peer.avatar.url if peer.avatar else None
        else:
            title, avatar = "", None
        msg = last.get(conv.pk)
        top = tops[conv.pk]
        activity = (conv.last_message_at or conv.created_at).timestamp()
        row = {
            "id": conv.pk,
            "kind": conv.kind,
            "title": title,
            "avatar": avatar,
            "peer": user_payload(peer, remark=remarks.get(peer.pk)) if peer else None,
            "group": decoration.get("group"),
            "last_message": message_payload(msg, remarks=remarks) if msg else None,
            "last_seq": top,
            "last_read_seq": m.last_read_seq,
            # How far the other person has read (direct and robot): read receipts on load.
            "peer_last_read_seq": peer_read.get(conv.pk),
            "unread": max(0, top - m.last_read_seq),
            "muted": m.muted,
            "is_active": m.is_active,
        }
        rows.append((activity, row))
    rows.sort(key=lambda r: r[0], reverse=True)
    return [row for _, row in rows]
