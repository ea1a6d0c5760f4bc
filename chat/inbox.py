"""A socket's inbound queue (daphne → the consumer), small enough to keep one per idle socket.

daphne gives every connection an `asyncio.Queue` for the messages its application
receives: four deques (items, getters, putters, and the `join` Event's waiters), an Event
and their dicts, about 3.2 KiB per socket before a single frame arrives, and most sockets
are idle. A socket's queue has one reader (the consumer's receive loop), so an `Inbox`
hands a message straight to that reader when it waits (the common case: an idle socket's
consumer waits on `get`) and keeps a deque only while messages wait for a busy reader.

It offers what daphne and HappyChat use of asyncio.Queue: `put_nowait`, `get`,
`get_nowait`, `qsize` and `empty` (chat/flow.py and the consumer read `qsize` to tell how
many frames wait). flow.install() makes one per WebSocket; HTTP requests keep daphne's.
"""

import asyncio
from collections import deque
from typing import Any


class Inbox:
    """An unbounded FIFO of messages for one reader, awaited with `get`."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: deque[Any] | None = None  # only while messages wait for the reader
        self._waiter: asyncio.Future[Any] | None = None  # the reader's pending `get`

    def put_nowait(self, item: Any) -> None:
        """Hand `item` to the waiting reader, or queue it behind the others."""
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(item)
                return
        if self._items is None:
            self._items = deque()
        self._items.append(item)

    def get_nowait(self) -> Any:
        """The oldest waiting message, or asyncio.QueueEmpty."""
        items = self._items
        if not items:
            raise asyncio.QueueEmpty
        item = items.popleft()
        if not items:
            self._items = None  # an emptied inbox holds no deque
        return item

    async def get(self) -> Any:
        """The oldest message, waiting for one if there is none."""
        if self._items:
            return self.get_nowait()
        if self._waiter is not None:
            raise RuntimeError("an Inbox has one reader")
        waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiter = waiter
        try:
            return await waiter
        except asyncio.CancelledError:
            if self._waiter is waiter:
                self._waiter = None
            elif waiter.done() and not waiter.cancelled():
                # Handed over, then the reader was cancelled before it took the message:
                # keep it, first in line (asyncio.Queue loses nothing there either).
                self._items = deque([waiter.result(), *(self._items or ())])
            raise

    def qsize(self) -> int:
        """How many messages wait (one handed to the reader is no longer waiting)."""
        return len(self._items) if self._items else 0

    def empty(self) -> bool:
        return not self._items
