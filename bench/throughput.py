"""HappyChat under load: delivered messages/s, latency and memory per idle socket,
compared with the bare relay (bench/relay_baseline.py) on this machine.

    .venv/bin/python bench/throughput.py [--pairs 20] [--seconds 5] [--window 8]
                                         [--idle 500] [--scaleout] [--no-baseline] [--json FILE]
    .venv/bin/python bench/throughput.py --room 10 [--clients 40] [--window 4] [--idle 0] …

Pairs mode (default): N pairs of friends, each pair sending in its direct conversation.
`--room K`: the clients are grouped into rooms of K (`--clients 40 --room 10` → 4 rooms),
each room a seeded group whose conversation every member sends to; the relay baseline is
run with the same rooms. Delivered messages/s counts every `message` frame received, so a
send in a room of K is delivered K - 1 times.

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
from bench.loadgen import Endpoint, Result, cpu_note, room_count, rss_kib, run_rooms, table
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


def room_layout(args: argparse.Namespace) -> tuple[list[list[str]], dict[str, Any]]:
    """The seeded people, room by room, and the dbtool spec that makes their conversations.

    Pairs mode: `--pairs` friendships, each with its direct conversation. Room mode:
    `--clients / --room` groups of `--room` members (owner first), each with its group
    conversation.
    """
    if args.room:
        rooms = [
            [f"r{i}m{j}" for j in range(args.room)]
            for i in range(room_count(args.clients, args.room))
        ]
        spec = {
            "groups": [
                {"name": f"room{i}", "owner": m[0], "members": m} for i, m in enumerate(rooms)
            ]
        }
    else:
        rooms = [[f"p{i}a", f"p{i}b"] for i in range(args.pairs)]
        spec = {"friends": rooms}
    return rooms, spec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=20, help="pairs mode: client pairs")
    parser.add_argument("--room", type=int, default=0, help="members per room (0: pairs mode)")
    parser.add_argument("--clients", type=int, default=40, help="room mode: clients in all")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--window", type=int, default=8, help="sends in flight per client")
    parser.add_argument("--idle", type=int, default=500, help="idle sockets for memory (0: skip)")
    parser.add_argument("--scaleout", action="store_true", help="PostgreSQL + Redis, 2 daphnes")
    parser.add_argument("--no-baseline", action="store_true", help="skip the relay run")
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE as JSON")
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="py-spy the (first) daphne during the load run "
        "and write collapsed stacks to FILE (needs py-spy; root or ptrace rights)",
    )
    args = parser.parse_args()
    rooms, spec = room_layout(args)
    if args.room:
        label = f"{len(rooms)} rooms of {args.room} × window {args.window}"
        one = "1 room, 1 sender"
    else:
        label = f"{args.pairs} pairs × window {args.window}"
        one = "1 pair"

    baseline: Result | None = None
    if not args.no_baseline:
        baseline = relay_baseline.measure_rooms(
            sum(len(r) for r in rooms), len(rooms[0]), args.seconds, args.window
        )

    before = after = 0
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="happychat-bench-") as tmp:
        work = Path(tmp)
        t0 = time.monotonic()
        env, servers = prepare(args, stack, work)
        idle_names = [f"idle{j}" for j in range(args.idle)]
        world = seed(env, {"users": [n for r in rooms for n in r] + idle_names, **spec})
        setup_s = time.monotonic() - t0
        tokens = {name: u["token"] for name, u in world["users"].items()}

        def conversation(i: int, members: list[str]) -> int:
            if args.room:
                return int(world["groups"][f"room{i}"]["conversation"])
            return int(world["direct"][f"{members[0]}:{members[1]}"])

        def room_endpoints(count: int) -> list[list[Endpoint]]:
            # On the scale-out path the members of a room alternate between the processes,
            # so the two ends of a pair sit on different ones.
            return [
                [
                    endpoint(servers[j % len(servers)], tokens[name], conversation(i, members))
                    for j, name in enumerate(members)
                ]
                for i, members in enumerate(rooms[:count])
            ]

        if args.idle:
            before, after = asyncio.run(idle_memory(servers[0], [tokens[n] for n in idle_names]))
        # Generous warm-up: the first message starts lazy work (the robot loads its
        # dictionaries in a thread), which is a cold start, not the steady state measured.
        # In a room only one member sends here: the latency of a fan-out at rest (all ten
        # sending, even one at a time, already outrun the deliveries).
        light = asyncio.run(
            run_rooms(
                room_endpoints(1), seconds=3, window=1, warmup=5, prefix="l", senders_per_room=1
            )
        )
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
            run_rooms(room_endpoints(len(rooms)), seconds=args.seconds, window=args.window)
        )
        if spy is not None:
            spy.wait(timeout=60)

    path = "PostgreSQL + Redis, 2 daphnes" if args.scaleout else "SQLite, 1 daphne"
    rows = [
        ("path", path),
        *relay_baseline.rows(load, label),
        ("errors", f"{load.errors}"),
        (f"latency {one}, 1 in flight p50/p99", f"{light.p50:.1f} / {light.percentile(99):.1f} ms"),
    ]
    if args.idle:
        rows += [
            (
                "RSS 0 → N idle sockets",
                f"{before / 1024:.1f} → {after / 1024:.1f} MiB (N={args.idle})",
            ),
            ("memory per idle socket", f"{(after - before) / args.idle:.1f} KiB"),
        ]
    rows += [("setup (migrate + seed)", f"{setup_s:.1f} s"), ("machine", cpu_note())]
    if baseline is not None:
        target = "" if args.room else "  (target ≥ 25%)"
        rows.insert(3, ("bare relay msg/s", f"{baseline.rate:,.0f}"))
        rows.insert(4, ("ratio to relay", f"{load.rate / baseline.rate:.0%}{target}"))
    print(table(rows, "HappyChat throughput"))
    if args.json:
        figures = {
            "mode": "rooms" if args.room else "pairs",
            "label": label,
            "path": path,
            "happychat": load.summary(),
            "relay": baseline.summary() if baseline is not None else None,
            "light": {"p50_ms": light.p50, "p99_ms": light.percentile(99)},
            "idle": {"n": args.idle, "before_kib": before, "after_kib": after}
            if args.idle
            else None,
            "setup_s": setup_s,
        }
        Path(args.json).write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
