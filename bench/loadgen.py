"""The one load generator: HappyChat and every peer are driven by this client code.

Clients are grouped into rooms (a pair is a room of 2); each client sends to its room and
counts what the other members' sends bring it. A thin adapter per server speaks its frames
(`Endpoint.protocol`); everything else — windows, timing, counting — is shared:

  happychat  HappyChat's socket: `hello` first, `send` → `ack` to the sender, `message` to
             the others (bench/throughput.py's default target)
  relay      the bare websockets relay: HappyChat's frames, no `hello` (bench/peers/relay.py)
  tutorial   the Channels-tutorial chat: `{"message", "id"}` in, the same echoed to every
             member of the room, the sender included; the sender's own echo is its ack
             (bench/peers/channels_tutorial)
  socketio   socket.io v4 over a plain WebSocket (Engine.IO 4 framing): `chat message`
             events with a socket.io acknowledgement (bench/peers/socketio)

Bodies carry the send time (`perf_counter_ns()`; in open-loop mode the time the send was
due), so every receiver measures send → receipt latency; senders and receivers live in
this one process. In a room of K, one acked send should arrive K - 1 times.

Two ways to load: closed loop (`run_rooms`: every client keeps `window` sends in flight,
so the offered load follows the server's speed) and open loop (`run_open_loop`: sends at a
fixed total rate whatever the server does, latency counted from when each send was due).
`hold_idle` opens many sockets that only keep their heartbeat, for memory and idle CPU.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import websockets

ACK, MESSAGE, ERROR, PING, OTHER = range(5)


@dataclass
class Endpoint:
    """Where one client connects, how it authenticates, and which adapter speaks to it."""

    url: str
    conversation: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    protocol: str = "happychat"


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


@dataclass
class Result:
    delivered: int  # `message` frames received by all clients in the measured seconds
    acked: int  # acks received in the measured seconds
    seconds: float
    latencies_ms: list[float]
    errors: int  # `error` frames over the whole run
    room: int = 2  # members per room; a pair is a room of 2
    acked_total: int = 0  # over the whole run (warm-up, measured seconds, drain)
    delivered_total: int = 0
    sent_total: int = 0
    ack_latencies_ms: list[float] = field(default_factory=list)
    lag_ms: list[float] = field(default_factory=list)  # open loop: how late sends left
    offered_per_s: float = 0.0  # open loop: the rate asked for
    drained: bool = True  # False: still receiving when the drain gave up (missing not final)

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

    @property
    def unanswered(self) -> int:
        """Sends that got neither an ack nor an error by the end of the drain."""
        return max(0, self.sent_total - self.acked_total - self.errors)

    def percentile(self, p: float) -> float:
        return percentile(self.latencies_ms, p)

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
            "max_ms": max(self.latencies_ms, default=float("nan")),
            "ack_p50_ms": percentile(self.ack_latencies_ms, 50),
            "ack_p99_ms": percentile(self.ack_latencies_ms, 99),
            "lag_p99_ms": percentile(self.lag_ms, 99),
            "offered_per_s": self.offered_per_s,
            "errors": self.errors,
            "sent_total": self.sent_total,
            "acked_total": self.acked_total,
            "delivered_total": self.delivered_total,
            "missing": self.missing,
            "unanswered": self.unanswered,
            "drained": self.drained,
        }


class Client:
    """One socket; the subclasses are the adapters (how a send is framed, what a frame is)."""

    handshake_hello = False

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
        self.ack_latencies: list[float] = []
        self.measuring = False
        # Open loop: only sends due in [lo, hi) (ns) are measured; None: closed loop.
        self.due_window: tuple[int, int] | None = None
        self.pending: dict[int, int] = {}  # send number → when it was due (ns)
        self.heartbeat = 0.0

    async def connect(self, attempts: int = 5) -> None:
        """Open the socket and finish the server's handshake; a server busy accepting a burst
        of connections may drop one mid-handshake, so that is retried."""
        for attempt in range(attempts):
            try:
                self.ws = await websockets.connect(
                    self.endpoint.url,
                    additional_headers=self.endpoint.headers,
                    open_timeout=60,
                    max_queue=None,
                    compression=None,
                )
                await self.handshake()
                return
            except (OSError, websockets.InvalidHandshake, websockets.ConnectionClosed):
                if self.ws is not None:
                    await self.ws.close()
                if attempt == attempts - 1:
                    raise
                await asyncio.sleep(0.5 * (attempt + 1))

    async def handshake(self) -> None:
        return None

    # --- the adapter -----------------------------------------------------------------

    def frame(self, n: int, body: str) -> str:
        """The text frame of send number `n` carrying `body`."""
        raise NotImplementedError

    def parse(self, raw: str | bytes) -> tuple[int, int, int]:
        """(kind, send number of an ack/error or 0, send time of a delivery or 0)."""
        raise NotImplementedError

    def ping_frame(self) -> str | None:
        """An application heartbeat to send while idle (None: the server pings)."""
        return None

    # --- shared ----------------------------------------------------------------------

    async def receive(self) -> None:
        try:
            async for raw in self.ws:
                kind, n, sent_ns = self.parse(raw)
                if kind == MESSAGE:
                    self._delivered(sent_ns)
                elif kind == ACK:
                    self._acked(n)
                elif kind == ERROR:
                    self.errors += 1
                    self.pending.pop(n, None)
                    self.window.release()
                elif kind == PING:
                    await self.ws.send("3")
        except websockets.ConnectionClosed:
            pass

    def _delivered(self, sent_ns: int) -> None:
        self.delivered_total += 1
        if self.due_window is not None:
            lo, hi = self.due_window
            if lo <= sent_ns < hi:
                self.delivered += 1
                self.latencies.append((time.perf_counter_ns() - sent_ns) / 1e6)
        elif self.measuring:
            self.delivered += 1
            self.latencies.append((time.perf_counter_ns() - sent_ns) / 1e6)

    def _acked(self, n: int) -> None:
        self.acked_total += 1
        due = self.pending.pop(n, None)
        if self.due_window is not None:
            if due is not None and self.due_window[0] <= due < self.due_window[1]:
                self.acked += 1
                self.ack_latencies.append((time.perf_counter_ns() - due) / 1e6)
        elif self.measuring:
            self.acked += 1
            if due is not None:
                self.ack_latencies.append((time.perf_counter_ns() - due) / 1e6)
        self.window.release()

    async def send_one(self, due_ns: int | None = None) -> None:
        self.sent += 1
        stamp = due_ns if due_ns is not None else time.perf_counter_ns()
        self.pending[self.sent] = stamp
        await self.ws.send(self.frame(self.sent, str(stamp)))

    async def send_until(self, stop_at: float) -> None:
        while time.monotonic() < stop_at:
            await self.window.acquire()
            await self.send_one()


def _number(client_id: str) -> int:
    return int(client_id.rsplit("-", 1)[1])


class HappyChatClient(Client):
    handshake_hello = True

    async def handshake(self) -> None:
        while True:
            frame = json.loads(await self.ws.recv())
            if frame["type"] == "hello":
                self.heartbeat = float(frame.get("heartbeat") or 0)
                return

    def frame(self, n: int, body: str) -> str:
        return json.dumps(
            {
                "type": "send",
                "id": f"{self.name}-{n}",
                "conversation": self.endpoint.conversation,
                "kind": "text",
                "body": body,
            }
        )

    def parse(self, raw: str | bytes) -> tuple[int, int, int]:
        frame = json.loads(raw)
        kind = frame.get("type")
        if kind == "message":
            return MESSAGE, 0, int(frame["message"]["body"])
        if kind == "ack":
            return ACK, _number(frame["id"]), 0
        if kind == "error":
            ref = frame.get("ref")
            return ERROR, _number(ref) if isinstance(ref, str) and "-" in ref else 0, 0
        return OTHER, 0, 0

    def ping_frame(self) -> str | None:
        return '{"type":"ping"}'


class RelayClient(HappyChatClient):
    async def handshake(self) -> None:
        return None

    def ping_frame(self) -> str | None:
        return None


class TutorialClient(Client):
    """The Channels tutorial's frames; the room echoes a message to its sender too."""

    def frame(self, n: int, body: str) -> str:
        return json.dumps({"message": body, "id": f"{self.name}-{n}"})

    def parse(self, raw: str | bytes) -> tuple[int, int, int]:
        frame = json.loads(raw)
        client_id = frame["id"]
        sender, _, n = client_id.rpartition("-")
        if sender == self.name:
            return ACK, int(n), 0
        return MESSAGE, 0, int(frame["message"])


class SocketIOClient(Client):
    """socket.io v4 on the websocket transport: `0{…}` open, `40` connect, `42["ev",…]`
    events, `42<n>[…]`/`43<n>[…]` a request for an acknowledgement and the answer, `2`/`3`
    the server's ping and our pong."""

    async def handshake(self) -> None:
        opened = await self.ws.recv()
        if not str(opened).startswith("0"):
            raise RuntimeError(f"not an Engine.IO open packet: {opened!r}")
        await self.ws.send("40")
        while not str(await self.ws.recv()).startswith("40"):
            pass

    def frame(self, n: int, body: str) -> str:
        return f'42{n}["chat message",{{"id":"{self.name}-{n}","body":"{body}"}}]'

    def parse(self, raw: str | bytes) -> tuple[int, int, int]:
        text = raw if isinstance(raw, str) else raw.decode()
        if text.startswith("42"):
            _, payload = json.loads(text[2:])
            return MESSAGE, 0, int(payload["body"])
        if text.startswith("43"):
            return ACK, int(text[2 : text.index("[")]), 0
        if text == "2":
            return PING, 0, 0
        return OTHER, 0, 0


ADAPTERS: dict[str, type[Client]] = {
    "happychat": HappyChatClient,
    "relay": RelayClient,
    "tutorial": TutorialClient,
    "socketio": SocketIOClient,
}


def make_client(name: str, endpoint: Endpoint, window: int = 1) -> Client:
    return ADAPTERS[endpoint.protocol](name, endpoint, window)


async def connect_all(clients: list[Client], *, batch: int = 50) -> None:
    """Connect in batches: a server accepts at its own pace, and a flood of handshakes only
    times out."""
    for start in range(0, len(clients), batch):
        await asyncio.gather(*(c.connect() for c in clients[start : start + batch]))


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


def _clients(rooms: list[list[Endpoint]], window: int, prefix: str) -> list[list[Client]]:
    return [
        [make_client(f"{prefix}{i}m{j}", member, window) for j, member in enumerate(members)]
        for i, members in enumerate(rooms)
    ]


async def _finish(clients: list[Client], receivers: list[asyncio.Task[None]]) -> bool:
    drained = await drain(clients)
    await asyncio.gather(*(c.ws.close() for c in clients), return_exceptions=True)
    await asyncio.gather(*receivers, return_exceptions=True)
    return drained


def _result(
    by_room: list[list[Client]], sending: list[Client], seconds: float, **extra: Any
) -> Result:
    clients = [c for members in by_room for c in members]
    return Result(
        delivered=sum(c.delivered for c in clients),
        acked=sum(c.acked for c in clients),
        seconds=seconds,
        latencies_ms=[x for c in clients for x in c.latencies],
        errors=sum(c.errors for c in clients),
        room=max(len(members) for members in by_room),
        acked_total=sum(c.acked_total for c in sending),
        delivered_total=sum(c.delivered_total for c in clients),
        sent_total=sum(c.sent for c in sending),
        ack_latencies_ms=[x for c in sending for x in c.ack_latencies],
        **extra,
    )


async def run_rooms(
    rooms: list[list[Endpoint]],
    *,
    seconds: float,
    window: int,
    warmup: float = 1.0,
    prefix: str = "c",
    senders_per_room: int | None = None,
    on_measure: Callable[[bool], Awaitable[None]] | None = None,
) -> Result:
    """Closed loop: drive every member of every room for `warmup` + `seconds`, each keeping
    `window` sends in flight to its room; count what arrives in the last `seconds`, then
    drain. `senders_per_room`: only the first so many members of each room send (all by
    default); the others only receive. `on_measure(True/False)` is awaited as the measured
    seconds start and end (to read server counters)."""
    by_room = _clients(rooms, window, prefix)
    clients = [c for members in by_room for c in members]
    sending = [c for members in by_room for c in members[:senders_per_room]]
    await connect_all(clients)
    receivers = [asyncio.create_task(c.receive()) for c in clients]
    stop_at = time.monotonic() + warmup + seconds
    senders = [asyncio.create_task(c.send_until(stop_at)) for c in sending]
    await asyncio.sleep(warmup)
    if on_measure is not None:
        await on_measure(True)
    for c in clients:
        c.measuring = True
    started = time.monotonic()
    await asyncio.sleep(seconds)
    for c in clients:
        c.measuring = False
    elapsed = time.monotonic() - started
    if on_measure is not None:
        await on_measure(False)
    for t in senders:
        t.cancel()
    await asyncio.gather(*senders, return_exceptions=True)
    drained = await _finish(clients, receivers)
    return _result(by_room, sending, elapsed, drained=drained)


async def run_open_loop(
    rooms: list[list[Endpoint]],
    *,
    rate: float,
    seconds: float,
    warmup: float = 2.0,
    prefix: str = "o",
    on_measure: Callable[[bool], Awaitable[None]] | None = None,
) -> Result:
    """Open loop: every member of every room sends in turn, `rate` sends a second in total,
    whether or not earlier sends were answered. Latency counts from when a send was due, so
    a stalled server (or load generator) shows in it instead of slowing the offered load."""
    by_room = _clients(rooms, 1, prefix)
    clients = [c for members in by_room for c in members]
    await connect_all(clients)
    receivers = [asyncio.create_task(c.receive()) for c in clients]
    order = clients[:]
    random.Random(1).shuffle(order)
    interval = 1e9 / rate
    start = time.perf_counter_ns() + 100_000_000
    lo, hi = start + int(warmup * 1e9), start + int((warmup + seconds) * 1e9)
    for c in clients:
        c.due_window = (lo, hi)
    total = int(rate * (warmup + seconds))
    lag: list[float] = []
    measuring = False
    k = 0
    while k < total:
        due = start + int(k * interval)
        now = time.perf_counter_ns()
        if due > now:
            await asyncio.sleep((due - now) / 1e9)
            continue
        if not measuring and due >= lo:
            measuring = True
            if on_measure is not None:
                await on_measure(True)
        if lo <= due < hi:
            lag.append((now - due) / 1e6)
        await order[k % len(order)].send_one(due)
        k += 1
    if on_measure is not None:
        await on_measure(False)
    drained = await _finish(clients, receivers)
    return _result(by_room, clients, seconds, lag_ms=lag, offered_per_s=rate, drained=drained)


async def hold_idle(
    endpoints: list[Endpoint],
    *,
    settle: float,
    measure: Callable[[], Awaitable[None]],
    batch: int = 50,
) -> int:
    """Open one socket per endpoint, keep each one's heartbeat (HappyChat's `ping` frame every
    `heartbeat` seconds, at evenly spread phases; the peers' servers ping on their own), wait
    `settle` seconds, await `measure()`, then close them all. Returns the sockets opened."""
    clients = [make_client(f"idle{i}", ep) for i, ep in enumerate(endpoints)]
    await connect_all(clients, batch=batch)
    receivers = [asyncio.create_task(c.receive()) for c in clients]

    async def heartbeats() -> None:
        beating = [c for c in clients if c.ping_frame() and c.heartbeat]
        if not beating:
            return
        period = beating[0].heartbeat
        started = time.monotonic()
        k = 0
        while True:
            due = started + k * period / len(beating)
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            c = beating[k % len(beating)]
            await c.ws.send(c.ping_frame())
            k += 1

    beat = asyncio.create_task(heartbeats())
    try:
        await asyncio.sleep(settle)
        await measure()
    finally:
        beat.cancel()
        await asyncio.gather(beat, return_exceptions=True)
        for start in range(0, len(clients), 500):
            await asyncio.gather(
                *(c.ws.close() for c in clients[start : start + 500]), return_exceptions=True
            )
        await asyncio.gather(*receivers, return_exceptions=True)
    return len(clients)


async def drain(clients: list[Client], *, quiet: float = 1.0, limit: float = 90.0) -> bool:
    """Wait until no ack or message has arrived for `quiet` seconds (at most `limit`), so
    that every in-flight ack and every delivery the server will still make has landed.
    False if the server was still sending at the limit (then `missing` is not final)."""
    last, quiet_since = -1, time.monotonic()
    deadline = quiet_since + limit
    while time.monotonic() < deadline:
        total = sum(c.acked_total + c.delivered_total for c in clients)
        if total != last:
            last, quiet_since = total, time.monotonic()
        elif time.monotonic() - quiet_since >= quiet:
            return True
        await asyncio.sleep(0.1)
    return False


def room_count(clients: int, room: int) -> int:
    """How many rooms of `room` members `clients` make (`--clients 40 --room 10` → 4)."""
    if room < 2 or clients < room or clients % room:
        raise SystemExit(f"--clients {clients} must be a positive multiple of --room {room} (≥ 2)")
    return clients // room


def table(rows: list[tuple[str, str]], title: str) -> str:
    width = max(len(k) for k, _ in rows)
    lines = [title, "-" * len(title)]
    lines += [f"{k.ljust(width)}  {v}" for k, v in rows]
    return "\n".join(lines)


def cpu_note() -> str:
    return f"{os.cpu_count()} CPU(s); load generator and server share them"
