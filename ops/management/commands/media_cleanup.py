"""manage.py media_cleanup: remove uploads never sent and stored files no row refers to."""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ops.media import media_cleanup


class Command(BaseCommand):
    help = (
        "Delete uploads never sent in a message, and stored files no row refers to (replaced "
        "avatars, files whose deletion failed), once older than MEDIA_ORPHAN_HOURS. Works on "
        "the local disk and on S3; safe to run at any time (a timer runs it hourly)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--hours",
            type=float,
            default=None,
            help=f"Age before removal (default MEDIA_ORPHAN_HOURS, {settings.MEDIA_ORPHAN_HOURS}).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Report, delete nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        hours = options["hours"] if options["hours"] is not None else settings.MEDIA_ORPHAN_HOURS
        if hours < 1:
            raise CommandError(
                "--hours must be at least 1: younger files may be uploads under way."
            )
        report = media_cleanup(older_than=timedelta(hours=hours), dry_run=options["dry_run"])
        verb = "Would delete" if options["dry_run"] else "Deleted"
        self.stdout.write(
            f"{verb} {report.uploads_deleted} unsent uploads and {len(report.files_deleted)} "
            f"unreferenced files ({report.files_kept_young} younger than {hours:g} h kept)."
        )
        for name in report.files_deleted:
            self.stdout.write(f"  {name}")
        for failure in report.failures:
            self.stderr.write(f"failed: {failure}")
        if report.failures:
            raise CommandError(f"{len(report.failures)} files could not be deleted; run again.")
