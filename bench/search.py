"""Message search over 1,000,000 messages (English and Chinese): p50/p99 of word queries
and the size of the index, on the default setup (SQLite FTS5) or PostgreSQL.

    .venv/bin/python bench/search.py [--messages 1000000] [--repeat 50] [--postgres]
                                     [--json FILE]

Builds, in a temporary database, 1,000 group conversations with the messages spread over
them (half English, half Chinese sentences drawn from fixed vocabularies with a Zipf-like
skew, so some words are common and some rare), indexes them with the same code the send
path uses (`chat.search.indexable`, jieba for Chinese), and makes the searcher a member
of 100 of the conversations (and a past member of one more). Then times, in-process, the
selector (`chat.selectors.message_search` + serialization, a page of 20) and the REST view
(GET /api/v1/search/messages/?q=…) for each query.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.child import run_on_fresh_database
from bench.loadgen import table

CONVERSATIONS = 1000
MEMBER_OF = 100
BATCH = 20_000

ENGLISH = [
    "the",
    "a",
    "to",
    "and",
    "of",
    "in",
    "is",
    "it",
    "you",
    "that",
    "for",
    "on",
    "are",
    "with",
    "be",
    "this",
    "have",
    "we",
    "not",
    "at",
    "can",
    "meeting",
    "lunch",
    "report",
    "project",
    "deadline",
    "budget",
    "tomorrow",
    "today",
    "please",
    "thanks",
    "review",
    "design",
    "release",
    "server",
    "database",
    "client",
    "build",
    "test",
    "deploy",
    "weekend",
    "coffee",
    "office",
    "team",
    "photo",
    "trip",
    "dinner",
    "movie",
    "music",
    "game",
    "football",
    "weather",
    "rain",
    "train",
    "ticket",
    "hotel",
    "price",
    "invoice",
    "contract",
    "customer",
    "market",
    "sales",
    "plan",
    "idea",
    "question",
    "answer",
    "problem",
    "issue",
    "kubernetes",
    "postgres",
    "quarterly",
    "synergy",
    "roadmap",
    "kickoff",
    "retrospective",
    "onboarding",
    "xylophone",
    "zeppelin",
    "quokka",
]
CHINESE = [
    "我们",
    "你",
    "他",
    "的",
    "了",
    "是",
    "在",
    "有",
    "和",
    "就",
    "不",
    "也",
    "都",
    "要",
    "会",
    "今天",
    "明天",
    "昨天",
    "晚上",
    "早上",
    "一起",
    "开会",
    "吃饭",
    "项目",
    "报告",
    "预算",
    "客户",
    "合同",
    "发布",
    "测试",
    "服务器",
    "数据库",
    "周末",
    "电影",
    "音乐",
    "天气",
    "下雨",
    "火车",
    "酒店",
    "价格",
    "发票",
    "市场",
    "销售",
    "计划",
    "问题",
    "答案",
    "设计",
    "团队",
    "咖啡",
    "办公室",
    "照片",
    "旅行",
    "晚饭",
    "足球",
    "比赛",
    "季度",
    "路线图",
    "复盘",
    "入职",
    "长城",
    "熊猫",
    "火锅",
    "饺子",
    "春节",
]


def zipf_choice(rng: random.Random, words: list[str]) -> str:
    """Word k (0-based) is drawn with weight 1/(k+1): early words common, the last rare."""
    weights = _WEIGHTS.setdefault(len(words), [1 / (k + 1) for k in range(len(words))])
    return rng.choices(words, cum_weights=_cumulative(weights))[0]


_WEIGHTS: dict[int, list[float]] = {}
_CUMULATIVE: dict[int, list[float]] = {}


def _cumulative(weights: list[float]) -> list[float]:
    if len(weights) not in _CUMULATIVE:
        total, out = 0.0, []
        for w in weights:
            total += w
            out.append(total)
        _CUMULATIVE[len(weights)] = out
    return _CUMULATIVE[len(weights)]


def sentence(rng: random.Random, n: int) -> str:
    if n % 2:
        return "".join(zipf_choice(rng, CHINESE) for _ in range(rng.randint(4, 10)))
    return " ".join(zipf_choice(rng, ENGLISH) for _ in range(rng.randint(5, 14)))


def db_bytes() -> int:
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SELECT pg_database_size(current_database())")
        else:
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cur.execute("SELECT page_count * page_size FROM pragma_page_count, pragma_page_size")
        return int(cur.fetchone()[0])


def index_bytes() -> int | None:
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SELECT pg_total_relation_size('chat_message_search')")
            return int(cur.fetchone()[0])
    return None


def fill(total: int, sender_id: int, searcher_id: int) -> dict[str, float]:
    """Conversations, messages and their index; the searcher's memberships. Seconds taken."""
    from django.db import connection, transaction

    from chat import search

    rng = random.Random(10)
    started = time.monotonic()
    now = "2025-01-01 00:00:00"
    with transaction.atomic(), connection.cursor() as cur:
        for _ in range(CONVERSATIONS):
            cur.execute(
                "INSERT INTO chat_conversation (kind, last_seq, created_at) VALUES "
                "('group', 0, %s)",
                [now],
            )
        cur.execute("SELECT id FROM chat_conversation ORDER BY id")
        conversations = [row[0] for row in cur.fetchall()]
        for cid in conversations[:MEMBER_OF]:
            cur.execute(
                "INSERT INTO chat_conversationmember (conversation_id, user_id, is_active, "
                "last_read_seq, muted, created_at) VALUES (%s, %s, TRUE, 0, FALSE, %s)",
                [cid, searcher_id, now],
            )
        # A group the searcher left at seq 100: found up to there only.
        cur.execute(
            "INSERT INTO chat_conversationmember (conversation_id, user_id, is_active, "
            "last_read_seq, left_seq, muted, created_at) VALUES (%s, %s, FALSE, 0, 100, FALSE, %s)",
            [conversations[MEMBER_OF], searcher_id, now],
        )
    seqs = dict.fromkeys(conversations, 0)
    bodies: list[tuple[int, str]] = []
    for start in range(0, total, BATCH):
        rows = []
        with transaction.atomic(), connection.cursor() as cur:
            for n in range(start, min(start + BATCH, total)):
                cid = conversations[n % CONVERSATIONS]
                seqs[cid] += 1
                body = sentence(rng, n)
                rows.append((cid, seqs[cid], sender_id, "text", body, f"bulk-{n}", now))
            cur.executemany(
                "INSERT INTO chat_message (conversation_id, seq, sender_id, kind, body, "
                "client_id, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                rows,
            )
    with transaction.atomic(), connection.cursor() as cur:
        for cid, seq in seqs.items():
            cur.execute("UPDATE chat_conversation SET last_seq = %s WHERE id = %s", [seq, cid])
    inserted = time.monotonic() - started
    before_index = db_bytes()
    search.warm_up()
    started = time.monotonic()
    last = 0
    while True:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT id, body, conversation_id, sender_id FROM chat_message WHERE id > %s "
                "ORDER BY id LIMIT %s",
                [last, BATCH],
            )
            bodies = cur.fetchall()
        if not bodies:
            break
        with transaction.atomic(), connection.cursor() as cur:
            for mid, body, cid, sid in bodies:
                tokens = search.indexable("text", body, conversation_id=cid, sender_id=sid)
                search.index_add(cur, message_id=mid, tokens=tokens)
        last = bodies[-1][0]
    indexed = time.monotonic() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    after_index = db_bytes()
    return {
        "insert_s": inserted,
        "index_s": indexed,
        "db_bytes": after_index,
        "index_bytes": index_bytes() or (after_index - before_index),
    }


def percentiles(fn: Any, repeat: int) -> tuple[float, float]:
    """(p50, p99) milliseconds of `fn()` over `repeat` runs after one warm-up."""
    fn()
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]


QUERIES = [
    ("English, common word", "meeting", {}),
    ("English, rare word", "quokka", {}),
    ("English, two words", "budget review", {}),
    ("Chinese, common word", "项目", {}),
    ("Chinese, rare word", "饺子", {}),
    ("Chinese, two words", "预算 客户", {}),
    ("English, one conversation", "report", {"conversation": True}),
    ("no match", "nonexistentword", {}),
]


def run_in_process(total: int, repeat: int) -> None:
    import django

    django.setup()
    from django.test import Client

    from accounts.models import User
    from chat.selectors import message_search
    from chat.serializers import message_payload
    from tests.system.dbtool import seed

    world = seed({"users": ["searcher", "writer"]})
    searcher = User.objects.get(username="searcher")
    figures = fill(total, world["users"]["writer"]["id"], searcher.pk)
    from chat.models import ConversationMember

    first_conversation = (
        ConversationMember.objects.filter(user=searcher).order_by("conversation_id").first()
    )
    assert first_conversation is not None
    client = Client(
        SERVER_NAME="localhost", HTTP_AUTHORIZATION=f"Token {world['users']['searcher']['token']}"
    )
    if os.environ.get("SEARCH_PROFILE"):
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(20):
            message_search(user=searcher, q="meeting", limit=20)
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(25)
    rows = {}
    for name, q, opts in QUERIES:
        cid = first_conversation.conversation_id if opts.get("conversation") else None

        def selector(q: str = q, cid: int | None = cid) -> int:
            page = message_search(user=searcher, q=q, conversation_id=cid, limit=20)
            [message_payload(m) for m, _ in page.hits]
            return len(page.hits)

        params = {"q": q, **({"conversation": cid} if cid else {})}

        def rest(params: dict[str, Any] = params) -> None:
            response = client.get("/api/v1/search/messages/", params)
            assert response.status_code == 200, response.content[:300]

        hits = selector()
        rows[name] = {
            "q": q,
            "hits": hits,
            "selector": percentiles(selector, repeat),
            "rest": percentiles(rest, repeat),
        }
    sys.stdout.write(json.dumps({**figures, "rows": rows}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL")
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE as JSON")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_in_process(args.messages, args.repeat)
        return

    load_before = os.getloadavg()[0]
    result = run_on_fresh_database(
        __file__,
        postgres=args.postgres,
        args=["--messages", str(args.messages), "--repeat", str(args.repeat)],
        prefix="happychat-search-",
    )
    load_after = os.getloadavg()[0]

    backend = "PostgreSQL" if args.postgres else "SQLite FTS5"
    rows = [
        ("database", backend),
        ("messages", f"{args.messages:,} in {CONVERSATIONS:,} conversations"),
        ("searcher's conversations", f"{MEMBER_OF} (+1 left)"),
        ("bulk insert", f"{result['insert_s']:.1f} s"),
        ("indexing (jieba + index)", f"{result['index_s']:.1f} s"),
        ("index size", f"{result['index_bytes'] / 2**20:.1f} MiB"),
        ("database size", f"{result['db_bytes'] / 2**20:.1f} MiB"),
    ]
    for name, row in result["rows"].items():
        (s50, s99), (r50, r99) = row["selector"], row["rest"]
        rows.append(
            (
                f"{name} ({row['q']!r}, {row['hits']} hits)",
                f"selector p50 {s50:.2f} / p99 {s99:.2f} ms · "
                f"REST p50 {r50:.2f} / p99 {r99:.2f} ms",
            )
        )
    rows.append(("load average (1 min) before / after", f"{load_before:.1f} / {load_after:.1f}"))
    print(table(rows, f"Message search, page of 20 ({args.repeat} runs each)"))
    if args.json:
        result.update(database=backend, messages=args.messages, repeat=args.repeat)
        Path(args.json).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "happychat.settings")
    main()
