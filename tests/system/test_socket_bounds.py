"""What one socket may make a real daphne hold is bounded (chat/flow.py, chat/consumers.py).

A client that writes and never reads, a send flood, and a socket that stops reading while
others keep messaging it: daphne's memory stays under a fixed bound, the flooder is
stopped (backpressure) or closed, and everyone else keeps chatting meanwhile.

The bound (RSS_GROWTH_BOUND_MB) comes from measurements on the shared 2-CPU test machine
(load average 11): without flow control the write-only flood grew daphne by 251 MB in
its 15 s (45,773 frames read; 570+ MB in issue 13's longer run); with it the flooder is
blocked after ~7,500 frames and daphne grows by 2-3 MB (the slow reader: 3 MB). The
bound, 40 MB, leaves room for the SQLite page cache and the allocator's noise and still
fails at a sixth of the unbounded growth.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
import websockets

from tests.system.conftest import Site
from tests.system.wsclient import WS, auth_headers

RSS_GROWTH_BOUND_MB = 40
FAST = {
    "CHAT_SEND_RATE": "1000000",
    "CHAT_SEND_BURST": "1000000",
    "CHAT_SOCKET_FRAME_RATE": "1000000",
    "CHAT_SOCKET_FRAME_BURST": "1000000",
}
BODY = "x" * 4000  # 4 KB, as in the issue
# Loopback TCP buffers can take 10 MB or more before daphne holds any of it: the slow
# reader must be closed well before this many 4 KB messages (32 MB).
MAX_TO_SLOW_READER = 8000


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


class RssWatch:
    """Sample a process's RSS every 100 ms; keep the peak."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.base = rss_mb(pid)
        self.peak = self.base
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            self.peak = max(self.peak, rss_mb(self.pid))
            await asyncio.sleep(0.1)

    def __enter__(self) -> RssWatch:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        self.peak = max(self.peak, rss_mb(self.pid))

    @property
    def growth(self) -> float:
        return self.peak - self.base


class Chatter:
    """A pair chatting while something else happens: every message must arrive, quickly."""

    def __init__(self, sender: WS, receiver: WS, conversation: int) -> None:
        self.sender, self.receiver, self.conversation = sender, receiver, conversation
        self.latencies: list[float] = []

    async def run(self, stop: asyncio.Event) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            started = time.monotonic()
            await self.sender.send(
                {"type": "send", "id": f"c{n}", "conversation": self.conversation, "body": "hi"}
            )
            await self.receiver.expect(
                "message", timeout=10, where=lambda f, n=n: f["message"]["client_id"] == f"c{n}"
            )
            self.latencies.append(time.monotonic() - started)
            await asyncio.sleep(0.1)

    def p95(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[int(len(ordered) * 0.95)] if ordered else float("nan")


async def warm_up(url: str, token: str, conversation: int) -> None:
    """Bring daphne to its working size before the baseline (imports, caches, the writer)."""
    ws = await WS.open(url, token)
    for n in range(50):
        await ws.request(
            {"type": "send", "id": f"w{n}", "conversation": conversation, "body": BODY}, "ack"
        )
    await ws.close()


async def write_only_flood(
    url: str, token: str, conversation: int, *, frames: int, seconds: float
) -> tuple[int, str]:
    """Send `send` frames of 4 KB as fast as the server takes them, never reading.

    Returns how many were sent and how it ended: "blocked" (the server stopped reading),
    "closed" or "done".
    """
    conn = await websockets.connect(
        url, additional_headers=auth_headers(token), max_queue=1, max_size=2**20
    )
    sent, how = 0, "done"
    deadline = time.monotonic() + seconds
    try:
        for n in range(frames):
            left = deadline - time.monotonic()
            if left <= 0:
                how = "blocked"
                break
            frame = {"type": "send", "id": f"f{n}", "conversation": conversation, "body": BODY}
            try:
                await asyncio.wait_for(conn.send(json.dumps(frame)), min(left, 3.0))
            except TimeoutError:
                how = "blocked"
                break
            sent += 1
    except websockets.ConnectionClosed:
        how = "closed"
    finally:
        conn.transport.abort()
    return sent, how


def world_of(site: Site) -> dict[str, Any]:
    return site.seed(users=["ann", "ben", "eve", "pat"], friends=[["ann", "ben"], ["eve", "pat"]])


async def test_a_client_that_writes_and_never_reads_cannot_grow_daphne(sqlite_site: Site):
    world = world_of(sqlite_site)
    server = sqlite_site.daphne(**FAST)
    assert server.proc is not None
    tok = {name: u["token"] for name, u in world["users"].items()}
    chat, flood = world["direct"]["ann:ben"], world["direct"]["eve:pat"]
    await warm_up(server.ws_url, tok["eve"], flood)
    ann, ben = await WS.open(server.ws_url, tok["ann"]), await WS.open(server.ws_url, tok["ben"])
    chatter, stop = Chatter(ann, ben, chat), asyncio.Event()
    with RssWatch(server.proc.pid) as rss:
        talk = asyncio.create_task(chatter.run(stop))
        sent, how = await write_only_flood(
            server.ws_url, tok["eve"], flood, frames=100_000, seconds=15
        )
        await asyncio.sleep(1)
        stop.set()
        await talk
    print(
        f"write-only flood: {sent} frames sent, {how}; daphne RSS {rss.base:.0f} -> peak "
        f"{rss.peak:.0f} MB (+{rss.growth:.0f}); chatting pair p95 {chatter.p95() * 1000:.0f} ms"
    )
    assert how == "blocked", "the server kept reading a client that does not read"
    assert sent < 100_000
    assert rss.growth < RSS_GROWTH_BOUND_MB
    assert len(chatter.latencies) > 20
    # The flooder's acks are stored: nothing half-done, and the server still answers.
    fresh = await WS.open(server.ws_url, tok["eve"])
    await fresh.request({"type": "ping"}, "pong")
    await fresh.close()
    await ann.close()
    await ben.close()


async def test_a_rate_limited_send_flood_is_closed_with_4029(sqlite_site: Site):
    world = world_of(sqlite_site)
    server = sqlite_site.daphne()  # default send rate: 20/s, bursts of 60
    tok = {name: u["token"] for name, u in world["users"].items()}
    conn = await websockets.connect(server.ws_url, additional_headers=auth_headers(tok["eve"]))
    flood = world["direct"]["eve:pat"]
    codes: list[str] = []

    async def flood_then_read() -> None:
        async with asyncio.timeout(30):
            for n in range(2000):
                frame = {"type": "send", "id": f"f{n}", "conversation": flood, "body": "x"}
                await conn.send(json.dumps(frame))
            while True:
                answer = json.loads(await conn.recv())
                if answer["type"] == "error":
                    codes.append(answer["code"])

    with pytest.raises(websockets.ConnectionClosed) as closed:
        await flood_then_read()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4029
    assert codes.count("rate_limited") > 400
    stored = sqlite_site.dump([flood])["messages"]
    assert len(stored) < 200  # the burst and the rate, not the flood


async def test_a_socket_that_stops_reading_is_closed_as_a_slow_reader(sqlite_site: Site):
    world = world_of(sqlite_site)
    server = sqlite_site.daphne(**FAST)
    assert server.proc is not None
    tok = {name: u["token"] for name, u in world["users"].items()}
    conversation = world["direct"]["eve:pat"]
    await warm_up(server.ws_url, tok["eve"], conversation)
    # Pat's device stops reading (its library reads at most one frame ahead).
    pat = await websockets.connect(
        server.ws_url, additional_headers=auth_headers(tok["pat"]), max_queue=1
    )
    eve = await WS.open(server.ws_url, tok["eve"])
    pat_id = world["users"]["pat"]["id"]

    def pat_went_offline() -> bool:
        # Pat's client does not read, so it cannot tell; its friend sees the server close it.
        return any(
            f["type"] == "presence" and f["user"] == pat_id and not f["online"] for f in eve.inbox
        )

    acked = 0
    with RssWatch(server.proc.pid) as rss:
        async with asyncio.timeout(90):
            for n in range(MAX_TO_SLOW_READER):
                await eve.request(
                    {"type": "send", "id": f"s{n}", "conversation": conversation, "body": BODY},
                    "ack",
                )
                acked += 1
                if pat_went_offline():
                    break
                if n % 200 == 199:
                    await asyncio.sleep(0.2)  # let the server notice
    code = None
    try:
        async with asyncio.timeout(10):
            while True:
                await pat.recv()
    except websockets.ConnectionClosed as exc:
        code = exc.rcvd.code if exc.rcvd else 1006
    print(
        f"slow reader: closed with {code} after {acked} messages of 4 KB to it; "
        f"daphne RSS +{rss.growth:.0f} MB"
    )
    assert code in {4009, 1006}  # 1006: dropped, the close frame stuck behind unread data
    assert pat_went_offline()
    assert acked < MAX_TO_SLOW_READER
    assert rss.growth < RSS_GROWTH_BOUND_MB
    # It reconnects and gets everything through sync.
    again = await WS.open(server.ws_url, tok["pat"])
    held: set[int] = set()
    cursor = 0
    while True:
        messages, synced = await again.sync({conversation: cursor})
        held |= {m["message"]["seq"] for m in messages}
        cursor = max(held) if held else 0
        if conversation not in synced["has_more"]:
            break
    assert held == set(range(1, synced["cursors"][str(conversation)] + 1))
    await again.close()
    await eve.close()


async def test_a_socket_past_its_frame_budget_is_read_later_and_loses_nothing(
    sqlite_site: Site,
):
    world = world_of(sqlite_site)
    budget = {"CHAT_SOCKET_FRAME_RATE": "200", "CHAT_SOCKET_FRAME_BURST": "100"}
    server = sqlite_site.daphne(**budget)
    tok = {name: u["token"] for name, u in world["users"].items()}
    eve = await WS.open(server.ws_url, tok["eve"])
    # Pings of 4 KB written as fast as the socket takes them for 2 s, while reading the
    # pongs: the server reads the burst, then 200 a second (give or take what one read of
    # the socket brings: 64 KB, 16 of these).
    ping = {"type": "ping", "pad": "x" * 4000}
    pongs = written = 0
    stop = asyncio.Event()

    async def write() -> None:
        nonlocal written
        while not stop.is_set():
            await eve.conn.send(json.dumps(ping))
            written += 1

    async def read() -> None:
        nonlocal pongs
        async for raw in eve.conn:
            pongs += json.loads(raw)["type"] == "pong"

    writer, reader = asyncio.create_task(write()), asyncio.create_task(read())
    await asyncio.sleep(2.0)
    answered = pongs
    stop.set()
    await asyncio.wait_for(writer, 10)
    print(f"frame budget: {written} pings written in 2 s, {answered} answered")
    assert answered <= 100 + 200 * 2 + 100  # burst + rate × 2 s + reads' slack
    assert written > answered + 200  # the client did flood: the rest waits in its buffers
    # Everything written is answered in the end: read later, not dropped.
    async with asyncio.timeout(30):
        while pongs < written:
            await asyncio.sleep(0.1)
    reader.cancel()
    await eve.close()
