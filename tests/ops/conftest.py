"""Sites for the operations tests: a migrated SQLite file per test, commands as subprocesses.

Backup and restore act on the configured database, so they run as `manage.py` in their own
process against a site's environment, exactly as an operator runs them.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.servers import PYTHON, ROOT, django_env, manage


def base_env(workdir: Path, **extra: str) -> dict[str, str]:
    return django_env(
        {
            "EMAIL_URL": "consolemail://",
            "MEDIA_ROOT": str(workdir / "media"),
            "BACKUP_DIR": str(workdir / "backups"),
            "DJANGO_DEBUG": "False",
            "LOG_LEVEL": "WARNING",
            **extra,
        }
    )


def _tool(module: str, env: dict[str, str], command: str, request: dict[str, Any]) -> Any:
    done = subprocess.run(
        [PYTHON, "-m", module, command],
        cwd=ROOT,
        env=env,
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{module} {command} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout)


class Site:
    """One database and media directory, seeded and inspected from outside."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.env = env
        self.workdir = workdir
        self.media = Path(env["MEDIA_ROOT"])
        self.backups = Path(env["BACKUP_DIR"])

    def seed(self, **spec: Any) -> dict[str, Any]:
        return _tool("tests.system.dbtool", self.env, "seed", spec)

    def dump(self, conversations: list[int] | None = None) -> dict[str, Any]:
        return _tool("tests.system.dbtool", self.env, "dump", {"conversations": conversations})

    def race(self, **spec: Any) -> dict[str, Any]:
        return _tool("tests.system.dbtool", self.env, "race", spec)

    def give_media(self, user: str, conversation: int) -> dict[str, Any]:
        return _tool(
            "tests.ops.sitetool", self.env, "media", {"user": user, "conversation": conversation}
        )

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return run_manage(self.env, *args, check=check)


def run_manage(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """`manage.py <args>` in the site's environment; its output captured."""
    done = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done


@pytest.fixture(scope="session")
def ops_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("ops-template")
    path = workdir / "template.sqlite3"
    env = base_env(workdir, DATABASE_URL=f"sqlite:///{path}")
    manage(env, "migrate", "--noinput")
    manage(env, "createcachetable")
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode=DELETE")
    return path


def new_site(template: Path, workdir: Path) -> Site:
    """A freshly migrated SQLite site (no people yet) with its own media and backup dirs."""
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / "db.sqlite3"
    shutil.copyfile(template, db)
    return Site(base_env(workdir, DATABASE_URL=f"sqlite:///{db}"), workdir)
