"""Real processes for system tests: daphne on SQLite, or daphnes on PostgreSQL + Redis.

The session starts one redis-server and one throwaway PostgreSQL cluster (only if a test
asks for them) and stops them by pid. Each test gets its own database: a copy of a
migrated SQLite file, or a PostgreSQL database created from a migrated template, so
tests never see each other's rows and nobody pays for `migrate` twice.
"""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.servers import PYTHON, ROOT, Daphne, Postgres, Redis, django_env, manage

TEMPLATE_DB = "happychat_template"
_counter = itertools.count(1)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/system/" in str(item.fspath):
            item.add_marker(pytest.mark.system)


def base_env(workdir: Path, **extra: str) -> dict[str, str]:
    return django_env(
        {
            "EMAIL_URL": "consolemail://",
            "MEDIA_ROOT": str(workdir / "media"),
            "DJANGO_DEBUG": "False",
            "LOG_LEVEL": "WARNING",
            "THROTTLE_LOGIN": "10000/min",
            "THROTTLE_REGISTER": "10000/min",
            **extra,
        }
    )


def report(module: str, env: dict[str, str], *args: str, request: Any = None) -> Any:
    """Run `python -m module args…` with `env` (a JSON request on stdin) and return the JSON
    it prints; its stderr if it fails."""
    done = subprocess.run(
        [PYTHON, "-m", module, *args],
        cwd=ROOT,
        env=env,
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{module} {' '.join(args)} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout)


def dbtool(env: dict[str, str], command: str, request: dict[str, Any]) -> Any:
    """Run tests/system/dbtool.py against the database in `env` and return its answer."""
    return report("tests.system.dbtool", env, command, request=request)


class Site:
    """One database (and channel layer), its seeded people, and the daphnes serving it."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.env = env
        self.workdir = workdir
        self.daphnes: list[Daphne] = []

    def daphne(self, port: int | None = None, **extra_env: str) -> Daphne:
        """Start a daphne on this site (on `port` to restart one where it was)."""
        n = len(self.daphnes)
        server = Daphne({**self.env, **extra_env}, self.workdir / f"daphne-{n}.log", port=port)
        self.daphnes.append(server)
        return server.start()

    def seed(self, **spec: Any) -> dict[str, Any]:
        return dbtool(self.env, "seed", spec)

    def dump(self, conversations: list[int] | None = None) -> dict[str, Any]:
        return dbtool(self.env, "dump", {"conversations": conversations})

    def race(self, **spec: Any) -> dict[str, Any]:
        return dbtool(self.env, "race", spec)

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
            for p in sorted(self.workdir.glob("*.log"))
        )

    def close(self) -> None:
        for server in self.daphnes:
            server.stop()


@pytest.fixture(scope="session")
def system_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("system")


@pytest.fixture(scope="session")
def redis_server(system_dir: Path) -> Iterator[Redis]:
    server = Redis(system_dir / "redis.log").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_server(system_dir: Path) -> Iterator[Postgres]:
    server = Postgres(system_dir / "postgres.log", dbname=TEMPLATE_DB).start()
    try:
        manage(base_env(system_dir, DATABASE_URL=server.url), "migrate", "--noinput")
        yield server
    finally:
        server.destroy()


@pytest.fixture(scope="session")
def sqlite_template(system_dir: Path) -> Path:
    path = system_dir / "template.sqlite3"
    env = base_env(system_dir, DATABASE_URL=f"sqlite:///{path}")
    manage(env, "migrate", "--noinput")
    manage(env, "createcachetable")
    # Fold the WAL into the main file so a plain copy is the whole database.
    import sqlite3

    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode=DELETE")
    return path


@pytest.fixture
def sqlite_site(sqlite_template: Path, tmp_path: Path) -> Iterator[Site]:
    """A fresh migrated SQLite database with the in-memory channel layer (one daphne)."""
    db = tmp_path / "db.sqlite3"
    shutil.copyfile(sqlite_template, db)
    site = Site(base_env(tmp_path, DATABASE_URL=f"sqlite:///{db}"), tmp_path)
    yield site
    site.close()


def create_pg_database(server: Postgres) -> str:
    import psycopg

    name = f"happychat_{next(_counter)}"
    with psycopg.connect(server.url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DB}"')
    return server.url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture
def pg_env(postgres_server: Postgres, tmp_path: Path) -> dict[str, str]:
    """The environment of a fresh PostgreSQL database (no Redis)."""
    return base_env(tmp_path, DATABASE_URL=create_pg_database(postgres_server))


@pytest.fixture
def scaleout_site(postgres_server: Postgres, redis_server: Redis, tmp_path: Path) -> Iterator[Site]:
    """The scale-out path: a fresh PostgreSQL database and the shared redis-server."""
    import redis

    # Channel-layer groups are named after database ids, which every fresh database
    # reuses: start each test from an empty Redis so no stale group outlives its test.
    redis.Redis.from_url(redis_server.url).flushall()
    env = base_env(
        tmp_path, DATABASE_URL=create_pg_database(postgres_server), REDIS_URL=redis_server.url
    )
    site = Site(env, tmp_path)
    yield site
    site.close()
