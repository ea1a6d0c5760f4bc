"""The send path's rules, run in a process of its own against the database in its
environment (tests/system/test_send_rules.py runs it on PostgreSQL, where a plain message
is stored by one statement, and on SQLite, where it takes the statements of
`_store_plain_sqlite` in a savepoint made by hand): `python -m tests.system.sendcheck`
prints a JSON report."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "happychat.settings")


def outcome(call: Any) -> Any:
    from happychat.errors import DomainError

    try:
        message, created = call()
    except DomainError as exc:
        return {"error": exc.code}
    return {"id": message.pk, "seq": message.seq, "created": created, "body": message.body}


def main() -> None:
    import django

    django.setup()
    from django.db import connection

    from accounts.models import Block, User
    from chat.models import Message
    from chat.services.messages import message_send
    from tests.system.dbtool import seed

    world = seed(
        {
            "users": ["ann", "ben", "cat", "dan", "eve"],
            "friends": [["ann", "ben"], ["ann", "dan"]],
            "exfriends": [["ann", "cat"]],
            "groups": [{"name": "g", "owner": "ann", "members": ["ben"], "former": ["eve"]}],
        }
    )
    users = {u.username: u for u in User.objects.all()}
    ab, ac, ad = (world["direct"][k] for k in ("ann:ben", "ann:cat", "ann:dan"))
    group = world["groups"]["g"]["conversation"]
    Block.objects.create(user=users["dan"], blocked=users["ann"])

    def send(sender: str, conversation: int, client_id: str, body: str = "hello") -> Any:
        return outcome(
            lambda: message_send(
                sender=users[sender], conversation_id=conversation, client_id=client_id, body=body
            )
        )

    report: dict[str, Any] = {"vendor": connection.vendor}
    report["first"] = send("ann", ab, "a1", "first words")
    report["second"] = send("ben", ab, "b1")
    report["retry"] = send("ann", ab, "a1", "first words")
    report["retry_elsewhere"] = send("ann", group, "a1")
    report["not_friends"] = send("ann", ac, "a2")
    report["blocked"] = send("ann", ad, "a3")
    report["former_member"] = send("eve", group, "e1")
    report["stranger"] = send("cat", ab, "c1")
    report["missing"] = send("ann", 10**12, "a4")
    report["third"] = send("ann", ab, "a5")
    report["mention"] = send("ann", group, "a6", "hi @ben")
    # Inside a caller's transaction (the robot's, a group commit's): a savepoint each, so a
    # retried id leaves the transaction usable and the next send still stores.
    from django.db import transaction

    with transaction.atomic():
        report["nested_retry"] = send("ann", ab, "a5")
        report["nested_next"] = send("ann", ab, "a7", "after the retry")
    report["with_data"] = outcome(
        lambda: message_send(
            sender=users["ann"], conversation_id=ab, client_id="a8", body="x", data={"k": 1}
        )
    )
    report["stored_data"] = Message.objects.get(pk=report["with_data"]["id"]).data
    report["batch"] = _batch(users, ab, ac, group)
    report["seqs"] = list(
        Message.objects.filter(conversation_id=ab).order_by("seq").values_list("seq", flat=True)
    )
    report["read_cursor"] = users["ann"].conversation_members.get(conversation_id=ab).last_read_seq
    table = "chat_message_search" if connection.vendor == "postgresql" else "chat_message_fts"
    column = "message_id" if connection.vendor == "postgresql" else "rowid"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM {table} WHERE {column} = %s",  # noqa: S608 - our names
            [report["first"]["id"]],
        )
        report["indexed"] = cursor.fetchone()[0]
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "chat_message")
    # Every index a send must update: (columns, unique, partial). SQLite's introspection
    # does not tell a partial index, so its definition is read from sqlite_master.
    report["indexes"] = sorted(
        [
            list(info["columns"]),
            bool(info["unique"]),
            _partial(connection, name),
        ]
        for name, info in constraints.items()
        if info["index"] or info["unique"]
        if not info["primary_key"]
    )
    json.dump(report, sys.stdout)


def _batch(users: dict[str, Any], ab: int, ac: int, group: int) -> dict[str, Any]:
    """Sends queued together, as a socket's writer takes them (chat/writer.py): on
    PostgreSQL the plain ones go in one round trip and commit together; on SQLite they
    are group-committed. Each must get what it would have got alone."""
    import asyncio

    import chat.consumers  # noqa: F401 - declares how the writer runs message_send
    from chat import statements, writer
    from chat.services.messages import message_send

    together: list[int] = []
    run_together = statements.execute_together

    def counted(batch: Any) -> Any:
        together.append(len(batch))
        return run_together(batch)

    statements.execute_together = counted  # type: ignore[assignment]
    loop = asyncio.new_event_loop()

    def job(sender: str, conversation: int, client_id: str, body: str = "hello") -> Any:
        kwargs = {
            "sender": users[sender],
            "conversation_id": conversation,
            "client_id": client_id,
            "body": body,
        }
        return (message_send, kwargs, loop.create_future())

    def outcomes(results: list[tuple[bool, Any]]) -> list[Any]:
        out = []
        for ok, value in results:
            if ok:
                out.append({"seq": value[0].seq, "created": value[1], "body": value[0].body})
            else:
                out.append({"error": getattr(value, "code", type(value).__name__)})
        return out

    report: dict[str, Any] = {}
    report["mixed"] = outcomes(
        writer._run_batch(
            [
                job("ann", ab, "p1", "batched one"),
                job("ben", ab, "p2"),
                job("ann", ab, "a1", "first words"),  # a retry of an earlier send
                job("ann", ac, "p3"),  # not friends
                job("ann", group, "p4", "hi @ben"),  # a mention: its own statements
                job("ann", ab, "p5", "after the mention"),
                job("ann", group, "p6", "plain in the group"),
                job("ann", ab, "p7", "twice in one batch"),
                job("ann", ab, "p7", "twice in one batch"),
                job("ann", ab, "p1", "batched one"),  # a retry in the same batch
            ]
        )
    )
    if connection_vendor() == "postgresql":
        # A statement that fails in the pipeline undoes the others' too: they are run
        # again one by one and each send still gets its own answer.
        from django.utils import timezone

        from chat.services.messages import _SEND_ONE_SQL

        def failing_steps() -> Any:
            # The send's own statement, for a conversation id out of PostgreSQL's range.
            params = {
                "conversation": 2**63,
                "sender": users["ann"].pk,
                "now": timezone.now(),
                "kind": "text",
                "body": "never stored",
                "client_id": "f0",
                "tokens": "",
            }
            yield statements.Statement(_SEND_ONE_SQL, params, 0)
            return None

        def failing() -> None:
            statements.run_steps(failing_steps())

        writer.in_steps(failing, failing_steps)
        report["fallback"] = outcomes(
            writer._run_batch(
                [
                    job("ben", ab, "f1", "before the failure"),
                    (failing, {}, loop.create_future()),
                    job("ann", ab, "f2", "after the failure"),
                ]
            )[::2]
        )
        report["fallback_error"] = type(writer._run_batch([(failing, {}, None)])[0][1]).__name__
    statements.execute_together = run_together  # type: ignore[assignment]
    report["together"] = together
    return report


def connection_vendor() -> str:
    from django.db import connection

    return str(connection.vendor)


def _partial(connection: Any, name: str) -> bool:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [name])
        else:
            cursor.execute("SELECT sql FROM sqlite_master WHERE name = %s", [name])
        row = cursor.fetchone()
    return row is not None and row[0] is not None and " WHERE " in row[0].upper()


if __name__ == "__main__":
    main()
