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
