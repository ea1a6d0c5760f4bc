"""The writer's group commit on SQLite (chat/writer.py): the sends a batch holds commit
together, a refusal or a retried id costs only itself, and a send that fails halfway
loses the whole batch (every sender is told, nothing is stored, no seq is used)."""

import asyncio
from typing import Any

import pytest
from django.db import OperationalError

import chat.consumers  # noqa: F401 - declares message_send self-contained, as in daphne
from chat import writer
from chat.models import Message
from chat.services.messages import message_send
from happychat.errors import NotFound

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def published(monkeypatch):
    sent: list[tuple[list[str], dict[str, Any]]] = []
    monkeypatch.setattr(
        "happychat.events._group_send", lambda groups, event: sent.append((groups, event))
    )
    return sent


def run(*jobs: dict[str, Any]) -> list[tuple[bool, Any]]:
    """One batch of message_send calls, as the writer thread runs it."""
    return run_writes(*((message_send, kwargs) for kwargs in jobs))


def run_writes(*writes: tuple[Any, dict[str, Any]]) -> list[tuple[bool, Any]]:
    """One batch of (service, kwargs), as the writer thread runs it."""
    loop = asyncio.new_event_loop()
    try:
        batch = [(func, kwargs, loop.create_future()) for func, kwargs in writes]
        return writer._run_checked_batch(batch)  # type: ignore[arg-type]
    finally:
        loop.close()


def send(sender, conversation, client_id, body="hi") -> dict[str, Any]:
    return {
        "sender": sender,
        "conversation_id": conversation.pk,
        "client_id": client_id,
        "body": body,
    }


def stored(conversation) -> list[tuple[int, str, str]]:
    return list(
        Message.objects.filter(conversation=conversation)
        .order_by("seq")
        .values_list("seq", "client_id", "body")
    )


def test_a_refusal_and_a_retry_in_a_batch_cost_only_themselves(
    alice, bob, carol, direct, published
):
    run(send(alice, direct, "a1", "first"))
    results = run(
        send(bob, direct, "b1", "one"),
        send(carol, direct, "c1", "stranger"),  # not a member
        send(alice, direct, "a1", "first"),  # a retry of a stored message
        send(alice, direct, "a2", "two"),
    )
    assert [ok for ok, _ in results] == [True, False, True, True]
    assert isinstance(results[1][1], NotFound)
    message, created = results[2][1]
    assert (message.seq, created) == (1, False)
    assert stored(direct) == [(1, "a1", "first"), (2, "b1", "one"), (3, "a2", "two")]
    direct.refresh_from_db()
    assert direct.last_seq == 3
    frames = [e["frame"] for _, e in published if e["type"] == "chat.message"]
    assert len(frames) == 3  # the retry publishes nothing again


def test_a_send_failing_halfway_loses_the_batch_and_nothing_else(
    alice, bob, direct, published, monkeypatch
):
    run(send(alice, direct, "a1", "before"))
    published.clear()

    def broken_index(raw, *, message_id, tokens):
        if "broken" in tokens:
            raise OperationalError("disk I/O error")
        raw.execute(
            "INSERT INTO chat_message_fts (rowid, tokens) VALUES (?, ?)", (message_id, tokens)
        )

    monkeypatch.setattr("chat.search.index_add_sqlite", broken_index)
    results = run(
        send(bob, direct, "b1", "kept until the failure"),
        send(alice, direct, "a2", "broken"),
        send(bob, direct, "b2", "after it"),
    )
    assert [ok for ok, _ in results] == [False, False, False]
    assert all(isinstance(value, OperationalError) for _, value in results)
    # Nothing of the batch is stored or announced, and its seqs are not used up.
    assert stored(direct) == [(1, "a1", "before")]
    direct.refresh_from_db()
    assert direct.last_seq == 1
    assert published == []
    # The senders retry with the same ids, and everything is stored once, gap-free.
    monkeypatch.undo()
    monkeypatch.setattr(
        "happychat.events._group_send", lambda groups, event: published.append((groups, event))
    )
    results = run(
        send(bob, direct, "b1", "kept until the failure"),
        send(alice, direct, "a2", "broken"),
        send(bob, direct, "b2", "after it"),
    )
    assert [ok for ok, _ in results] == [True, True, True]
    assert [seq for seq, _, _ in stored(direct)] == [1, 2, 3, 4]
    assert len(published) == 3


def test_a_batch_writes_its_messages_to_the_search_index_at_once(alice, bob, direct, published):
    from django.db import connection

    run(send(alice, direct, "w0", "warm"))
    connection.ensure_connection()
    # One segment to start from, whatever earlier tests left in the index (their segments
    # could otherwise be due for FTS5's automatic merge at this batch's commit).
    connection.connection.execute(
        "INSERT INTO chat_message_fts(chat_message_fts) VALUES('optimize')"
    )
    traced: list[str] = []
    connection.connection.set_trace_callback(traced.append)
    try:
        results = run(
            *[send((alice, bob)[i % 2], direct, f"t{i}", f"word{i} hi") for i in range(16)]
        )
    finally:
        connection.connection.set_trace_callback(None)
    assert all(ok for ok, _ in results)
    # FTS5 writes a segment (its pages, then its structure record) whenever it flushes what
    # it holds. Inserted one by one between the sends' statements, 16 sends flushed 16
    # times (49 page writes, 16 merges); inserted at the batch's end, once.
    writes = [t for t in traced if "chat_message_fts_data'(id, block)" in t]
    assert len(writes) <= 4, len(writes)
    assert not [t for t in traced if t.startswith("-- DELETE FROM 'main'.'chat_message_fts_data'")]
    for i in (0, 7, 15):
        assert [m.body for m in search(alice, f"word{i}")] == [f"word{i} hi"]


def search(user, q: str) -> list[Message]:
    from chat.selectors import message_search

    return [message for message, _ in message_search(user=user, q=q).hits]


def test_a_batch_mixing_sends_and_an_edit_indexes_each_in_order(alice, bob, direct, published):
    from chat.services.changes import message_edit

    ((ok, (first, _)),) = run(send(alice, direct, "e0", "alpha original"))
    assert ok
    results = run_writes(
        (message_send, send(bob, direct, "e1", "bravo")),
        (message_edit, {"user": alice, "message_id": first.pk, "body": "alpha edited"}),
        (message_send, send(bob, direct, "e2", "charlie")),
    )
    assert [ok for ok, _ in results] == [True, True, True]
    assert [m.body for m in search(alice, "bravo")] == ["bravo"]
    assert [m.body for m in search(alice, "charlie")] == ["charlie"]
    assert [m.pk for m in search(alice, "edited")] == [first.pk]
    assert search(alice, "original") == []


def test_a_search_index_failing_at_the_batch_end_loses_the_batch(
    alice, bob, direct, published, monkeypatch
):
    run(send(alice, direct, "a1", "before"))
    published.clear()
    monkeypatch.setattr("chat.search._FTS_INSERT", "INSERT INTO no_such_table VALUES (?, ?)")
    results = run(send(bob, direct, "b1", "one"), send(alice, direct, "a2", "two"))
    assert [ok for ok, _ in results] == [False, False]
    assert all(isinstance(value, OperationalError) for _, value in results)
    assert stored(direct) == [(1, "a1", "before")]
    direct.refresh_from_db()
    assert direct.last_seq == 1
    assert published == []
    monkeypatch.undo()
    monkeypatch.setattr(
        "happychat.events._group_send", lambda groups, event: published.append((groups, event))
    )
    results = run(send(bob, direct, "b1", "one"), send(alice, direct, "a2", "two"))
    assert [ok for ok, _ in results] == [True, True]
    assert stored(direct) == [(1, "a1", "before"), (2, "b1", "one"), (3, "a2", "two")]
    assert [m.body for m in search(bob, "two")] == ["two"]


def test_a_write_refused_in_its_savepoint_takes_no_other_send_out_of_the_index(
    alice, bob, direct, published
):
    from django.db import connection

    from chat import search as index
    from happychat.errors import InvalidInput

    def indexes_then_refuses() -> None:
        with connection.cursor() as cursor:
            index.index_add(cursor, message_id=10**9, tokens="zulu")
        raise InvalidInput("refused after writing")

    results = run_writes(
        (message_send, send(alice, direct, "s1", "yankee")),
        (indexes_then_refuses, {}),
        (message_send, send(bob, direct, "s2", "xray")),
    )
    assert [ok for ok, _ in results] == [True, False, True]
    # The first send's index row was written before the refused write's savepoint.
    assert [m.body for m in search(alice, "yankee")] == ["yankee"]
    assert [m.body for m in search(alice, "xray")] == ["xray"]
    assert search(alice, "zulu") == []
