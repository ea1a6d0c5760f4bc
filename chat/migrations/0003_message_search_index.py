# The full-text index of messages (docs/message-changes.md, "Search"): an FTS5 table on
# SQLite, a tsvector table with a GIN index on PostgreSQL. Both hold the body segmented
# into words (jieba for Chinese), keyed by message id, and are written by the services in
# the transaction that stores, edits or recalls the message.

from django.db import migrations

SQLITE_UP = [
    "CREATE VIRTUAL TABLE chat_message_fts USING fts5(tokens, detail=none)",
]
SQLITE_DOWN = ["DROP TABLE IF EXISTS chat_message_fts"]
POSTGRES_UP = [
    "CREATE TABLE chat_message_search ("
    " message_id bigint PRIMARY KEY REFERENCES chat_message(id) DEFERRABLE INITIALLY DEFERRED,"
    " tsv tsvector NOT NULL)",
    "CREATE INDEX chat_message_search_tsv ON chat_message_search USING gin (tsv)",
]
POSTGRES_DOWN = ["DROP TABLE IF EXISTS chat_message_search"]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):

    dependencies = [
        ('chat', '0002_message_changes'),
    ]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_UP, "postgresql": POSTGRES_UP}),
            _run({"sqlite": SQLITE_DOWN, "postgresql": POSTGRES_DOWN}),
        ),
    ]
