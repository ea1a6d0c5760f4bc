"""The load generator shared by the relay baseline and the HappyChat throughput benchmark.

Clients are grouped into rooms (a pair is a room of 2); each client sends to its room's
room/conversation, keeping `window` sends in flight (a send is complete when its `ack`
arrives), and counts the `message` frames it receives from the other members. Bodies carry
the send time, so every receiver measures send → receipt latency (senders and receivers
live in this one process). In a room of K, one acked send should arrive K - 1 times.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import websockets


@dataclass
class Endpoint:
    """Where one client connects, how it authenticates, and what it sends to."""

    url: str
    conversation: int
    headers: dict[str, str] = field(default_factory=dict)
    hello: bool = False  # wait for a `hello` frame first (HappyChat does, the relay not)


@dataclass
class Result:
    delivered: int  # `message` frames received by all clients in the measured seconds
    acked: int  # `ack` frames received in the measured seconds
    seconds: float
    latencies_ms: list[float]
    errors: int  # `error` frames over the whole run
    room: int = 2  # members per room; a pair is a room of 2
    acked_total: int = 0  # over the whole run (warm-up, measured seconds, drain)
    delivered_total: int = 0

    @property
    def rate(self) -> float:
        return self.delivered / self.seconds if self.seconds else 0.0

    @property
    def acked_rate(self) -> float:
        return self.acked / self.seconds if self.seconds else 0.0

    @property
    def fanout(self) -> float:
        """Deliveries per acked send in the measured seconds; close to room - 1 unless the
        deliveries lag behind the acks (a backlog grows) or some are lost."""
        return self.delivered / self.acked if self.acked else 0.0

    @property
    def missing(self) -> int:
        """Deliveries owed for every acked send (room - 1 each) that never arrived, counted
        over the whole run after the drain; the server dropped them (or they are very late)."""
        return self.acked_total * (self.room - 1) - self.delivered_total

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else float("nan")

    def summary(self) -> dict[str, Any]:
        """The figures the benchmark tables quote, as plain JSON."""
        return {
            "room": self.room,
            "delivered": self.delivered,
            "acked": self.acked,
            "seconds": self.seconds,
            "delivered_per_s": self.rate,
            "acked_per_s": self.acked_rate,
            "fanout": self.fanout,
            "p50_ms": self.p50,
            "p99_ms": self.percentile(99),
            "errors": self.errors,
            "acked_total": self.acked_total,
            "delivered_total": self.delivered_total,
            "missing": self.missing,
        }


class Client:
    def __init__(self, name: str, endpoint: Endpoint, window: int) -> None:
        self.name = name
        self.endpoint = endpoint
        self.window = asyncio.Semaphore(window)
        self.ws: Any = None
        self.sent = 0
        self.acked = 0
        self.delivered = 0
        self.acked_total = 0
        self.delivered_total = 0
        self.errors = 0
        self.latencies: list[float] = []
        self.measuring = False

    async def connect(self) -> None:
        self.ws = await websockets.connect(
            self.endpoint.url,
            additional_headers=self.endpoint.headers,
            open_timeout=30,
            max_queue=None,
            compression=None,
        )
        if self.endpoint.hello:
            while json.loads(await self.ws.recv())["type"] != "hello":
                pass

    async def receive(self) -> None:
        try:
            async for raw in self.ws:
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "ack":
                    self.acked_total += 1
                    if self.measuring:
                        self.acked += 1
                    self.window.release()
                elif kind == "message":
                    self.delivered_total += 1
                    if self.measuring:
                        self.delivered += 1
                        sent_ns = int(frame["message"]["body"])
                        self.latencies.append((time.perf_counter_ns() - sent_ns) / 1e6)
                elif kind == "error":
                    self.errors += 1
                    self.window.release()
        except websockets.ConnectionClosed:
            pass

    async def send_until(self, stop_at: float) -> None:
        conv = self.endpoint.conversation
        while time.monotonic() < stop_at:
            await self.window.acquire()
            self.sent += 1
            await self.ws.send(
                json.dumps(
                    {
                        "type": "send",
                        "id": f"{self.name}-{self.sent}",
                        "conversation": conv,
                        "kind": "text",
                        "body": str(time.perf_counter_ns()),
                    }
                )
            )


async def run_pairs(
    endpoints: list[tuple[Endpoint, Endpoint]],
    *,
    seconds: float,
    window: int,
    warmup: float = 1.0,
    prefix: str = "c",
) -> Result:
    """Drive every pair for `warmup` + `seconds`; count what arrives in the last `seconds`."""
    return await run_rooms(
        [list(pair) for pair in endpoints],
        seconds=seconds,
        window=window,
        warmup=warmup,
        prefix=prefix,
    )


async def run_rooms(
    rooms: list[list[Endpoint]],
    *,
    seconds: float,
    window: int,
    warmup: float = 1.0,
    prefix: str = "c",
    senders_per_room: int | None = None,
) -> Result:
    """Drive every member of every room for `warmup` + `seconds`, each sending to its room;
    count what arrives in the last `seconds`, then drain. `senders_per_room`: only the first
    so many members of each room send (all by default); the others only receive."""
    by_room = [
        [Client(f"{prefix}{i}m{j}", member, window) for j, member in enumerate(members)]
        for i, members in enumerate(rooms)
    ]
    clients = [c for members in by_room for c in members]
    sending = [c for members in by_room for c in members[:senders_per_room]]
    await asyncio.gather(*(c.connect() for c in clients))
    receivers = [asyncio.create_task(c.receive()) for c in clients]
    stop_at = time.monotonic() + warmup + seconds
    senders = [asyncio.create_task(c.send_until(stop_at)) for c in sending]
    await asyncio.sleep(warmup)
    for c in clients:
        c.measuring = True
    started = time.monotonic()
    await asyncio.sleep(seconds)
    for c in clients:
        c.measuring = False
    elapsed = time.monotonic() - started
    for t in senders:
        t.cancel()
    await asyncio.gather(*senders, return_exceptions=True)
    await drain(clients)
    await asyncio.gather(*(c.ws.close() for c in clients), return_exceptions=True)
    await asyncio.gather(*receivers, return_exceptions=True)
    return Result(
        delivered=sum(c.delivered for c in clients),
        acked=sum(c.acked for c in clients),
        seconds=elapsed,
        latencies_ms=[x for c in clients for x in c.latencies],
        errors=sum(c.errors for c in clients),
        room=max(len(members) for members in rooms),
        acked_total=sum(c.acked_total for c in sending),
        delivered_total=sum(c.delivered_total for c in clients),
    )


async def drain(clients: list[Client], *, quiet: float = 1.0, limit: float = 15.0) -> None:
    """Wait until no ack or message has arrived for `quiet` seconds (at most `limit`), so
    that every in-flight ack and every delivery the server will still make has landed."""
    last, quiet_since = -1, time.monotonic()
    deadline = quiet_since + limit
    while time.monotonic() < deadline:
        total = sum(c.acked_total + c.delivered_total for c in clients)
        if total != last:
            last, quiet_since = total, time.monotonic()
        elif time.monotonic() - quiet_since >= quiet:
            return
        await asyncio.sleep(0.1)


def room_count(clients: int, room: int) -> int:
    """How many rooms of `room` members `clients` make (`--clients 40 --room 10` → 4)."""
    if room < 2 or clients < room or clients % room:
        raise SystemExit(f"--clients {clients} must be a positive multiple of --room {room} (≥ 2)")
    return clients // room


def rss_kib(pid: int) -> int:
    """Resident set size of a process, in KiB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def table(rows: list[tuple[str, str]], title: str) -> str:
    width = max(len(k) for k, _ in rows)
    lines = [title, "-" * len(title)]
    lines += [f"{k.ljust(width)}  {v}" for k, v in rows]
    return "\n".join(lines)


def cpu_note() -> str:
    return f"{os.cpu_count()} CPU(s); load generator and server share them"
