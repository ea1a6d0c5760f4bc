"""manage.py export_user <username> --out file.zip: one user's data as a zip archive."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from ops.export import user_export


class Command(BaseCommand):
    help = (
        "Export one user's data (profile, friends, groups, conversations, messages, files) "
        "as a zip archive of JSON and files. See ops/export.py for what is included."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--out", type=Path, required=True, help="The zip file to write.")
        parser.add_argument(
            "--sent-only",
            action="store_true",
            help="Leave out the conversations' histories; keep the messages the user sent.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username__iexact=options["username"]).first()
        if user is None:
            raise CommandError(f"No user named {options['username']!r}.")
        out: Path = options["out"]
        if out.exists():
            raise CommandError(f"{out} exists; choose another file name.")
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(out.name + ".partial")
        try:
            with partial.open("wb") as stream:
                summary = user_export(
                    user=user, out=stream, include_history=not options["sent_only"]
                )
            partial.replace(out)
        finally:
            partial.unlink(missing_ok=True)
        counts = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in summary.counts.items())
        self.stdout.write(f"Exported {user.username} to {out}: {counts}")
        for name in summary.missing_files:
            self.stderr.write(f"warning: file {name} could not be read; not in the archive")
