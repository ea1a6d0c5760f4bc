"""Media housekeeping on any storage backend: orphan clean-up and local → bucket copies.

Every stored file belongs to a FileField of some model (uploads' images and thumbnails,
avatars, and any later kind of file). Files nothing refers to any more — an upload never
sent in a message, a replaced group avatar whose deletion failed, a half-written upload —
are removed once they are MEDIA_ORPHAN_HOURS old. Everything goes through Django's
storage API, so the same code cleans MEDIA_ROOT and an S3 bucket.
"""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

from django.apps import apps
from django.core.files.storage import Storage, default_storage
from django.db import transaction
from django.db.models import FileField, Model
from django.utils import timezone

from chat.models import Message, Upload
from chat.uploads import upload_delete
from happychat.media import storage_errors

logger = logging.getLogger("happychat.ops.media")


def file_fields() -> list[tuple[type[Model], FileField]]:
    """Every FileField (ImageField included) of every installed model."""
    return [
        (model, f)
        for model in apps.get_models()
        for f in model._meta.get_fields()
        if isinstance(f, FileField)
    ]


def referenced_names() -> set[str]:
    """The stored names some row refers to."""
    names: set[str] = set()
    for model, f in file_fields():
        rows = model._default_manager.exclude(**{f.name: ""}).exclude(**{f"{f.name}__isnull": True})
        names.update(rows.values_list(f.name, flat=True).iterator())
    return names


def media_folders() -> list[str]:
    """The top-level folders FileFields store into ("" when one stores anywhere)."""
    folders: set[str] = set()
    for _model, f in file_fields():
        upload_to = f.upload_to
        if callable(upload_to) or not upload_to:
            return [""]
        folders.add(str(upload_to).split("/", 1)[0].split("%", 1)[0])
    return sorted(folders)


def walk(storage: Storage, folder: str) -> Iterator[str]:
    """Every stored name under `folder`, depth first."""
    try:
        directories, files = storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in files:
        yield posixpath.join(folder, name) if folder else name
    for directory in directories:
        yield from walk(storage, posixpath.join(folder, directory) if folder else directory)


@dataclass
class CleanupReport:
    uploads_deleted: int = 0
    files_deleted: list[str] = field(default_factory=list)
    files_kept_young: int = 0
    failures: list[str] = field(default_factory=list)


def media_cleanup(*, older_than: timedelta, dry_run: bool = False) -> CleanupReport:
    """Delete uploads never sent in a message, then stored files no row refers to, when they
    are older than `older_than`."""
    report = CleanupReport()
    cutoff = timezone.now() - older_than
    unsent = Upload.objects.filter(created_at__lt=cutoff, messages__isnull=True).values_list(
        "pk", flat=True
    )
    for upload_id in list(unsent):
        with transaction.atomic():
            # Checked again under the row lock: it may have been sent since the query.
            upload = Upload.objects.select_for_update().filter(pk=upload_id).first()
            if upload is None or Message.objects.filter(attachment_id=upload_id).exists():
                continue
            if not dry_run:
                upload_delete(upload)
        report.uploads_deleted += 1
    referenced = referenced_names()
    storage = default_storage
    for folder in media_folders():
        for name in walk(storage, folder):
            if name in referenced:
                continue
            try:
                # A file is written before its row: a young one may be an upload under way.
                if storage.get_modified_time(name) >= cutoff:
                    report.files_kept_young += 1
                    continue
                if not dry_run:
                    storage.delete(name)
            except storage_errors() as exc:
                report.failures.append(f"{name}: {exc}")
                continue
            report.files_deleted.append(name)
    return report


@dataclass
class CopyReport:
    copied: list[str] = field(default_factory=list)
    unchanged: int = 0
    failures: list[str] = field(default_factory=list)


def media_copy(*, source: Storage, target: Storage) -> CopyReport:
    """Copy every stored file of `source` to the same name in `target`, skipping those
    already there with the same size: re-running it copies only what is missing."""
    report = CopyReport()
    for folder in media_folders():
        for name in walk(source, folder):
            try:
                size = source.size(name)
                if target.exists(name) and target.size(name) == size:
                    report.unchanged += 1
                    continue
                with source.open(name, "rb") as content:
                    stored = target.save(name, content)
                if stored != name or target.size(name) != size:
                    raise OSError(f"stored as {stored!r} with another size")
            except storage_errors() as exc:
                report.failures.append(f"{name}: {exc}")
                continue
            report.copied.append(name)
    return report
