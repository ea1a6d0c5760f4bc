"""manage.py media_to_s3: copy local media into the S3 bucket (safe to run again)."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.module_loading import import_string

from ops.media import media_copy


class Command(BaseCommand):
    help = (
        "Copy every media file of a local folder (default MEDIA_ROOT) into the bucket "
        "configured by MEDIA_STORAGE=s3, under the same names, so the database's references "
        "stay valid. Files already in the bucket with the same size are skipped: run it "
        "again after an interruption, or once more just before switching. Local files are "
        "never deleted."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--source",
            type=Path,
            default=None,
            help="The local media folder (default MEDIA_ROOT).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.MEDIA_STORAGE != "s3":
            raise CommandError("Set MEDIA_STORAGE=s3 and the AWS_* settings of the bucket first.")
        source_dir: Path = options["source"] or Path(settings.MEDIA_ROOT)
        if not source_dir.is_dir():
            raise CommandError(f"{source_dir} is not a folder.")
        source = FileSystemStorage(location=source_dir)
        # The configured bucket, but writing each file to exactly its own name.
        backend: dict[str, Any] = settings.STORAGES["default"]
        target = import_string(backend["BACKEND"])(
            **{**backend.get("OPTIONS", {}), "file_overwrite": True}
        )
        report = media_copy(source=source, target=target)
        self.stdout.write(
            f"Copied {len(report.copied)} files to the bucket; {report.unchanged} were "
            f"already there; {len(report.failures)} failed."
        )
        for failure in report.failures:
            self.stderr.write(f"failed: {failure}")
        if report.failures:
            raise CommandError("Some files were not copied; run the command again.")
