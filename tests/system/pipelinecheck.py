"""Batches on libpq's pipeline (chat/pgpipeline.py) against a real PostgreSQL: what each
case returned or raised, printed as JSON for tests/system/test_pg_pipeline.py.

Run as `python -m tests.system.pipelinecheck` with DATABASE_URL naming a PostgreSQL
database.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "happychat.settings")

ROW_SQL = (
    "SELECT %(n)s::bigint + 1, %(text)s::text, %(flag)s::boolean, %(at)s::timestamptz, "
    "%(n)s::bigint * 2"
)
NONE_SQL = "SELECT 1 WHERE %(n)s::bigint < 0"
INSERT_SQL = "INSERT INTO pipeline_check (v) VALUES (%(v)s::int) RETURNING v"
PLAIN_INSERT_SQL = "INSERT INTO pipeline_check (v) VALUES (%(v)s::int)"


def _outcome(run: Any) -> Any:
    try:
        return {"rows": run()}
    except Exception as exc:
        return {
            "error": type(exc).__name__,
            "sqlstate": getattr(exc, "sqlstate", None) or getattr(exc.__cause__, "sqlstate", None),
        }


def main() -> None:
    import django

    django.setup()
    from django.db import connection, transaction

    from chat import statements

    def batch(*items: tuple[str, dict[str, Any]]) -> Any:
        return statements.execute_together(
            [statements.Statement(sql, params, 0) for sql, params in items]
        )

    def ours() -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name FROM pg_prepared_statements WHERE name LIKE 'happychat%%' "
                "ORDER BY name"
            )
            return [row[0] for row in cursor.fetchall()]

    def values() -> list[int]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT v FROM pipeline_check ORDER BY v")
            return [row[0] for row in cursor.fetchall()]

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE pipeline_check (v int UNIQUE)")
    at = dt.datetime(2026, 12, 1, 9, 30, 15, 123456, tzinfo=dt.UTC)
    text = "你好 😀 \u2028 'quoted' \\ back"
    report: dict[str, Any] = {}
    report["typed"] = _outcome(
        lambda: batch(
            (ROW_SQL, {"n": 41, "text": text, "flag": True, "at": at}),
            (NONE_SQL, {"n": 5}),
            (ROW_SQL, {"n": -2, "text": "", "flag": False, "at": at}),
        )
    )
    report["prepared_after_first"] = ours()
    report["again"] = _outcome(
        lambda: batch(
            (ROW_SQL, {"n": 1, "text": "x", "flag": None, "at": at}), (NONE_SQL, {"n": -1})
        )
    )
    report["prepared_after_second"] = ours()
    report["committed"] = _outcome(lambda: batch((INSERT_SQL, {"v": 1}), (INSERT_SQL, {"v": 2})))
    # A statement without rows (no RETURNING) keeps its place in the answer.
    report["without_rows"] = _outcome(
        lambda: batch((PLAIN_INSERT_SQL, {"v": 20}), (INSERT_SQL, {"v": 21}))
    )
    # A failing statement undoes the whole batch: 3 is not kept although it came first.
    report["duplicate"] = _outcome(lambda: batch((INSERT_SQL, {"v": 3}), (INSERT_SQL, {"v": 1})))
    report["values_after_duplicate"] = values()
    report["out_of_range"] = _outcome(
        lambda: batch((INSERT_SQL, {"v": 4}), (INSERT_SQL, {"v": 2**40}))
    )
    # psycopg refuses a NUL before anything is sent: the connection stays usable.
    report["nul"] = _outcome(
        lambda: batch(
            (INSERT_SQL, {"v": 5}),
            (ROW_SQL, {"n": 1, "text": "a\x00b", "flag": True, "at": at}),
        )
    )
    report["values_after_refusals"] = values()
    # Prepared statements deallocated behind the writer's back: one batch fails, the next
    # prepares them again.
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    report["deallocated"] = _outcome(lambda: batch((INSERT_SQL, {"v": 6}), (INSERT_SQL, {"v": 7})))
    report["after_deallocated"] = _outcome(
        lambda: batch((INSERT_SQL, {"v": 8}), (INSERT_SQL, {"v": 9}))
    )
    report["values_after_deallocated"] = values()
    with transaction.atomic():
        report["in_transaction"] = _outcome(
            lambda: batch((INSERT_SQL, {"v": 10}), (INSERT_SQL, {"v": 11}))
        )
    # The connection dies under the batch: it is closed, the error is the database's, and
    # Django opens a new one for the next batch.
    pid = connection.connection.pgconn.backend_pid
    from django.db import connections

    other = connections.create_connection("default")
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s, 10000)", [pid])  # waits for it
    other.close()
    report["terminated"] = _outcome(lambda: batch((INSERT_SQL, {"v": 12}), (INSERT_SQL, {"v": 13})))
    report["closed_after_terminated"] = connection.connection is None or bool(
        connection.connection.closed
    )
    connection.close()
    report["after_reconnect"] = _outcome(
        lambda: batch((INSERT_SQL, {"v": 14}), (INSERT_SQL, {"v": 15}))
    )
    report["values_at_end"] = values()
    sys.stdout.write(json.dumps(report, default=str))


if __name__ == "__main__":
    main()
