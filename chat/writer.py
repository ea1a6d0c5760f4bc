"""Database work from sockets, off the event loop: group-committed writes and reads.

Writes (send, read) go to writer threads (`_Lane`): a single one on SQLite, where writers
queue on one lock anyway and more threads would only add busy-wait sleeps; on PostgreSQL
CHAT_DB_WRITERS threads (one by default), each serving one lane of conversations
(conversation id modulo the lanes), so that with several, senders to different
conversations commit in parallel; the writes of one conversation stay in order in this
process either way. Reads (sync) use the default pool.

On SQLite the writer never checkpoints the WAL itself (a checkpoint fsyncs the database
and would stall every send queued behind it): a thread of its own does, once a second,
without blocking writers (PASSIVE).
"""

import asyncio
import contextlib
import logging
import queue
import threading
import time
from typing import Any

from asgiref.sync import SyncToAsync
from channels.db import DatabaseSyncToAsync
from django.conf import settings
from django.db import DatabaseError, close_old_connections, connections, transaction

from chat import search, statements
from happychat import events

logger = logging.getLogger("happychat.writer")

MAX_BATCH = 64
PG_MAX_BATCH = 16
# How often a writer thread checks its connection (age, health): Channels' wrapper does it
# before and after every call, which on PostgreSQL costs a `SELECT 1` round trip per write.
CONNECTION_CHECK_SECONDS = 1.0
CHECKPOINT_SECONDS = 1.0
_Job = tuple[Any, dict[str, Any], "asyncio.Future[Any]"]

_reserved = 0


class _Lane:
    """A writer thread and the writes queued for it.

    The thread takes what has queued while it was busy as its next batch, runs it, and
    hands the results back to each write's event loop in one call. The loop only puts a
    write on the queue (waking the thread only if it waits), instead of handing every
    batch to an executor: that hand-off (an executor work item, a future chained to the
    loop, a batcher task woken per batch) cost the event loop more than the batches' acks.
    """

    def __init__(self, name: str, limit: int) -> None:
        self.queue: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self.limit = limit
        self.thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            batch = [self.queue.get()]
            while len(batch) < self.limit:
                try:
                    batch.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            try:
                # As asgiref's SyncToAsync does: events published here go to this loop.
                SyncToAsync.threadlocal.main_event_loop = batch[0][2].get_loop()
                results = _run_checked_batch(batch)
            except Exception as exc:  # pragma: no cover - _run_batch reports its own errors
                logger.exception("a batch of %d writes failed", len(batch))
                results = [(False, exc)] * len(batch)
            _hand_back(batch, results)


_lanes: list[_Lane] = []
_lanes_lock = threading.Lock()


def lanes() -> list[_Lane]:
    """The process's writer lanes (started on first use, when settings are loaded)."""
    if not _lanes:
        with _lanes_lock:
            if not _lanes:
                sqlite = connections["default"].vendor == "sqlite"
                limit = MAX_BATCH if sqlite else PG_MAX_BATCH
                _lanes.extend(_Lane(f"chat-writer_{n}", limit) for n in range(_lane_count()))
                if sqlite:
                    checkpointer = threading.Thread(
                        target=_checkpoint_forever, name="chat-checkpoint", daemon=True
                    )
                    checkpointer.start()
    return _lanes


def _hand_back(batch: list[_Job], results: list[tuple[bool, Any]]) -> None:
    """Settle each write's future on its own event loop (one call per loop)."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Job, tuple[bool, Any]]]] = {}
    for job, result in zip(batch, results, strict=True):
        by_loop.setdefault(job[2].get_loop(), []).append((job, result))
    for loop, settled in by_loop.items():
        # A closed loop raises RuntimeError: nobody waits for those writes any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_settle, settled)


def _settle(settled: list[tuple[_Job, tuple[bool, Any]]]) -> None:
    for (_, _, future), (ok, value) in settled:
        if future.done():  # the socket went away meanwhile
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


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
    """Run a write on a writer thread, committed together with the writes queued with it.

    Group commit (SQLite): what sockets queue while the writer is busy goes into one
    transaction, each write in its own savepoint (or refusing before it writes), so one
    refusal costs only itself. On PostgreSQL what is queued goes to the writer thread
    together: the plain sends' statements in one round trip and one commit (see
    `_run_batch`), other writes alone. The result (or error) comes back after the
    commit, so an `ack` still follows its commit.
    """
    writers = lanes()
    conversation = kwargs.get("conversation_id")
    lane = conversation % len(writers) if isinstance(conversation, int) else 0
    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    writers[lane].queue.put((func, kwargs, future))
    return await future


_checked = threading.local()


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


_in_steps: dict[Any, Any] = {}


def in_steps(func: Any, steps: Any) -> None:
    """Declare that `steps(**kwargs)` does what `func(**kwargs)` does, as steps
    (chat/statements.py): on PostgreSQL a batch's statements then run together."""
    _in_steps[func] = steps


def _alone(func: Any, kwargs: dict[str, Any]) -> statements.Steps[Any]:
    yield statements.ALONE
    return func(**kwargs)


def _run_batch(batch: list[_Job]) -> list[tuple[bool, Any]]:
    if len(batch) == 1:
        # Alone, the write's own transaction is enough.
        return [_run_alone(batch[0][0], batch[0][1])]
    if connections["default"].vendor != "sqlite":
        # PostgreSQL: the plain sends' statements are sent in one round trip and commit
        # together, in conversation order (no deadlock with another process's batch); the
        # row locks they take are held for that round trip only. Other writes run alone.
        return statements.run_pipelined(
            [
                _in_steps[func](**kwargs) if func in _in_steps else _alone(func, kwargs)
                for func, kwargs, _ in batch
            ]
        )
    results: list[tuple[bool, Any]] = []
    connection = connections["default"]
    try:
        with transaction.atomic(), search.indexed_at_commit():
            for func, kwargs, _ in batch:
                try:
                    if func in _self_contained:
                        results.append((True, func(**kwargs)))
                    else:
                        search.flush_at_commit()
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
