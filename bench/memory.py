"""What an idle authenticated socket holds: a tracemalloc snapshot diff inside daphne.

    .venv/bin/python bench/memory.py [--sockets 1000] [--top 25] [--frames 1]
                                     [--group lineno|filename|traceback|owner] [--keep DIR]
    .venv/bin/python bench/memory.py --load DIR [--group …]   # report on kept snapshots

Starts HappyChat's daphne under tracemalloc (this file with --serve: tracemalloc on, a
SIGUSR1 handler that writes a snapshot, then daphne's own command line), opens
`--sockets` idle authenticated sockets, and prints the allocations that grew, per socket,
by source line (or file, or traceback of `--frames` frames, or owner). tracemalloc counts
Python allocations only; RSS (bench/run.py's idle figure) adds allocator overhead and C
memory. Objects that come from a free list (deques, small dicts, frames) are counted where
they were first made, so a diff can miss some: confirm a saving with the RSS at 5,000.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import signal
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def serve(snapshot_dir: str, frames: int, daphne_args: list[str]) -> None:
    """Run daphne with tracemalloc; each SIGUSR1 writes snapshot-<n>.pickle."""
    tracemalloc.start(frames)
    count = [0]

    def dump(signum: int, frame: object) -> None:
        if os.environ.get("BENCH_MEMORY_COLLECT"):
            gc.collect()
        count[0] += 1
        path = Path(snapshot_dir) / f"snapshot-{count[0]}.pickle"
        tracemalloc.take_snapshot().dump(str(path))
        (Path(snapshot_dir) / f"snapshot-{count[0]}.done").touch()

    signal.signal(signal.SIGUSR1, dump)
    from daphne.cli import CommandLineInterface

    CommandLineInterface().run(daphne_args)


OURS = ("/chat/", "/happychat/", "/accounts/", "/groups/", "/robot/", "/safety/", "/friends/")


def owner(trace: tracemalloc.Traceback, root: str) -> str:
    """Who asked for the memory: our innermost frame, else the innermost library frame
    (outside the standard library), else the allocating frame."""
    frames = list(reversed(trace))  # a Traceback lists the oldest frame first
    for f in frames:
        ours = f.filename.startswith(root) and "/.venv/" not in f.filename
        if ours and any(part in f.filename for part in OURS):
            return f"{f.filename.removeprefix(root + '/')}:{f.lineno}"
    for f in frames:
        if "site-packages/" in f.filename:
            package = f.filename.split("site-packages/", 1)[1]
            return f"{package}:{f.lineno}"
    f = frames[0]
    return f"{f.filename}:{f.lineno}"


def print_owners(stats: list[tracemalloc.StatisticDiff], n: int, top: int, root: str) -> None:
    by: dict[str, list[int]] = {}
    for s in stats:
        key = owner(s.traceback, root)
        entry = by.setdefault(key, [0, 0])
        entry[0] += s.size_diff
        entry[1] += s.count_diff
    packages: dict[str, int] = {}
    for key, (size, _) in by.items():
        package = key.split("/", 1)[0] if "/" in key else key.split(":", 1)[0]
        packages[package] = packages.get(package, 0) + size
    print(
        "by package: "
        + ", ".join(
            f"{p} {size / n / 1024:.1f} KiB"
            for p, size in sorted(packages.items(), key=lambda kv: -kv[1])
        )
    )
    print(f"{'bytes/socket':>12}  {'blocks/socket':>13}  owner")
    for key, (size, count) in sorted(by.items(), key=lambda kv: -kv[1][0])[:top]:
        print(f"{size / n:>12,.0f}  {count / n:>13.2f}  {key}")


def report(
    args: argparse.Namespace,
    before: tracemalloc.Snapshot,
    after: tracemalloc.Snapshot,
    n: int,
    rss_per_socket: float | None,
) -> None:
    """Print what grew between the snapshots, per socket."""
    from tests.servers import ROOT

    filters = [
        tracemalloc.Filter(False, tracemalloc.__file__),
        tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
    ]
    group = "traceback" if args.group == "owner" else args.group
    stats = after.filter_traces(filters).compare_to(before.filter_traces(filters), group)
    grown = sum(s.size_diff for s in stats)
    rss = "" if rss_per_socket is None else f"; RSS +{rss_per_socket:.1f} KiB per socket"
    print(f"{n:,} idle sockets: traced Python memory +{grown / n / 1024:.1f} KiB per socket{rss}")
    if args.group == "owner":
        print_owners(stats, n, args.top, str(ROOT))
        return
    print(f"{'bytes/socket':>12}  {'blocks/socket':>13}  where")
    for s in stats[: args.top]:
        where = "\n                               ".join(
            f"{f.filename.replace(str(ROOT) + '/', '')}:{f.lineno}" for f in s.traceback
        )
        print(f"{s.size_diff / n:>12,.0f}  {s.count_diff / n:>13.2f}  {where}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--frames", type=int, default=1)
    parser.add_argument(
        "--group",
        default="lineno",
        choices=["lineno", "filename", "traceback", "owner"],
        help="owner: by the innermost frame of our code, else of a library (use --frames 10)",
    )
    parser.add_argument("--scaleout", action="store_true")
    parser.add_argument(
        "--collect", action="store_true", help="gc.collect() in daphne before each snapshot"
    )
    parser.add_argument(
        "--keep", metavar="DIR", help="also copy the two snapshots (before, after) into DIR"
    )
    parser.add_argument(
        "--load",
        metavar="DIR",
        help="report on the snapshots kept in DIR by --keep (no servers started)",
    )
    parser.add_argument("--serve", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]), args.serve[2:])
        return
    if args.load:
        kept = Path(args.load)
        report(
            args,
            tracemalloc.Snapshot.load(str(kept / "before.pickle")),
            tracemalloc.Snapshot.load(str(kept / "after.pickle")),
            int((kept / "sockets").read_text()),
            None,
        )
        return

    from bench.loadgen import hold_idle
    from bench.procs import raise_open_files, rss_kib
    from bench.targets import HappyChat
    from tests.servers import PYTHON, ROOT, free_port, stop_pid, wait_for_port

    raise_open_files(2 * args.sockets + 2048)
    with tempfile.TemporaryDirectory(prefix="happychat-mem-") as tmp:
        work = Path(tmp)
        target = HappyChat(scaleout=args.scaleout).start(work)
        try:
            target.prepare([], idle=args.sockets)
            # Swap the target's first daphne for one under tracemalloc, on a new port.
            first = target.daphnes[0]
            first.stop()
            port = free_port()
            snaps = work / "snaps"
            snaps.mkdir()
            with (work / "traced.log").open("ab") as log:
                proc = subprocess.Popen(
                    [
                        PYTHON,
                        str(Path(__file__).resolve()),
                        "--serve",
                        str(snaps),
                        str(args.frames),
                        *("-b", "127.0.0.1", "-p", str(port), "happychat.asgi:application"),
                    ],
                    cwd=ROOT,
                    env={**target.env, "BENCH_MEMORY_COLLECT": "1" if args.collect else ""},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            first.port, first.proc = port, proc
            wait_for_port(port, proc=proc, timeout=300)
            endpoints = target.idle_endpoints(args.sockets)
            if len(target.daphnes) > 1:  # all on the traced process
                endpoints = [target._endpoint(0, f"idle{j}", 0) for j in range(args.sockets)]

            def snapshot(n: int) -> tracemalloc.Snapshot:
                os.kill(proc.pid, signal.SIGUSR1)
                done = snaps / f"snapshot-{n}.done"
                while not done.exists():
                    time.sleep(0.1)
                return tracemalloc.Snapshot.load(str(snaps / f"snapshot-{n}.pickle"))

            async def nothing() -> None:
                return None

            asyncio.run(hold_idle(endpoints[:5], settle=0.5, measure=nothing))
            time.sleep(1.0)
            before = snapshot(1)
            rss_before = rss_kib(proc.pid)
            taken: dict[str, tracemalloc.Snapshot] = {}

            async def measure() -> None:
                taken["after"] = snapshot(2)
                taken["rss"] = rss_kib(proc.pid)  # type: ignore[assignment]

            asyncio.run(hold_idle(endpoints, settle=2.0, measure=measure))
            after = taken["after"]
            if args.keep:
                kept = Path(args.keep)
                kept.mkdir(parents=True, exist_ok=True)
                before.dump(str(kept / "before.pickle"))
                after.dump(str(kept / "after.pickle"))
                (kept / "sockets").write_text(str(args.sockets))
            rss = (taken["rss"] - rss_before) / args.sockets  # type: ignore[operator]
            report(args, before, after, args.sockets, rss)
            stop_pid(proc)
        finally:
            target.stop()


if __name__ == "__main__":
    main()
