"""CPU per stored message on the writer's side, in-process: low-noise figures for the send
path (a busy machine changes wall-clock throughput far more than the CPU a send takes).

    .venv/bin/python bench/sendpath.py [--batch 16] [--messages 4000] [--postgres] [--profile]

Seeds `--pairs` pairs of friends in a fresh database (SQLite, or a throwaway PostgreSQL),
then runs `message_send` through the writer's batch function (chat/writer.py, the path a
socket's `send` takes: group commit in batches of `--batch` on SQLite; on PostgreSQL
batches of `--batch` too, each write committing alone) and reports the writer thread's
CPU time (time.thread_time) and wall time per message, statements per message (on SQLite
every statement SQLite runs; on PostgreSQL Django's cursors only, which the one-statement
send goes round), and on PostgreSQL the CPU
of the backend serving the writer (from /proc). `--profile`: cProfile's top functions.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--messages", type=int, default=4000)
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sort", default="tottime", help="cProfile order: tottime, cumulative")
    parser.add_argument("--top", type=int, default=25, help="functions shown by --profile")
    parser.add_argument("--show-sql", action="store_true", help="print a batch's statements")
    args = parser.parse_args()

    from tests.servers import Postgres, django_env, manage

    with tempfile.TemporaryDirectory(prefix="happychat-sendpath-") as tmp:
        pg = None
        if args.postgres:
            pg = Postgres(Path(tmp) / "postgres.log")
            pg.start()
            url = pg.url
        else:
            url = f"sqlite:///{Path(tmp) / 'db.sqlite3'}"
        try:
            env = django_env({"DATABASE_URL": url, "LOG_LEVEL": "WARNING"})
            manage(env, "migrate", "--noinput")
            os.environ.update(env)
            run(args)
        finally:
            if pg is not None:
                pg.destroy()


def _backend_pid(connection: Any) -> int | None:
    """The PostgreSQL backend serving this thread's connection (None on SQLite)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def _cpu_seconds(pid: int | None) -> float:
    """utime + stime of a process on this machine, from /proc (0 without one)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(args: argparse.Namespace) -> None:
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    import chat.consumers  # noqa: F401 - declares the services the writer runs as in daphne
    from chat import writer
    from chat.services.messages import message_send
    from tests.system.dbtool import seed

    world = seed(
        {
            "users": [f"u{i}{s}" for i in range(args.pairs) for s in "ab"],
            "friends": [[f"u{i}a", f"u{i}b"] for i in range(args.pairs)],
        }
    )
    from accounts.models import User

    users = {u.username: u for u in User.objects.filter(username__startswith="u")}
    pairs = [(users[f"u{i}a"], int(world["direct"][f"u{i}a:u{i}b"])) for i in range(args.pairs)]
    # A server loop in a thread of its own, as in daphne: events are handed to it.
    import threading

    from happychat import events

    server_loop = asyncio.new_event_loop()
    threading.Thread(target=server_loop.run_forever, daemon=True).start()
    events.bind_loop(server_loop)
    batch_size = args.batch
    n = 0

    def jobs(count: int) -> list[tuple[object, dict[str, object], asyncio.Future[object]]]:
        nonlocal n
        out = []
        loop = asyncio.new_event_loop()
        for _ in range(count):
            sender, conversation = pairs[n % len(pairs)]
            n += 1
            kwargs = {
                "sender": sender,
                "conversation_id": conversation,
                "client_id": f"m{n}",
                "body": f"hello number {n}",
            }
            out.append((message_send, kwargs, loop.create_future()))
        return out

    for _ in range(5):  # warm up
        writer._run_checked_batch(jobs(batch_size))  # type: ignore[arg-type]
    batches = [jobs(batch_size) for _ in range(args.messages // batch_size)]
    profiler = cProfile.Profile() if args.profile else None
    backend = _backend_pid(connection)
    backend0 = _cpu_seconds(backend)
    cpu0, wall0 = time.thread_time(), time.perf_counter()
    if profiler is not None:
        profiler.enable()
    for batch in batches:
        writer._run_checked_batch(batch)  # type: ignore[arg-type]
    if profiler is not None:
        profiler.disable()
    cpu, wall = time.thread_time() - cpu0, time.perf_counter() - wall0
    backend_cpu = _cpu_seconds(backend) - backend0
    total = len(batches) * batch_size
    traced: list[str] = []
    if connection.vendor == "sqlite":
        # Every statement SQLite runs (the send path's own go round Django's cursors), not
        # those FTS5 runs inside one ("-- …").
        connection.ensure_connection()
        connection.connection.set_trace_callback(
            lambda sql: None if sql.startswith("--") else traced.append(sql)
        )
    with CaptureQueriesContext(connection) as queries:
        for batch in [jobs(batch_size) for _ in range(5)]:
            writer._run_checked_batch(batch)  # type: ignore[arg-type]
    if connection.vendor == "sqlite":
        connection.connection.set_trace_callback(None)
    per = len(traced or queries.captured_queries) / (5 * batch_size)
    if args.show_sql:
        for sql in traced or [q["sql"] for q in queries.captured_queries]:
            print("  ", sql[:140])
    print(
        f"{connection.vendor}, batches of {batch_size}: {total:,} messages, "
        f"writer CPU {cpu / total * 1e6:.0f} µs and wall {wall / total * 1e6:.0f} µs per "
        f"message ({total / wall:,.0f}/s on one thread), {per:.1f} statements per message"
    )
    if backend is not None:
        print(f"PostgreSQL backend CPU {backend_cpu / total * 1e6:.0f} µs per message")
    if profiler is not None:
        stats = pstats.Stats(profiler).sort_stats(args.sort)
        stats.print_stats(args.top)
    server_loop.call_soon_threadsafe(server_loop.stop)


if __name__ == "__main__":
    main()
