"""A writer batch on libpq's pipeline (chat/pgpipeline.py), against a real PostgreSQL:
typed rows, statements prepared once per connection, the batch committed together or not
at all, and every way it can fail leaving the connection usable or closed, never half-done.
(The send path through it: test_send_rules.py, test_concurrency.py.)"""

from __future__ import annotations

from tests.system.conftest import report as run_report

AT = "2026-12-01 09:30:15.123456+00:00"


def test_a_pipelined_batch_commits_together_or_not_at_all(pg_env: dict[str, str]) -> None:
    report = run_report("tests.system.pipelinecheck", pg_env)
    text = "你好 😀 \u2028 'quoted' \\ back"
    # Rows come back typed as psycopg types them; a statement without a row gives None.
    assert report["typed"] == {"rows": [[42, text, True, AT, 82], None, [-1, "", False, AT, -4]]}
    assert report["again"] == {"rows": [[2, "x", None, AT, 2], [1]]}
    # Each statement is prepared once per connection, in the pipeline of its first use.
    assert report["prepared_after_first"] == ["happychat_0", "happychat_1"]
    assert report["prepared_after_second"] == report["prepared_after_first"]
    assert report["committed"] == {"rows": [[1], [2]]}
    assert report["without_rows"] == {"rows": [None, [21]]}
    # One failing statement undoes the batch (3 and 4 are not kept though they came
    # first); the error carries PostgreSQL's SQLSTATE so the writer can run them one by one.
    assert report["duplicate"] == {"error": "BatchFailed", "sqlstate": "23505"}
    assert report["out_of_range"] == {"error": "BatchFailed", "sqlstate": "22003"}
    # A value psycopg refuses is refused before anything is sent.
    assert report["nul"] == {"error": "DataError", "sqlstate": None}
    assert report["values_after_refusals"] == [1, 2, 20, 21]
    # Statements deallocated behind its back fail one batch; the next prepares them again.
    assert report["deallocated"] == {"error": "BatchFailed", "sqlstate": "26000"}
    assert report["after_deallocated"] == {"rows": [[8], [9]]}
    # Inside a transaction block it refuses (its Sync would commit): nothing sent.
    assert report["in_transaction"] == {"error": "BatchFailed", "sqlstate": None}
    # A connection killed under it: the database's error, the connection closed, and the
    # next batch runs on a new one.
    assert report["terminated"] == {"error": "OperationalError", "sqlstate": None}
    assert report["closed_after_terminated"] is True
    assert report["after_reconnect"] == {"rows": [[14], [15]]}
    assert report["values_at_end"] == [1, 2, 8, 9, 14, 15, 20, 21]
