"""Publishing real-time events: channel-layer groups, encoding, and delivery after commit.

The plumbing every app publishes through (the lowest layer: any app may import it); the
chat-specific events live in `chat/events.py`, the user-facing `event` frames below.
Only services call these, and only through `publish_on_commit`, so nothing is announced
that was rolled back. The channel layer is a wake-up, not storage: a dropped event is
repaired by the client's `sync`. Frames are JSON-encoded once here, and consumers forward
the text as it is (no query, no re-encoding per delivered frame).

Channel-layer groups:
  user.<id>   every socket of one user (events, session revocation)
  conv.<id>   every socket subscribed to one conversation (messages, reads, typing, presence)
"""

import asyncio
import json
import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger("happychat.events")


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def conversation_group(conversation_id: int) -> str:
    return f"conv.{conversation_id}"


# Dates and dataclasses go to default=str, as json gives them to it (orjson would write
# them itself, differently).
_AS_JSON_DOES = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def encode(frame: dict[str, Any]) -> str:
    """Encode a socket frame once; consumers send the text unchanged.

    Compact UTF-8 JSON, anything else as str(). orjson writes what json.dumps(frame,
    ensure_ascii=False, separators=(",", ":"), default=str) writes, ten times faster; what
    it refuses (an integer beyond 64 bits, a key that is not a string, a lone surrogate)
    goes to json.
    """
    try:
        return orjson.dumps(frame, default=str, option=_AS_JSON_DOES).decode()
    except TypeError:
        return json.dumps(frame, ensure_ascii=False, separators=(",", ":"), default=str)


def frame_with_message(head: dict[str, Any], message_json: str) -> str:
    """The frame `head` with a "message" member already encoded (`encode(payload)`), last:
    a stored message is encoded once, for its `message` frame and its sender's `ack`."""
    return f'{encode(head)[:-1]},"message":{message_json}}}'


_server_loop: asyncio.AbstractEventLoop | None = None
_Queue = asyncio.Queue[tuple[list[str], dict[str, Any]]]
_publishers: dict[asyncio.AbstractEventLoop, tuple[_Queue, asyncio.Task[None]]] = {}


def bind_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Remember the server's event loop, so threads with no loop of their own can publish."""
    global _server_loop
    _server_loop = loop


def _target_loop() -> asyncio.AbstractEventLoop | None:
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None) or _server_loop
    if loop is None or loop.is_closed() or not loop.is_running():
        return None
    return loop


def _enqueue(groups: list[str], event: dict[str, Any]) -> None:
    _enqueue_many([(groups, event)])


def _enqueue_many(items: list[tuple[list[str], dict[str, Any]]]) -> None:
    loop = asyncio.get_running_loop()
    if loop not in _publishers:
        for old in [lp for lp in _publishers if lp.is_closed()]:
            del _publishers[old]
        queue: _Queue = asyncio.Queue()
        _publishers[loop] = (queue, loop.create_task(_publisher(queue)))
    put = _publishers[loop][0].put_nowait
    for item in items:
        put(item)


_held = threading.local()


@contextmanager
def held_publishes() -> Iterator[None]:
    """Hand what is published inside to the server loop in one go at the end (in order).

    The writer commits many sends at once: one wake-up of the loop for all of their
    events instead of one each.
    """
    held: list[tuple[list[str], dict[str, Any]]] = []
    _held.items = held
    try:
        yield
    finally:
        _held.items = None
        loop = _target_loop()
        if held and loop is not None:
            loop.call_soon_threadsafe(_enqueue_many, held)


async def _publisher(queue: _Queue) -> None:
    """Send queued events in commit order within each group.

    With Redis every send is a round trip: one after another, the publisher would fall
    behind the writers. What is queued is taken at once and handed to the layer's
    `group_send_many` (HappyChat's layers: one pipelined round trip, in order); with
    another layer it is split by group, and the groups are sent concurrently, each in order.
    """
    while True:
        batch = [await queue.get()]
        while not queue.empty():
            batch.append(queue.get_nowait())
        layer = get_channel_layer()
        many = getattr(layer, "group_send_many", None)
        if many is not None:
            try:
                await many([(group, event) for groups, event in batch for group in groups])
            except Exception:
                logger.exception("channel layer send of %d events failed", len(batch))
            continue
        by_group: dict[str, list[dict[str, Any]]] = {}
        for groups, event in batch:
            for group in groups:
                by_group.setdefault(group, []).append(event)
        if len(by_group) == 1:
            await _send_in_order(*next(iter(by_group.items())))
        else:
            await asyncio.gather(*(_send_in_order(g, evs) for g, evs in by_group.items()))


async def _send_in_order(group: str, batch: list[dict[str, Any]]) -> None:
    for event in batch:
        await send_now([group], event)


def _group_send(groups: Iterable[str], event: dict[str, Any]) -> None:
    """Hand the event to the server loop without waiting for it (the writer thread must not
    block on the loop); with no running server loop (scripts, tests), send it here."""
    targets = list(groups)
    loop = _target_loop()
    held = getattr(_held, "items", None)
    if held is not None and loop is not None:
        held.append((targets, event))
    elif loop is not None:
        loop.call_soon_threadsafe(_enqueue, targets, event)
    else:
        async_to_sync(send_now)(targets, event)


def publish_on_commit(groups: Iterable[str], event: dict[str, Any]) -> None:
    """Send `event` to `groups` once the current transaction commits (at once if none)."""
    targets = list(groups)
    transaction.on_commit(lambda: _group_send(targets, event))


async def send_now(groups: Iterable[str], event: dict[str, Any]) -> None:
    """Send an event to the groups now, from async code; a failed send is logged, not raised
    (a lost wake-up is repaired by `sync`)."""
    layer = get_channel_layer()
    if layer is None:
        return
    for group in groups:
        try:
            await layer.group_send(group, event)
        except Exception:
            logger.exception("channel layer send to %s failed", group)


# --- user-facing system events (the `event` frame) -------------------------------------
#
# Social events (published by friends/services.py and groups/services.py; every
# device of each recipient gets them). User = PROTOCOL §4 User; GroupBrief = Group
# without `my_role`. "+sub"/"-sub": the receiving sockets start/stop following the
# conversation.
#   friend_request        {request: FriendRequest}            sender and recipient; on send,
#                                                             accept and reject (see status)
#   friend_added          {user: User, conversation: id}      each side, +sub
#   friend_updated        {user: User with remark}            the user who set the remark
#   friend_removed        {user: id}                          both sides
#   user_blocked          {user: User}                        the blocker only
#   user_unblocked        {user: id}                          the blocker only
#   conversation_created  {conversation: {id, kind, peer, group}, group?: GroupBrief}
#                                                             its first members, +sub
#   group_joined          {group: GroupBrief, user: User, by: id|null}
#                                                             all members (newcomer +sub)
#   group_left            {group: GroupBrief, user: id, reason: left|removed, by: id}
#                                                             remaining members and the one
#                                                             who went (-sub)
#   group_updated         {group: GroupBrief, changed: [name|notice|avatar|is_public|owner|
#                         roles|alias|muted], member?: {user, role?|alias?}, muted?, by}
#                                                             all members (muted: self only)
#   group_invitation      {invitation: GroupInvitation}       the invitee (on invite, reject)
#   group_dissolved       {group: GroupBrief, by: id}         every member, -sub


def user_event(
    user_ids: Iterable[int],
    name: str,
    data: dict[str, Any],
    *,
    subscribe: int | None = None,
    unsubscribe: int | None = None,
) -> None:
    """Send an `event` frame to every device of each user, after commit.

    `subscribe` / `unsubscribe` name a conversation the receiving sockets start or stop
    following, so membership changes take effect on live sockets at once.
    """
    event: dict[str, Any] = {
        "type": "chat.event",
        "frame": encode({"type": "event", "event": name, "data": data}),
    }
    if subscribe is not None:
        event["subscribe"] = subscribe
    if unsubscribe is not None:
        event["unsubscribe"] = unsubscribe
    publish_on_commit([user_group(uid) for uid in set(user_ids)], event)


def sessions_revoked(
    *,
    user_id: int,
    session_key: str | None = None,
    token_key: str | None = None,
    all_sessions: bool = False,
) -> None:
    """Close the user's sockets that authenticated with this session or token (or all)."""
    publish_on_commit(
        [user_group(user_id)],
        {
            "type": "chat.revoke",
            "session_key": session_key,
            "token_key": token_key,
            "all": all_sessions,
        },
    )
