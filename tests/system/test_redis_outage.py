"""A Redis blip drops no one (docs/faults.md): two daphnes on PostgreSQL + Redis, clients
sending and pinging on both, redis-server stopped for 20 s and started again (its memory
lost), or hung (SIGSTOP) for 8 s and continued.

Every socket stays open, every send is answered (ack, or a retryable `busy`), every ping
gets its pong, new sockets are accepted during the outage, live delivery between the two
processes is back within 10 s of Redis returning, and nothing acked is lost (each device's
transcript after a final `sync` equals the database); every socket is told to `resync`.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import websockets

from tests.servers import Redis
from tests.system.conftest import Site
from tests.system.wsclient import WS, auth_headers

BACK_WITHIN_SECONDS = 10.0
ANSWER_WITHIN_SECONDS = 5.0


class Device:
    """One socket that sends to a conversation every 0.25 s and pings every second."""

    def __init__(self, name: str, url: str, token: str, conversation: int) -> None:
        self.name, self.url, self.token, self.conversation = name, url, token, conversation
        self.conn: Any = None
        self.sent: dict[str, float] = {}
        self.acked: dict[str, dict[str, Any]] = {}
        self.answer_delays: list[float] = []
        self.pong_delays: list[float] = []
        self.received: dict[str, float] = {}  # client id of a live message → when it came
        self.transcript: dict[int, dict[str, Any]] = {}
        self.problems: list[str] = []
        self.busy = 0
        self.resyncs: list[float] = []
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._pong: asyncio.Future[None] | None = None

    async def open(self) -> None:
        self.conn = await websockets.connect(
            self.url, additional_headers=auth_headers(self.token), max_size=2**22
        )
        hello = json.loads(await asyncio.wait_for(self.conn.recv(), 10))
        assert hello["type"] == "hello"

    async def reader(self) -> None:
        try:
            async for raw in self.conn:
                frame = json.loads(raw)
                kind = frame["type"]
                if kind == "message":
                    message = frame["message"]
                    self.transcript[message["seq"]] = message
                    self.received.setdefault(message["client_id"], time.monotonic())
                elif (
                    kind in ("ack", "error") and frame.get("id", frame.get("ref")) in self._waiting
                ):
                    self._waiting.pop(frame.get("id", frame.get("ref"))).set_result(frame)
                elif kind == "event" and frame["event"] == "resync":
                    self.resyncs.append(time.monotonic())
                elif kind == "pong" and self._pong is not None and not self._pong.done():
                    self._pong.set_result(None)
                elif kind == "error":
                    self.problems.append(f"{self.name}: unexpected {frame}")
        except websockets.ConnectionClosed as exc:
            self.problems.append(f"{self.name}: socket closed {exc.rcvd}")

    async def send_loop(self, stop: asyncio.Event) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            client_id = f"{self.name}-{n}"
            while True:  # until acked: a `busy` is retried with the same id
                future = asyncio.get_running_loop().create_future()
                self._waiting[client_id] = future
                started = time.monotonic()
                self.sent.setdefault(client_id, started)
                await self.conn.send(
                    json.dumps(
                        {
                            "type": "send",
                            "id": client_id,
                            "conversation": self.conversation,
                            "body": f"body {client_id}",
                        }
                    )
                )
                try:
                    answer = await asyncio.wait_for(future, ANSWER_WITHIN_SECONDS)
                except TimeoutError:
                    self.problems.append(f"{self.name}: no answer to {client_id}")
                    return
                self.answer_delays.append(time.monotonic() - started)
                if answer["type"] == "ack":
                    self.acked[client_id] = answer["message"]
                    self.transcript[answer["message"]["seq"]] = answer["message"]
                    break
                if answer.get("retryable"):
                    self.busy += 1
                    await asyncio.sleep(0.2)
                    continue
                self.problems.append(f"{self.name}: {client_id} refused: {answer}")
                break
            await asyncio.sleep(0.25)

    async def ping_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._pong = asyncio.get_running_loop().create_future()
            started = time.monotonic()
            await self.conn.send(json.dumps({"type": "ping"}))
            try:
                await asyncio.wait_for(self._pong, ANSWER_WITHIN_SECONDS)
            except TimeoutError:
                self.problems.append(f"{self.name}: no pong")
                return
            self.pong_delays.append(time.monotonic() - started)
            await asyncio.sleep(1.0)

    async def final_sync(self) -> None:
        """Sync on a fresh socket until nothing is missing."""
        ws = await WS.open(self.url, self.token)
        try:
            while True:
                cursor = 0
                while cursor + 1 in self.transcript:
                    cursor += 1
                messages, synced = await ws.sync({self.conversation: cursor})
                for frame in messages:
                    self.transcript[frame["message"]["seq"]] = frame["message"]
                top = synced["cursors"][str(self.conversation)]
                if all(seq in self.transcript for seq in range(1, top + 1)):
                    return
        finally:
            await ws.close()


def faults(redis: Redis) -> dict[str, tuple[float, Callable[[], None], Callable[[], None]]]:
    """Outage length, how it starts and how it ends."""
    assert redis.proc is not None
    pid = redis.proc.pid
    return {
        "stopped": (20.0, redis.kill, redis.start),
        "hung": (8.0, lambda: os.kill(pid, signal.SIGSTOP), lambda: os.kill(pid, signal.SIGCONT)),
    }


@pytest.mark.parametrize("fault", ["stopped", "hung"])
async def test_a_redis_outage_drops_no_one(scaleout_site: Site, redis_server: Redis, fault: str):
    site = scaleout_site
    outage_seconds, break_redis, mend_redis = faults(redis_server)[fault]
    world = site.seed(users=["ann", "ben", "cat", "dan"], friends=[["ann", "ben"], ["cat", "dan"]])
    one, two = site.daphne(), site.daphne()
    tok = {name: u["token"] for name, u in world["users"].items()}
    ab, cd = world["direct"]["ann:ben"], world["direct"]["cat:dan"]
    devices = {
        "ann": Device("ann", one.ws_url, tok["ann"], ab),
        "ben": Device("ben", two.ws_url, tok["ben"], ab),
        "cat": Device("cat", two.ws_url, tok["cat"], cd),
        "dan": Device("dan", one.ws_url, tok["dan"], cd),
    }
    peer = {"ann": "ben", "ben": "ann", "cat": "dan", "dan": "cat"}
    for device in devices.values():
        await device.open()
    stop = asyncio.Event()
    tasks = [asyncio.create_task(d.reader()) for d in devices.values()]
    work = [
        asyncio.create_task(loop(stop))
        for d in devices.values()
        for loop in (d.send_loop, d.ping_loop)
    ]
    await asyncio.sleep(3)
    await asyncio.to_thread(break_redis)
    down_at = time.monotonic()
    await asyncio.sleep(outage_seconds / 2)
    # New sockets are accepted on both processes while Redis is away, and the throttled
    # log-in (its counts live in the cache) answers as usual instead of 500.
    for server in (one, two):
        fresh = await WS.open(server.ws_url, tok["ann"])
        await fresh.request({"type": "ping"}, "pong")
        await fresh.close()
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as api:
            wrong = await api.post("/api/v1/auth/token/", json={"username": "ann", "password": "x"})
        assert (wrong.status_code, wrong.json()["code"]) == (400, "invalid_credentials")
    await asyncio.sleep(outage_seconds - (time.monotonic() - down_at))
    await asyncio.to_thread(mend_redis)
    up_at = time.monotonic()
    await asyncio.sleep(BACK_WITHIN_SECONDS + 5)
    stop.set()
    await asyncio.gather(*work)
    for device in devices.values():
        await device.conn.close()
    await asyncio.gather(*tasks)

    problems = [p for d in devices.values() for p in d.problems if "closed 1000" not in p]
    assert problems == []
    # Live delivery across the two processes: what was acked after Redis had been back
    # for 10 s reached the peer live; report when the first one after the restart did.
    first_live_after_up = []
    for name, device in devices.items():
        other = devices[peer[name]]
        late = [c for c, t in device.sent.items() if t >= up_at + BACK_WITHIN_SECONDS]
        late = [c for c in late if c in device.acked]
        assert late, f"{name} sent nothing after Redis returned"
        missing = [c for c in late if c not in other.received]
        assert missing == [], f"{name} → {peer[name]}: not delivered live: {missing}"
        back = [other.received[c] - up_at for c in device.acked if other.received.get(c, 0) > up_at]
        first_live_after_up.append(min(back))
    during = [
        c
        for d in devices.values()
        for c, t in d.sent.items()
        if down_at + 1 < t < up_at and c in d.acked
    ]
    acked = sum(len(d.acked) for d in devices.values())
    print(
        f"redis {fault} {outage_seconds:.0f} s: {acked} acked ({len(during)} during the "
        f"outage), busy answers {sum(d.busy for d in devices.values())}, "
        f"slowest answer {max(x for d in devices.values() for x in d.answer_delays):.2f} s, "
        f"slowest pong {max(x for d in devices.values() for x in d.pong_delays):.2f} s, "
        f"live delivery back {max(first_live_after_up):.1f} s after Redis returned"
    )
    assert during, "nothing was acked while Redis was away"
    assert max(first_live_after_up) <= BACK_WITHIN_SECONDS
    # Every socket was asked to sync what was not pushed live meanwhile.
    for device in devices.values():
        # (Redis may answer the first probe before the test has noted that it is up.)
        assert [t for t in device.resyncs if down_at < t <= up_at + BACK_WITHIN_SECONDS]

    # Nothing acked is lost: after a final sync each device holds exactly the database.
    stored = site.dump([ab, cd])["messages"]
    by_client = {(m["conversation"], m["client_id"]): m for m in stored}
    for device in devices.values():
        for client_id, ack in device.acked.items():
            row = by_client[(device.conversation, client_id)]
            assert (row["id"], row["seq"]) == (ack["id"], ack["seq"])
        await device.final_sync()
        expected = {m["seq"]: m["id"] for m in stored if m["conversation"] == device.conversation}
        assert {seq: m["id"] for seq, m in device.transcript.items()} == expected
