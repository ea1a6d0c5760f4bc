"""Services written as steps, so that the writer can run many of them in one round trip.

A service that stores with one statement on PostgreSQL (a plain message: `_SEND_ONE_SQL`)
is written as a generator, "its steps": it checks what it can without the database, then
yields the `Statement` it needs run and receives its row (or the database error, raised
at the yield), and returns its result. Called on its own (`run_steps`), the statement runs
at once, as a plain function call would. The writer (chat/writer.py) instead takes the
statements of a whole batch and runs them with `run_pipelined`: sent together in
psycopg's pipeline mode and committed together, one round trip and one commit for the
batch instead of one of each per send. On PostgreSQL the commit per send cost as much
CPU as the statement itself (`bench/sendpath.py --postgres`).

A step that must do its own work with the database (the general send path, several
statements in a transaction of its own) first yields `ALONE`: the writer then runs the
statements gathered before it, so that what was sent first is stored first.
"""

from collections.abc import Generator, Sequence
from typing import Any, NamedTuple, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections


class Statement(NamedTuple):
    """One prepared statement (psycopg placeholders) and the conversation whose row it
    locks: a batch runs its statements in conversation order."""

    sql: str
    params: dict[str, Any]
    conversation: int


class _Alone:
    def __repr__(self) -> str:
        return "ALONE"


ALONE = _Alone()
Step = Statement | _Alone
T = TypeVar("T")
Steps = Generator[Step, Any, T]


def run_steps(steps: Steps[T]) -> T:
    """Run a service's steps now, each statement as it comes."""
    outcome: Any = None
    while True:
        try:
            if isinstance(outcome, BaseException):
                step = steps.throw(outcome)
            else:
                step = steps.send(outcome)
        except StopIteration as done:
            return done.value
        outcome = None
        if isinstance(step, Statement):
            try:
                outcome = execute(step)
            except Exception as exc:
                outcome = exc


def execute(statement: Statement) -> Sequence[Any] | None:
    """Run one statement (prepared on this connection) and return its first row."""
    import psycopg

    connection = connections[DEFAULT_DB_ALIAS]
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(statement.sql, statement.params, prepare=True)
        return cursor.fetchone()


def execute_together(statements: Sequence[Statement]) -> list[Sequence[Any] | None]:
    """Run statements in one round trip and one transaction, in order; their first rows.

    Outside a transaction block (the writer's connection), the pipeline's statements up to
    its one Sync are PostgreSQL's implicit transaction: they commit together, and if one
    fails none of them is kept (the error is raised: run them again one by one).
    """
    import psycopg

    connection = connections[DEFAULT_DB_ALIAS]
    connection.ensure_connection()
    raw = connection.connection
    sql = statements[0].sql
    with connection.wrap_database_errors:
        if all(statement.sql == sql for statement in statements):
            # One query converted once, each set of parameters dumped into it.
            with psycopg.Cursor(raw) as cursor:
                cursor.executemany(sql, [s.params for s in statements], returning=True)
                rows = [cursor.fetchone()]
                while cursor.nextset():
                    rows.append(cursor.fetchone())
            return rows
        cursors: list[psycopg.Cursor[Any]] = []
        try:
            with raw.pipeline():
                for statement in statements:
                    cursor = psycopg.Cursor(raw)
                    cursors.append(cursor)
                    cursor.execute(statement.sql, statement.params, prepare=True)
            return [cursor.fetchone() for cursor in cursors]
        finally:
            for cursor in cursors:
                cursor.close()


def run_pipelined(jobs: Sequence[Steps[Any]]) -> list[tuple[bool, Any]]:
    """Run several services' steps, their statements together where they allow it.

    Each job's result is (True, value) or (False, the exception it raised), as the writer
    hands them back. Statements gathered are run together (`execute_together`) when a job
    asks to be `ALONE` and at the end; if that fails they are run again one by one, so
    that each service meets its own error (a retried id, a refusal) and no other.
    """
    results: list[tuple[bool, Any]] = [(False, None)] * len(jobs)
    waiting: list[tuple[int, Steps[Any], Statement]] = []

    def advance(index: int, steps: Steps[Any], outcome: Any) -> None:
        # Drive one job until it needs a statement run, or ends.
        while True:
            try:
                if isinstance(outcome, BaseException):
                    step = steps.throw(outcome)
                else:
                    step = steps.send(outcome)
            except StopIteration as done:
                results[index] = (True, done.value)
                return
            except Exception as exc:
                results[index] = (False, exc)
                return
            if isinstance(step, Statement):
                waiting.append((index, steps, step))
                return
            flush()
            outcome = None

    def flush() -> None:
        # Row locks are taken in conversation order, so two processes' batches cannot
        # deadlock; the sort is stable, so one conversation's sends keep their order.
        gathered = sorted(waiting, key=lambda item: item[2].conversation)
        waiting.clear()
        if len(gathered) > 1:
            try:
                rows = execute_together([statement for _, _, statement in gathered])
            except Exception:  # noqa: S110 - nothing was kept: one by one, below
                pass
            else:
                for (index, steps, _), row in zip(gathered, rows, strict=True):
                    advance(index, steps, row)
                return
        for index, steps, statement in gathered:
            try:
                outcome: Any = execute(statement)
            except Exception as exc:
                outcome = exc
            advance(index, steps, outcome)

    for index, steps in enumerate(jobs):
        advance(index, steps, None)
    while waiting:
        flush()
    return results
