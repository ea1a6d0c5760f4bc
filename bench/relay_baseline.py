"""Baseline: a bare `websockets` relay (ack the sender, forward to the room's other clients),
driven by the same load generator as bench/throughput.py.

    .venv/bin/python bench/relay_baseline.py [--pairs 20] [--seconds 5] [--window 8]
    .venv/bin/python bench/relay_baseline.py --room 10 [--clients 40] [--window 4]

Pairs mode (default): every pair is a room of 2. `--room K`: the clients are grouped into
rooms of K members (`--clients 40 --room 10` → 4 rooms), and every send is broadcast to the
room's K - 1 other members. The relay runs in its own process (like daphne would), on a
free loopback port, and is stopped by its pid at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loadgen import Endpoint, Result, cpu_note, room_count, run_rooms, table
from tests.servers import free_port, stop_pid, wait_for_port


async def serve(port: int) -> None:
    """The relay: every path is a room; a frame is acked and forwarded to the others."""
    import websockets
    from websockets.asyncio.server import ServerConnection, broadcast

    rooms: dict[str, set[ServerConnection]] = {}

    async def handler(ws: ServerConnection) -> None:
        room = rooms.setdefault(ws.request.path, set())
        room.add(ws)
        try:
            async for raw in ws:
                frame = json.loads(raw)
                message = {
                    "id": frame["id"],
                    "conversation": frame["conversation"],
                    "body": frame["body"],
                }
                await ws.send(json.dumps({"type": "ack", "id": frame["id"], "message": message}))
                broadcast(room - {ws}, json.dumps({"type": "message", "message": message}))
        finally:
            room.discard(ws)

    async with websockets.serve(handler, "127.0.0.1", port, compression=None, max_queue=None):
        await asyncio.Future()


def start_relay() -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(port)])
    wait_for_port(port, proc=proc)
    return proc, port


def measure(pairs: int, seconds: float, window: int) -> Result:
    """Pairs mode: `pairs` rooms of 2."""
    return measure_rooms(2 * pairs, 2, seconds, window)


def measure_rooms(clients: int, room: int, seconds: float, window: int) -> Result:
    """`clients` clients in rooms of `room`; the K members of room i all connect to /room/i."""
    proc, port = start_relay()
    try:
        rooms = [
            [Endpoint(f"ws://127.0.0.1:{port}/room/{i}", i) for _ in range(room)]
            for i in range(room_count(clients, room))
        ]
        return asyncio.run(run_rooms(rooms, seconds=seconds, window=window))
    finally:
        stop_pid(proc)


def rows(result: Result, label: str) -> list[tuple[str, str]]:
    counted = f"({result.delivered:,} in {result.seconds:.1f} s)"
    return [
        ("mode", label),
        ("delivered msg/s", f"{result.rate:,.0f}  {counted}"),
        ("acked sends/s", f"{result.acked_rate:,.0f}"),
        ("deliveries per send", f"{result.fanout:.2f}  (expected {result.room - 1})"),
        (
            "missing after drain",
            f"{result.missing:,} of {result.acked_total * (result.room - 1):,} deliveries",
        ),
        ("latency p50 / p99", f"{result.p50:.1f} / {result.percentile(99):.1f} ms"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--window", type=int, default=8, help="sends in flight per client")
    parser.add_argument("--room", type=int, default=0, help="members per room (0: pairs mode)")
    parser.add_argument("--clients", type=int, default=40, help="clients in room mode")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve))
        return
    if args.room:
        result = measure_rooms(args.clients, args.room, args.seconds, args.window)
        label = f"{args.clients // args.room} rooms of {args.room} × window {args.window}"
    else:
        result = measure(args.pairs, args.seconds, args.window)
        label = f"{args.pairs} pairs × window {args.window}"
    print(table([*rows(result, label), ("machine", cpu_note())], "bare websockets relay"))


if __name__ == "__main__":
    main()
