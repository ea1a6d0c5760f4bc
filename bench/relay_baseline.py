"""Baseline: a bare `websockets` relay (bench/peers/relay.py: ack the sender, forward to the
room's other clients), driven by the same load generator as bench/throughput.py.

    .venv/bin/python bench/relay_baseline.py [--pairs 20] [--seconds 5] [--window 8]
    .venv/bin/python bench/relay_baseline.py --room 10 [--clients 40] [--window 4]

Pairs mode (default): every pair is a room of 2. `--room K`: the clients are grouped into
rooms of K members (`--clients 40 --room 10` → 4 rooms), and every send is broadcast to the
room's K - 1 other members. The relay runs in its own process (like daphne would), on a
free loopback port, and is stopped by its pid at the end.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import suite
from bench.loadgen import cpu_note, room_count
from bench.targets import Relay, Workload


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--window", type=int, default=8, help="sends in flight per client")
    parser.add_argument("--room", type=int, default=0, help="members per room (0: pairs mode)")
    parser.add_argument("--clients", type=int, default=40, help="clients in room mode")
    args = parser.parse_args()
    if args.room:
        load = Workload("r", room_count(args.clients, args.room), args.room, window=args.window)
    else:
        load = Workload("p", args.pairs, 2, window=args.window, direct=True)
    with tempfile.TemporaryDirectory(prefix="happychat-relay-") as tmp:
        relay = Relay().start(Path(tmp))
        try:
            record = suite.throughput(relay, load, seconds=args.seconds)
        finally:
            relay.stop()
    print(f"{load.label} — {cpu_note()}")
    print(suite.throughput_table([record]))
    print(f"{suite.cpu_split(record)}; missing after drain {record['missing']}")


if __name__ == "__main__":
    main()
