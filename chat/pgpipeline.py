"""A writer batch's statements on libpq's pipeline: sent in one write, committed together.

psycopg's own pipeline (`Cursor.executemany` in pipeline mode) sends each statement as it
is queued: a poll and a socket write per statement, each giving up the GIL and waiting to
get it back from the busy event loop, then a flush request and a read per result. Here the
batch's statements are queued in libpq's output buffer and sent with the Sync that ends
them, in one write, and their results (which PostgreSQL sends at that Sync) are read
together: the thread waits for the socket twice per batch instead of a few times per
statement. Under the scale-out pairs load that took the writer threads' share of the GIL
per send down far enough to move throughput by a fifth (bench/README.md).

Only what psycopg documents is used: `Connection.pgconn` (libpq's calls), and a
`Transformer` (`psycopg.adapt`) to dump parameters as text and load rows as psycopg does.
Each statement is prepared once per connection under a name of ours (psycopg's own are
`_pg3_…`), in the same pipeline as its first use.

Outside a transaction block, the statements up to the Sync are PostgreSQL's implicit
transaction: they commit together, and if one fails none of them is kept. `run` then
raises `BatchFailed` (the caller runs them again one by one, each meeting its own error);
a broken connection raises psycopg's error (the connection is closed if libpq is left
mid-pipeline).
"""

from __future__ import annotations

import re
import select
import threading
import weakref
from collections.abc import Sequence
from typing import Any

from psycopg import pq
from psycopg.adapt import PyFormat, Transformer

_PLACEHOLDER = re.compile(r"%\(([A-Za-z_][A-Za-z0-9_]*)\)s")
# SQLSTATE: a prepared statement of that name exists / does not exist (on this session).
_DUPLICATE_PREPARED = "42P05"
_UNKNOWN_PREPARED = "26000"


class BatchFailed(Exception):
    """A statement of the batch failed, so none of them was kept; `sqlstate` is the first
    failure's (None if it was not PostgreSQL's)."""

    def __init__(self, message: str, sqlstate: str | None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


class _Query:
    """A statement's SQL with numbered placeholders and the parameter names in their order."""

    def __init__(self, sql: str, name: bytes) -> None:
        if "%%" in sql:
            raise ValueError("A pipelined statement cannot hold a literal %.")
        names: list[str] = []

        def number(match: re.Match[str]) -> str:
            if match.group(1) not in names:
                names.append(match.group(1))
            return f"${names.index(match.group(1)) + 1}"

        self.text = _PLACEHOLDER.sub(number, sql).encode()
        self.names = tuple(names)
        self.formats = [PyFormat.TEXT] * len(names)
        self.name = name


_queries: dict[str, _Query] = {}
_queries_lock = threading.Lock()
# The statements prepared on each connection (by SQL), forgotten with the connection.
_prepared: weakref.WeakKeyDictionary[Any, set[bytes]] = weakref.WeakKeyDictionary()


def _query(sql: str) -> _Query:
    query = _queries.get(sql)
    if query is None:
        with _queries_lock:
            query = _queries.get(sql)
            if query is None:
                query = _queries[sql] = _Query(sql, f"happychat_{len(_queries)}".encode())
    return query


def run(raw: Any, statements: Sequence[tuple[str, dict[str, Any]]]) -> list[Sequence[Any] | None]:
    """Run (sql, params) statements on psycopg connection `raw` in one pipeline and one
    implicit transaction, in order; the first row of each (None when it returned none).

    `raw` must be idle (autocommit, no transaction open): else BatchFailed, unsent. (In
    a transaction block the batch would commit at its Sync, whatever the block did next.)
    """
    pgconn = raw.pgconn
    if (
        not raw.autocommit
        or pgconn.transaction_status != pq.TransactionStatus.IDLE
        or pgconn.pipeline_status != pq.PipelineStatus.OFF
    ):
        raise BatchFailed("The connection is not idle.", None)
    transformer = Transformer.from_context(raw)
    queries = [_query(sql) for sql, _ in statements]
    # Dumped before anything is sent: a value psycopg refuses raises here, nothing sent.
    values = [
        transformer.dump_sequence([params[n] for n in query.names], query.formats)
        for query, (_, params) in zip(queries, statements, strict=True)
    ]
    prepared = _prepared.setdefault(raw, set())
    preparing: list[_Query] = []
    pgconn.enter_pipeline_mode()
    try:
        for query in queries:
            if query not in preparing and query.text not in prepared:
                pgconn.send_prepare(query.name, query.text)
                preparing.append(query)
        for query, dumped in zip(queries, values, strict=True):
            pgconn.send_query_prepared(query.name, dumped)
        pgconn.pipeline_sync()
        _flush(pgconn)
        failure: tuple[str, str | None] | None = None
        for query in preparing:
            result = _next(pgconn)
            state = _sqlstate(result)
            if result.status == pq.ExecStatus.COMMAND_OK or state == _DUPLICATE_PREPARED:
                prepared.add(query.text)  # a session's prepared statements outlive rollbacks
            failure = failure or _failure(result)
            _end_of(pgconn)
        rows: list[Sequence[Any] | None] = []
        for query in queries:
            result = _next(pgconn)
            if result.status == pq.ExecStatus.TUPLES_OK:
                transformer.set_pgresult(result)
                rows.append(transformer.load_row(0, tuple) if result.ntuples else None)
            elif result.status == pq.ExecStatus.COMMAND_OK:  # a statement without rows
                rows.append(None)
            else:
                if _sqlstate(result) == _UNKNOWN_PREPARED:
                    prepared.discard(query.text)  # deallocated behind our back
                failure = failure or _failure(result)
            _end_of(pgconn)
        if _next(pgconn).status != pq.ExecStatus.PIPELINE_SYNC:  # pragma: no cover - libpq
            raise BatchFailed("The pipeline did not end with its Sync.", None)
        pgconn.exit_pipeline_mode()
    except BaseException:
        if pgconn.pipeline_status != pq.PipelineStatus.OFF:
            # libpq is left mid-pipeline (the connection broke): nothing can use it now.
            prepared.clear()
            raw.close()
        raise
    if failure is not None:
        raise BatchFailed(*failure)
    return rows


def _failure(result: Any) -> tuple[str, str | None] | None:
    if result.status in (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.COMMAND_OK):
        return None
    message = result.error_message.decode(errors="replace").strip() or str(result.status)
    return (message, _sqlstate(result))


def _sqlstate(result: Any) -> str | None:
    state = result.error_field(pq.DiagnosticField.SQLSTATE)
    return state.decode() if state else None


def _flush(pgconn: Any) -> None:
    """Send what libpq holds, reading meanwhile if the server answers (never both stuck)."""
    while pgconn.flush():
        if _wait(pgconn, select.POLLIN | select.POLLOUT) & select.POLLIN:
            pgconn.consume_input()


def _get_result(pgconn: Any) -> Any:
    """libpq's next result (or None), waiting for the socket (GIL released) meanwhile."""
    while pgconn.is_busy():
        _wait(pgconn, select.POLLIN)
        pgconn.consume_input()
    return pgconn.get_result()


def _next(pgconn: Any) -> Any:
    """The next result; libpq ends each query's results with one None, read by `_end_of`."""
    result = _get_result(pgconn)
    if result is None:  # pragma: no cover - libpq
        raise BatchFailed("A statement's result is missing.", None)
    return result


def _end_of(pgconn: Any) -> None:
    """Read the None that ends a query's results in pipeline mode."""
    if _get_result(pgconn) is not None:  # pragma: no cover - one result per statement
        raise BatchFailed("A statement returned more than one result.", None)


def _wait(pgconn: Any, events: int) -> int:
    poller = select.poll()
    poller.register(pgconn.socket, events)
    ready = 0
    for _, happened in poller.poll():
        ready |= happened
    if ready & (select.POLLERR | select.POLLHUP | select.POLLNVAL) and not ready & select.POLLIN:
        pgconn.consume_input()  # raises libpq's error for the broken connection
    return ready
