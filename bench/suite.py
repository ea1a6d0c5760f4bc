"""One measurement of one target, as a plain dict, and the tables that compare targets.

  throughput()  closed loop: a workload's rooms, `window` sends in flight per sender
  open_loop()   a fixed total rate, latency from when each send was due
  at_rest()     one sender, one send in flight: latency of an idle server
  idle()        N sockets that only keep their heartbeat: memory per socket, idle CPU

Every figure comes with the server's CPU seconds in the measured seconds (utime + stime of
its processes and their children, from /proc), split by process role, and, for the
scale-out path, what PostgreSQL (pg_stat_statements) and Redis (INFO commandstats) did.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

from bench.loadgen import Result, hold_idle, run_open_loop, run_rooms
from bench.procs import cpu_seconds, load_average, main_thread_cpu_seconds, rss_kib
from bench.targets import Target, Workload


class Meter:
    """Reads a target's CPU (and diagnostics) as the measured seconds start and end."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.before: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.diagnostics: dict[str, Any] | None = None
        self.started = 0.0
        self.seconds = 0.0
        self.loop_before: float | None = None
        self.loop_cpu: float | None = None

    def _read(self) -> dict[str, float]:
        return {name: cpu_seconds(pids) for name, pids in self.target.components().items()}

    def _loop(self) -> float | None:
        """daphne's event-loop threads' CPU (None for peers: their process is the loop)."""
        daphnes = self.target.components().get("daphne")
        return main_thread_cpu_seconds(daphnes) if daphnes else None

    async def hook(self, begin: bool) -> None:
        # In a thread: the reads take tens of milliseconds (a PostgreSQL connection, Redis
        # INFO, a walk of /proc). On the load generator's event loop they held every frame
        # in flight unread, and the first deliveries measured carried that stall: in a
        # scale-out pairs run, most of the latencies above p99 were in its first 100 ms.
        await asyncio.to_thread(self._begin if begin else self._end)

    def _begin(self) -> None:
        self.target.diagnostics_begin()
        self.before = self._read()
        self.loop_before = self._loop()
        self.started = time.monotonic()

    def _end(self) -> None:
        self.seconds = time.monotonic() - self.started
        after = self._read()
        self.cpu = {k: after[k] - self.before.get(k, 0.0) for k in after}
        loop = self._loop()
        if loop is not None and self.loop_before is not None:
            self.loop_cpu = loop - self.loop_before
        self.diagnostics = self.target.diagnostics_end()


def _record(
    kind: str, target: Target, label: str, result: Result, meter: Meter | None
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "kind": kind,
        "target": target.key,
        "label": target.label,
        "workload": label,
        "load": load_average(),
        **result.summary(),
    }
    if meter is not None:
        total = sum(meter.cpu.values())
        record["cpu"] = meter.cpu
        record["cpu_s"] = total
        record["cpu_seconds_measured"] = meter.seconds
        record["cpu_per_1k"] = total / result.delivered * 1000 if result.delivered else math.nan
        if meter.loop_cpu is not None:
            record["event_loop_cpu_s"] = meter.loop_cpu
        if meter.diagnostics is not None:
            record["diagnostics"] = meter.diagnostics
    return record


def throughput(target: Target, workload: Workload, *, seconds: float) -> dict[str, Any]:
    meter = Meter(target)
    result = asyncio.run(
        run_rooms(
            target.endpoints(workload),
            seconds=seconds,
            window=workload.window,
            senders_per_room=workload.senders,
            prefix=workload.key,
            on_measure=meter.hook,
        )
    )
    return _record("throughput", target, workload.label, result, meter)


def open_loop(target: Target, workload: Workload, *, rate: float, seconds: float) -> dict[str, Any]:
    meter = Meter(target)
    result = asyncio.run(
        run_open_loop(
            target.endpoints(workload),
            rate=rate,
            seconds=seconds,
            prefix=workload.key,
            on_measure=meter.hook,
        )
    )
    label = f"{workload.label.split(' × ')[0]}, {rate:,.0f} msg/s in total for {seconds:.0f} s"
    return _record("open_loop", target, label, result, meter)


def at_rest(target: Target, workload: Workload) -> dict[str, Any]:
    """One room of the workload, its first member sending one message at a time (after a
    generous warm-up: the first message starts lazy work such as the robot's dictionaries)."""
    result = asyncio.run(
        run_rooms(
            target.endpoints(workload)[:1],
            seconds=3,
            window=1,
            warmup=5,
            prefix=f"{workload.key}l",
            senders_per_room=1,
        )
    )
    return _record("at_rest", target, "1 sender, 1 in flight", result, None)


def idle(target: Target, n: int, *, seconds: float, settle: float = 2.0) -> dict[str, Any]:
    """RSS of the socket-holding processes before and with `n` idle sockets, and the CPU all
    the target's processes use over `seconds` while those sockets only keep their heartbeat."""
    endpoints = target.idle_endpoints(n)

    async def nothing() -> None:
        return None

    # Warm up (imports, pools, caches) so the baseline is not the cold process.
    asyncio.run(hold_idle(endpoints[:5], settle=0.5, measure=nothing))
    time.sleep(1.0)
    pids = target.memory_pids()
    before = sum(rss_kib(p) for p in pids)
    figures: dict[str, Any] = {}

    async def measure() -> None:
        figures["after"] = sum(rss_kib(p) for p in pids)
        start = {k: cpu_seconds(v) for k, v in target.components().items()}
        t0 = time.monotonic()
        await asyncio.sleep(seconds)
        elapsed = time.monotonic() - t0
        figures["cpu"] = {k: cpu_seconds(v) - start[k] for k, v in target.components().items()}
        figures["seconds"] = elapsed

    opened = asyncio.run(hold_idle(endpoints, settle=settle, measure=measure))
    cpu = sum(figures["cpu"].values())
    return {
        "kind": "idle",
        "target": target.key,
        "label": target.label,
        "load": load_average(),
        "sockets": opened,
        "before_kib": before,
        "after_kib": figures["after"],
        "kib_per_socket": (figures["after"] - before) / opened,
        "idle_cpu": figures["cpu"],
        "idle_seconds": figures["seconds"],
        "idle_cpu_pct": cpu / figures["seconds"] * 100,
    }


# --- tables ------------------------------------------------------------------------------


def grid(header: list[str], rows: list[list[str]], *, left: int = 1) -> str:
    """A plain-text table; the first `left` columns are text, the rest right-aligned."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if i < left else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def _ms(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.1f}"


def _missing(record: dict[str, Any]) -> str:
    # "!" marks a drain that gave up while the server was still sending: not final.
    return f"{record['missing']:,}" + ("" if record.get("drained", True) else "!")


def _cpu(record: dict[str, Any]) -> str:
    value = record.get("cpu_per_1k", math.nan)
    return "–" if math.isnan(value) else f"{value:.2f}"


def _ratio(mine: dict[str, Any] | None, other: dict[str, Any]) -> str:
    if mine is None or not other["delivered_per_s"]:
        return "–"
    return f"{mine['delivered_per_s'] / other['delivered_per_s']:.0%}"


HAPPYCHAT = ("happychat-sqlite", "happychat-scaleout")


def throughput_table(records: list[dict[str, Any]]) -> str:
    """One workload's records: each target's figures and HappyChat's ratio to it."""
    by = {r["target"]: r for r in records}
    mine = [by.get(k) for k in HAPPYCHAT]
    header = ["server", "delivered/s", "acked/s", "fan-out", "p50 / p99 ms", "missing"]
    header += ["errors", "CPU-s/1k", "SQLite ÷", "scale-out ÷"]
    rows = []
    for r in records:
        rows.append(
            [
                r["label"],
                f"{r['delivered_per_s']:,.0f}",
                f"{r['acked_per_s']:,.0f}",
                f"{r['fanout']:.2f}/{r['room'] - 1}",
                f"{_ms(r['p50_ms'])} / {_ms(r['p99_ms'])}",
                _missing(r),
                str(r["errors"]),
                _cpu(r),
                "" if r["target"] == HAPPYCHAT[0] else _ratio(mine[0], r),
                "" if r["target"] == HAPPYCHAT[1] else _ratio(mine[1], r),
            ]
        )
    return grid(header, rows)


def open_loop_table(records: list[dict[str, Any]]) -> str:
    header = ["server", "offered/s", "delivered", "p50 / p99 / max ms", "ack p99 ms"]
    header += ["missing", "unanswered", "load-gen lag p99", "CPU-s/1k"]
    rows = [
        [
            r["label"],
            f"{r['offered_per_s']:,.0f}",
            f"{r['delivered']:,}",
            f"{_ms(r['p50_ms'])} / {_ms(r['p99_ms'])} / {_ms(r['max_ms'])}",
            _ms(r["ack_p99_ms"]),
            _missing(r),
            f"{r['unanswered']:,}",
            f"{_ms(r['lag_p99_ms'])} ms",
            _cpu(r),
        ]
        for r in records
    ]
    return grid(header, rows)


def idle_table(records: list[dict[str, Any]]) -> str:
    header = ["server", "sockets", "RSS before → after", "KiB per socket", "idle CPU"]
    rows = [
        [
            r["label"],
            f"{r['sockets']:,}",
            f"{r['before_kib'] / 1024:.1f} → {r['after_kib'] / 1024:.1f} MiB",
            f"{r['kib_per_socket']:.1f}",
            f"{r['idle_cpu_pct']:.1f}% of a CPU",
        ]
        for r in records
    ]
    return grid(header, rows)


def cpu_split(record: dict[str, Any]) -> str:
    parts = ", ".join(f"{k} {v:.2f}" for k, v in record.get("cpu", {}).items())
    seconds = record.get("cpu_seconds_measured", 0)
    text = f"{record.get('cpu_s', 0):.2f} CPU-s in {seconds:.1f} s ({parts})"
    loop = record.get("event_loop_cpu_s")
    if loop is not None and record.get("delivered"):
        per_1k = loop / record["delivered"] * 1000
        text += f"; daphne event loop {loop:.2f} CPU-s, {per_1k:.3f} per 1k delivered"
    return text


def diagnostics_text(record: dict[str, Any], *, top: int = 8) -> str:
    """pg_stat_statements and Redis commandstats of one scale-out run, per acked send."""
    diag = record.get("diagnostics")
    if not diag:
        return ""
    acked = max(record["acked"], 1)
    lines = [f"PostgreSQL, top statements ({record['acked']:,} acked sends measured):"]
    statements = diag["statements"]
    total_calls = sum(s["calls"] for s in statements)
    total_ms = sum(s["total_ms"] for s in statements)
    lines.append(
        f"  all: {total_calls:,} calls ({total_calls / acked:.2f} per send), "
        f"{total_ms:,.0f} ms executing ({total_ms / acked:.3f} ms per send)"
    )
    for s in statements[:top]:
        query = s["query"] if len(s["query"]) <= 110 else s["query"][:107] + "..."
        lines.append(
            f"  {s['calls']:>8,} calls {s['total_ms']:>9,.0f} ms  {s['calls'] / acked:5.2f}/send  "
            f"{query}"
        )
    redis = diag["redis"]
    calls = sum(v["calls"] for v in redis.values())
    lines.append(f"Redis commandstats delta: {calls:,} commands ({calls / acked:.2f} per send)")
    for name, v in sorted(redis.items(), key=lambda kv: -kv[1]["calls"])[:top]:
        lines.append(
            f"  {name:<14} {v['calls']:>8,} calls {v['usec'] / 1000:>8,.0f} ms  "
            f"{v['calls'] / acked:5.2f}/send"
        )
    return "\n".join(lines)
