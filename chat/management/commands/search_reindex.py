"""Rebuild the full-text index of messages (after an upgrade, or to repair it)."""

from typing import Any

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from chat import search
from chat.models import Message

BATCH = 5000


class Command(BaseCommand):
    help = "Rebuild the message search index from the stored messages."

    def handle(self, *args: Any, **options: Any) -> None:
        search.warm_up()
        table = "chat_message_search" if connection.vendor == "postgresql" else "chat_message_fts"
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608 -- a fixed table name
        last, total = 0, 0
        while True:
            rows = list(
                Message.objects.filter(pk__gt=last, kind__in=["text", "file"], recalled=False)
                .order_by("pk")
                .values_list(
                    "pk", "kind", "body", "attachment__name", "conversation_id", "sender_id"
                )[:BATCH]
            )
            if not rows:
                break
            with transaction.atomic(), connection.cursor() as cursor:
                for pk, kind, body, name, cid, sid in rows:
                    tokens = search.indexable(
                        kind, body, name or "", conversation_id=cid, sender_id=sid
                    )
                    search.index_add(cursor, message_id=pk, tokens=tokens)
            last, total = rows[-1][0], total + len(rows)
        self.stdout.write(f"indexed {total} messages")
