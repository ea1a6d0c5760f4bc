"""Many concurrent senders in one conversation get seq 1..N, on SQLite and on PostgreSQL.

Two processes, each with many threads calling `message_send` at the same moment (every
thread its own database connection), plus racing retries of the same (sender, client id)
across both processes.
"""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.system.conftest import base_env, dbtool

SENDERS = [f"s{n}" for n in range(8)]
PER_SENDER = 30
RACES = 6


@pytest.fixture(params=["sqlite", "postgres"])
def db_env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    if request.param == "postgres":
        return request.getfixturevalue("pg_env")
    db = tmp_path / "db.sqlite3"
    shutil.copyfile(request.getfixturevalue("sqlite_template"), db)
    return base_env(tmp_path, DATABASE_URL=f"sqlite:///{db}")


def test_concurrent_senders_get_gap_free_seq_and_racing_retries_store_once(db_env):
    world = dbtool(
        db_env,
        "seed",
        {"users": SENDERS, "groups": [{"name": "crowd", "owner": "s0", "members": SENDERS}]},
    )
    conv = world["groups"]["crowd"]["conversation"]
    halves = [SENDERS[::2], SENDERS[1::2]]

    def run(senders: list[str]) -> dict[str, Any]:
        return dbtool(
            db_env,
            "race",
            {
                "conversation": conv,
                "senders": senders,
                "per_sender": PER_SENDER,
                "threads_per_sender": 2,
                # The same (sender, client id) raced from both processes at once.
                "retry_races": RACES,
                "race_senders": ["s0", "s1"],
            },
        )

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(run, halves))

    assert [a["errors"] for a in answers] == [[], []]
    results = [r for a in answers for r in a["results"]]
    expected = len(SENDERS) * PER_SENDER + RACES
    stored = dbtool(db_env, "dump", {"conversations": [conv]})
    seqs = [m["seq"] for m in stored["messages"]]
    assert seqs == list(range(1, expected + 1))
    assert stored["conversations"][str(conv)] == expected
    keys = [(m["sender"], m["client_id"]) for m in stored["messages"]]
    assert len(set(keys)) == len(keys)

    # Every race: four calls, one stored row, all four got that row back, one created it.
    for r in range(RACES):
        calls = [x for x in results if x["client_id"] == f"race-{r}"]
        assert len(calls) == 4
        assert len({(x["id"], x["seq"]) for x in calls}) == 1
        assert sum(x["created"] for x in calls) == 1
    # Each ordinary send returned exactly the row that was stored for it.
    by_key = {(m["client_id"]): (m["id"], m["seq"]) for m in stored["messages"]}
    for x in results:
        assert by_key[x["client_id"]] == (x["id"], x["seq"])


def test_two_processes_writer_batches_store_every_send_once_without_deadlock(db_env):
    """Two processes' socket writers, each with two threads, commit batches of sends to the
    same conversations (one process takes them in the opposite order), and some rounds
    send the same client ids from both processes at once. On PostgreSQL a batch commits
    together and holds its conversations' rows until then: it takes them in id order,
    so no batch dies of a deadlock (a retried id racing another process may fail a
    batch, which is then re-run one send at a time)."""
    names = [f"b{n}" for n in range(6)]
    world = dbtool(
        db_env,
        "seed",
        {"users": names, "friends": [[names[n], names[n + 1]] for n in range(0, 6, 2)]},
    )
    pairs = []
    for n in range(0, 6, 2):
        conversation = world["direct"][f"{names[n]}:{names[n + 1]}"]
        pairs += [[names[n], conversation], [names[n + 1], conversation]]
    rounds, shared = 40, [5, 17, 29]

    def run(side: int) -> dict[str, Any]:
        request = {
            "pairs": pairs,
            "rounds": rounds,
            "threads": 2,
            "reverse": side == 1,
            "prefix": f"p{side}",
            "shared": shared,
        }
        return dbtool(db_env, "batches", request)

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(run, [0, 1]))

    assert [a["errors"] for a in answers] == [[], []]
    # 40P01: deadlock detected. (23505, a unique violation, is a shared id's race.)
    assert [f for a in answers for f in a["failed_batches"] if f != "23505"] == []
    conversations = sorted({c for _, c in pairs})
    stored = dbtool(db_env, "dump", {"conversations": conversations})
    per_conversation = 2 * (2 * (rounds - len(shared)) + len(shared))
    for conversation in conversations:
        seqs = [m["seq"] for m in stored["messages"] if m["conversation"] == conversation]
        assert seqs == list(range(1, per_conversation + 1))
        assert stored["conversations"][str(conversation)] == per_conversation
    by_key = {m["client_id"]: (m["id"], m["seq"]) for m in stored["messages"]}
    assert len(by_key) == len(stored["messages"])
    results = [r for a in answers for r in a["results"]]
    assert len(results) == 2 * rounds * len(pairs)
    for r in results:
        assert by_key[r["client_id"]] == (r["id"], r["seq"])
    # A shared id was stored once, by one of the two processes.
    for client_id in {r["client_id"] for r in results if r["client_id"].startswith("shared")}:
        calls = [r for r in results if r["client_id"] == client_id]
        assert len(calls) == 2
        assert sum(r["created"] for r in calls) == 1
