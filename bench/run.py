"""Run every benchmark once with modest defaults (`make bench`) and print one summary table.

    .venv/bin/python bench/run.py [--quick]

1. throughput.py, pairs mode: 20 pairs × window 8, plus memory per idle socket (500)
2. throughput.py, room mode: 40 clients in rooms of 10 × window 4 (no idle sockets)
3. history.py: pages of 50 in a 1,000,000-message conversation

Each throughput run measures the bare relay with the same clients in the same run, so
the ratio compares numbers taken moments apart. --quick: smaller sizes (3 s of load,
200 idle sockets, 100,000 history messages) for a smoke run. Every benchmark prints its own
table as it goes; every process one starts is stopped by its pid before the next begins.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def throughput_rows(fig: dict[str, Any]) -> list[list[str]]:
    out = []
    mine, relay = fig["happychat"], fig["relay"]
    ratio = f"{mine['delivered_per_s'] / relay['delivered_per_s']:.0%}" if relay else "–"
    for server, r in (("HappyChat", mine), ("relay", relay)):
        if r is None:
            continue
        out.append(
            [
                fig["label"] if server == "HappyChat" else "",
                server,
                f"{r['delivered_per_s']:,.0f}",
                f"{r['acked_per_s']:,.0f}",
                f"{r['fanout']:.2f}/{r['room'] - 1}",
                ratio if server == "HappyChat" else "",
                f"{r['p50_ms']:.1f} / {r['p99_ms']:.1f}",
                f"{r['missing']:,}",
                str(r["errors"]),
            ]
        )
    return out


def grid(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    right = set(range(2, len(header)))  # numbers

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def summary(figures: dict[str, Any], loads: tuple[str, str], elapsed: float) -> str:
    rows = [
        row for key in ("pairs", "rooms") if key in figures for row in throughput_rows(figures[key])
    ]
    header = [
        "mode",
        "server",
        "delivered msg/s",
        "acked sends/s",
        "fan-out",
        "ratio",
        "p50 / p99 ms",
        "missing",
        "errors",
    ]
    lines = ["", "Summary", "=======", grid(header, rows) if rows else "(no throughput figures)"]
    lines += [
        "fan-out: deliveries per acked send in the measured seconds / expected (room size - 1);",
        "missing: deliveries owed for all acked sends that never arrived (counted after a drain);",
        "ratio: HappyChat delivered msg/s ÷ relay's; latency: send → receipt at a peer.",
    ]
    pairs = figures.get("pairs")
    if pairs and pairs.get("light"):
        light = pairs["light"]
        lines.append(
            f"1 pair, 1 in flight: p50 {light['p50_ms']:.1f} ms, p99 {light['p99_ms']:.1f} ms"
        )
    if pairs and pairs.get("idle"):
        idle = pairs["idle"]
        per = (idle["after_kib"] - idle["before_kib"]) / idle["n"]
        lines.append(
            f"idle sockets: {per:.1f} KiB each (daphne RSS {idle['before_kib'] / 1024:.1f} → "
            f"{idle['after_kib'] / 1024:.1f} MiB with {idle['n']})"
        )
    history = figures.get("history")
    if history:
        pages = ", ".join(
            f"{name} {sel:.2f}/{rest:.2f}" for name, (sel, rest) in history["rows"].items()
        )
        lines.append(
            f"history ({history['database']}, {history['messages']:,} messages), "
            f"page of 50 selector/REST ms: {pages}"
        )
    lines.append(f"load average (1/5/15 min): {loads[0]} before, {loads[1]} after")
    lines.append(f"{os.cpu_count()} CPU(s), shared by load generator and server; {elapsed:.0f} s")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    seconds = "3" if args.quick else "5"
    messages = "100000" if args.quick else "1000000"
    runs = {
        "pairs": [
            "throughput.py",
            *("--pairs", "20", "--window", "8", "--seconds", seconds),
            *("--idle", "200" if args.quick else "500"),
        ],
        "rooms": [
            "throughput.py",
            *("--clients", "40", "--room", "10", "--window", "4", "--seconds", seconds),
            *("--idle", "0"),
        ],
        "history": [
            "history.py",
            *("--messages", messages, "--repeat", "10" if args.quick else "30"),
        ],
    }
    started = time.monotonic()
    before = load_average()
    figures: dict[str, Any] = {}
    failed = 0
    with tempfile.TemporaryDirectory(prefix="happychat-run-") as tmp:
        for key, (script, *rest) in runs.items():
            print(f"\n$ bench/{script} {' '.join(rest)}", flush=True)
            out = Path(tmp) / f"{key}.json"
            done = subprocess.run(
                [sys.executable, str(HERE / script), *rest, "--json", str(out)], check=False
            )
            if done.returncode or not out.exists():
                failed += 1
                continue
            figures[key] = json.loads(out.read_text())
    print(summary(figures, (before, load_average()), time.monotonic() - started))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
