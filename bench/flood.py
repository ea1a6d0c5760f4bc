"""One hostile socket against everyone else: others' latency with and without a flood.

    .venv/bin/python bench/flood.py [--pairs 10] [--rate 100] [--seconds 10]
        [--floods send,write-only,sync] [--scaleout] [--json FILE]

HappyChat runs with its default rate limits (unlike the throughput benchmarks), because
what protects the others is exactly those limits and the socket bounds. `--pairs` pairs of
friends chat in their direct conversations at `--rate` messages/s in total (open loop,
latency counted from when each send was due); first alone (the baseline), then while one
more user floods from a socket of their own:

  send        `send` frames as fast as the socket takes them, reading every answer; when
              the server closes it (4029), it reconnects and goes on
  write-only  4 KB `send` frames, never reading an answer (the socket's output backs up)
  sync        `sync` of a 200-message conversation from seq 0, over and over, reading
  connect     opens a socket, waits for `hello`, closes it, over and over

The table shows the chatting pairs' p50/p95/p99 in each phase, the p95's ratio to the
baseline (issue 13's bound: within 2×), deliveries missing after the drain (must be 0),
and what the flooder achieved. Everything started is stopped by its pid.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loadgen import Endpoint, cpu_note, run_open_loop, table
from bench.procs import cpu_seconds, load_average
from bench.targets import HappyChat, Workload

FLOODS = ("send", "write-only", "sync", "connect")
HISTORY = 200  # messages in the flooder's conversation, what one sync of it returns


class Flooder:
    """One user's socket(s) flooding one way until stopped; counts what it did."""

    def __init__(self, kind: str, endpoint: Endpoint) -> None:
        self.kind = kind
        self.endpoint = endpoint
        self.frames = 0  # frames written
        self.answers = 0  # frames read
        self.closes: dict[int, int] = {}  # close code → times
        self.refused = 0  # connections that failed before the WebSocket opened
        self.stopping = asyncio.Event()

    async def _open(self, max_queue: int | None) -> Any:
        ws = await websockets.connect(
            self.endpoint.url,
            additional_headers=self.endpoint.headers,
            max_queue=max_queue,
            compression=None,
        )
        while json.loads(await ws.recv())["type"] != "hello":
            pass
        return ws

    async def run(self) -> None:
        while not self.stopping.is_set():
            try:
                if self.kind == "write-only":
                    await self._write_only()
                elif self.kind == "connect":
                    ws = await self._open(None)
                    self.frames += 1
                    await ws.close()
                    continue
                else:
                    await self._read_and_write()
            except websockets.ConnectionClosed as exc:
                # Closed before `hello` (a user cooling down after 4029 is closed at once).
                self._count_close(exc.rcvd.code if exc.rcvd else None)
            except (OSError, websockets.InvalidHandshake, TimeoutError):
                self.refused += 1
                await asyncio.sleep(0.5)
            if not self.stopping.is_set():
                await asyncio.sleep(0.2)  # then reconnect, as a hostile script would

    def _count_close(self, code: int | None) -> None:
        code = code or 1006  # no close frame: the connection was dropped
        self.closes[code] = self.closes.get(code, 0) + 1

    def _closed(self, ws: Any) -> None:
        self._count_close(ws.close_code)

    def _frame(self) -> str:
        conversation = self.endpoint.conversation
        if self.kind == "sync":
            return json.dumps({"type": "sync", "cursors": {str(conversation): 0}, "limit": 200})
        body = "x" * (4000 if self.kind == "write-only" else 20)
        return json.dumps(
            {"type": "send", "id": f"f{time.perf_counter_ns()}-{self.frames}",
             "conversation": conversation, "body": body}
        )  # fmt: skip

    async def _read_and_write(self) -> None:
        ws = await self._open(None)

        async def read() -> None:
            with contextlib.suppress(websockets.ConnectionClosed):
                async for _ in ws:
                    self.answers += 1

        reader = asyncio.create_task(read())
        try:
            while not self.stopping.is_set() and not reader.done():
                await ws.send(self._frame())
                self.frames += 1
                if self.frames % 20 == 0:
                    await asyncio.sleep(0)  # let the reader run
        except websockets.ConnectionClosed:
            pass
        finally:
            if not self.stopping.is_set():
                await reader
                self._closed(ws)
            await ws.close()
            reader.cancel()
            with contextlib.suppress(BaseException):
                await reader

    async def _write_only(self) -> None:
        ws = await self._open(1)  # reads at most one frame ahead: it never reads
        try:
            while not self.stopping.is_set():
                # A write that does not complete within a second: the server stopped reading
                # (the frame stays buffered here; try again).
                try:
                    await asyncio.wait_for(ws.send(self._frame()), 1.0)
                except TimeoutError:
                    continue
                self.frames += 1
        except websockets.ConnectionClosed:
            self._closed(ws)
        finally:
            ws.transport.abort()

    def summary(self) -> str:
        closes = ", ".join(f"{n}× {code}" for code, n in sorted(self.closes.items()))
        return f"{self.frames} frames written, {self.answers} read; closed: {closes or 'never'}" + (
            f"; {self.refused} connections refused" if self.refused else ""
        )


async def fill(endpoint: Endpoint, n: int) -> None:
    """Give the flooder's conversation `n` messages (at the send rate limit's pace)."""
    ws = await websockets.connect(endpoint.url, additional_headers=endpoint.headers)
    try:
        sent = 0
        while sent < n:
            frame = {"type": "send", "id": f"fill-{sent}", "conversation": endpoint.conversation,
                     "body": f"history {sent}"}  # fmt: skip
            await ws.send(json.dumps(frame))
            while True:
                answer = json.loads(await ws.recv())
                if answer.get("ref") == frame["id"] or answer.get("id") == frame["id"]:
                    break
            if answer["type"] == "ack":
                sent += 1
            else:
                await asyncio.sleep(float(answer.get("retry_after") or 0.5))
    finally:
        await ws.close()


async def flood_alone(kind: str, endpoint: Endpoint) -> None:
    """The flooder's own process (so its loop does not slow the load generator's): floods
    until SIGTERM, then prints what it did as JSON."""
    # Lowest priority: on a shared 2-CPU machine the flooder's own spinning would otherwise
    # take the CPU the server needs; a real flooder runs on a machine of its own.
    os.nice(19)
    flooder = Flooder(kind, endpoint)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, flooder.stopping.set)
    task = asyncio.create_task(flooder.run())
    await flooder.stopping.wait()
    task.cancel()
    with contextlib.suppress(BaseException):
        await task
    print(json.dumps({"summary": flooder.summary()}), flush=True)


def start_flooder(kind: str, endpoint: Endpoint) -> subprocess.Popen[str]:
    spec = {"kind": kind, "url": endpoint.url, "conversation": endpoint.conversation,
            "headers": endpoint.headers}  # fmt: skip
    return subprocess.Popen(
        [sys.executable, __file__, "--flooder", json.dumps(spec)],
        stdout=subprocess.PIPE,
        text=True,
    )


def stop_flooder(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    try:
        out, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        return "did not stop"
    lines = [line for line in out.splitlines() if line.startswith("{")]
    return str(json.loads(lines[-1])["summary"]) if lines else "no report"


async def measure(chat: list[list[Endpoint]], rate: float, seconds: float, n: int) -> Any:
    # A prefix per phase: client message ids repeated in a later phase would be retries.
    return await run_open_loop(chat, rate=rate, seconds=seconds, prefix=f"o{n}x")


def phase(
    server: HappyChat, chat: list[list[Endpoint]], rate: float, seconds: float,
    kind: str | None, flooder_end: Endpoint | None, n: int,
) -> dict[str, Any]:  # fmt: skip
    proc = None
    if kind is not None and flooder_end is not None:
        proc = start_flooder(kind, flooder_end)
        time.sleep(2.0)  # the flood is in full swing before measuring
    daphnes = server.components()["daphne"]
    cpu0, t0 = cpu_seconds(daphnes), time.monotonic()
    try:
        result = asyncio.run(measure(chat, rate, seconds, n))
        cpu = (cpu_seconds(daphnes) - cpu0) / (time.monotonic() - t0)
    finally:
        report = stop_flooder(proc) if proc is not None else ""
    return {
        "flood": kind or "none (baseline)",
        "p50_ms": result.percentile(50),
        "p95_ms": result.percentile(95),
        "p99_ms": result.percentile(99),
        "delivered": result.delivered,
        "missing": result.missing,
        "lag_p99_ms": result.summary()["lag_p99_ms"],
        "errors": result.errors,
        "daphne_cpu": cpu,
        "flooder": report,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=10)
    parser.add_argument("--rate", type=float, default=100.0, help="chatting msg/s in total")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured per phase")
    parser.add_argument("--floods", default=",".join(FLOODS))
    parser.add_argument("--scaleout", action="store_true", help="PostgreSQL + Redis, 2 daphnes")
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument("--flooder", help=argparse.SUPPRESS)  # the flooder's own process
    args = parser.parse_args()
    if args.flooder:
        spec = json.loads(args.flooder)
        end = Endpoint(spec["url"], spec["conversation"], spec["headers"])
        asyncio.run(flood_alone(spec["kind"], end))
        return
    floods = [k.strip() for k in args.floods.split(",") if k.strip()]
    for kind in floods:
        if kind not in FLOODS:
            raise SystemExit(f"unknown flood {kind!r}; choose from {', '.join(FLOODS)}")
    chat_load = Workload("c", args.pairs, 2, direct=True)
    # A user of their own per flood: a 4029 cools its user down for the next phase too.
    flood_load = Workload("f", len(floods), 2, direct=True)
    server = HappyChat(scaleout=args.scaleout, throttled=True)
    load_before = load_average()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="happychat-flood-") as tmp:
        server.start(Path(tmp))
        try:
            server.prepare([chat_load, flood_load])
            chat = server.endpoints(chat_load)
            pairs = server.endpoints(flood_load)
            flooders = {kind: pair[0] for kind, pair in zip(floods, pairs, strict=True)}
            if "sync" in floods:
                asyncio.run(fill(flooders["sync"], HISTORY))
            rows.append(phase(server, chat, args.rate, args.seconds, None, None, 0))
            for n, kind in enumerate(floods, 1):
                rows.append(phase(server, chat, args.rate, args.seconds, kind, flooders[kind], n))
        finally:
            server.stop()
    base = rows[0]["p95_ms"]
    title = (
        f"{server.label}: {args.pairs} pairs at {args.rate:g} msg/s (open loop, "
        f"{args.seconds:g} s a phase) while one socket floods — {cpu_note()}"
    )
    print(title)
    print("=" * len(title))
    print(
        table(
            [
                (
                    r["flood"],
                    f"p50/p95/p99 {r['p50_ms']:.1f} / {r['p95_ms']:.1f} / {r['p99_ms']:.1f} ms; "
                    f"p95 ×{r['p95_ms'] / base:.2f} of baseline; missing {r['missing']}, "
                    f"errors {r['errors']}; load-gen lag p99 {r['lag_p99_ms']:.0f} ms; "
                    f"daphne {r['daphne_cpu']:.2f} CPU"
                    + (f"; flooder: {r['flooder']}" if r["flooder"] else ""),
                )
                for r in rows
            ],
            "flood → the chatting pairs' latency",
        )
    )
    worst = max(r["p95_ms"] / base for r in rows[1:]) if len(rows) > 1 else 1.0
    print(f"\nworst p95 ratio {worst:.2f} (bound 2.00); load average {load_before} before, "
          f"{load_average()} after")  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
