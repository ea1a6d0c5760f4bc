"""History paging on a conversation with 1,000,000 messages: newest, middle and oldest
pages must take the same time (keyset on (conversation, seq); no COUNT, no OFFSET).

    .venv/bin/python bench/history.py [--messages 1000000] [--repeat 30] [--postgres]
                                      [--json FILE]

Builds the conversation fast (SQLite: executemany in one transaction; PostgreSQL:
INSERT … SELECT generate_series) in a temporary database, then times, in-process,
both the selector (`message_page` + serialization) and the REST view
(GET /api/v1/conversations/<id>/messages/?before=…&limit=50) at each end.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.child import run_on_fresh_database
from bench.loadgen import table

BATCH = 50_000


def fill(conversation_id: int, sender_id: int, total: int) -> float:
    """Insert `total` messages straight into the table; return the seconds it took."""
    from django.db import connection, transaction

    started = time.monotonic()
    with transaction.atomic(), connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(
                "INSERT INTO chat_message (conversation_id, seq, sender_id, kind, body, "
                "client_id, created_at) SELECT %s, g, %s, 'text', 'message ' || g, "
                "'bulk-' || g, now() FROM generate_series(1, %s) AS g",
                [conversation_id, sender_id, total],
            )
        else:
            now = "2025-01-01 00:00:00"
            for start in range(1, total + 1, BATCH):
                rows = [
                    (conversation_id, seq, sender_id, "text", f"message {seq}", f"bulk-{seq}", now)
                    for seq in range(start, min(start + BATCH, total + 1))
                ]
                cur.executemany(
                    "INSERT INTO chat_message (conversation_id, seq, sender_id, kind, body, "
                    "client_id, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    rows,
                )
        cur.execute(
            "UPDATE chat_conversation SET last_seq = %s WHERE id = %s", [total, conversation_id]
        )
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE chat_message")
    return time.monotonic() - started


def timed(fn: Any, repeat: int) -> float:
    """Median milliseconds of `fn()` over `repeat` runs (after one warm-up)."""
    fn()
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)


def query_plan(member: Any, before: int) -> str:
    """The plan of the message query the selector really runs for a page before `before`."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from chat.selectors import message_page

    with CaptureQueriesContext(connection) as captured:
        message_page(member=member, before=before, limit=50)
    sql = next(q["sql"] for q in captured.captured_queries if "chat_message" in q["sql"])
    explain = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    with connection.cursor() as cur:
        cur.execute(explain + sql)
        return " | ".join(str(row[-1]) for row in cur.fetchall())


def run_in_process(total: int, repeat: int) -> None:
    """The part that runs with the benchmark database's settings (a child process)."""
    import django

    django.setup()
    from django.test import Client

    from accounts.models import User
    from chat.selectors import access_conversation, message_page
    from chat.serializers import message_payload
    from tests.system.dbtool import seed

    world = seed({"users": ["reader", "writer"], "friends": [["reader", "writer"]]})
    conv = world["direct"]["reader:writer"]
    reader = User.objects.get(username="reader")
    fill_s = fill(conv, world["users"]["writer"]["id"], total)

    client = Client(
        SERVER_NAME="localhost", HTTP_AUTHORIZATION=f"Token {world['users']['reader']['token']}"
    )

    def selector(before: int | None) -> Any:
        def call() -> None:
            member = access_conversation(user=reader, conversation_id=conv)
            page = message_page(member=member, before=before, limit=50)
            assert len(page.messages) == 50, len(page.messages)
            [message_payload(m) for m in page.messages]

        return call

    def rest(before: int | None) -> Any:
        query = f"?limit=50&before={before}" if before else "?limit=50"

        def call() -> None:
            response = client.get(f"/api/v1/conversations/{conv}/messages/{query}")
            assert response.status_code == 200, response.content[:300]
            assert len(response.json()["results"]) == 50

        return call

    ends = {"newest": None, "middle": total // 2, "oldest": 51}
    rows = {
        name: (timed(selector(before), repeat), timed(rest(before), repeat))
        for name, before in ends.items()
    }
    member = access_conversation(user=reader, conversation_id=conv)
    plans = {name: query_plan(member, before or total + 1) for name, before in ends.items()}
    sys.stdout.write(json.dumps({"fill_s": fill_s, "rows": rows, "plans": plans}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL")
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE as JSON")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_in_process(args.messages, args.repeat)
        return

    result = run_on_fresh_database(
        __file__,
        postgres=args.postgres,
        args=["--messages", str(args.messages), "--repeat", str(args.repeat)],
        prefix="happychat-hist-",
    )

    backend = "PostgreSQL" if args.postgres else "SQLite"
    rows = [
        ("database", backend),
        ("messages in the conversation", f"{args.messages:,}"),
        ("bulk insert", f"{result['fill_s']:.1f} s"),
    ]
    for name, (sel, rest) in result["rows"].items():
        rows.append((f"{name} page of 50", f"selector {sel:.2f} ms · REST {rest:.2f} ms"))
    for name, plan in result["plans"].items():
        rows.append((f"plan ({name})", plan))
    print(table(rows, f"History paging (median of {args.repeat})"))
    if args.json:
        result.update(database=backend, messages=args.messages, repeat=args.repeat)
        Path(args.json).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "happychat.settings")
    main()
