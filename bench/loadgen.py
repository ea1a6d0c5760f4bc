"""The load generator shared by the relay baseline and the HappyChat throughput benchmark.

N pairs of clients; each client sends to its pair's room/conversation, keeping `window`
sends in flight (a send is complete when its `ack` arrives), and counts the `message`
frames it receives from its peer. Bodies carry the send time, so the receiver measures
send → receipt latency (sender and receiver live in this one process).
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
    delivered: int
    acked: int
    seconds: float
    latencies_ms: list[float]
    errors: int

    @property
    def rate(self) -> float:
        return self.delivered / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else float("nan")


class Client:
    def __init__(self, name: str, endpoint: Endpoint, window: int) -> None:
        self.name = name
        self.endpoint = endpoint
        self.window = asyncio.Semaphore(window)
        self.ws: Any = None
        self.sent = 0
        self.acked = 0
        self.delivered = 0
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
                    self.acked += 1
                    self.window.release()
                elif kind == "message":
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
    clients = []
    for i, (a, b) in enumerate(endpoints):
        clients += [Client(f"{prefix}{i}a", a, window), Client(f"{prefix}{i}b", b, window)]
    await asyncio.gather(*(c.connect() for c in clients))
    receivers = [asyncio.create_task(c.receive()) for c in clients]
    stop_at = time.monotonic() + warmup + seconds
    senders = [asyncio.create_task(c.send_until(stop_at)) for c in clients]
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
    await asyncio.sleep(0.5)  # let in-flight acks land before closing
    await asyncio.gather(*(c.ws.close() for c in clients), return_exceptions=True)
    await asyncio.gather(*receivers, return_exceptions=True)
    return Result(
        delivered=sum(c.delivered for c in clients),
        acked=sum(c.acked for c in clients),
        seconds=elapsed,
        latencies_ms=[x for c in clients for x in c.latencies],
        errors=sum(c.errors for c in clients),
    )


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
