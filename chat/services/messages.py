"""Sending and reading messages: the one pipeline behind the socket, REST and the robot."""

import json
import logging
import re
from collections.abc import Sequence
from contextlib import nullcontext
from typing import Any, TypeVar

from django.conf import settings
from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    IntegrityError,
    OperationalError,
    connection,
    connections,
    models,
    transaction,
)
from django.db.models.base import ModelState
from django.utils import timezone

from accounts.models import User
from chat import events, hooks, search
from chat.models import Conversation, ConversationMember, Message
from chat.serializers import CHANGE_KINDS, message_payload
from chat.statements import ALONE, Statement, Steps, as_call
from happychat.errors import (
    Busy,
    Conflict,
    DomainError,
    InvalidAttachment,
    InvalidInput,
    NotFound,
    NotFriends,
    NotMember,
    PermissionDenied,
)
from happychat.validators import clean_text, require_id
from safety.services import text_filter

logger = logging.getLogger("happychat.messages")

SENDABLE_KINDS = (Message.Kind.TEXT, Message.Kind.IMAGE, Message.Kind.FILE)
MAX_MENTIONS = 50
# "@all" in the text mentions everyone (owner and admins only); WeChat's "@所有人" too.
_ALL_NAMES = ("all", "所有人", "everyone")
_MENTION = re.compile(r"@([^\s@,，。、!?！？:：;；]+)")


def _validate(
    *,
    client_id: Any,
    kind: Any,
    body: Any,
    attachment_id: Any,
    reply_to: Any = None,
    mentions: Any = None,
) -> None:
    if not isinstance(client_id, str) or not 1 <= len(client_id) <= 64:
        raise InvalidInput("`id` must be a string of 1 to 64 characters.")
    clean_text(client_id, field="id")
    if kind not in SENDABLE_KINDS:
        raise InvalidInput("`kind` must be `text`, `image` or `file`.")
    clean_text(body, field="body")
    if len(body) > settings.CHAT_MAX_BODY_CHARS:
        raise InvalidInput(f"`body` is limited to {settings.CHAT_MAX_BODY_CHARS} characters.")
    if kind == Message.Kind.TEXT and not body.strip():
        raise InvalidInput("A text message needs a non-empty `body`.")
    if kind in (Message.Kind.IMAGE, Message.Kind.FILE) and attachment_id is None:
        raise InvalidAttachment(f"A `{kind}` message needs an `attachment` (an upload id).")
    if attachment_id is not None and (
        isinstance(attachment_id, bool) or not isinstance(attachment_id, int)
    ):
        raise InvalidAttachment("`attachment` must be an upload id.")
    if reply_to is not None and not _is_id(reply_to):
        raise InvalidInput("`reply_to` must be a message id.")
    if mentions is not None and (
        not isinstance(mentions, list)
        or len(mentions) > MAX_MENTIONS
        or not all(_is_id(m) for m in mentions)
    ):
        raise InvalidInput(f"`mentions` must be a list of at most {MAX_MENTIONS} user ids.")


def _is_id(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and 0 < value < 2**63


# The send path runs a handful of fixed statements: building ORM queries cost more than
# running them (~0.5 ms each in Python against ~0.05 ms in SQLite), so they are written
# out once here, in SQL that SQLite (3.35+) and PostgreSQL both accept.
# Who may post: an active member; in a direct conversation only while the two are friends
# (accounts.selectors.are_friends) and the peer has not blocked the sender (is_blocked).
_AUTHORIZE_SQL = """
SELECT m.is_active, c.kind,
  CASE WHEN c.kind = 'direct' THEN COALESCE((
    SELECT CASE
      WHEN NOT EXISTS (SELECT 1 FROM accounts_friendship f
                       WHERE f.user_id = m.user_id AND f.friend_id = o.user_id) THEN 'not_friends'
      WHEN EXISTS (SELECT 1 FROM accounts_block b
                   WHERE b.user_id = o.user_id AND b.blocked_id = m.user_id) THEN 'blocked'
      ELSE 'ok' END
    FROM chat_conversationmember o
    WHERE o.conversation_id = m.conversation_id AND o.user_id <> m.user_id
    LIMIT 1), 'not_friends')
  ELSE 'ok' END AS verdict
FROM chat_conversationmember m JOIN chat_conversation c ON c.id = m.conversation_id
WHERE m.conversation_id = %s AND m.user_id = %s
"""
_NEXT_SEQ_SQL = (
    "UPDATE chat_conversation SET last_seq = last_seq + 1, last_message_at = %s WHERE id = %s "
    "RETURNING last_seq"
)
_INSERT_SQL = (
    "INSERT INTO chat_message (conversation_id, seq, sender_id, kind, body, attachment_id, "
    "client_id, created_at, reply_to_id, mentions, mention_all, data) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
    "ON CONFLICT (sender_id, client_id) DO NOTHING RETURNING id"
)
_REPLY_TARGET_SQL = "SELECT kind, recalled FROM chat_message WHERE id = %s AND conversation_id = %s"
_MENTION_SEQ_SQL = (
    "UPDATE chat_conversationmember SET mention_seq = %s "
    "WHERE conversation_id = %s AND is_active AND user_id <> %s"
)
_READ_OWN_SQL = (
    "UPDATE chat_conversationmember SET last_read_seq = %s "
    "WHERE conversation_id = %s AND user_id = %s"
)
_EXISTING_SQL = (
    "SELECT id, conversation_id FROM chat_message WHERE sender_id = %s AND client_id = %s"
)

# PostgreSQL, a plain text message (no attachment, reply, mention or forward: most of them):
# authorization, the next seq, the row, the sender's read cursor and the search index in one
# statement, outside any transaction block, so one round trip, prepared once per
# connection. A refused sender or a retried client id changes nothing (the seq update
# waits for the verdict and for the id to be new). An id being stored at the same moment
# by another transaction fails the insert (unique) once that one commits, which undoes the
# whole statement, seq too. The writer runs a batch of these together (chat/statements.py).
_SEND_ONE_SQL = (
    "WITH auth (is_active, kind, verdict) AS ("  # noqa: S608 - constant SQL
    + _AUTHORIZE_SQL.replace(
        "WHERE m.conversation_id = %s AND m.user_id = %s",
        "WHERE m.conversation_id = %(conversation)s AND m.user_id = %(sender)s",
    )
    + """), seen (dup) AS (
  SELECT EXISTS (SELECT 1 FROM chat_message
                 WHERE sender_id = %(sender)s AND client_id = %(client_id)s)
), bump AS (
  UPDATE chat_conversation SET last_seq = last_seq + 1, last_message_at = %(now)s
  WHERE id = %(conversation)s
    AND EXISTS (SELECT 1 FROM auth WHERE auth.is_active AND auth.verdict = 'ok')
    AND NOT (SELECT dup FROM seen)
  RETURNING last_seq
), ins AS (
  INSERT INTO chat_message (conversation_id, seq, sender_id, kind, body, attachment_id,
    client_id, created_at, reply_to_id, mentions, mention_all, data)
  SELECT %(conversation)s, last_seq, %(sender)s, %(kind)s, %(body)s, NULL,
    %(client_id)s, %(now)s, NULL, NULL, false, NULL FROM bump
  RETURNING id, seq
), own AS (
  UPDATE chat_conversationmember SET last_read_seq = ins.seq FROM ins
  WHERE conversation_id = %(conversation)s AND user_id = %(sender)s
), indexed AS (
  INSERT INTO chat_message_search (message_id, tsv)
  SELECT ins.id, to_tsvector('simple', %(tokens)s) FROM ins WHERE %(tokens)s <> ''
)
SELECT auth.is_active, auth.kind, auth.verdict, ins.id, ins.seq, (SELECT dup FROM seen)
FROM auth LEFT JOIN ins ON true
"""
)
assert "%(sender)s" in _SEND_ONE_SQL.split("), bump AS")[0]  # noqa: S101
# Typed once: with server-side binding PostgreSQL must know every parameter's type.
_SEND_ONE_SQL = (
    _SEND_ONE_SQL.replace("%(conversation)s", "%(conversation)s::bigint")
    .replace("%(sender)s", "%(sender)s::bigint")
    .replace("%(now)s", "%(now)s::timestamptz")
    .replace("%(kind)s", "%(kind)s::varchar")
    .replace("%(body)s", "%(body)s::text")
    .replace("%(client_id)s", "%(client_id)s::varchar")
    .replace("%(tokens)s", "%(tokens)s::text")
)
_QMARK: dict[str, str] = {}

# SQLite, a plain text message: the next seq is taken only if the sender may post (one
# statement for both; a refusal then asks _AUTHORIZE_SQL why), and the statements run
# straight on the sqlite3 connection (_store_plain_sqlite).
_SQLITE_SEQ_IF_ALLOWED_SQL = (
    "UPDATE chat_conversation SET last_seq = last_seq + 1, last_message_at = ? "  # noqa: S608
    "WHERE id = ? AND EXISTS (SELECT 1 FROM ("
    + _AUTHORIZE_SQL.replace("%s", "?")
    + ") a WHERE a.is_active AND a.verdict = 'ok') RETURNING last_seq, kind"
)
_SQLITE_INSERT_SQL = _INSERT_SQL.replace("%s", "?")
_PLAIN = (None, None, False, None)
_SQLITE_EXISTS_SQL = "SELECT 1 FROM chat_message WHERE sender_id = ? AND client_id = ?"
_SQLITE_READ_OWN_SQL = _READ_OWN_SQL.replace("%s", "?")
_SQLITE_AUTHORIZE_SQL = _AUTHORIZE_SQL.replace("%s", "?")


def _execute(sql: str, params: Sequence[Any]) -> Any:
    """Run one of the send path's fixed statements and return the DB-API cursor.

    On SQLite straight on the sqlite3 connection: Django's cursor wrapper (placeholder
    rewriting, wrappers, thread checks) takes longer than SQLite takes to run them. Errors
    are Django's either way.
    """
    db = connections[DEFAULT_DB_ALIAS]  # the proxy `connection` costs a lookup per attribute
    if db.vendor != "sqlite":
        cursor = db.cursor()
        cursor.execute(sql, params)
        return cursor
    db.ensure_connection()
    qmark = _QMARK.get(sql)
    if qmark is None:
        qmark = _QMARK[sql] = sql.replace("%s", "?")
    with db.wrap_database_errors:
        return db.connection.execute(qmark, params)


def authorize_sender(*, sender: User, conversation_id: int) -> Conversation:
    """The conversation (id and kind only), if `sender` may post in it now."""
    row = _execute(_AUTHORIZE_SQL, [conversation_id, sender.pk]).fetchone()
    return _authorized(row, conversation_id)


def _authorized(row: Sequence[Any] | None, conversation_id: int) -> Conversation:
    """The verdict of _AUTHORIZE_SQL's row as a Conversation, or the refusal it means."""
    _allowed(row)
    assert row is not None  # noqa: S101 - _allowed refused a missing row
    return Conversation(pk=conversation_id, kind=row[1])


def _allowed(row: Sequence[Any] | None) -> None:
    """Raise the refusal the verdict of _AUTHORIZE_SQL's row means, if any."""
    if row is None:
        raise NotFound("No such conversation.")
    is_active, _, verdict = row[:3]
    if not is_active:
        raise NotMember()
    if verdict == "not_friends":
        raise NotFriends()
    if verdict == "blocked":
        raise NotFriends("This person does not accept your messages.")


def _existing(*, sender: User, client_id: str, conversation_id: int) -> Message | None:
    with connection.cursor() as cursor:
        cursor.execute(_EXISTING_SQL, [sender.pk, client_id])
        row = cursor.fetchone()
    if row is None:
        return None
    if row[1] != conversation_id:
        raise Conflict("This message id was already used in another conversation.")
    return Message.objects.select_related("attachment", "conversation").get(pk=row[0])


def _filter_text(body: str) -> str:
    return text_filter(text=body, field="message")


def message_send_steps(
    *,
    sender: User,
    conversation_id: int,
    client_id: str,
    kind: str = Message.Kind.TEXT,
    body: str = "",
    attachment_id: int | None = None,
    reply_to: int | None = None,
    mentions: list[int] | None = None,
    mention_all: bool = False,
    data: dict[str, Any] | None = None,
    forward_of: Message | None = None,
    origin: str | None = None,
) -> Steps[tuple[Message, bool]]:
    """Store a message with the next seq and publish it after commit (as steps,
    chat/statements.py: `message_send` runs them at once, the writer many together).

    Idempotent on (sender, client_id): a retry returns the stored message and False.
    `reply_to` quotes an earlier message of the conversation. In groups, `mentions` (user
    ids) and `mention_all` mark whom it concerns; with neither given, "@name" in the text
    is resolved against the members. `forward_of` (for `messages_forward`, not clients)
    copies a message the caller may read, attachment included.
    `origin` is the sending socket's channel name, which gets an `ack` instead.
    """
    if forward_of is not None:
        attachment_id = forward_of.attachment_id
        author = forward_of.sender
        data = {
            "forwarded_from": {
                "id": forward_of.pk,
                "sender": {"id": author.pk, "nickname": author.nickname or author.username},
            }
        }
    _validate(
        client_id=client_id,
        kind=kind,
        body=body,
        attachment_id=attachment_id,
        reply_to=reply_to,
        mentions=mentions,
    )
    if not isinstance(mention_all, bool):
        raise InvalidInput("`mention_all` must be true or false.")
    conversation_id = require_id(conversation_id, detail="No such conversation.")
    try:
        message = yield from _store_steps(
            sender=sender,
            conversation_id=conversation_id,
            client_id=client_id,
            kind=kind,
            body=body,
            attachment_id=attachment_id,
            reply_to=reply_to,
            mentions=mentions,
            mention_all=mention_all,
            data=data,
            forward_of=forward_of,
            origin=origin,
        )
    except (_AlreadyStored, IntegrityError, DomainError) as exc:
        # A retry (also one racing the first attempt, or arriving after the sender lost the
        # right to post) gets the stored message back; anything else is a real refusal.
        existing = _existing(sender=sender, client_id=client_id, conversation_id=conversation_id)
        if existing is None:
            if isinstance(exc, _AlreadyStored):
                raise Busy(retryable=True) from exc
            raise
        existing.sender = sender
        return existing, False
    except OperationalError as exc:
        if not _unavailable(exc):
            raise
        logger.warning("message_send: storage unavailable: %s", exc)
        raise Busy(retryable=True) from exc
    return message, True


message_send = as_call(message_send_steps)


class _AlreadyStored(Exception):
    """The (sender, client_id) insert found an existing row; the transaction rolls back."""


class _TransactionLost(DatabaseError):
    """A send failed halfway and marked its transaction for rollback (not a refusal: no
    stored message is looked up, the caller sees a storage error and may retry)."""


def _unavailable(exc: OperationalError) -> bool:
    """Whether the error means "try again later" (locked, connection lost), not a bug."""
    if connection.vendor == "sqlite":
        return "locked" in str(exc) or "busy" in str(exc)
    return True


def _store_steps(
    *,
    sender: User,
    conversation_id: int,
    client_id: str,
    kind: str,
    body: str,
    attachment_id: int | None,
    reply_to: int | None,
    mentions: list[int] | None,
    mention_all: bool,
    data: dict[str, Any] | None,
    forward_of: Message | None,
    origin: str | None,
) -> Steps[Message]:
    # Filter before taking the write lock: a moderation service may take its timeout.
    if body:
        body = _filter_text(body)
    plain = (
        forward_of is None
        and attachment_id is None
        and reply_to is None
        and not mentions
        and not mention_all
        and not data
        and "@" not in body
    )
    vendor = connections[DEFAULT_DB_ALIAS].vendor
    if plain and vendor == "postgresql":
        return (
            yield from _store_in_one_statement(
                sender=sender,
                conversation_id=conversation_id,
                client_id=client_id,
                kind=kind,
                body=body,
                origin=origin,
            )
        )
    yield ALONE  # what follows runs statements of its own
    if plain and vendor == "sqlite":
        return _store_plain_sqlite(
            sender=sender,
            conversation_id=conversation_id,
            client_id=client_id,
            kind=kind,
            body=body,
            origin=origin,
        )
    search.flush_at_commit()  # before the savepoint below (chat/search.py)
    with transaction.atomic():
        conversation = authorize_sender(sender=sender, conversation_id=conversation_id)
        attachment = None
        if forward_of is not None:
            # The caller checked that the sender may read the original.
            attachment = forward_of.attachment
        elif attachment_id is not None:
            from chat.uploads import access_upload_for_attachment

            attachment = access_upload_for_attachment(
                user=sender, upload_id=attachment_id, kind=kind
            )
        quoted = _reply_target(conversation_id=conversation.pk, message_id=reply_to)
        mentioned, everyone = _mentions(
            conversation=conversation,
            sender=sender,
            body=body,
            mentions=mentions,
            mention_all=mention_all,
        )
        tokens = search.indexable_now(
            kind,
            body,
            attachment.name if attachment else "",
            conversation_id=conversation.pk,
            sender_id=sender.pk,
        )
        now = timezone.now()
        with connection.cursor() as cursor:
            # The row update takes the conversation's write lock: concurrent senders queue
            # here, so seq is gap-free; a rollback gives the number back.
            seq = _execute(
                _NEXT_SEQ_SQL, [connection.ops.adapt_datetimefield_value(now), conversation.pk]
            ).fetchone()[0]
            inserted = _execute(
                _INSERT_SQL,
                [
                    conversation.pk,
                    seq,
                    sender.pk,
                    kind,
                    body,
                    attachment.pk if attachment else None,
                    client_id,
                    connection.ops.adapt_datetimefield_value(now),
                    reply_to if quoted else None,
                    json.dumps(mentioned) if mentioned else None,
                    everyone,
                    json.dumps(data) if data else None,
                ],
            ).fetchone()
            if inserted is None:
                raise _AlreadyStored
            message_id = inserted[0]
            # Sending means having read everything up to one's own message.
            _execute(_READ_OWN_SQL, [seq, conversation.pk, sender.pk])
            if everyone:
                cursor.execute(_MENTION_SEQ_SQL, [seq, conversation.pk, sender.pk])
            elif mentioned:
                marks = ", ".join(["%s"] * len(mentioned))
                cursor.execute(
                    f"{_MENTION_SEQ_SQL} AND user_id IN ({marks})",
                    [seq, conversation.pk, sender.pk, *mentioned],
                )
            if tokens is None:
                transaction.on_commit(lambda: search.index_later(message_id))
            else:
                search.index_add(cursor, message_id=message_id, tokens=tokens)
        message = Message(
            pk=message_id,
            conversation=conversation,
            seq=seq,
            sender=sender,
            kind=kind,
            body=body,
            attachment=attachment,
            client_id=client_id,
            created_at=now,
            reply_to=quoted,
            mentions=mentioned or None,
            mention_all=everyone,
            data=data or None,
        )
        _announce(message, origin)
    return message


def _announce(message: Message, origin: str | None) -> None:
    """Publish a stored message after commit (keeping its encoded JSON for the sender's
    ack) and run the after-commit hooks."""
    message.encoded_payload = events.message_created(
        message_payload=message_payload(message), origin=origin
    )
    transaction.on_commit(lambda: _after_commit(message))


def _store_in_one_statement(
    *,
    sender: User,
    conversation_id: int,
    client_id: str,
    kind: str,
    body: str,
    origin: str | None,
) -> Steps[Message]:
    """_store for a plain message on PostgreSQL: one prepared statement (_SEND_ONE_SQL)."""
    tokens = search.indexable_now(kind, body, conversation_id=conversation_id, sender_id=sender.pk)
    now = timezone.now()
    params = {
        "conversation": conversation_id,
        "sender": sender.pk,
        "now": now,
        "kind": kind,
        "body": body,
        "client_id": client_id,
        "tokens": tokens or "",
    }
    # Inside someone else's transaction, a savepoint keeps it usable after a retried id.
    with transaction.atomic() if connection.in_atomic_block else nullcontext():
        row = yield Statement(_SEND_ONE_SQL, params, conversation_id)
        _allowed(row)
        assert row is not None  # noqa: S101 - _allowed refused a missing row
        message_id, seq, retried = row[3], row[4], row[5]
        if retried:
            raise _AlreadyStored
        if message_id is None:  # the conversation went away between the two reads
            raise NotFound("No such conversation.")
        if tokens is None:
            transaction.on_commit(lambda: search.index_later(message_id))
        conversation = _loaded(Conversation, {"id": conversation_id, "kind": row[1]})
        message = _plain_message(message_id, conversation, seq, sender, kind, body, client_id, now)
        # Outside a transaction block these run now: the statement has committed (alone, or
        # with the writer's batch).
        _announce(message, origin)
    return message


def _store_plain_sqlite(
    *,
    sender: User,
    conversation_id: int,
    client_id: str,
    kind: str,
    body: str,
    origin: str | None,
) -> Message:
    """_store for a plain message on SQLite: five statements on the sqlite3 connection (is
    the id new, the seq if allowed, the row, the sender's read cursor, the index).

    No savepoint: a refusal or a retried id is found before anything is written, so the
    writer's group commit (chat/writer.py) goes on with the next send of its batch. (A
    savepoint per message would cost more than the statements, and it makes FTS5 flush
    its pending index data at every one.) A database error after the first write marks the
    enclosing transaction for rollback: the whole batch is then refused, and retried.
    """
    db = connections[DEFAULT_DB_ALIAS]
    # Outside a transaction, Django's BEGIN IMMEDIATE: the write lock from the start.
    with nullcontext() if db.in_atomic_block else transaction.atomic():
        tokens = search.indexable_now(
            kind, body, conversation_id=conversation_id, sender_id=sender.pk
        )
        now = timezone.now()
        stamp = db.ops.adapt_datetimefield_value(now)
        db.ensure_connection()
        raw = db.connection
        with db.wrap_database_errors:
            if raw.execute(_SQLITE_EXISTS_SQL, (sender.pk, client_id)).fetchone() is not None:
                raise _AlreadyStored
            row = raw.execute(
                _SQLITE_SEQ_IF_ALLOWED_SQL, (stamp, conversation_id, conversation_id, sender.pk)
            ).fetchone()
            if row is None:
                verdict = raw.execute(
                    _SQLITE_AUTHORIZE_SQL, (conversation_id, sender.pk)
                ).fetchone()
                _authorized(verdict, conversation_id)  # raises the refusal it means
                raise NotFound("No such conversation.")  # pragma: no cover - allowed means a row
        seq, conversation_kind = row
        try:
            with db.wrap_database_errors:
                inserted = raw.execute(
                    _SQLITE_INSERT_SQL,
                    # reply_to, mentions, mention_all, data: none in a plain message
                    (conversation_id, seq, sender.pk, kind, body, None, client_id, stamp, *_PLAIN),
                ).fetchone()
                if inserted is None:  # pragma: no cover - the id was new under the write lock
                    raise _TransactionLost("The message id was taken during the send.")
                message_id = inserted[0]
                raw.execute(_SQLITE_READ_OWN_SQL, (seq, conversation_id, sender.pk))
                if tokens:
                    search.index_add_sqlite(raw, message_id=message_id, tokens=tokens)
        except BaseException:
            # The seq is taken and maybe more: only rolling the transaction back undoes it.
            transaction.set_rollback(True)
            raise
        if tokens is None:
            transaction.on_commit(lambda: search.index_later(message_id))
        conversation = _loaded(Conversation, {"id": conversation_id, "kind": conversation_kind})
        message = _plain_message(message_id, conversation, seq, sender, kind, body, client_id, now)
        _announce(message, origin)
    return message


# A stored plain message as the fast lanes return it (_loaded): the columns a plain send
# does not set hold their defaults.
_MESSAGE_DEFAULTS = {
    f.attname: f.db_default if f.has_db_default() and not f.has_default() else f.get_default()
    for f in Message._meta.concrete_fields
}
_M = TypeVar("_M", bound=models.Model)


def _loaded(model: type[_M], values: dict[str, Any], related: dict[str, Any] | None = None) -> _M:
    """An instance of a row just stored, made as unpickling makes one: a new object whose
    __dict__ takes the column values (by attname), with its related objects cached.

    Model.__init__ (and from_db, which calls it) walks every field through its descriptor:
    for a message that cost more than the rest of building its event. Columns left out
    are deferred (read from the database if touched), as with from_db.
    """
    obj = model.__new__(model)
    obj.__dict__.update(values)
    state = obj._state = ModelState()
    state.adding = False
    state.db = DEFAULT_DB_ALIAS
    if related:
        state.fields_cache.update(related)
    return obj


def _plain_message(
    message_id: int,
    conversation: Conversation,
    seq: int,
    sender: User,
    kind: str,
    body: str,
    client_id: str,
    created_at: Any,
) -> Message:
    row = _MESSAGE_DEFAULTS | {
        "id": message_id,
        "conversation_id": conversation.pk,
        "seq": seq,
        "sender_id": sender.pk,
        "kind": kind,
        "body": body,
        "client_id": client_id,
        "created_at": created_at,
    }
    return _loaded(Message, row, {"conversation": conversation, "sender": sender, **_NO_RELATED})


# A plain message's empty references, cached as such: reading one (message_payload reads
# the attachment and the quoted message) then costs no descriptor miss.
_NO_RELATED = {"attachment": None, "target": None, "reply_to": None, "recalled_by": None}


def _reply_target(*, conversation_id: int, message_id: int | None) -> Message | None:
    """The message being quoted: one of this conversation's, not recalled, not an entry."""
    if message_id is None:
        return None
    quoted = (
        Message.objects.select_related("sender")
        .filter(pk=message_id, conversation_id=conversation_id)
        .first()
    )
    if quoted is None or quoted.kind in CHANGE_KINDS or quoted.kind == Message.Kind.SYSTEM:
        raise InvalidInput("`reply_to` must be a message of this conversation.")
    if quoted.recalled:
        raise InvalidInput("That message was recalled; it cannot be quoted.")
    return quoted


def _mentions(
    *,
    conversation: Conversation,
    sender: User,
    body: str,
    mentions: list[int] | None,
    mention_all: bool,
) -> tuple[list[int], bool]:
    """Who a group message mentions (active members, never the sender) and whether @all.

    With no explicit `mentions`, "@username" or "@nickname" in the text is looked up
    among the members, so plain-text clients (and "@robot") work too.
    """
    if conversation.kind != Conversation.Kind.GROUP:
        if mentions or mention_all:
            raise InvalidInput("Mentions are for group conversations.")
        return [], False
    if mention_all and not hooks.mention_all_permitted(
        conversation_id=conversation.pk, user=sender
    ):
        raise PermissionDenied("Only the group's owner and admins may mention everyone.")
    if mentions is None and "@" not in body:
        return [], mention_all
    members = ConversationMember.objects.filter(
        conversation_id=conversation.pk, is_active=True
    ).exclude(user_id=sender.pk)
    if mentions is not None:
        wanted = set(mentions)
        found = members.filter(user_id__in=wanted).values_list("user_id", flat=True)
        return sorted(found), mention_all
    names = {m.lower() for m in _MENTION.findall(body)}
    resolved = []
    for uid, username, nickname in members.values_list(
        "user_id", "user__username", "user__nickname"
    ):
        if _named(body, names, username) or (nickname and _named(body, names, nickname)):
            resolved.append(uid)
    everyone = mention_all or bool(
        names & set(_ALL_NAMES)
        and hooks.mention_all_permitted(conversation_id=conversation.pk, user=sender)
    )
    return sorted(resolved), everyone


def _named(body: str, first_words: set[str], name: str) -> bool:
    """Whether the text has "@name" (a nickname may hold spaces: compare the whole of it)."""
    lowered = name.lower()
    if lowered in first_words:
        return True
    return " " in lowered and f"@{lowered}" in body.lower()


def _after_commit(message: Message) -> None:
    # The robot (and push) subscribe here; none of them may break sending.
    hooks.announce_message_committed(message)


def conversation_mark_read(
    *, user: User, conversation_id: int, seq: int, origin: str | None = None
) -> ConversationMember:
    """Move the user's read cursor forward to `seq` (never back, never past the end)."""
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
        raise InvalidInput("`seq` must be a non-negative integer.")
    conversation_id = require_id(conversation_id, detail="No such conversation.")
    with transaction.atomic():
        member = (
            ConversationMember.objects.select_related("conversation")
            .filter(conversation_id=conversation_id, user=user)
            .first()
        )
        if member is None:
            raise NotFound("No such conversation.")
        if not member.is_active:
            raise NotMember()
        target = min(seq, member.conversation.last_seq)
        if target > member.last_read_seq:
            ConversationMember.objects.filter(pk=member.pk).update(last_read_seq=target)
            member.last_read_seq = target
            events.read_updated(
                conversation_id=conversation_id, user_id=user.pk, seq=target, origin=origin
            )
    return member


def conversation_mute_set(*, user: User, conversation_id: int, muted: bool) -> ConversationMember:
    """Mute or unmute notifications for one conversation (the user's devices only)."""
    conversation_id = require_id(conversation_id, detail="No such conversation.")
    updated = ConversationMember.objects.filter(conversation_id=conversation_id, user=user).update(
        muted=muted
    )
    if not updated:
        raise NotFound("No such conversation.")
    return ConversationMember.objects.select_related("conversation").get(
        conversation_id=conversation_id, user=user
    )
