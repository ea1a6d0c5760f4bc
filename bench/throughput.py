"""HappyChat under load, next to its peers on this machine, in one run.

    .venv/bin/python bench/throughput.py [--pairs 20] [--seconds 5] [--window 8]
        [--scaleout] [--peers relay|tutorial,socketio,relay|all|none] [--idle N]
        [--open-loop RATE] [--json FILE] [--profile FILE]
    .venv/bin/python bench/throughput.py --room 10 [--clients 40] [--senders S] [--window 4] …

Pairs mode (default): N pairs of friends, each pair sending in its direct conversation.
`--room K`: the clients are grouped into rooms of K (`--clients 40 --room 10` → 4 rooms),
each room a seeded group whose conversation every member (or the first `--senders`) sends
to. Delivered messages/s counts every delivery, so a send in a room of K counts K - 1.
`--open-loop RATE`: instead of keeping a window in flight, every client sends in turn at
RATE messages/s in total for `--seconds` (latency from when each send was due).

Default path: one daphne on a fresh SQLite database with the in-memory channel layer.
`--scaleout`: a throwaway PostgreSQL (with pg_stat_statements) and redis-server, clients
spread over two daphne processes; the output adds the top statements and Redis commands
of the measured seconds. Peers (bench/peers/) get the same clients; the relay by default.
Everything started is stopped by its pid.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import suite
from bench.loadgen import cpu_note, room_count
from bench.procs import load_average, raise_open_files
from bench.targets import PEER_KEYS, HappyChat, Target, Workload, make_target


def workload(args: argparse.Namespace) -> Workload:
    if args.room:
        return Workload(
            f"r{args.room}x",
            room_count(args.clients, args.room),
            args.room,
            window=args.window,
            senders=args.senders,
        )
    return Workload("p", args.pairs, 2, window=args.window, direct=True)


def peer_keys(raw: str) -> list[str]:
    if raw == "all":
        return list(PEER_KEYS)
    if raw in ("", "none"):
        return []
    keys = [k.strip() for k in raw.split(",") if k.strip()]
    for key in keys:
        if key not in PEER_KEYS:
            raise SystemExit(f"unknown peer {key!r}; choose from {', '.join(PEER_KEYS)}")
    return keys


PROFILE_FLAGS = {"idle": ["--idle"], "gil": ["--gil"], "cpu": []}


def profile(server: HappyChat, path: str, seconds: float, mode: str) -> subprocess.Popen:
    pid = server.memory_pids()[0]
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "py-spy"),
            *("record", "--pid", str(pid), "--format", "raw", "--output", path),
            *("--duration", str(int(seconds)), "--rate", "200", "--threads", *PROFILE_FLAGS[mode]),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=20, help="pairs mode: client pairs")
    parser.add_argument("--room", type=int, default=0, help="members per room (0: pairs mode)")
    parser.add_argument("--clients", type=int, default=40, help="room mode: clients in all")
    parser.add_argument("--senders", type=int, default=None, help="room mode: senders per room")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--window", type=int, default=8, help="sends in flight per client")
    parser.add_argument("--open-loop", type=float, default=0, metavar="RATE", help="msg/s")
    parser.add_argument("--idle", type=int, default=0, help="idle sockets for memory (0: skip)")
    parser.add_argument("--idle-seconds", type=float, default=10.0, help="idle CPU window")
    parser.add_argument("--scaleout", action="store_true", help="PostgreSQL + Redis, 2 daphnes")
    parser.add_argument("--peers", default="relay", help="relay,tutorial,socketio | all | none")
    parser.add_argument("--no-baseline", action="store_true", help="same as --peers none")
    parser.add_argument("--json", metavar="FILE", help="also write the records to FILE as JSON")
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="py-spy the (first) daphne during the load run "
        "and write collapsed stacks to FILE (needs py-spy; root or ptrace rights)",
    )
    parser.add_argument(
        "--profile-mode",
        choices=sorted(PROFILE_FLAGS),
        default="idle",
        help="idle: every thread's samples, waiting too (where a send waits); gil: only the "
        "thread holding the GIL (what the process's one Python core is spent on); cpu: "
        "threads running on a CPU",
    )
    args = parser.parse_args()
    raise_open_files(max(4096, 2 * args.idle + 2048))
    load = workload(args)
    happychat = HappyChat(scaleout=args.scaleout)
    targets: list[Target] = [happychat]
    targets += [make_target(k) for k in peer_keys("none" if args.no_baseline else args.peers)]
    records: list[dict[str, Any]] = []
    load_before = load_average()
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="happychat-bench-") as tmp:
        t0 = time.monotonic()
        for target in targets:
            target.start(Path(tmp))
            stack.callback(target.stop)
        happychat.prepare([load], idle=args.idle)
        setup_s = time.monotonic() - t0
        for target in targets:
            if args.idle:
                records.append(suite.idle(target, args.idle, seconds=args.idle_seconds))
            if target is happychat:
                records.append(suite.at_rest(target, load))
            spy = None
            if args.profile and target is happychat:
                spy = profile(happychat, args.profile, 1 + args.seconds + 1, args.profile_mode)
            if args.open_loop:
                records.append(
                    suite.open_loop(target, load, rate=args.open_loop, seconds=args.seconds)
                )
            else:
                records.append(suite.throughput(target, load, seconds=args.seconds))
            if spy is not None:
                spy.wait(timeout=120)
    loaded = [r for r in records if r["kind"] in ("throughput", "open_loop")]
    title = f"{loaded[0]['workload']} — {cpu_note()}"
    print(title)
    print("=" * len(title))
    if args.open_loop:
        print(suite.open_loop_table(loaded))
    else:
        print(suite.throughput_table(loaded))
    for r in records:
        if r["kind"] == "at_rest":
            print(
                f"{r['label']}, 1 sender, 1 in flight: p50 / p99 {r['p50_ms']:.1f} / "
                f"{r['p99_ms']:.1f} ms"
            )
    for r in loaded:
        print(f"{r['label']}: {suite.cpu_split(r)}; missing after drain {r['missing']}")
    idle = [r for r in records if r["kind"] == "idle"]
    if idle:
        print()
        print(suite.idle_table(idle))
    for r in loaded:
        text = suite.diagnostics_text(r)
        if text:
            print()
            print(text)
    print(f"\nsetup {setup_s:.1f} s; load average {load_before} before, {load_average()} after")
    if args.json:
        Path(args.json).write_text(json.dumps(records, indent=1))


if __name__ == "__main__":
    main()
