"""`make bench`: HappyChat on both paths next to its peers, every workload, one summary.

    .venv/bin/python bench/run.py [--quick] [--no-scaleout] [--peers all|none|tutorial,…]
                                  [--only throughput,open,idle,history] [--json FILE]

1. Throughput (closed loop), each workload against every target in turn, in the same run:
   20 pairs × window 8; 4 rooms of 10 × window 4; a room of 100 (10 senders × window 2);
   a room of 500 (5 senders × window 2). Targets: HappyChat on SQLite (1 daphne), HappyChat
   on PostgreSQL + Redis (2 daphnes), the Channels-tutorial chat, a Node socket.io chat and
   the bare websockets relay (bench/peers/). Each row: delivered and acked msg/s, fan-out,
   latency, missing after drain, errors, server CPU-seconds per 1,000 delivered messages,
   and HappyChat's (SQLite and scale-out) delivered msg/s ÷ that row's.
2. Open loop: 500 pairs sending 500 msg/s in total for 30 s; p50/p99/max send → deliver.
3. Idle: 5,000 authenticated sockets that only keep their heartbeat, on fresh servers:
   memory per socket and the CPU they cost.
4. History pages (bench/history.py) in a 1,000,000-message conversation.
Then the issue-12 targets, each with its measured figure.

--quick: 2 s per throughput run, rooms of 500 skipped, open loop 100 pairs at 100 msg/s for
10 s, 1,000 idle sockets over 5 s, 100,000 history messages (a smoke run, a few minutes).
The scale-out rows add what PostgreSQL (pg_stat_statements) and Redis (INFO commandstats)
did in the measured seconds. Every process started is stopped by its pid.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import suite
from bench.procs import load_average, raise_open_files
from bench.targets import HappyChat, Target, Workload, make_target
from bench.throughput import peer_keys

HERE = Path(__file__).resolve().parent
SECTIONS = ("throughput", "open", "idle", "history")


def machine() -> str:
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{platform.node()}: {os.cpu_count()} CPU(s) {model}, Python {platform.python_version()}"


def say(text: str = "") -> None:
    print(text, flush=True)


def heading(text: str) -> None:
    say()
    say(text)
    say("=" * len(text))


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.quick = args.quick
        self.seconds = 2.0 if self.quick else 5.0
        self.keys = ["happychat-sqlite"]
        if not args.no_scaleout:
            self.keys.append("happychat-scaleout")
        self.keys += peer_keys(args.peers)
        self.records: list[dict[str, Any]] = []
        self.workloads = [
            Workload("pairs", 20, 2, window=8, direct=True),
            Workload("rooms", 4, 10, window=4),
            Workload("big", 1, 100, window=2, senders=10),
        ]
        if not self.quick:
            self.workloads.append(Workload("huge", 1, 500, window=2, senders=5))
        pairs, self.open_rate, self.open_seconds = (100, 100, 10) if self.quick else (500, 500, 30)
        self.open_load = Workload("open", pairs, 2, direct=True)
        self.idle_n = 1000 if self.quick else 5000
        self.idle_seconds = 5.0 if self.quick else 25.0

    def wanted(self, section: str) -> bool:
        return section in self.args.only

    def start(self, stack: ExitStack, work: Path, keys: list[str]) -> list[Target]:
        targets = []
        work.mkdir(parents=True, exist_ok=True)
        for key in keys:
            target = make_target(key)
            say(f"starting {target.label} …")
            target.start(work)
            stack.callback(target.stop)
            targets.append(target)
        return targets

    def loaded(self, work: Path) -> None:
        """Throughput and open loop: every target up at once, each workload on each in turn."""
        workloads = self.workloads if self.wanted("throughput") else []
        with ExitStack() as stack:
            targets = self.start(stack, work, self.keys)
            seeded = workloads + ([self.open_load] if self.wanted("open") else [])
            for target in targets:
                if isinstance(target, HappyChat):
                    t0 = time.monotonic()
                    target.prepare(seeded)
                    say(f"seeded {target.label} in {time.monotonic() - t0:.0f} s")
            for target in targets:
                if isinstance(target, HappyChat) and workloads:
                    record = suite.at_rest(target, workloads[0])
                    self.records.append(record)
            for load in workloads:
                rows = []
                for target in targets:
                    try:
                        record = suite.throughput(target, load, seconds=self.seconds)
                    except Exception as exc:  # the other targets still get measured
                        self.failed = True
                        say(f"!! {load.label} on {target.label} failed: {exc!r}")
                        continue
                    record["key"] = load.key
                    rows.append(record)
                    self.records.append(record)
                if not rows:
                    continue
                heading(f"{load.label} (closed loop, {self.seconds:.0f} s measured)")
                say(suite.throughput_table(rows))
                for r in rows:
                    say(f"  {r['label']}: {suite.cpu_split(r)}")
                for r in rows:
                    text = suite.diagnostics_text(r)
                    if text:
                        say(text)
                say(f"load average {load_average()}")
            if self.wanted("open"):
                rows = []
                for target in targets:
                    try:
                        record = suite.open_loop(
                            target, self.open_load, rate=self.open_rate, seconds=self.open_seconds
                        )
                    except Exception as exc:  # the other targets still get measured
                        self.failed = True
                        say(f"!! open loop on {target.label} failed: {exc!r}")
                        continue
                    record["key"] = "open"
                    rows.append(record)
                    self.records.append(record)
                if not rows:
                    return
                heading(f"Open loop: {rows[0]['workload']}")
                say(suite.open_loop_table(rows))
                for r in rows:
                    say(f"  {r['label']}: {suite.cpu_split(r)}")
                say(f"load average {load_average()}")

    def idle(self, work: Path) -> None:
        """Idle sockets on fresh servers, one target at a time."""
        rows = []
        for key in self.keys:
            try:
                with ExitStack() as stack:
                    (target,) = self.start(stack, work / f"idle-{key}", [key])
                    if isinstance(target, HappyChat):
                        target.prepare([], idle=self.idle_n)
                    record = suite.idle(target, self.idle_n, seconds=self.idle_seconds)
            except Exception as exc:  # the other targets still get measured
                self.failed = True
                say(f"!! idle sockets on {key} failed: {exc!r}")
                continue
            rows.append(record)
            self.records.append(record)
        heading(f"Idle sockets ({self.idle_n:,}; CPU over {self.idle_seconds:.0f} s of heartbeats)")
        say(suite.idle_table(rows))
        say(f"load average {load_average()}")

    def history(self, work: Path) -> None:
        out = work / "history.json"
        args = ["--messages", "100000" if self.quick else "1000000"]
        args += ["--repeat", "10" if self.quick else "30", "--json", str(out)]
        heading("History")
        done = subprocess.run([sys.executable, str(HERE / "history.py"), *args], check=False)
        if done.returncode == 0 and out.exists():
            self.records.append({"kind": "history", **json.loads(out.read_text())})
        else:
            self.failed = True

    def run(self) -> int:
        self.failed = False
        before = load_average()
        started = time.monotonic()
        raise_open_files(2 * self.idle_n + 4096)
        with tempfile.TemporaryDirectory(prefix="happychat-run-") as tmp:
            work = Path(tmp)
            for section, step in (
                ("loaded", self.loaded),
                ("idle", self.idle),
                ("history", self.history),
            ):
                if section == "loaded" and not (self.wanted("throughput") or self.wanted("open")):
                    continue
                if section != "loaded" and not self.wanted(section):
                    continue
                (work / section).mkdir()
                try:
                    step(work / section)
                except Exception as exc:  # one broken section must not hide the others
                    self.failed = True
                    say(f"!! {section} failed: {exc!r}")
        heading("Issue 12 targets")
        say(targets_text(self.records))
        say()
        say(f"load average (1/5/15 min): {before} before, {load_average()} after")
        say(f"{machine()}; load generator and servers share the CPUs")
        say(f"{time.monotonic() - started:.0f} s; command: bench/run.py {' '.join(sys.argv[1:])}")
        if self.args.json:
            Path(self.args.json).write_text(json.dumps(self.records, indent=1, default=str))
        return 1 if self.failed else 0


def _find(records: list[dict[str, Any]], kind: str, target: str, key: str | None = None) -> Any:
    for r in records:
        if r["kind"] == kind and r["target"] == target and (key is None or r.get("key") == key):
            return r
    return None


def _verdict(ok: bool | None) -> str:
    return "–" if ok is None else ("met" if ok else "MISSED")


def targets_text(records: list[dict[str, Any]]) -> str:
    lines = []
    sq = _find(records, "throughput", "happychat-sqlite", "pairs")
    so = _find(records, "throughput", "happychat-scaleout", "pairs")
    if sq and so:
        ok = (
            so["delivered_per_s"] >= sq["delivered_per_s"]
            and so["p99_ms"] < 100
            and so["missing"] == 0
            and so["cpu_per_1k"] <= 1.5 * sq["cpu_per_1k"]
        )
        lines.append(
            f"1. scale-out pairs {so['delivered_per_s']:,.0f} msg/s "
            f"(SQLite {sq['delivered_per_s']:,.0f}), "
            f"p99 {so['p99_ms']:.0f} ms (< 100), missing {so['missing']}, "
            f"CPU-s/1k {so['cpu_per_1k']:.2f} vs {sq['cpu_per_1k']:.2f} "
            f"({so['cpu_per_1k'] / sq['cpu_per_1k']:.2f}×, ≤ 1.5×): {_verdict(ok)}"
        )
    for key in ("happychat-sqlite", "happychat-scaleout"):
        idle = _find(records, "idle", key)
        if idle:
            lines.append(
                f"2. idle socket ({idle['label']}, {idle['sockets']:,}): "
                f"{idle['kib_per_socket']:.1f} KiB (≤ 24), idle CPU {idle['idle_cpu_pct']:.1f}% "
                f"of a CPU: {_verdict(idle['kib_per_socket'] <= 24)}"
            )
    for key, limit in (("happychat-sqlite", 25), ("happychat-scaleout", 50)):
        ol = _find(records, "open_loop", key)
        if ol:
            ok = ol["p99_ms"] <= limit and ol["missing"] == 0
            lines.append(
                f"3. open loop {ol['label']}: p50 {ol['p50_ms']:.1f} ms, p99 {ol['p99_ms']:.1f} ms "
                f"(≤ {limit}), missing {ol['missing']}: {_verdict(ok)}"
            )
    if sq:
        lines.append(
            f"4. SQLite pairs {sq['delivered_per_s']:,.0f} delivered msg/s (≥ 4,000): "
            f"{_verdict(sq['delivered_per_s'] >= 4000)}"
        )
    rooms = _find(records, "throughput", "happychat-sqlite", "rooms")
    relay = _find(records, "throughput", "relay", "rooms")
    if rooms and relay:
        ratio = rooms["delivered_per_s"] / relay["delivered_per_s"]
        lines.append(
            f"5. rooms of 10: {rooms['delivered_per_s']:,.0f} "
            f"vs relay {relay['delivered_per_s']:,.0f} "
            f"= {ratio:.0%} (≥ 28%): {_verdict(ratio >= 0.28)}"
        )
    for key in ("big", "huge"):
        for target in ("happychat-sqlite", "happychat-scaleout"):
            r = _find(records, "throughput", target, key)
            if r:
                lines.append(
                    f"   {r['workload']}, {r['label']}: {r['delivered_per_s']:,.0f} deliveries/s, "
                    f"p99 {r['p99_ms']:.0f} ms, missing {r['missing']}"
                )
    missing = [
        f"{r['label']} {r.get('workload', '')}: {r['missing']}"
        + ("" if r.get("drained", True) else " (drain gave up while deliveries still came)")
        for r in records
        if r["kind"] in ("throughput", "open_loop") and (r["missing"] or not r.get("drained", True))
    ]
    lines.append(
        "missing after drain: " + ("0 in every run" if not missing else "; ".join(missing))
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run, a few minutes")
    parser.add_argument("--no-scaleout", action="store_true", help="skip PostgreSQL + Redis")
    parser.add_argument("--peers", default="all", help="tutorial,socketio,relay | all | none")
    parser.add_argument(
        "--only", default=",".join(SECTIONS), help=f"sections: {','.join(SECTIONS)}"
    )
    parser.add_argument("--json", metavar="FILE", help="also write every record to FILE")
    args = parser.parse_args()
    args.only = {s.strip() for s in args.only.split(",")}
    unknown = args.only - set(SECTIONS)
    if unknown:
        raise SystemExit(f"unknown section(s): {', '.join(sorted(unknown))}")
    peer_keys(args.peers)  # refuse an unknown peer before starting anything
    sys.exit(Bench(args).run())


if __name__ == "__main__":
    main()
