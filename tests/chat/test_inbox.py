"""chat/inbox.py: a socket's inbound queue keeps asyncio.Queue's order and loses nothing."""

import asyncio

import pytest

from chat.inbox import Inbox


async def test_a_waiting_reader_gets_the_message_handed_over_and_no_deque_is_kept():
    inbox = Inbox()
    reader = asyncio.ensure_future(inbox.get())
    await asyncio.sleep(0)
    inbox.put_nowait({"n": 1})
    assert await reader == {"n": 1}
    assert inbox.qsize() == 0
    assert inbox._items is None


async def test_messages_for_a_busy_reader_wait_in_order_and_are_counted():
    inbox = Inbox()
    for n in range(5):
        inbox.put_nowait(n)
    assert inbox.qsize() == 5
    assert not inbox.empty()
    assert [await inbox.get() for _ in range(5)] == [0, 1, 2, 3, 4]
    assert inbox.empty()
    assert inbox._items is None  # drained: the deque is let go


async def test_messages_put_while_a_handed_over_one_is_not_yet_taken_follow_it():
    inbox = Inbox()
    reader = asyncio.ensure_future(inbox.get())
    await asyncio.sleep(0)
    inbox.put_nowait("first")  # handed to the waiting reader
    inbox.put_nowait("second")  # the reader has not run yet: this one waits
    assert inbox.qsize() == 1
    assert await reader == "first"
    assert await inbox.get() == "second"


async def test_a_reader_cancelled_after_the_handover_loses_nothing():
    inbox = Inbox()
    reader = asyncio.ensure_future(inbox.get())
    await asyncio.sleep(0)
    inbox.put_nowait("handed")
    inbox.put_nowait("queued")
    reader.cancel()  # before the reader ran to take "handed"
    with pytest.raises(asyncio.CancelledError):
        await reader
    assert inbox.qsize() == 2
    assert await inbox.get() == "handed"
    assert await inbox.get() == "queued"


async def test_a_reader_cancelled_while_waiting_leaves_the_inbox_usable():
    inbox = Inbox()
    reader = asyncio.ensure_future(inbox.get())
    await asyncio.sleep(0)
    reader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reader
    inbox.put_nowait("later")
    assert inbox.qsize() == 1
    assert await asyncio.wait_for(inbox.get(), 1) == "later"


async def test_get_nowait_on_an_empty_inbox_raises_queue_empty_like_asyncio_queue():
    with pytest.raises(asyncio.QueueEmpty):
        Inbox().get_nowait()


async def test_an_inbox_has_one_reader():
    inbox = Inbox()
    first = asyncio.ensure_future(inbox.get())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError):
        await inbox.get()
    inbox.put_nowait(1)
    assert await first == 1
