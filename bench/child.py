"""Run a benchmark's measuring half in a child process on a fresh, migrated database.

bench/history.py and bench/search.py fill a database with a million messages and time
queries against it inside Django; the parent makes the database (a throwaway PostgreSQL,
or SQLite in a temporary directory), runs the script again with `--child`, and reads the
child's figures (JSON on its stdout).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from tests.servers import PYTHON, ROOT, Postgres, django_env, manage


def run_on_fresh_database(
    script: str, *, postgres: bool, args: list[str], prefix: str
) -> dict[str, Any]:
    """`script --child *args` against a new database; the child's JSON figures."""
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        work = Path(tmp)
        if postgres:
            pg = Postgres(work / "postgres.log")
            stack.callback(pg.destroy)
            url = pg.start().url
        else:
            url = f"sqlite:///{work / 'db.sqlite3'}"
        env = django_env({"DATABASE_URL": url, "MEDIA_ROOT": str(work / "media")})
        manage(env, "migrate", "--noinput")
        manage(env, "createcachetable")
        done = subprocess.run(
            [PYTHON, str(Path(script).resolve()), "--child", *args],
            cwd=ROOT,
            env={**env, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            raise SystemExit(done.stderr[-4000:])
        result: dict[str, Any] = json.loads(done.stdout)
        return result
