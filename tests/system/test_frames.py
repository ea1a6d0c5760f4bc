"""Text frames written by chat/flow.py's short write path (straight into daphne's
transport, as every frame the chat consumer sends) are valid WebSocket for a real client:
every header length, multi-byte text, order, and Twisted's backpressure."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import websockets

from tests.servers import Daphne
from tests.system.conftest import base_env

# 7-bit, 16-bit and 64-bit payload lengths (RFC 6455 §5.2), each side of every boundary,
# and past Twisted's 64 KiB buffer size and its 128 KiB send limit.
SIZES = [1, 2, 125, 126, 127, 1000, 65535, 65536, 65537, 70000, 200000]
FRAME_BOUND = 65536  # Twisted's bufferSize: past it the producer is paused


@pytest.fixture
def frames_server(tmp_path: Path) -> Iterator[Daphne]:
    server = Daphne(
        base_env(tmp_path),
        tmp_path / "daphne-frames.log",
        app="tests.system.frames_asgi:application",
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def test_frames_of_every_length_reach_a_websockets_client_whole_and_in_order(
    frames_server: Daphne,
):
    async with websockets.connect(frames_server.ws_url, max_size=2**20) as ws:
        for char in ("x", "é", "😀"):  # 1, 2 and 4 bytes a character
            await ws.send(json.dumps({"sizes": SIZES, "char": char}))
            for size in SIZES:
                frame = await asyncio.wait_for(ws.recv(), 10)
                assert isinstance(frame, str)
                assert len(frame) == size
                assert frame == char * size
            done = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert done == {"done": len(SIZES)}  # all by the short path, none by daphne's


async def test_a_client_that_stops_reading_pauses_the_writer_and_loses_nothing(
    frames_server: Daphne,
):
    # A small receive buffer, so the kernel soon takes no more and Twisted's buffer fills.
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
    sock.connect(("127.0.0.1", frames_server.port))
    frames, size = 3000, 1000
    async with (
        websockets.connect(frames_server.ws_url, sock=sock, max_queue=1) as slow,
        websockets.connect(frames_server.ws_url) as other,
    ):
        await slow.send(json.dumps({"flood": frames, "size": size}))
        await asyncio.sleep(1.0)  # not reading meanwhile
        # The server still serves everyone else while that socket waits.
        await other.send(json.dumps({"stats": True}))
        stats = json.loads(await asyncio.wait_for(other.recv(), 5))
        assert stats["pauses"] >= 1
        assert stats["max_buffered"] <= FRAME_BOUND + size + 20
        for n in range(frames):
            frame = await asyncio.wait_for(slow.recv(), 10)
            assert isinstance(frame, str)
            assert frame == f"{n:08d}" + "y" * size
        assert json.loads(await asyncio.wait_for(slow.recv(), 10)) == {"flooded": frames}
