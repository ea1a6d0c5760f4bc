"""`manage.py backup` and `manage.py restore` on SQLite, run as an operator runs them.

One seeded site is backed up once per module; each test restores or inspects that archive
in its own fresh site. The online case (daphne writing during the backup) and PostgreSQL
are in tests/system/test_backup.py.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import sqlite3
import tarfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from tests.ops.conftest import Site, new_site


@pytest.fixture(scope="module")
def origin(ops_template: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A site with people, a group, text and image messages, avatars; and its backup."""
    site = new_site(ops_template, tmp_path_factory.mktemp("origin"))
    world = site.seed(
        users=["ann", "ben", "cat"],
        friends=[["ann", "ben"]],
        groups=[{"name": "abc", "owner": "ann", "members": ["ben", "cat"]}],
    )
    direct = world["direct"]["ann:ben"]
    group = world["groups"]["abc"]["conversation"]
    site.race(conversation=direct, senders=["ann", "ben"], per_sender=5, threads_per_sender=1)
    site.race(conversation=group, senders=["cat"], per_sender=4, threads_per_sender=1)
    files = site.give_media("ann", direct)
    done = site.manage("backup")
    archives = sorted(site.backups.glob("happychat-backup-*.tar"))
    assert len(archives) == 1, done.stdout
    return {
        "site": site,
        "world": world,
        "files": files,
        "archive": archives[0],
        "stdout": done.stdout,
        "dump": site.dump(),
    }


def members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive) as tar:
        out = {}
        for member in tar:
            stream = tar.extractfile(member)
            assert stream is not None
            out[member.name] = stream.read()
        return out


def manifest_of(archive: Path) -> dict[str, Any]:
    return json.loads(members(archive)["manifest.json"])


def rewritten(
    archive: Path,
    out: Path,
    *,
    member: Callable[[str, bytes], bytes] = lambda name, data: data,
    manifest: Callable[[dict[str, Any]], None] = lambda m: None,
) -> Path:
    """A copy of the archive with members and the manifest changed by the given functions."""
    with tarfile.open(archive) as source, tarfile.open(out, "w") as target:
        for info in source:
            stream = source.extractfile(info)
            assert stream is not None
            data = stream.read()
            if info.name == "manifest.json":
                doc = json.loads(data)
                manifest(doc)
                data = json.dumps(doc).encode()
            else:
                data = member(info.name, data)
            info.size = len(data)
            target.addfile(info, io.BytesIO(data))
    return out


def message_count(site: Site) -> int:
    with sqlite3.connect(site.workdir / "db.sqlite3") as conn:
        return int(conn.execute("SELECT COUNT(*) FROM chat_message").fetchone()[0])


# --- backup ---------------------------------------------------------------------------


def test_archive_holds_the_database_referenced_media_and_a_manifest_describing_them(origin):
    archive, files = origin["archive"], origin["files"]
    content = members(archive)
    manifest = json.loads(content["manifest.json"])

    assert set(content) == {
        "manifest.json",
        "database/db.sqlite3",
        f"media/{files['avatar']}",
        f"media/{files['image']}",
        f"media/{files['thumbnail']}",
    }
    assert manifest["format"] == "happychat-backup"
    assert manifest["format_version"] == 1
    assert manifest["created_at"].endswith("Z")
    assert manifest["app"]["name"] == "happychat"
    assert manifest["app"]["version"] == metadata.version("happychat")
    assert manifest["database"]["vendor"] == "sqlite"
    assert "0001_initial" in manifest["database"]["migrations"]["chat"]
    assert manifest["counts"]["chat.Message"] == 5 + 5 + 4 + 1
    assert manifest["counts"]["accounts.User"] == 4  # three people and the robot
    assert manifest["counts"]["groups.Group"] == 1
    assert manifest["counts"]["chat.Upload"] == 1
    media_bytes = sum(len(content[f"media/{files[k]}"]) for k in ("avatar", "image", "thumbnail"))
    assert manifest["media"] == {"included": True, "files": 3, "missing": [], "bytes": media_bytes}
    # Every member but the manifest itself is listed with its size and SHA-256.
    assert set(manifest["files"]) == set(content) - {"manifest.json"}
    for name, entry in manifest["files"].items():
        assert entry["size"] == len(content[name])
        assert entry["sha256"] == hashlib.sha256(content[name]).hexdigest()
    assert manifest["files"][f"media/{files['avatar']}"]["fields"] == ["accounts.User.avatar"]
    assert manifest["files"][f"media/{files['image']}"]["fields"] == ["chat.Upload.image"]
    # The media bytes are the stored files'.
    site: Site = origin["site"]
    assert content[f"media/{files['image']}"] == (site.media / files["image"]).read_bytes()
    assert "15 messages" in origin["stdout"]


def test_archived_database_is_one_self_contained_consistent_sqlite_file(origin, tmp_path):
    db = tmp_path / "copy.sqlite3"
    db.write_bytes(members(origin["archive"])["database/db.sqlite3"])
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        assert conn.execute("SELECT COUNT(*) FROM chat_message").fetchone() == (15,)


def test_missing_media_file_is_reported_and_the_rest_is_backed_up(ops_template, tmp_path):
    site = new_site(ops_template, tmp_path / "site")
    world = site.seed(users=["ann", "ben"], friends=[["ann", "ben"]])
    files = site.give_media("ann", world["direct"]["ann:ben"])
    (site.media / files["thumbnail"]).unlink()

    done = site.manage("backup", "--out", str(tmp_path / "b.tar"))

    assert f"media file {files['thumbnail']} could not be read" in done.stderr
    manifest = manifest_of(tmp_path / "b.tar")
    assert manifest["media"]["missing"] == [files["thumbnail"]]
    assert manifest["media"]["files"] == 2
    assert f"media/{files['image']}" in manifest["files"]


def test_keep_prunes_older_archives_and_a_tar_gz_is_compressed(ops_template, tmp_path):
    site = new_site(ops_template, tmp_path / "site")
    site.backups.mkdir(parents=True)
    # Two backups in the same second: the second is named …Z-2 and is the newer.
    old = [
        site.backups / f"happychat-backup-{stamp}.tar"
        for stamp in ("20200101T000000Z", "20200103T000000Z", "20200103T000000Z-2")
    ]
    for path in old:
        path.write_bytes(b"old")
    unrelated = site.backups / "notes.txt"
    unrelated.write_text("keep me")

    site.manage("backup", "--keep", "2")

    left = sorted(p.name for p in site.backups.iterdir())
    assert left[0] == old[2].name
    assert left[1].startswith("happychat-backup-2")
    assert left[1] > old[2].name
    assert left[2:] == ["notes.txt"]

    gz = tmp_path / "b.tar.gz"
    site.manage("backup", "--out", str(gz), "--no-media")
    with gz.open("rb") as f:
        assert f.read(2) == b"\x1f\x8b"
    assert "Archive OK" in site.manage("restore", "--check", str(gz)).stdout


# --- restore --------------------------------------------------------------------------


def test_restore_into_an_empty_site_brings_back_every_row_and_file(origin, ops_template, tmp_path):
    target = new_site(ops_template, tmp_path / "target")

    done = target.manage("restore", str(origin["archive"]))

    assert "media: 3 written" in done.stdout
    assert target.dump() == origin["dump"]
    source: Site = origin["site"]
    for key in ("avatar", "image", "thumbnail"):
        name = origin["files"][key]
        assert (target.media / name).read_bytes() == (source.media / name).read_bytes()
    # Seeded tokens are stored (hashed) in the database, so devices stay logged in.
    with sqlite3.connect(target.workdir / "db.sqlite3") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("SELECT COUNT(*) FROM knox_authtoken").fetchone() == (3,)


def test_restore_refuses_a_database_holding_data_unless_forced(origin, ops_template, tmp_path):
    site = new_site(ops_template, tmp_path / "site")
    shutil.copyfile(origin["site"].workdir / "db.sqlite3", site.workdir / "db.sqlite3")
    direct = origin["world"]["direct"]["ann:ben"]
    site.race(conversation=direct, senders=["ben"], per_sender=2, threads_per_sender=1)
    before = site.dump()

    refused = site.manage("restore", str(origin["archive"]), check=False)

    assert refused.returncode != 0
    assert "not empty" in refused.stderr
    assert "--force" in refused.stderr
    assert site.dump() == before

    site.manage("restore", "--force", str(origin["archive"]))

    # Back to the backup's state: the two messages sent after it are gone.
    assert site.dump() == origin["dump"]


def test_damaged_archive_is_refused_before_anything_changes(origin, ops_template, tmp_path):
    image = f"media/{origin['files']['image']}"
    damaged = rewritten(
        origin["archive"],
        tmp_path / "damaged.tar",
        member=lambda name, data: data[:-1] + bytes([data[-1] ^ 1]) if name == image else data,
    )
    target = new_site(ops_template, tmp_path / "target")

    checked = target.manage("restore", "--check", str(damaged), check=False)
    restored = target.manage("restore", str(damaged), check=False)

    for done in (checked, restored):
        assert done.returncode != 0
        assert f"Checksum mismatch for {image}" in done.stderr
    assert message_count(target) == 0
    assert not (target.media / origin["files"]["avatar"]).exists()


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda m: m["database"].update(vendor="postgresql"), "holds a postgresql database"),
        (
            lambda m: m["database"]["migrations"]["chat"].append("9999_from_the_future"),
            "made by newer code",
        ),
        (lambda m: m.update(format_version=99), "format version 99"),
        (lambda m: m.update(format="something-else"), "Not a HappyChat backup"),
        (lambda m: m["files"].pop(max(m["files"])), "not listed in the manifest"),
    ],
    ids=["other-vendor", "newer-code", "newer-format", "not-ours", "unlisted-member"],
)
def test_restore_refuses_an_archive_it_cannot_restore_faithfully(
    origin, ops_template, tmp_path, change, error
):
    archive = rewritten(origin["archive"], tmp_path / "changed.tar", manifest=change)
    target = new_site(ops_template, tmp_path / "target")

    done = target.manage("restore", str(archive), check=False)

    assert done.returncode != 0
    assert error in done.stderr
    assert message_count(target) == 0


def test_restore_of_something_that_is_not_an_archive_is_a_clear_error(ops_template, tmp_path):
    target = new_site(ops_template, tmp_path / "target")
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"this is not a tar file at all" * 50)

    missing = target.manage("restore", str(tmp_path / "nope.tar"), check=False)
    unreadable = target.manage("restore", str(junk), check=False)

    assert missing.returncode != 0
    assert "No such archive" in missing.stderr
    assert unreadable.returncode != 0
    assert "Cannot read" in unreadable.stderr
    assert "Traceback" not in missing.stderr + unreadable.stderr
