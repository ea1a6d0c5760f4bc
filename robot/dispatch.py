"""The hook `message_send` calls after commit: decide off the request path whether to answer.

`message_committed` only hands the message id to a small thread pool and returns; the
worker loads the message, shows `typing`, asks the backend chain within a deadline, and
answers through `message_send` as the robot with client id `reply:<message id>`, so a
retried user message can never get two replies.
"""

import asyncio
import logging
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from asgiref.sync import SyncToAsync, sync_to_async
from django.db import close_old_connections, connection

logger = logging.getLogger("happychat.robot")

_executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="robot")
_pending: set[Future[None]] = set()
_pending_lock = threading.Lock()
_warmed = threading.Event()


def message_committed(message: Any) -> None:
    """Schedule the robot's answer to a stored message, if it should answer; never block."""
    if not _may_concern_robot(message):
        return
    if not _warmed.is_set():
        _warmed.set()
        from robot.engine import warm_up

        # Load jieba's dictionary in the background; Chinese works without it meanwhile.
        threading.Thread(target=warm_up, name="robot-warm-up", daemon=True).start()
    loop = _server_loop()
    future: Future[None]
    if loop is not None:
        future = asyncio.run_coroutine_threadsafe(_run_async(message.pk), loop)
    else:
        future = _executor.submit(_run, message.pk)
    with _pending_lock:
        _pending.add(future)
    future.add_done_callback(_forget)


def _server_loop() -> asyncio.AbstractEventLoop | None:
    """The server's event loop if we were called from one of its sync_to_async threads.

    The reply must then run under that loop: the in-memory channel layer's queues belong to
    it, and a wake-up sent from a foreign loop would reach the socket late or never.
    """
    if getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None) != os.getpid():
        return None
    loop: asyncio.AbstractEventLoop | None = getattr(
        SyncToAsync.threadlocal, "main_event_loop", None
    )
    if loop is None or loop.is_closed() or not loop.is_running():
        return None
    return loop


async def _run_async(message_id: int) -> None:
    # A worker thread of the server's loop, not the request's thread: sending stays fast.
    await sync_to_async(_run, thread_sensitive=False)(message_id)


def _may_concern_robot(message: Any) -> bool:
    """Cheap, query-free pre-check so ordinary chat never wakes a robot thread."""
    if message.kind != "text" or not message.body or message.sender.is_robot:
        return False
    kind = message.conversation.kind
    return kind == "robot" or (kind == "group" and ("@" in message.body or bool(message.mentions)))


def _forget(future: Future[None]) -> None:
    with _pending_lock:
        _pending.discard(future)


def _run(message_id: int) -> None:
    from robot.services import robot_reply

    close_old_connections()
    try:
        robot_reply(message_id=message_id)
    except Exception:
        logger.exception("robot reply to message %s failed", message_id)
    finally:
        # Worker threads own their connections; do not leave one open per thread.
        connection.close()


def wait_idle(timeout: float = 5.0) -> bool:
    """Wait until every scheduled reply has finished (for tests and graceful shutdown)."""
    with _pending_lock:
        pending = set(_pending)
    _done, not_done = wait(pending, timeout=timeout)
    return not not_done
