"""HappyChat under load: delivered messages/s, 1:1 latency and memory per idle socket,
compared with the bare relay (bench/relay_baseline.py) on this machine.

    .venv/bin/python bench/throughput.py [--pairs 20] [--seconds 5] [--window 8]
                                         [--idle 500] [--scaleout] [--no-baseline]

Default path: one daphne on a fresh SQLite database with the in-memory channel layer.
`--scaleout`: a throwaway PostgreSQL and redis-server (started here, stopped by pid),
and the clients spread over two daphne processes. Everything started is stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import relay_baseline
from bench.loadgen import Endpoint, Result, cpu_note, rss_kib, run_pairs, table
from tests.servers import PYTHON, ROOT, Daphne, Postgres, Redis, django_env, manage

UNTHROTTLED = {"CHAT_SEND_RATE": "1000000", "CHAT_SEND_BURST": "1000000"}


def seed(env: dict[str, str], spec: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(
        [PYTHON, "-m", "tests.system.dbtool", "seed"],
        cwd=ROOT,
        env=env,
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout)


def endpoint(server: Daphne, token: str, conversation: int) -> Endpoint:
    return Endpoint(server.ws_url, conversation, {"Authorization": f"Token {token}"}, hello=True)


async def idle_memory(server: Daphne, tokens: list[str]) -> tuple[int, int]:
    """RSS of the daphne pid with no sockets and with one idle authenticated socket each."""
    import websockets

    async def open_one(token: str) -> Any:
        ws = await websockets.connect(
            server.ws_url,
            additional_headers={"Authorization": f"Token {token}"},
            open_timeout=60,
            compression=None,
        )
        while json.loads(await ws.recv())["type"] != "hello":
            pass
        return ws

    assert server.proc is not None
    # Warm up (imports, pools, caches) so the baseline is not the cold process.
    warm = [await open_one(t) for t in tokens[:5]]
    for ws in warm:
        await ws.close()
    await asyncio.sleep(1.0)
    before = rss_kib(server.proc.pid)
    sockets = []
    for start in range(0, len(tokens), 50):  # in batches: a daphne accepts at its own pace
        sockets += await asyncio.gather(*(open_one(t) for t in tokens[start : start + 50]))
    await asyncio.sleep(1.5)
    after = rss_kib(server.proc.pid)
    await asyncio.gather(*(ws.close() for ws in sockets))
    return before, after


def prepare(args: argparse.Namespace, stack: ExitStack, work: Path) -> tuple[dict, list[Daphne]]:
    extra = {"MEDIA_ROOT": str(work / "media"), "LOG_LEVEL": "WARNING", **UNTHROTTLED}
    if args.scaleout:
        pg = Postgres(work / "postgres.log")
        stack.callback(pg.destroy)
        pg.start()
        redis = Redis(work / "redis.log").start()
        stack.callback(redis.stop)
        env = django_env({**extra, "DATABASE_URL": pg.url, "REDIS_URL": redis.url})
    else:
        env = django_env({**extra, "DATABASE_URL": f"sqlite:///{work / 'db.sqlite3'}"})
    manage(env, "migrate", "--noinput")
    manage(env, "createcachetable")
    servers = []
    for n in range(2 if args.scaleout else 1):
        server = Daphne(env, work / f"daphne-{n}.log")
        stack.callback(server.stop)
        servers.append(server.start())
    return env, servers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--window", type=int, default=8, help="sends in flight per client")
    parser.add_argument("--idle", type=int, default=500, help="idle sockets for memory")
    parser.add_argument("--scaleout", action="store_true", help="PostgreSQL + Redis, 2 daphnes")
    parser.add_argument("--no-baseline", action="store_true", help="skip the relay run")
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="py-spy the (first) daphne during the load run "
        "and write collapsed stacks to FILE (needs py-spy; root or ptrace rights)",
    )
    args = parser.parse_args()

    baseline: Result | None = None
    if not args.no_baseline:
        baseline = relay_baseline.measure(args.pairs, args.seconds, args.window)

    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="happychat-bench-") as tmp:
        work = Path(tmp)
        t0 = time.monotonic()
        env, servers = prepare(args, stack, work)
        pair_names = [(f"p{i}a", f"p{i}b") for i in range(args.pairs)]
        world = seed(
            env,
            {
                "users": [n for pair in pair_names for n in pair]
                + [f"idle{j}" for j in range(args.idle)],
                "friends": [list(pair) for pair in pair_names],
            },
        )
        setup_s = time.monotonic() - t0
        tokens = {name: u["token"] for name, u in world["users"].items()}

        def pair_endpoints(count: int) -> list[tuple[Endpoint, Endpoint]]:
            out = []
            for a, b in pair_names[:count]:
                conv = world["direct"][f"{a}:{b}"]
                # On the scale-out path the two ends of a pair sit on different processes.
                out.append(
                    (endpoint(servers[0], tokens[a], conv), endpoint(servers[-1], tokens[b], conv))
                )
            return out

        before, after = asyncio.run(
            idle_memory(servers[0], [tokens[f"idle{j}"] for j in range(args.idle)])
        )
        # Generous warm-up: the first message starts lazy work (the robot loads its
        # dictionaries in a thread), which is a cold start, not the steady state measured.
        light = asyncio.run(run_pairs(pair_endpoints(1), seconds=3, window=1, warmup=5, prefix="l"))
        spy = None
        if args.profile:
            assert servers[0].proc is not None
            spy = subprocess.Popen(
                [
                    "py-spy",
                    "record",
                    "--pid",
                    str(servers[0].proc.pid),
                    "--format",
                    "raw",
                    "--output",
                    args.profile,
                    "--duration",
                    str(int(args.seconds + 2)),
                    "--rate",
                    "200",
                    "--threads",
                    "--idle",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        load = asyncio.run(
            run_pairs(pair_endpoints(args.pairs), seconds=args.seconds, window=args.window)
        )
        if spy is not None:
            spy.wait(timeout=60)

    path = "PostgreSQL + Redis, 2 daphnes" if args.scaleout else "SQLite, 1 daphne"
    rows = [
        ("path", path),
        ("pairs × window", f"{args.pairs} × {args.window}"),
        ("delivered msg/s", f"{load.rate:,.0f}  ({load.delivered:,} in {load.seconds:.1f} s)"),
        ("acked / errors", f"{load.acked:,} / {load.errors}"),
        ("latency under load p50/p99", f"{load.p50:.1f} / {load.percentile(99):.1f} ms"),
        ("latency 1 pair, 1 in flight p50/p99", f"{light.p50:.1f} / {light.percentile(99):.1f} ms"),
        ("RSS 0 → N idle sockets", f"{before / 1024:.1f} → {after / 1024:.1f} MiB (N={args.idle})"),
        ("memory per idle socket", f"{(after - before) / max(1, args.idle):.1f} KiB"),
        ("setup (migrate + seed)", f"{setup_s:.1f} s"),
        ("machine", cpu_note()),
    ]
    if baseline is not None:
        rows.insert(3, ("bare relay msg/s", f"{baseline.rate:,.0f}"))
        rows.insert(4, ("ratio to relay", f"{load.rate / baseline.rate:.0%}  (target ≥ 25%)"))
    print(table(rows, "HappyChat throughput"))


if __name__ == "__main__":
    main()
