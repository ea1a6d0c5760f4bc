"""manage.py backup: an online backup of the database and media into one tar archive."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ops.backup import backup_create
from ops.errors import OpsError


class Command(BaseCommand):
    help = (
        "Back up the database (SQLite backup API or pg_dump) and the media files it "
        "references into one timestamped tar archive, while the site keeps running."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        where = parser.add_mutually_exclusive_group()
        where.add_argument(
            "--dir",
            type=Path,
            help="Directory for happychat-backup-<UTC time>.tar (default: BACKUP_DIR).",
        )
        where.add_argument(
            "--out", type=Path, help="Exact archive path (.tar, or .tar.gz to compress)."
        )
        parser.add_argument(
            "--keep",
            type=int,
            help="Afterwards delete all but the newest N archives in that directory.",
        )
        parser.add_argument("--no-media", action="store_true", help="Back up the database only.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = backup_create(
                directory=options["dir"],
                out=options["out"],
                include_media=not options["no_media"],
                keep=options["keep"],
            )
        except OpsError as exc:
            raise CommandError(str(exc)) from exc
        manifest = result.manifest
        counts = manifest["counts"]
        size = result.path.stat().st_size
        self.stdout.write(
            f"Backup written: {result.path} ({size / 2**20:.1f} MiB; "
            f"{manifest['database']['vendor']}; {counts.get('accounts.User', 0)} users, "
            f"{counts.get('chat.Message', 0)} messages, {manifest['media']['files']} media files)"
        )
        for name in result.missing_media:
            self.stderr.write(f"warning: media file {name} could not be read; not in the backup")
        for path in result.pruned:
            self.stdout.write(f"Removed old backup {path}")
