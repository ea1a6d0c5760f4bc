"""Services written as steps, so that the writer can run many of them in one round trip.

A service that stores with one statement on PostgreSQL (a plain message: `_SEND_ONE_SQL`)
is written as a generator, "its steps": it checks what it can without the database, then
yields the `Statement` it needs run and receives its row (or the database error, raised
at the yield), and returns its result. Called on its own (`run_steps`), the statement runs
at once, as a plain function call would. The writer (chat/writer.py) instead takes the
statements of a whole batch and runs them with `run_pipelined`: sent together on
libpq's pipeline (chat/pgpipeline.py) and committed together, one round trip and one
commit for the batch instead of one of each per send. On PostgreSQL the commit per send
cost as much CPU as the statement itself (`bench/sendpath.py --postgres`).

A step that must do its own work with the database (the general send path, several
statements in a transaction of its own) first yields `ALONE`: the writer then runs the
statements gathered before it, so that what was sent first is stored first.
"""

from collections.abc import Callable, Generator, Sequence
from typing import Any, NamedTuple, ParamSpec, TypeVar

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
P = ParamSpec("P")
Steps = Generator[Step, Any, T]


def run_steps(steps: Steps[T]) -> T:
    """Run a service's steps now, each statement as it comes.

    (What `run_pipelined` does for one job, without its batch bookkeeping, which cost ten
    times this loop: every send on SQLite, and every send alone on PostgreSQL, comes here.)
    """
    outcome: Any = None
    while True:
        try:
            step = _resume(steps, outcome)
        except StopIteration as done:
            return done.value
        outcome = _outcome(step) if isinstance(step, Statement) else None


def _resume(steps: Steps[Any], outcome: Any) -> Step:
    """Hand a job its statement's row (or throw it the error) and take its next step."""
    if isinstance(outcome, BaseException):
        return steps.throw(outcome)
    return steps.send(outcome)


def as_call(steps: Callable[P, Steps[T]]) -> Callable[P, T]:
    """The plain function that does what `steps` does (`run_steps`)."""

    def call(*args: P.args, **kwargs: P.kwargs) -> T:
        return run_steps(steps(*args, **kwargs))

    call.__doc__ = steps.__doc__
    return call


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

    On the writer's connection (outside a transaction block) they are sent together on
    libpq's pipeline (chat/pgpipeline.py) and commit together; if one fails none of them
    is kept and the error is raised (run them again one by one).
    """
    from chat import pgpipeline

    connection = connections[DEFAULT_DB_ALIAS]
    connection.ensure_connection()
    with connection.wrap_database_errors:
        return pgpipeline.run(connection.connection, [(s.sql, s.params) for s in statements])


def _together(statements: list[Statement]) -> list[Sequence[Any] | None] | None:
    """The rows of several statements run together; None if there are fewer than two, or
    if that failed (then nothing of them was kept: they are to be run one by one)."""
    if len(statements) < 2:
        return None
    try:
        return execute_together(statements)
    except Exception:
        return None


def _outcome(statement: Statement) -> Any:
    """A statement's row, or the error it raised."""
    try:
        return execute(statement)
    except Exception as exc:
        return exc


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
                step = _resume(steps, outcome)
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
        rows = _together([statement for _, _, statement in gathered])
        for k, (index, steps, statement) in enumerate(gathered):
            advance(index, steps, rows[k] if rows is not None else _outcome(statement))

    for index, steps in enumerate(jobs):
        advance(index, steps, None)
    while waiting:
        flush()
    return results
