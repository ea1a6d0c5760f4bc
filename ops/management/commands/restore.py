"""manage.py restore: put a backup archive's database and media back."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ops.backup import backup_check, backup_restore
from ops.errors import OpsError


class Command(BaseCommand):
    help = (
        "Restore the database and media from a `manage.py backup` archive. Stop the daphne "
        "processes first. Refuses a database that holds data unless --force."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", type=Path)
        parser.add_argument(
            "--force",
            action="store_true",
            help="Replace a database that already holds data (everything in it is lost).",
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="Only verify the archive (manifest and every checksum); change nothing.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        archive: Path = options["archive"]
        if not archive.is_file():
            raise CommandError(f"No such archive: {archive}")
        try:
            if options["check"]:
                manifest = backup_check(archive=archive)
                self.stdout.write(
                    f"Archive OK: {len(manifest['files'])} files verified; made "
                    f"{manifest['created_at']} by HappyChat {manifest['app']['version']} "
                    f"on {manifest['database']['vendor']}."
                )
                return
            result = backup_restore(archive=archive, force=options["force"])
        except OpsError as exc:
            raise CommandError(str(exc)) from exc
        counts = result.manifest["counts"]
        self.stdout.write(
            f"Restored {archive} (made {result.manifest['created_at']}): "
            f"{counts.get('accounts.User', 0)} users, {counts.get('chat.Message', 0)} messages; "
            f"media: {result.media_written} written, {result.media_unchanged} already there."
        )
        if result.pending_migrations:
            self.stdout.write(
                "The backup predates this code: run `manage.py migrate` before starting "
                f"the site ({len(result.pending_migrations)} migrations to apply)."
            )
