"""Online backup into one tar archive, and restore from it.

An archive holds `database/db.sqlite3` (an SQLite file) or `database/db.pgdump` (pg_dump's
custom format), `media/<name>` for every file the database references (read through each
field's Django storage, so any storage backend works), and `manifest.json` last: format,
time, app version, database vendor and applied migrations, rows per model, and the size
and SHA-256 of every other member.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import IO, Any, Literal

import django
from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.core.files import File
from django.core.files.storage import Storage, default_storage
from django.db import DatabaseError
from django.db.migrations.loader import MigrationLoader
from django.db.models import FileField

from ops import database
from ops.errors import OpsError

FORMAT = "happychat-backup"
FORMAT_VERSION = 1
PREFIX = "happychat-backup-"
MANIFEST = "manifest.json"
CHUNK = 1024 * 1024


@dataclass
class BackupResult:
    path: Path
    manifest: dict[str, Any]
    pruned: list[Path] = field(default_factory=list)

    @property
    def missing_media(self) -> list[str]:
        return list(self.manifest["media"]["missing"])


@dataclass
class RestoreResult:
    manifest: dict[str, Any]
    media_written: int = 0
    media_unchanged: int = 0
    pending_migrations: list[str] = field(default_factory=list)


# --- helpers --------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def app_version() -> dict[str, Any]:
    """The running code: package version, git commit when deployed from a checkout, Django."""
    try:
        version = metadata.version("happychat")
    except metadata.PackageNotFoundError:
        version = "unknown"
    commit = None
    git = shutil.which("git")
    if git and (Path(settings.BASE_DIR) / ".git").exists():
        try:
            done = subprocess.run(  # noqa: S603 (fixed arguments, no shell)
                [git, "-C", str(settings.BASE_DIR), "rev-parse", "HEAD"],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
            commit = (done.stdout.strip() or None) if done.returncode == 0 else None
        except (OSError, subprocess.SubprocessError):
            commit = None
    return {
        "name": "happychat",
        "version": version,
        "git_commit": commit,
        "django": django.get_version(),
    }


def _storage_for(labels: set[str] | list[str]) -> Storage:
    """The storage of the first file field (``app.Model.field``) that still exists."""
    for label in sorted(labels):
        app_label, model_name, field_name = label.split(".")
        try:
            f = apps.get_model(app_label, model_name)._meta.get_field(field_name)
        except (LookupError, FieldDoesNotExist):  # removed since the backup was made
            continue
        if isinstance(f, FileField):
            return f.storage
    return default_storage


class _Hasher:
    def __init__(self) -> None:
        self.sha = hashlib.sha256()
        self.size = 0

    def update(self, chunk: bytes) -> None:
        self.sha.update(chunk)
        self.size += len(chunk)

    def entry(self) -> dict[str, Any]:
        return {"size": self.size, "sha256": self.sha.hexdigest()}


def _copy(source: IO[bytes], target: IO[bytes]) -> dict[str, Any]:
    hasher = _Hasher()
    while chunk := source.read(CHUNK):
        hasher.update(chunk)
        target.write(chunk)
    return hasher.entry()


def _add_file(tar: tarfile.TarFile, arcname: str, path: Path, mtime: float) -> None:
    info = tarfile.TarInfo(arcname)
    info.size = path.stat().st_size
    info.mtime = int(mtime)
    info.mode = 0o600
    with path.open("rb") as stream:
        tar.addfile(info, stream)


def _hash_file(path: Path) -> dict[str, Any]:
    with path.open("rb") as stream:
        return _hash_stream(stream)


def _hash_stream(stream: IO[bytes]) -> dict[str, Any]:
    hasher = _Hasher()
    while chunk := stream.read(CHUNK):
        hasher.update(chunk)
    return hasher.entry()


def _safe_media_name(name: str) -> bool:
    path = PurePosixPath(name)
    return bool(name) and not path.is_absolute() and ".." not in path.parts and "\\" not in name


# --- backup ---------------------------------------------------------------------------


def _target_path(directory: Path | None, out: Path | None, started: datetime) -> Path:
    if out is not None:
        return out
    directory = directory or Path(settings.BACKUP_DIR)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    path = directory / f"{PREFIX}{stamp}.tar"
    n = 2
    while path.exists():
        path = directory / f"{PREFIX}{stamp}-{n}.tar"
        n += 1
    return path


def backup_create(
    *,
    directory: Path | None = None,
    out: Path | None = None,
    include_media: bool = True,
    keep: int | None = None,
    using: str = "default",
) -> BackupResult:
    """Snapshot the live database, copy the media it references, write one archive.

    The archive appears under its final name only when complete (written as `.partial`
    first). `keep` then deletes all but the newest `keep` archives in its directory.
    """
    if keep is not None and keep < 1:
        raise OpsError("--keep must be at least 1.")
    started = _now()
    target = _target_path(directory, out, started)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    compress = target.name.endswith((".tar.gz", ".tgz"))
    try:
        with tempfile.TemporaryDirectory(prefix=".happychat-backup-", dir=target.parent) as tmp:
            workdir = Path(tmp)
            snap = database.snapshot(workdir, using=using)
            files: dict[str, dict[str, Any]] = {}
            tar_mode: Literal["w:gz", "w"] = "w:gz" if compress else "w"
            with tarfile.open(partial, tar_mode, format=tarfile.PAX_FORMAT) as tar:
                files[snap.arcname] = _hash_file(snap.path)
                _add_file(tar, snap.arcname, snap.path, started.timestamp())
                snap.path.unlink()
                media: dict[str, Any] = {"included": False, "files": 0, "bytes": 0, "missing": []}
                if include_media:
                    media, entries = _add_media(tar, workdir, snap.facts.media, started)
                    files.update(entries)
                manifest = {
                    "format": FORMAT,
                    "format_version": FORMAT_VERSION,
                    "created_at": _iso(started),
                    "finished_at": _iso(_now()),
                    "app": app_version(),
                    "database": {
                        "vendor": snap.vendor,
                        "server_version": snap.server_version,
                        "file": snap.arcname,
                        "migrations": snap.facts.migrations,
                    },
                    "counts": snap.facts.counts,
                    "media": media,
                    "files": files,
                }
                data = json.dumps(manifest, indent=2, sort_keys=True).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime, info.mode = len(data), int(started.timestamp()), 0o600
                tar.addfile(info, io.BytesIO(data))
            os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    pruned = _prune(target.parent, keep) if keep else []
    return BackupResult(target, manifest, pruned)


def _add_media(
    tar: tarfile.TarFile, workdir: Path, media: dict[str, set[str]], started: datetime
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Copy each referenced file into the tar; return the manifest's summary and entries."""
    entries: dict[str, dict[str, Any]] = {}
    missing: list[str] = []
    total = 0
    spool = workdir / "media.tmp"
    for name in sorted(media):
        labels = sorted(media[name])
        if not _safe_media_name(name):
            missing.append(name)
            continue
        storage = _storage_for(labels)
        # Spooled to disk first: the tar header needs the exact size, and a file that
        # vanishes or fails halfway is then reported as missing instead of breaking the tar.
        try:
            with storage.open(name, "rb") as source, spool.open("wb") as target:
                entry = _copy(source, target)
        except Exception:  # any storage error (missing, unreadable, remote down) means "not copied"
            missing.append(name)
            continue
        arcname = f"media/{name}"
        _add_file(tar, arcname, spool, started.timestamp())
        entries[arcname] = {**entry, "fields": labels}
        total += entry["size"]
    spool.unlink(missing_ok=True)
    summary = {"included": True, "files": len(entries), "bytes": total, "missing": missing}
    return summary, entries


_ARCHIVE_NAME = re.compile(rf"^{PREFIX}(\d{{8}}T\d{{6}}Z)(?:-(\d+))?\.(?:tar|tar\.gz|tgz)$")


def _prune(directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` archives named as `backup` names them."""
    dated = []
    for path in directory.iterdir():
        match = _ARCHIVE_NAME.match(path.name)
        if match and path.is_file():
            dated.append(((match.group(1), int(match.group(2) or 1)), path))
    doomed = [path for _, path in sorted(dated)[:-keep]]
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


# --- restore --------------------------------------------------------------------------


def _read_manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = tar.getmember(MANIFEST)
    except KeyError:
        raise OpsError("Not a HappyChat backup: the archive has no manifest.json.") from None
    stream = tar.extractfile(member)
    if stream is None:
        raise OpsError("manifest.json is not a regular file.")
    try:
        manifest = json.loads(stream.read())
    except ValueError as exc:
        raise OpsError(f"manifest.json is not valid JSON: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise OpsError("Not a HappyChat backup: manifest.json has another format.")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise OpsError(
            f"This archive has format version {version}; this HappyChat reads up to "
            f"{FORMAT_VERSION}. Restore it with the version that made it."
        )
    for key in ("database", "counts", "files", "media"):
        if not isinstance(manifest.get(key), dict):
            raise OpsError(f"manifest.json lacks `{key}`.")
    return manifest


def _verify(tar: tarfile.TarFile, manifest: dict[str, Any], workdir: Path) -> Path:
    """Check every member against the manifest; extract the database dump into workdir."""
    expected: dict[str, dict[str, Any]] = manifest["files"]
    db_name = manifest["database"].get("file")
    if db_name not in expected:
        raise OpsError("manifest.json names no database file.")
    seen: set[str] = set()
    dump = workdir / PurePosixPath(db_name).name
    for member in tar:
        if member.name == MANIFEST:
            continue
        entry = expected.get(member.name)
        if entry is None or not member.isfile():
            raise OpsError(f"Unexpected member {member.name!r}: not listed in the manifest.")
        if member.name.startswith("media/") and not _safe_media_name(member.name[6:]):
            raise OpsError(f"Unsafe media name {member.name!r}.")
        stream = tar.extractfile(member)
        assert stream is not None  # noqa: S101 (isfile() checked above)
        if member.name == db_name:
            with dump.open("wb") as target:
                got = _copy(stream, target)
        else:
            got = _hash_stream(stream)
        if got["sha256"] != entry.get("sha256") or got["size"] != entry.get("size"):
            raise OpsError(f"Checksum mismatch for {member.name}: the archive is damaged.")
        seen.add(member.name)
    absent = sorted(set(expected) - seen)
    if absent:
        raise OpsError(f"The archive lacks {len(absent)} listed file(s), e.g. {absent[0]}.")
    return dump


def _unknown_and_pending_migrations(manifest: dict[str, Any]) -> tuple[list[str], list[str]]:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    known = set(loader.disk_migrations)
    in_backup = {
        (app, name)
        for app, names in manifest["database"].get("migrations", {}).items()
        for name in names
    }
    ours = {key for key in in_backup if key[0] in loader.migrated_apps}
    unknown = sorted(f"{a}.{n}" for a, n in ours - known)
    pending = sorted(f"{a}.{n}" for a, n in known - in_backup)
    return unknown, pending


def _holds_data(using: str) -> bool:
    """Whether the database has anything `migrate` alone would not have put there."""
    from chat.models import Conversation, Message
    from groups.models import Group

    facts = database.live_facts(using=using)
    if not facts.counts:
        return False
    if any(facts.counts.get(m._meta.label) for m in (Message, Conversation, Group)):
        return True
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    try:
        return user_model.objects.using(using).filter(is_robot=False).exists()
    except DatabaseError:
        return bool(facts.counts.get(user_model._meta.label))


def backup_check(*, archive: Path) -> dict[str, Any]:
    """Verify an archive (manifest, every checksum) without touching anything."""
    with (
        tempfile.TemporaryDirectory(prefix=".happychat-restore-") as tmp,
        _open(archive) as tar,
    ):
        manifest = _read_manifest(tar)
        _verify(tar, manifest, Path(tmp))
    return manifest


def _open(archive: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(archive, "r:*")
    except (OSError, tarfile.TarError) as exc:
        raise OpsError(f"Cannot read {archive}: {exc}") from None


def backup_restore(*, archive: Path, force: bool = False, using: str = "default") -> RestoreResult:
    """Restore the database and media of an archive into the configured site.

    Refuses a database that holds data unless `force`; refuses an archive that fails its
    checksums, comes from another database vendor or from newer code. Stop the daphne
    processes first: they must not write while the database is replaced.
    """
    current = database.vendor(using)
    with (
        tempfile.TemporaryDirectory(prefix=".happychat-restore-") as tmp,
        _open(archive) as tar,
    ):
        workdir = Path(tmp)
        manifest = _read_manifest(tar)
        archived = manifest["database"].get("vendor")
        if archived != current:
            raise OpsError(
                f"The archive holds a {archived} database; this site is configured for "
                f"{current}. Restore into the same kind of database."
            )
        unknown, pending = _unknown_and_pending_migrations(manifest)
        if unknown:
            raise OpsError(
                "The archive was made by newer code (migrations unknown here: "
                f"{', '.join(unknown[:5])}). Upgrade HappyChat first."
            )
        dump = _verify(tar, manifest, workdir)
        if not force and _holds_data(using):
            raise OpsError(
                "The database is not empty. Restoring replaces everything in it: "
                "pass --force to do so."
            )
        with database.closed_connections():
            database.restore(dump, workdir, using=using)
        restored = database.live_facts(using=using).counts
        wrong = {
            label: (count, restored.get(label))
            for label, count in manifest["counts"].items()
            if restored.get(label) != count
        }
        if wrong:
            raise OpsError(f"Restored row counts differ from the manifest: {wrong}")
        result = RestoreResult(manifest, pending_migrations=pending)
        _restore_media(tar, manifest, result)
    return result


def _restore_media(tar: tarfile.TarFile, manifest: dict[str, Any], result: RestoreResult) -> None:
    for member in tar:
        if not member.name.startswith("media/"):
            continue
        name = member.name[len("media/") :]
        entry = manifest["files"][member.name]
        storage = _storage_for(entry.get("fields", []))
        if storage.exists(name):
            with storage.open(name, "rb") as current:
                if _hash_stream(current)["sha256"] == entry["sha256"]:
                    result.media_unchanged += 1
                    continue
            storage.delete(name)
        stream = tar.extractfile(member)
        assert stream is not None  # noqa: S101 (verified as a regular file)
        saved = storage.save(name, File(stream, name=name))
        if saved != name:
            raise OpsError(f"The storage stored {name} as {saved}; media names must not change.")
        result.media_written += 1
