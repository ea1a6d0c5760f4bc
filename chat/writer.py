"""Database work from sockets, off the event loop: group-committed writes and reads.

Writes (send, read) go to one executor: a single thread on SQLite, where writers queue on
one lock anyway and a thread pool would only add busy-wait sleeps; on PostgreSQL
CHAT_DB_WRITERS threads, each serving one lane of conversations (conversation id modulo
the lanes), so senders to different conversations commit in parallel while the writes
of one conversation stay in order in this process. Reads (sync) use the default pool.

On SQLite the writer never checkpoints the WAL itself (a checkpoint fsyncs the database
and would stall every send queued behind it): a thread of its own does, once a second,
without blocking writers (PASSIVE).
"""

import asyncio
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import SyncToAsync
from channels.db import DatabaseSyncToAsync
from django.conf import settings
from django.db import DatabaseError, close_old_connections, connections, transaction

from happychat import events

logger = logging.getLogger("happychat.writer")

MAX_BATCH = 64
PG_MAX_BATCH = 16
# How often a writer thread checks its connection (age, health): Channels' wrapper does it
# before and after every call, which on PostgreSQL costs a `SELECT 1` round trip per write.
CONNECTION_CHECK_SECONDS = 1.0
CHECKPOINT_SECONDS = 1.0
_Job = tuple[Any, dict[str, Any], "asyncio.Future[Any]"]

_writer: ThreadPoolExecutor | None = None
_reserved = 0
_batchers: dict[asyncio.AbstractEventLoop, "list[asyncio.Queue[_Job]]"] = {}
_batcher_tasks: set["asyncio.Task[None]"] = set()


def writer() -> ThreadPoolExecutor:
    """The process's writer executor (created on first use, when settings are loaded)."""
    global _writer
    if _writer is None:
        sqlite = connections["default"].vendor == "sqlite"
        _writer = ThreadPoolExecutor(max_workers=_lane_count(), thread_name_prefix="chat-writer")
        if sqlite:
            checkpointer = threading.Thread(
                target=_checkpoint_forever, name="chat-checkpoint", daemon=True
            )
            checkpointer.start()
    return _writer


def _lane_count() -> int:
    """Writes in flight at once in this process: one per writer thread."""
    return 1 if connections["default"].vendor == "sqlite" else max(1, settings.CHAT_DB_WRITERS)


_wrote = threading.Event()


def _checkpoint_forever() -> None:
    """Copy the WAL into the database a second after writes, off the writer's path.

    An idle server does nothing here. A failure is logged without its traceback: formatting
    one parses source (Python 3.11's traceback carets use `ast`), which is not thread-safe
    there and can break an `ast.parse` running at the same time in another thread.
    """
    while True:
        _wrote.wait()
        time.sleep(CHECKPOINT_SECONDS)
        _wrote.clear()
        try:
            close_old_connections()
            with connections["default"].cursor() as cursor:
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except Exception as exc:
            logger.warning("WAL checkpoint failed: %r", exc)


def reserve() -> bool:
    """Count one more write waiting in this process, unless CHAT_MAX_PENDING_WRITES wait.

    Per-socket queues bound one client; this bounds them all together, so thousands of
    sockets cannot queue more writes than the database can take in a second or so.
    """
    global _reserved
    if _reserved >= settings.CHAT_MAX_PENDING_WRITES:
        return False
    _reserved += 1
    return True


def release() -> None:
    """A reserved write is done (or dropped)."""
    global _reserved
    _reserved = max(0, _reserved - 1)


def pending() -> int:
    """Writes reserved and not yet done in this process."""
    return _reserved


async def db_write(func: Any, **kwargs: Any) -> Any:
    """Run a write on the writer thread, committed together with the writes queued with it.

    Group commit (SQLite): what sockets queue while the writer is busy goes into one
    transaction, each write in its own savepoint, so one refusal rolls back only itself. On
    PostgreSQL what is queued goes to the writer thread together and commits write by
    write. The result (or error) comes back after the commit, so an `ack` still follows
    its commit.
    """
    loop = asyncio.get_running_loop()
    lanes = _batchers.get(loop)
    if lanes is None:
        for old in [lp for lp in _batchers if lp.is_closed()]:
            del _batchers[old]
        lanes = _batchers[loop] = [asyncio.Queue() for _ in range(_lane_count())]
        for queue in lanes:
            task = loop.create_task(_commit_batches(queue))
            _batcher_tasks.add(task)
            task.add_done_callback(_batcher_tasks.discard)
    conversation = kwargs.get("conversation_id")
    lane = conversation % len(lanes) if isinstance(conversation, int) else 0
    future: asyncio.Future[Any] = loop.create_future()
    lanes[lane].put_nowait((func, kwargs, future))
    return await future


async def _commit_batches(queue: "asyncio.Queue[_Job]") -> None:
    # On PostgreSQL the writes of a batch still commit one by one (_run_batch): the batch
    # shares only the trip to the writer thread and back and the hand-off of its events.
    # Its size bounds how long the first write's ack waits for the last one's commit.
    limit = MAX_BATCH if connections["default"].vendor == "sqlite" else PG_MAX_BATCH
    loop = asyncio.get_running_loop()
    while True:
        batch = [await queue.get()]
        while len(batch) < limit and not queue.empty():
            batch.append(queue.get_nowait())
        try:
            results = await loop.run_in_executor(writer(), _run_on_writer, loop, batch)
        except Exception as exc:  # pragma: no cover - _run_batch reports its own errors
            results = [(False, exc)] * len(batch)
        for (_, _, future), (ok, value) in zip(batch, results, strict=True):
            if future.done():
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)


_checked = threading.local()


def _run_on_writer(loop: asyncio.AbstractEventLoop, batch: list[_Job]) -> list[tuple[bool, Any]]:
    """A batch on the writer thread, handed over by run_in_executor itself: asgiref's
    SyncToAsync (context copy, thread-sensitivity checks) cost more than the hand-off. As
    SyncToAsync does, name the loop the thread serves (events published here go to it)."""
    SyncToAsync.threadlocal.main_event_loop = loop
    return _run_checked_batch(batch)


def _run_checked_batch(batch: list[_Job]) -> list[tuple[bool, Any]]:
    """Run a batch on this writer thread's connection, checked at most once a second, and at
    once after a database error (a broken connection is then closed and reopened)."""
    now = time.monotonic()
    if now - getattr(_checked, "at", 0.0) >= CONNECTION_CHECK_SECONDS:
        close_old_connections()
        _checked.at = now
    connection = connections["default"]
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        if connection.connection is not getattr(_checked, "raw", None):
            # This connection leaves checkpoints to _checkpoint_forever.
            connection.connection.execute("PRAGMA wal_autocheckpoint=0")
            _checked.raw = connection.connection
        _wrote.set()
    with events.held_publishes():
        results = _run_batch(batch)
    if any(not ok and _database_error(value) for ok, value in results):
        close_old_connections()
        _checked.at = 0.0
    return results


def _database_error(exc: BaseException) -> bool:
    # Services turn storage errors into domain errors (`busy`) raised from them.
    return isinstance(exc, DatabaseError) or isinstance(exc.__cause__, DatabaseError)


_self_contained: set[Any] = set()


def self_contained(*funcs: Any) -> None:
    """Declare services that keep a refusal from touching the batch by themselves.

    In a group-committed batch each write runs in a savepoint, so that one refusal undoes
    only itself; these make their own, or refuse before they write anything (a second
    savepoint would cost two more statements). One that fails after it wrote must mark the
    transaction for rollback (`transaction.set_rollback(True)`): the batch is then refused.
    """
    _self_contained.update(funcs)


def _run_batch(batch: list[_Job]) -> list[tuple[bool, Any]]:
    if len(batch) == 1 or connections["default"].vendor != "sqlite":
        # Alone, the write's own transaction is enough. On PostgreSQL every write commits
        # alone: a shared transaction would hold its conversations' row locks until the
        # batch commits, and the other processes' writers would queue behind them.
        return [_run_alone(func, kwargs) for func, kwargs, _ in batch]
    results: list[tuple[bool, Any]] = []
    connection = connections["default"]
    try:
        with transaction.atomic():
            for func, kwargs, _ in batch:
                try:
                    if func in _self_contained:
                        results.append((True, func(**kwargs)))
                    else:
                        with transaction.atomic():
                            results.append((True, func(**kwargs)))
                except Exception as exc:
                    results.append((False, exc))
                    if connection.needs_rollback:
                        # A write failed halfway and could not undo only itself (it
                        # marked the transaction): nothing of the batch can be kept.
                        raise _BatchLost() from exc
    except _BatchLost as lost:
        return [(False, lost.__cause__)] * len(batch)
    except Exception as exc:
        # BEGIN or COMMIT failed: nothing of the batch is stored; every sender may retry.
        return [(False, exc)] * len(batch)
    return results


class _BatchLost(Exception):
    """A write of the batch marked the transaction for rollback."""


def _run_alone(func: Any, kwargs: dict[str, Any]) -> tuple[bool, Any]:
    try:
        return (True, func(**kwargs))
    except Exception as exc:
        return (False, exc)


def db_read(func: Any, **kwargs: Any) -> Any:
    """Run a read on the default thread pool (never the writer)."""
    return DatabaseSyncToAsync(func, thread_sensitive=False)(**kwargs)
