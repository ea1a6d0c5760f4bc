"""The full-text index of messages: words in, message ids out, one backend per database.

SQLite (the default setup) keeps an FTS5 table `chat_message_fts` (rowid = message id);
PostgreSQL (the scale-out setup) a `chat_message_search` table with a tsvector and a GIN
index. Both store the text as words separated by spaces: Chinese runs are segmented by
jieba (search mode, so "中华人民共和国" is found by "中华", "人民" and "共和国"),
everything else is split on non-word characters and lower-cased. The services write the
index in the transaction that stores, edits or recalls a message, so it never disagrees
with what history shows. `chat.selectors.message_search` is the one reader.

jieba needs ~1-2 s to load its dictionary, which the send path must not wait for: until it
has loaded (in a background thread started by the first Chinese text), a new message with
Chinese is indexed by that thread right after it loads (the message is read again then, so
an edit or recall in between is respected). `manage.py search_reindex` rebuilds the index.
"""

import contextlib
import logging
import re
import threading
from collections.abc import Iterator
from typing import Any

from django.db import close_old_connections, connection, transaction

logger = logging.getLogger("happychat.search")

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]+")
_WORD = re.compile(r"\w+", re.UNICODE)
_MAX_QUERY_TERMS = 16
_CONVERSATION_WORD = "xconv"
_SENDER_WORD = "xsender"
_jieba_lock = threading.Lock()
_jieba: Any = None


_pending: list[int] = []
_pending_lock = threading.Lock()
_loader: threading.Thread | None = None
_idle = threading.Event()
_idle.set()


def _segmenter() -> Any:
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                import jieba

                jieba.setLogLevel(60)
                jieba.initialize()
                _jieba = jieba
    return _jieba


def words(text: str, *, for_query: bool = False) -> list[str]:
    """The words of `text` as the index stores them (lower-case; Chinese segmented)."""
    out: list[str] = []
    position = 0
    for run in _CJK.finditer(text):
        out.extend(w.lower() for w in _WORD.findall(text[position : run.start()]))
        segmented = (
            _segmenter().cut(run.group(), HMM=False)
            if for_query
            else _segmenter().cut_for_search(run.group(), HMM=False)
        )
        out.extend(w for w in segmented if w.strip())
        position = run.end()
    out.extend(w.lower() for w in _WORD.findall(text[position:]))
    return out


def scope_words(conversation_id: int, sender_id: int) -> str:
    """Words naming the conversation and the sender, indexed with every message, so a search
    filtered by them intersects posting lists instead of scanning every match. (A message
    that happens to contain such a word is only a candidate: the query still checks the
    columns.)"""
    return f"{_CONVERSATION_WORD}{conversation_id} {_SENDER_WORD}{sender_id}"


def indexable(
    kind: str, body: str, file_name: str = "", *, conversation_id: int, sender_id: int
) -> str:
    """What the index keeps of a message: its text (and a file's name) as words, and the
    words of its conversation and sender; empty for what is not searchable."""
    if kind not in ("text", "file"):
        return ""
    text = " ".join(words(f"{body} {file_name}".strip()))
    return f"{text} {scope_words(conversation_id, sender_id)}" if text else ""


def indexable_now(
    kind: str, body: str, file_name: str = "", *, conversation_id: int, sender_id: int
) -> str | None:
    """Like `indexable`, or None when that would wait for jieba to load (index it later)."""
    if _jieba is None and kind in ("text", "file") and _CJK.search(f"{body} {file_name}"):
        return None
    return indexable(kind, body, file_name, conversation_id=conversation_id, sender_id=sender_id)


def index_later(message_id: int) -> None:
    """Index a stored message once jieba has loaded (from a background thread)."""
    global _loader
    with _pending_lock:
        _pending.append(message_id)
        _idle.clear()
        if _loader is None or not _loader.is_alive():
            _loader = threading.Thread(target=_load_and_index, name="search-index", daemon=True)
            _loader.start()


def _load_and_index() -> None:
    close_old_connections()
    try:
        _segmenter()
        while True:
            with _pending_lock:
                batch = list(_pending)
                _pending.clear()
                if not batch:
                    _idle.set()
                    return
            _index_stored(batch)
    except Exception:
        logger.exception("background indexing failed")
        _idle.set()
    finally:
        connection.close()


def _index_stored(message_ids: list[int]) -> None:
    from chat.models import Message

    with transaction.atomic():
        rows = Message.objects.filter(pk__in=message_ids).values_list(
            "pk", "kind", "body", "recalled", "attachment__name", "conversation_id", "sender_id"
        )
        with connection.cursor() as cursor:
            for pk, kind, body, recalled, name, cid, sid in rows:
                tokens = (
                    ""
                    if recalled
                    else indexable(kind, body, name or "", conversation_id=cid, sender_id=sid)
                )
                index_put(cursor, message_id=pk, tokens=tokens)


def wait_idle(timeout: float = 10.0) -> bool:
    """Wait until messages queued for indexing are indexed (tests, shutdown)."""
    return _idle.wait(timeout)


def warm_up() -> None:
    """Load jieba now (tests, benchmarks; the server loads it on first need)."""
    _segmenter()


def index_put(cursor: Any, *, message_id: int, tokens: str) -> None:
    """Re-index a message (after an edit); an empty text removes it from the index."""
    index_delete(cursor, message_id=message_id)
    index_add(cursor, message_id=message_id, tokens=tokens)


def index_add(cursor: Any, *, message_id: int, tokens: str) -> None:
    """Index a new message (the send path: nothing to remove first)."""
    if not tokens:
        return
    flush_at_commit()
    if connection.vendor == "postgresql":
        cursor.execute(
            "INSERT INTO chat_message_search (message_id, tsv) "
            "VALUES (%s, to_tsvector('simple', %s))",
            [message_id, tokens],
        )
    else:
        cursor.execute(
            "INSERT INTO chat_message_fts (rowid, tokens) VALUES (%s, %s)", [message_id, tokens]
        )


def index_add_sqlite(raw: Any, *, message_id: int, tokens: str) -> None:
    """index_add on the sqlite3 connection itself (the SQLite send path's fast lane).

    In a writer batch (`indexed_at_commit`), outside any savepoint, the row waits for the
    batch's end instead (see there).
    """
    rows = getattr(_at_commit, "rows", None)
    if rows is not None and not connection.savepoint_ids:
        rows.append((message_id, tokens))
        return
    flush_at_commit()
    raw.execute(_FTS_INSERT, (message_id, tokens))


_FTS_INSERT = "INSERT INTO chat_message_fts (rowid, tokens) VALUES (?, ?)"
_at_commit = threading.local()


@contextlib.contextmanager
def indexed_at_commit() -> Iterator[None]:
    """Within (a SQLite writer batch's transaction), new messages are indexed together at
    the end, when the block is left without an error.

    FTS5 writes what it holds to a new segment of its index at every savepoint, and SQLite
    opens one (a statement journal) for each following statement that checks a foreign key:
    indexed one by one, a batch of N sends wrote N segments and merged them, ~25 µs a send
    (bench/README.md, 2026-12-01). Inserted last, they make one segment at the commit. Any
    other write of the index first inserts what waits, so the index sees every change in
    the order it was made.
    """
    _at_commit.rows = []
    try:
        yield
        flush_at_commit()
    finally:
        _at_commit.rows = None


def flush_at_commit() -> None:
    """Insert the rows `indexed_at_commit` holds back, if any (the writer calls it before
    each write that runs in a savepoint, so that a rollback to it cannot take them)."""
    rows = getattr(_at_commit, "rows", None)
    if rows:
        try:
            connection.ensure_connection()
            with connection.wrap_database_errors:
                connection.connection.executemany(_FTS_INSERT, rows)
        except BaseException:
            # The messages they index are not kept without them: the batch is refused.
            transaction.set_rollback(True)
            raise
        finally:
            rows.clear()


def index_delete(cursor: Any, *, message_id: int) -> None:
    flush_at_commit()
    if connection.vendor == "postgresql":
        cursor.execute("DELETE FROM chat_message_search WHERE message_id = %s", [message_id])
    else:
        cursor.execute("DELETE FROM chat_message_fts WHERE rowid = %s", [message_id])


def query_terms(q: str) -> list[str]:
    """The distinct words of a query, in order (at most 16)."""
    seen: dict[str, None] = {}
    for w in words(q, for_query=True):
        seen.setdefault(w, None)
    return list(seen)[:_MAX_QUERY_TERMS]


def match_sql(
    terms: list[str], *, conversation_id: int | None = None, sender_id: int | None = None
) -> tuple[str, list[Any]]:
    """The backend's match expression for "every term" (and the scope words of the filters
    given), as (description, parameters)."""
    terms = list(terms)
    if conversation_id is not None:
        terms.append(f"{_CONVERSATION_WORD}{conversation_id}")
    if sender_id is not None:
        terms.append(f"{_SENDER_WORD}{sender_id}")
    if connection.vendor == "postgresql":
        quoted = ("'" + t.replace("\\", "").replace("'", "''") + "'" for t in terms)
        return "tsquery", [" & ".join(quoted)]
    return "fts5", [" AND ".join('"' + t.replace('"', '""') + '"' for t in terms)]


def snippet(body: str, terms: list[str], *, width: int = 80) -> list[dict[str, Any]]:
    """The part of `body` around the first hit, as [{text, hit}] pieces (hits marked)."""
    if not body:
        return []
    pattern = re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)), re.I)
    first = pattern.search(body) if terms else None
    start = 0
    if first is not None and first.start() > width // 3:
        start = first.start() - width // 3
    end = min(len(body), start + width)
    excerpt = body[start:end]
    pieces: list[dict[str, Any]] = []
    if start > 0:
        pieces.append({"text": "…", "hit": False})
    position = 0
    for hit in pattern.finditer(excerpt) if terms else ():
        if hit.start() > position:
            pieces.append({"text": excerpt[position : hit.start()], "hit": False})
        pieces.append({"text": hit.group(), "hit": True})
        position = hit.end()
    if position < len(excerpt):
        pieces.append({"text": excerpt[position:], "hit": False})
    if end < len(body):
        pieces.append({"text": "…", "hit": False})
    return pieces
