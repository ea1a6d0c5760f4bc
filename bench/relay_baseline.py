"""Baseline: a bare `websockets` relay (ack the sender, forward to the room's other clients),
driven by the same load generator as bench/throughput.py.

    .venv/bin/python bench/relay_baseline.py [--pairs 20] [--seconds 5] [--window 8]

The relay runs in its own process (like daphne would), on a free loopback port, and is
stopped by its pid at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loadgen import Endpoint, Result, cpu_note, run_pairs, table
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
    proc, port = start_relay()
    try:
        endpoints = [
            (
                Endpoint(f"ws://127.0.0.1:{port}/room/{i}", i),
                Endpoint(f"ws://127.0.0.1:{port}/room/{i}", i),
            )
            for i in range(pairs)
        ]
        return asyncio.run(run_pairs(endpoints, seconds=seconds, window=window))
    finally:
        stop_pid(proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--window", type=int, default=8, help="sends in flight per client")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve))
        return
    result = measure(args.pairs, args.seconds, args.window)
    print(
        table(
            [
                ("pairs × window", f"{args.pairs} × {args.window}"),
                ("delivered msg/s", f"{result.rate:,.0f}"),
                ("latency p50 / p99", f"{result.p50:.1f} / {result.percentile(99):.1f} ms"),
                ("machine", cpu_note()),
            ],
            "bare websockets relay",
        )
    )


if __name__ == "__main__":
    main()
