"""Chat reads: access checks, history pages (keyset on seq), sync batches, the inbox."""

from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import Any

from django.db import connection
from django.db.models import Q, prefetch_related_objects

from accounts.models import User
from accounts.selectors import blocked_either_way_ids, friend_remarks
from accounts.serializers import user_payload
from chat import hooks, search
from chat.models import Conversation, ConversationMember, Message
from chat.serializers import CHANGE_KINDS, UNREAD_KINDS, message_payload
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
    return (
        Message.objects.filter(conversation_id=conversation_id)
        .select_related("sender", "attachment", "reply_to__sender")
        .prefetch_related("reactions")
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
    around: int | None = None,
    limit: int = 50,
) -> Page:
    """A page of history, oldest first, by keyset on seq (no COUNT, no OFFSET).

    `after` pages forward from a seq; otherwise backward from `before` (default: newest).
    Messages come folded (recalled, edited, reactions); the change entries themselves are
    left out (they reach devices through `sync`), so seqs in a page may skip numbers.
    """
    top = visible_last_seq(member)
    qs = _messages(member.conversation_id).exclude(kind__in=CHANGE_KINDS)
    if around is not None:
        # A jump (search result, quote): the message and about half a page either side;
        # `has_more` tells whether older history exists (page on with `before`).
        centre = min(around, top)
        older = list(qs.filter(seq__lt=centre).order_by("-seq")[: limit // 2 + 1])
        newer = list(qs.filter(seq__gte=centre, seq__lte=top).order_by("seq")[: limit - limit // 2])
        return Page([*reversed(older[: limit // 2]), *newer], len(older) > limit // 2)
    if after is not None:
        rows = list(qs.filter(seq__gt=after, seq__lte=top).order_by("seq")[: limit + 1])
        return Page(rows[:limit], len(rows) > limit)
    # One upper bound, not two: given `seq <= top AND seq < before`, SQLite seeks the index
    # on one of them and filters the rest row by row, so old pages would cost O(distance).
    end = top + 1 if before is None else min(before, top + 1)
    rows = list(qs.filter(seq__lt=end).order_by("-seq")[: limit + 1])
    return Page(list(reversed(rows[:limit])), len(rows) > limit)


def access_message(*, user: User, message_id: int) -> Message:
    """A message (folded) the user may read: in a conversation they are in, or up to where
    they left it. Change entries are not addressable. NotFound otherwise."""
    message = _messages_any().filter(pk=message_id).exclude(kind__in=CHANGE_KINDS).first()
    if message is not None:
        member = ConversationMember.objects.filter(
            conversation_id=message.conversation_id, user=user
        ).first()
        if member is not None and message.seq <= visible_last_seq_of(member):
            return message
    raise NotFound("No such message.")


def visible_last_seq_of(member: ConversationMember) -> int:
    """Like visible_last_seq, without loading the conversation (no upper bound if active)."""
    if not member.is_active and member.left_seq is not None:
        return member.left_seq
    return 2**63 - 1


def _messages_any() -> Any:
    return Message.objects.select_related(
        "sender", "attachment", "reply_to__sender"
    ).prefetch_related("reactions")


def _with_extras(ids: list[int]) -> list[Message]:
    """Messages by id with sender and attachment; quotes and reactions fetched only for the
    messages that have them (most have neither), so a page costs one query, rarely three."""
    messages = list(
        Message.objects.select_related("sender", "attachment").filter(pk__in=ids).order_by()
    )
    quoted_ids = {m.reply_to_id for m in messages if m.reply_to_id}
    if quoted_ids:
        quoted = Message.objects.select_related("sender").in_bulk(quoted_ids)
        for m in messages:
            if m.reply_to_id:
                m.reply_to = quoted.get(m.reply_to_id)
    changed = [m for m in messages if m.change_seq]
    if changed:
        prefetch_related_objects(changed, "reactions")
    return messages


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


def _previews(tops: dict[int, int]) -> dict[int, Message]:
    """The newest message (folded) at or below each visible top, skipping change entries.

    One query finds the message at each top; only conversations whose top is a change
    entry (a reaction, an edit…) look further back, one indexed query each.
    """
    pairs = [Q(conversation_id=cid, seq=top) for cid, top in tops.items() if top > 0]
    last: dict[int, Message] = {}
    if not pairs:
        return last
    related = ("sender", "attachment", "reply_to__sender")
    for found in Message.objects.filter(reduce(or_, pairs)).select_related(*related):
        if found.kind in CHANGE_KINDS:
            earlier = (
                Message.objects.filter(conversation_id=found.conversation_id, seq__lt=found.seq)
                .exclude(kind__in=CHANGE_KINDS)
                .select_related(*related)
                .order_by("-seq")
                .first()
            )
            if earlier is None:
                continue
            found = earlier
        last[found.conversation_id] = found
    return last


UNREAD_CAP = 999


def unread_count(*, member: ConversationMember, top: int) -> int:
    """Messages after the read cursor written by others, not counting change entries or
    system messages (counted up to UNREAD_CAP)."""
    if top <= member.last_read_seq:
        return 0
    rows = (
        Message.objects.filter(
            conversation_id=member.conversation_id,
            seq__gt=member.last_read_seq,
            seq__lte=top,
            kind__in=UNREAD_KINDS,
        )
        .exclude(sender_id=member.user_id)
        .values_list("pk", flat=True)[:UNREAD_CAP]
    )
    return len(rows)


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
    last = _previews(tops)
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
            "unread": unread_count(member=m, top=top),
            # "[@me]": a message after the read cursor mentions this member (or @all).
            "mentioned": m.last_read_seq < m.mention_seq <= top,
            "muted": m.muted,
            "is_active": m.is_active,
        }
        rows.append((activity, row))
    rows.sort(key=lambda r: r[0], reverse=True)
    return [row for _, row in rows]


# --- search -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchPage:
    hits: list[tuple[Message, list[dict[str, Any]]]]
    has_more: bool
    terms: list[str]


_SEARCH_SQL = {
    # FTS drives (CROSS JOIN keeps SQLite from reordering): newest matches first, each
    # checked against the searcher's membership through two index lookups.
    "sqlite": (
        "SELECT f.rowid FROM chat_message_fts f CROSS JOIN chat_message m ON m.id = f.rowid "
        "CROSS JOIN chat_conversationmember cm ON cm.conversation_id = m.conversation_id "
        "AND cm.user_id = %s WHERE f.chat_message_fts MATCH %s"
    ),
    "postgresql": (
        "SELECT f.message_id FROM chat_message_search f "
        "JOIN chat_message m ON m.id = f.message_id "
        "JOIN chat_conversationmember cm ON cm.conversation_id = m.conversation_id "
        "AND cm.user_id = %s WHERE f.tsv @@ to_tsquery('simple', %s)"
    ),
}


def message_search(
    *,
    user: User,
    q: str,
    conversation_id: int | None = None,
    sender_id: int | None = None,
    before: int | None = None,
    limit: int = 20,
) -> SearchPage:
    """Messages the user may read that contain every word of `q`, newest first.

    Keyset-paged on message id (`before` = the last id of the previous page). A member who
    left a group still finds its history up to when they left. Recalled messages are not
    in the index; edited ones are found by their latest text.
    """
    terms = search.query_terms(q)
    if not terms:
        return SearchPage([], False, [])
    _match, params = search.match_sql(terms, conversation_id=conversation_id, sender_id=sender_id)
    postgres = connection.vendor == "postgresql"
    sql = _SEARCH_SQL["postgresql" if postgres else "sqlite"]
    key = "f.message_id" if postgres else "f.rowid"
    args: list[Any] = [user.pk, *params]
    sql += " AND (cm.is_active OR m.seq <= cm.left_seq)"
    if conversation_id is not None:
        sql += " AND m.conversation_id = %s"
        args.append(conversation_id)
    if sender_id is not None:
        sql += " AND m.sender_id = %s"
        args.append(sender_id)
    if before is not None:
        sql += f" AND {key} < %s"
        args.append(before)
    # Ordered by the index's own key, so the newest matches come first without a sort.
    sql += f" ORDER BY {key} DESC LIMIT %s"
    args.append(limit + 1)
    with connection.cursor() as cursor:
        cursor.execute(sql, args)
        ids = [row[0] for row in cursor.fetchall()]
    found = {m.pk: m for m in _with_extras(ids[:limit])}
    hits = []
    for mid in ids[:limit]:
        message = found[mid]
        text = message.body or (message.attachment.name if message.attachment else "")
        hits.append((message, search.snippet(text, terms)))
    return SearchPage(hits, len(ids) > limit, terms)
