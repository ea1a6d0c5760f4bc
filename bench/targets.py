"""The servers a benchmark drives: HappyChat on either path, and the peers of bench/peers/.

Every target starts its own processes on free loopback ports (in a work directory the
caller removes), hands out endpoints for a workload's rooms, names its processes for CPU
and memory accounting, and stops everything it started by pid.

  happychat-sqlite    one daphne, SQLite (WAL), the in-memory channel layer
  happychat-scaleout  two daphnes sharing a throwaway PostgreSQL (pg_stat_statements on) and
                      redis-server; the members of every room alternate between the daphnes
  tutorial            the Channels-tutorial chat (ORM save + in-memory group_send), daphne
  socketio            a Node socket.io chat server (stores nothing)
  relay               the bare websockets relay (stores nothing)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loadgen import Endpoint
from tests.servers import (
    PYTHON,
    ROOT,
    Daphne,
    Postgres,
    Redis,
    django_env,
    free_port,
    manage,
    stop_pid,
    wait_for_port,
)

UNTHROTTLED = {
    "CHAT_SEND_RATE": "1000000",
    "CHAT_SEND_BURST": "1000000",
    "CHAT_SOCKET_FRAME_RATE": "1000000",
    "CHAT_SOCKET_FRAME_BURST": "1000000",
}
PEERS = ROOT / "bench" / "peers"


@dataclass(frozen=True)
class Workload:
    """`rooms` rooms of `size` members; `senders` of each room send (all if None), each with
    `window` sends in flight (closed loop). `direct`: on HappyChat a room of 2 is a pair of
    friends in their direct conversation (pairs mode), otherwise every room is a group."""

    key: str
    rooms: int
    size: int
    window: int = 1
    senders: int | None = None
    direct: bool = False

    def people(self) -> list[list[str]]:
        return [[f"{self.key}{i}m{j}" for j in range(self.size)] for i in range(self.rooms)]

    @property
    def label(self) -> str:
        if self.direct:
            text = f"{self.rooms} pairs"
        else:
            text = f"{self.rooms} room{'s' if self.rooms > 1 else ''} of {self.size}"
        if self.senders is not None:
            text += f", {self.senders} sending"
        return text + f" × window {self.window}"


class Target:
    key = ""
    label = ""
    protocol = ""

    def start(self, work: Path) -> Target:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def prepare(self, workloads: list[Workload], idle: int = 0) -> None:
        """Create what the workloads' people need (HappyChat seeds users and conversations)."""
        return None

    def endpoints(self, workload: Workload) -> list[list[Endpoint]]:
        raise NotImplementedError

    def idle_endpoints(self, n: int) -> list[Endpoint]:
        raise NotImplementedError

    def components(self) -> dict[str, list[int]]:
        """Process roots by role, for CPU accounting (descendants included)."""
        raise NotImplementedError

    def memory_pids(self) -> list[int]:
        """The processes that hold sockets (their RSS is the memory per socket)."""
        raise NotImplementedError

    def diagnostics_begin(self) -> None:
        return None

    def diagnostics_end(self) -> dict[str, Any] | None:
        return None


def _popen(args: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


# --- HappyChat ---------------------------------------------------------------------------


class HappyChat(Target):
    protocol = "happychat"

    def __init__(self, *, scaleout: bool = False, throttled: bool = False) -> None:
        """`throttled`: keep the default rate limits (the throughput benchmarks lift them)."""
        self.scaleout = scaleout
        self.throttled = throttled
        self.key = "happychat-scaleout" if scaleout else "happychat-sqlite"
        self.label = (
            "HappyChat (PostgreSQL + Redis, 2 daphnes)" if scaleout else "HappyChat (SQLite)"
        )
        self.daphnes: list[Daphne] = []
        self.pg: Postgres | None = None
        self.redis: Redis | None = None
        self.world: dict[str, Any] = {}
        self._idle_names: list[str] = []
        self._redis_before: dict[str, dict[str, float]] = {}

    def start(self, work: Path) -> HappyChat:
        self.work = work / self.key
        self.work.mkdir(parents=True, exist_ok=True)
        extra = {"MEDIA_ROOT": str(self.work / "media"), "LOG_LEVEL": "WARNING"}
        if not self.throttled:
            extra.update(UNTHROTTLED)
        try:
            if self.scaleout:
                self.pg = Postgres(self.work / "postgres.log")
                with (self.pg.data / "postgresql.conf").open("a") as conf:
                    conf.write(
                        "\nshared_preload_libraries = 'pg_stat_statements'\n"
                        "pg_stat_statements.track = 'all'\n"
                    )
                self.pg.start()
                self.redis = Redis(self.work / "redis.log").start()
                urls = {"DATABASE_URL": self.pg.url, "REDIS_URL": self.redis.url}
                env = django_env({**extra, **urls})
            else:
                url = f"sqlite:///{self.work / 'db.sqlite3'}"
                env = django_env({**extra, "DATABASE_URL": url})
            self.env = env
            manage(env, "migrate", "--noinput")
            manage(env, "createcachetable")
            if self.pg is not None:
                self._pg_execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            for n in range(2 if self.scaleout else 1):
                server = Daphne(env, self.work / f"daphne-{n}.log")
                self.daphnes.append(server)
                server.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for server in self.daphnes:
            server.stop()
        if self.redis is not None:
            self.redis.stop()
        if self.pg is not None:
            self.pg.destroy()

    def prepare(self, workloads: list[Workload], idle: int = 0) -> None:
        users: list[str] = []
        friends: list[list[str]] = []
        groups: list[dict[str, Any]] = []
        for w in workloads:
            for i, members in enumerate(w.people()):
                users += members
                if w.direct:
                    friends.append(members)
                else:
                    groups.append({"name": f"{w.key}{i}", "owner": members[0], "members": members})
        self.world = {"users": {}, "direct": {}, "groups": {}}
        if users:
            spec = {"users": users, "friends": friends, "groups": groups}
            self.world = self._run("tests.system.dbtool", "seed", spec=spec)
        self._idle_names = [f"idle{j}" for j in range(idle)]
        if idle:
            # Only people who authenticate: seeded in bulk (bench/seed.py).
            self.world["users"].update(self._run("bench.seed", spec={"users": self._idle_names}))

    def _run(self, module: str, *args: str, spec: dict[str, Any]) -> Any:
        done = subprocess.run(
            [PYTHON, "-m", module, *args],
            cwd=ROOT,
            env=self.env,
            input=json.dumps(spec),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            raise RuntimeError(done.stderr[-3000:])
        return json.loads(done.stdout)

    def _endpoint(self, j: int, name: str, conversation: int) -> Endpoint:
        # On the scale-out path the members of a room alternate between the processes, so
        # the two ends of a pair sit on different ones.
        server = self.daphnes[j % len(self.daphnes)]
        token = self.world["users"][name]["token"]
        return Endpoint(server.ws_url, conversation, {"Authorization": f"Token {token}"})

    def endpoints(self, workload: Workload) -> list[list[Endpoint]]:
        rooms = []
        for i, members in enumerate(workload.people()):
            if workload.direct:
                conversation = int(self.world["direct"][f"{members[0]}:{members[1]}"])
            else:
                conversation = int(self.world["groups"][f"{workload.key}{i}"]["conversation"])
            rooms.append([self._endpoint(j, n, conversation) for j, n in enumerate(members)])
        return rooms

    def idle_endpoints(self, n: int) -> list[Endpoint]:
        return [self._endpoint(j, name, 0) for j, name in enumerate(self._idle_names[:n])]

    def components(self) -> dict[str, list[int]]:
        found = {"daphne": [d.proc.pid for d in self.daphnes if d.proc is not None]}
        if self.pg is not None and self.pg.proc is not None:
            found["postgres"] = [self.pg.proc.pid]
        if self.redis is not None and self.redis.proc is not None:
            found["redis"] = [self.redis.proc.pid]
        return found

    def memory_pids(self) -> list[int]:
        return [d.proc.pid for d in self.daphnes if d.proc is not None]

    # --- scale-out diagnostics: what the database and Redis did in the measured seconds

    def _pg_execute(self, sql: str) -> list[tuple[Any, ...]]:
        import psycopg

        assert self.pg is not None
        with psycopg.connect(self.pg.url, autocommit=True) as conn:
            cur = conn.execute(sql)
            return cur.fetchall() if cur.description else []

    def _commandstats(self) -> dict[str, dict[str, float]]:
        import redis

        assert self.redis is not None
        client = redis.Redis.from_url(self.redis.url)
        try:
            stats = client.info("commandstats")
        finally:
            client.close()
        return {
            name.removeprefix("cmdstat_"): {"calls": v["calls"], "usec": v["usec"]}
            for name, v in stats.items()
        }

    def diagnostics_begin(self) -> None:
        if not self.scaleout:
            return
        self._pg_execute("SELECT pg_stat_statements_reset()")
        self._redis_before = self._commandstats()

    def diagnostics_end(self) -> dict[str, Any] | None:
        if not self.scaleout:
            return None
        after = self._commandstats()
        redis_delta = {}
        for name, v in after.items():
            old = self._redis_before.get(name, {"calls": 0, "usec": 0})
            calls = v["calls"] - old["calls"]
            if calls > 0 and name not in ("info",):
                redis_delta[name] = {"calls": calls, "usec": v["usec"] - old["usec"]}
        rows = self._pg_execute(
            "SELECT calls, total_exec_time, rows, regexp_replace(query, '\\s+', ' ', 'g') "
            "FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid "
            "WHERE d.datname = current_database() AND query NOT ILIKE '%pg_stat_statements%' "
            "ORDER BY total_exec_time DESC"
        )
        statements = [
            {"calls": int(c), "total_ms": float(t), "rows": int(r), "query": q}
            for c, t, r, q in rows
        ]
        return {"statements": statements, "redis": redis_delta}


# --- peers -------------------------------------------------------------------------------


class _Peer(Target):
    """A single-process peer: one server process on a free port."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        self.port = 0

    def stop(self) -> None:
        if self.proc is not None:
            stop_pid(self.proc)

    def url(self, room: str) -> str:
        raise NotImplementedError

    def headers(self) -> dict[str, str]:
        return {}

    def endpoints(self, workload: Workload) -> list[list[Endpoint]]:
        return [
            [
                Endpoint(self.url(f"{workload.key}-{i}"), i, self.headers(), self.protocol)
                for _ in members
            ]
            for i, members in enumerate(workload.people())
        ]

    def idle_endpoints(self, n: int) -> list[Endpoint]:
        return [Endpoint(self.url(f"idle-{i}"), i, self.headers(), self.protocol) for i in range(n)]

    def components(self) -> dict[str, list[int]]:
        return {self.key: [self.proc.pid] if self.proc is not None else []}

    def memory_pids(self) -> list[int]:
        return [self.proc.pid] if self.proc is not None else []


class Relay(_Peer):
    key = "relay"
    label = "bare websockets relay"
    protocol = "relay"

    def start(self, work: Path) -> Relay:
        self.port = free_port()
        self.proc = _popen([PYTHON, "-m", "bench.peers.relay", str(self.port)], work / "relay.log")
        wait_for_port(self.port, proc=self.proc)
        return self

    def url(self, room: str) -> str:
        return f"ws://127.0.0.1:{self.port}/room/{room}"


class Tutorial(_Peer):
    key = "tutorial"
    label = "Channels tutorial (ORM save, in-memory layer)"
    protocol = "tutorial"

    def start(self, work: Path) -> Tutorial:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.peers.channels_tutorial.settings",
            "BENCH_TUTORIAL_DB": str(work / "tutorial.sqlite3"),
            "PYTHONUNBUFFERED": "1",
        }
        subprocess.run(
            [PYTHON, "-m", "django", "migrate", "--run-syncdb", "--noinput"],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        self.port = free_port()
        self.proc = _popen(
            [
                PYTHON,
                "-m",
                "daphne",
                "-b",
                "127.0.0.1",
                "-p",
                str(self.port),
                "bench.peers.channels_tutorial.asgi:application",
            ],
            work / "tutorial.log",
            env,
        )
        wait_for_port(self.port, proc=self.proc)
        return self

    def url(self, room: str) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/chat/{room}/"

    def headers(self) -> dict[str, str]:
        # The tutorial wraps its router in AllowedHostsOriginValidator, as browsers send one.
        return {"Origin": f"http://127.0.0.1:{self.port}"}


SOCKETIO_DIR = PEERS / "socketio"


def ensure_socketio_installed() -> None:
    """`npm ci` from the committed lock file when node_modules is missing or older."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise RuntimeError("the socket.io peer needs node and npm (scripts/bench installs them)")
    marker = SOCKETIO_DIR / "node_modules" / ".package-lock.json"
    lock = SOCKETIO_DIR / "package-lock.json"
    if marker.exists() and marker.stat().st_mtime >= lock.stat().st_mtime:
        return
    subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=SOCKETIO_DIR,
        check=True,
        stdout=subprocess.DEVNULL,
    )


class SocketIO(_Peer):
    key = "socketio"
    label = "socket.io (Node, stores nothing)"
    protocol = "socketio"

    def start(self, work: Path) -> SocketIO:
        ensure_socketio_installed()
        self.port = free_port()
        self.proc = _popen(
            ["node", str(SOCKETIO_DIR / "server.js"), str(self.port)], work / "socketio.log"
        )
        wait_for_port(self.port, proc=self.proc)
        return self

    def url(self, room: str) -> str:
        return f"ws://127.0.0.1:{self.port}/socket.io/?EIO=4&transport=websocket&room={room}"


PEER_KEYS = ("tutorial", "socketio", "relay")


def make_target(key: str) -> Target:
    if key == "happychat-sqlite":
        return HappyChat()
    if key == "happychat-scaleout":
        return HappyChat(scaleout=True)
    peers: dict[str, type[Target]] = {"relay": Relay, "tutorial": Tutorial, "socketio": SocketIO}
    return peers[key]()
