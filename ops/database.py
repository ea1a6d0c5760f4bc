"""Consistent online snapshots of the database, and restoring them, for each vendor.

SQLite: `sqlite3.Connection.backup` in one step, which reads one WAL snapshot while daphne
keeps committing. PostgreSQL: a REPEATABLE READ transaction exports its snapshot, `pg_dump
--snapshot` dumps exactly that state, and the same transaction counts the rows and lists
the media files, so the manifest describes the dump and nothing newer.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from django.apps import apps
from django.db import connections, transaction
from django.db.models import FileField

from ops.errors import OpsError

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
SUPPORTED = (SQLITE, POSTGRESQL)
ARCHIVE_NAMES = {SQLITE: "database/db.sqlite3", POSTGRESQL: "database/db.pgdump"}


class Cursor(Protocol):
    def execute(self, sql: str, /) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


@dataclass
class Facts:
    """What a database snapshot holds: rows per model, media it references, migrations."""

    counts: dict[str, int] = field(default_factory=dict)
    # storage name → labels of the file fields ("accounts.User.avatar") that reference it
    media: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    migrations: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Snapshot:
    vendor: str
    path: Path
    arcname: str
    server_version: str
    facts: Facts


def vendor(using: str = "default") -> str:
    """The configured database's vendor, if backups support it."""
    name = connections[using].vendor
    if name not in SUPPORTED:
        raise OpsError(f"Backups support SQLite and PostgreSQL, not {name}.")
    return name


def _qn(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def read_facts(cursor: Cursor, tables: Iterable[str]) -> Facts:
    """Count every model's rows and collect the file names of every FileField.

    Plain SQL on a DB-API cursor, so it reads a snapshot file as well as a live database.
    Models whose table is absent (a migration not applied) are left out.
    """
    present = set(tables)
    facts = Facts()
    for model in apps.get_models(include_auto_created=True):
        opts = model._meta
        if not opts.managed or opts.proxy or opts.db_table not in present:
            continue
        table = _qn(opts.db_table)
        # Identifiers come from our own models' metadata, quoted; no user input.
        cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608
        facts.counts[opts.label] = int(cursor.fetchone()[0])
        for f in opts.local_concrete_fields:
            if not isinstance(f, FileField):
                continue
            column = _qn(str(f.column))
            cursor.execute(
                f"SELECT DISTINCT {column} FROM {table} "  # noqa: S608
                f"WHERE {column} IS NOT NULL AND {column} <> ''"
            )
            for (name,) in cursor.fetchall():
                facts.media[name].add(f"{opts.label}.{f.name}")
    if "django_migrations" in present:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
        applied: dict[str, list[str]] = defaultdict(list)
        for app, name in cursor.fetchall():
            applied[app].append(name)
        facts.migrations = dict(applied)
    return facts


# --- SQLite ---------------------------------------------------------------------------


def _sqlite_path(using: str) -> Path:
    name = connections[using].settings_dict["NAME"]
    if not name or str(name) == ":memory:" or str(name).startswith("file:"):
        raise OpsError(f"Cannot back up the SQLite database {name!r}: it is not a file.")
    return Path(name)


def _sqlite_tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return [r[0] for r in rows]


def sqlite_check(conn: sqlite3.Connection) -> None:
    """Raise OpsError unless the database passes integrity and foreign-key checks."""
    result = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
    if result != ["ok"]:
        raise OpsError(f"SQLite integrity check failed: {'; '.join(result[:5])}")
    broken = conn.execute("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise OpsError(f"SQLite foreign key check failed: {broken[:5]}")


def _sqlite_snapshot(using: str, workdir: Path) -> Snapshot:
    source_path = _sqlite_path(using)
    if not source_path.exists():
        raise OpsError(f"The SQLite database {source_path} does not exist.")
    target = workdir / "db.sqlite3"
    with (
        closing(sqlite3.connect(source_path, timeout=30)) as source,
        closing(sqlite3.connect(target)) as copy,
    ):
        source.execute("PRAGMA busy_timeout = 30000")
        # pages=-1: one step under one read transaction, i.e. one consistent WAL snapshot;
        # writers go on committing meanwhile (in WAL mode readers never block them).
        source.backup(copy, pages=-1)
        # A self-contained file: no -wal beside it in the archive.
        copy.execute("PRAGMA journal_mode = DELETE")
        sqlite_check(copy)
        facts = read_facts(copy.cursor(), _sqlite_tables(copy))
        version = sqlite3.sqlite_version
    return Snapshot(SQLITE, target, ARCHIVE_NAMES[SQLITE], version, facts)


def sqlite_facts(path: Path) -> Facts:
    with closing(sqlite3.connect(path)) as conn:
        return read_facts(conn.cursor(), _sqlite_tables(conn))


def _sqlite_restore(using: str, dump: Path) -> None:
    target_path = _sqlite_path(using)
    target_path.parent.mkdir(parents=True, exist_ok=True)
    connections[using].close()
    with (
        closing(sqlite3.connect(dump)) as source,
        closing(sqlite3.connect(target_path, timeout=30)) as target,
    ):
        # The backup API replaces the target's pages in one write transaction, WAL and all,
        # instead of copying a file under an open -wal/-shm pair.
        source.backup(target, pages=-1)
        sqlite_check(target)


# --- PostgreSQL -----------------------------------------------------------------------

_PG_OPTIONS = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "service": "PGSERVICE",
    "passfile": "PGPASSFILE",
    "options": "PGOPTIONS",
}


def pg_environment(using: str = "default") -> dict[str, str]:
    """libpq variables for pg_dump/pg_restore/psql: the password never on a command line."""
    settings_dict = connections[using].settings_dict
    env = dict(os.environ)
    for key, var in (
        ("NAME", "PGDATABASE"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
    ):
        if settings_dict.get(key):
            env[var] = str(settings_dict[key])
    for option, var in _PG_OPTIONS.items():
        value = (settings_dict.get("OPTIONS") or {}).get(option)
        if value:
            env[var] = str(value)
    return env


def pg_tool(name: str) -> str:
    """Path of a PostgreSQL client program (postgresql-client), or OpsError."""
    found = shutil.which(name)
    if found is None:
        raise OpsError(f"{name} is not installed (Debian: apt-get install postgresql-client).")
    return found


def _run(args: list[str], env: dict[str, str]) -> None:
    # Our own argument lists (program paths from PATH, file names we made), no shell.
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise OpsError(f"{Path(args[0]).name} failed ({done.returncode}): {done.stderr.strip()}")


def _pg_snapshot(using: str, workdir: Path) -> Snapshot:
    target = workdir / "db.pgdump"
    connection = connections[using]
    with transaction.atomic(using=using), connection.cursor() as cursor:
        # First statement of the transaction, so it decides the snapshot every later
        # statement (and pg_dump, through the exported id) sees.
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot_id = cursor.fetchone()[0]
        _run(
            [
                pg_tool("pg_dump"),
                "--format=custom",
                f"--snapshot={snapshot_id}",
                f"--file={target}",
            ],
            pg_environment(using),
        )
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
        facts = read_facts(cursor, connection.introspection.table_names(cursor))
    return Snapshot(POSTGRESQL, target, ARCHIVE_NAMES[POSTGRESQL], version, facts)


def _pg_restore(using: str, dump: Path, workdir: Path) -> None:
    connection = connections[using]
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    connection.close()
    # Drop what is there (empty tables from `migrate`, or old data under --force) and load
    # the dump in one transaction: either the whole backup is in, or nothing changed.
    drop = workdir / "drop.sql"
    drop.write_text("".join(f"DROP TABLE IF EXISTS {_qn(t)} CASCADE;\n" for t in tables))
    script = workdir / "restore.sql"
    env = pg_environment(using)
    _run(
        [pg_tool("pg_restore"), "--no-owner", "--no-privileges", f"--file={script}", str(dump)],
        env,
    )
    _run(
        [
            pg_tool("psql"),
            "--no-psqlrc",
            "--quiet",
            "--single-transaction",
            "--set=ON_ERROR_STOP=1",
            f"--file={drop}",
            f"--file={script}",
        ],
        env,
    )


# --- either ---------------------------------------------------------------------------


def snapshot(workdir: Path, *, using: str = "default") -> Snapshot:
    """Write a consistent copy of the live database into `workdir` and describe it."""
    if vendor(using) == SQLITE:
        return _sqlite_snapshot(using, workdir)
    return _pg_snapshot(using, workdir)


def restore(dump: Path, workdir: Path, *, using: str = "default") -> None:
    """Replace the configured database's contents with the dump (same vendor)."""
    if vendor(using) == SQLITE:
        _sqlite_restore(using, dump)
    else:
        _pg_restore(using, dump, workdir)


def live_facts(*, using: str = "default") -> Facts:
    """Facts of the configured database as it is now."""
    if vendor(using) == SQLITE:
        path = _sqlite_path(using)
        if not path.exists():
            return Facts()
        return sqlite_facts(path)
    connection = connections[using]
    with connection.cursor() as cursor:
        return read_facts(cursor, connection.introspection.table_names(cursor))


@contextmanager
def closed_connections() -> Iterator[None]:
    """Close Django's connections around a block that replaces the database underneath."""
    connections.close_all()
    try:
        yield
    finally:
        connections.close_all()
