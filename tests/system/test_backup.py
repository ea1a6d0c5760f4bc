"""Online backup while a real daphne keeps acking sends, then restore and serve again.

For SQLite (the backup API) and PostgreSQL (pg_dump of an exported snapshot): every
message acked before the backup started is in it; the backup is one consistent moment
(every conversation numbered 1..N without a gap); the restored database passes its
integrity checks; and a daphne started on it serves the history and gives the next send
the next seq.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import tarfile
from pathlib import Path
from typing import Any

import httpx

from tests.ops.sitetool import png
from tests.servers import PYTHON, ROOT, Postgres
from tests.system.conftest import Site, base_env, create_pg_database, dbtool
from tests.system.wsclient import WS

FAST = {"CHAT_SEND_RATE": "100000", "CHAT_SEND_BURST": "100000"}


def send_frame(client_id: str, conversation: int, body: str) -> dict[str, Any]:
    return {"type": "send", "id": client_id, "conversation": conversation, "kind": "text",
            "body": body}  # fmt: skip


async def manage(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        PYTHON,
        "manage.py",
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def upload_image(base_url: str, token: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        r = await client.post(
            "/api/v1/uploads/",
            headers={"Authorization": f"Token {token}"},
            files={"file": ("p.png", png((10, 200, 90), (300, 200)), "image/png")},
        )
        r.raise_for_status()
        return r.json()


async def backup_while_sending(site: Site, archive: Path) -> dict[str, Any]:
    """Two people send without pause; a backup runs in the middle. Return what was acked."""
    world = site.seed(
        users=["ann", "ben"],
        friends=[["ann", "ben"]],
        groups=[{"name": "ab", "owner": "ann", "members": ["ben"]}],
    )
    server = site.daphne(**FAST)
    direct = world["direct"]["ann:ben"]
    group = world["groups"]["ab"]["conversation"]
    tokens = {n: world["users"][n]["token"] for n in ("ann", "ben")}
    picture = await upload_image(server.url, tokens["ann"])
    sockets = {n: await WS.open(server.ws_url, tokens[n]) for n in ("ann", "ben")}
    image = await sockets["ann"].request(
        {"type": "send", "id": "pic", "conversation": direct, "kind": "image",
         "attachment": picture["id"]}, "ack")  # fmt: skip
    acks: dict[str, dict[str, Any]] = {"pic": image["message"]}
    stop = asyncio.Event()

    async def keep_sending(name: str) -> None:
        ws, n = sockets[name], 0
        while not stop.is_set():
            n += 1
            client_id = f"{name}-{n}"
            conversation = direct if n % 2 else group
            ack = await ws.request(send_frame(client_id, conversation, f"{name} {n}"), "ack",
                                   timeout=30)  # fmt: skip
            acks[client_id] = ack["message"]

    senders = [asyncio.create_task(keep_sending(n)) for n in sockets]
    try:
        while len(acks) < 100:
            await asyncio.sleep(0.02)
        acked_before = dict(acks)
        code, out, err = await manage(site.env, "backup", "--out", str(archive))
        acked_after_backup = len(acks)
        await asyncio.sleep(0.3)  # daphne goes on accepting after the backup too
    finally:
        stop.set()
        await asyncio.gather(*senders)
        for ws in sockets.values():
            await ws.close()
    server.stop()
    assert code == 0, out + err
    during = acked_after_backup - len(acked_before)
    # Shown with -s: how online the backup was.
    print(f"acked before the backup {len(acked_before)}, while it ran {during}, all {len(acks)}")
    return {
        "world": world,
        "direct": direct,
        "group": group,
        "picture": picture,
        "before": acked_before,
        "during": during,
        "total": len(acks),
        "stdout": out,
    }


def archived_upload_names(archive: Path) -> list[str]:
    """Storage names of the uploaded images the backup's manifest lists."""
    with tarfile.open(archive) as tar:
        stream = tar.extractfile("manifest.json")
        assert stream is not None
        manifest = json.load(stream)
    return [
        name.removeprefix("media/")
        for name, entry in manifest["files"].items()
        if "chat.Upload.image" in entry.get("fields", [])
    ]


def check_restored(target: Site, run: dict[str, Any]) -> dict[str, Any]:
    """The restored database: a gap-free prefix holding everything acked before the backup."""
    stored = target.dump()
    by_id = {m["id"]: m for m in stored["messages"]}
    for client_id, message in run["before"].items():
        row = by_id.get(message["id"])
        assert row is not None, f"{client_id}, acked before the backup, is not in it"
        assert (row["conversation"], row["seq"], row["client_id"]) == (
            message["conversation"],
            message["seq"],
            client_id,
        )
    for conv, last_seq in stored["conversations"].items():
        seqs = [m["seq"] for m in stored["messages"] if str(m["conversation"]) == conv]
        assert seqs == list(range(1, last_seq + 1)), f"conversation {conv}: gap or stray seq"
    # The backup is of one moment, not of everything: later sends are not in it.
    assert len(stored["messages"]) < run["total"]
    return stored


async def serve_restored(target: Site, run: dict[str, Any], stored: dict[str, Any]) -> None:
    """A daphne on the restored database serves history and continues the numbering."""
    server = target.daphne(**FAST)
    token = run["world"]["users"]["ben"]["token"]  # tokens are restored with the database
    direct, group = run["direct"], run["group"]
    last = {int(c): s for c, s in stored["conversations"].items()}
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        r = await client.get(
            f"/api/v1/conversations/{direct}/messages/?limit=200",
            headers={"Authorization": f"Token {token}"},
        )
    assert r.status_code == 200, r.text
    page = r.json()["results"]
    expected = [m for m in stored["messages"] if m["conversation"] == direct][-200:]
    assert [(m["id"], m["seq"], m["body"]) for m in page] == [
        (m["id"], m["seq"], m["body"]) for m in expected
    ]
    ws = await WS.open(server.ws_url, token)
    try:
        for conv in (direct, group):
            ack = await ws.request(send_frame(f"after-restore-{conv}", conv, "again"), "ack")
            assert ack["message"]["seq"] == last[conv] + 1
    finally:
        await ws.close()


def constraints(env: dict[str, str]) -> list[tuple[str, str, str, bool]]:
    import psycopg

    with psycopg.connect(env["DATABASE_URL"]) as conn:
        rows = conn.execute(
            "SELECT conrelid::regclass::text, conname, contype::text, convalidated"
            " FROM pg_constraint JOIN pg_namespace n ON n.oid = connamespace"
            " WHERE n.nspname = 'public' ORDER BY 1, 2"
        ).fetchall()
    assert rows, "no constraints found"
    assert all(validated for *_, validated in rows)
    return [tuple(r) for r in rows]


async def test_sqlite_backup_while_daphne_sends_restores_and_serves(
    sqlite_site: Site, sqlite_template: Path, tmp_path: Path
):
    archive = tmp_path / "backup.tar"
    run = await backup_while_sending(sqlite_site, archive)
    assert run["during"] > 0, "no send was acked while the backup ran: it was not online"

    target_dir = tmp_path / "restored"
    target_dir.mkdir()
    db = target_dir / "db.sqlite3"
    shutil.copyfile(sqlite_template, db)
    target = Site(base_env(target_dir, DATABASE_URL=f"sqlite:///{db}"), target_dir)
    code, out, err = await manage(target.env, "restore", str(archive))
    assert code == 0, out + err

    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    stored = check_restored(target, run)
    [picture] = archived_upload_names(archive)
    assert (target_dir / "media" / picture).read_bytes() == (
        sqlite_site.workdir / "media" / picture
    ).read_bytes()
    try:
        await serve_restored(target, run, stored)
    finally:
        target.close()


async def test_postgres_backup_while_daphne_sends_restores_and_serves(
    postgres_server: Postgres, tmp_path: Path
):
    source_dir, target_dir = tmp_path / "source", tmp_path / "restored"
    source_dir.mkdir()
    target_dir.mkdir()
    source = Site(base_env(source_dir, DATABASE_URL=create_pg_database(postgres_server)),
                  source_dir)  # fmt: skip
    target = Site(base_env(target_dir, DATABASE_URL=create_pg_database(postgres_server)),
                  target_dir)  # fmt: skip
    archive = tmp_path / "backup.tar"
    # Without Redis the throttles' cache is a table, which `migrate` does not create.
    code, out, err = await manage(source.env, "createcachetable")
    assert code == 0, out + err
    try:
        run = await backup_while_sending(source, archive)
        assert run["during"] > 0, "no send was acked while the backup ran: it was not online"

        code, out, err = await manage(target.env, "restore", str(archive))
        assert code == 0, out + err
        stored = check_restored(target, run)
        # Integrity: every constraint of the source exists in the restored database and
        # is validated (pg_restore adds keys and checks after the rows, so rows that broke
        # one would have failed the restore's single transaction).
        assert constraints(target.env) == constraints(source.env)
        assert dbtool(target.env, "dump", {"conversations": None}) == stored
        [picture] = archived_upload_names(archive)
        assert (target_dir / "media" / picture).read_bytes() == (
            source_dir / "media" / picture
        ).read_bytes()
        await serve_restored(target, run, stored)

        # The source holds data (and newer messages): refused unless forced, then replaced.
        code, out, err = await manage(source.env, "restore", str(archive))
        assert code != 0
        assert "--force" in err
        assert len(source.dump()["messages"]) == run["total"]
        code, out, err = await manage(source.env, "restore", "--force", str(archive))
        assert code == 0, out + err
        assert len(source.dump()["messages"]) == len(stored["messages"])
    finally:
        source.close()
        target.close()
