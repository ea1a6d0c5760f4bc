"""A plain message takes a fast lane on both backends: one statement on PostgreSQL
(authorization, seq, row, read cursor and search index together), four statements on the
sqlite3 connection in a savepoint made by hand on SQLite. The same rules as the
multi-statement path hold on both."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.system.conftest import base_env
from tests.system.conftest import report as run_report

# What a send must update besides the row: the unique (conversation, seq) and (sender,
# client_id) indexes, and the references most messages leave empty only where set.
INDEXES = [
    [["attachment_id"], False, True],
    [["conversation_id", "seq"], True, False],
    [["recalled_by_id"], False, True],
    [["reply_to_id"], False, True],
    [["sender_id", "client_id"], True, False],
    [["target_id"], False, True],
]


@pytest.fixture(params=["postgresql", "sqlite"])
def db_env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    if request.param == "postgresql":
        env: dict[str, str] = request.getfixturevalue("pg_env")
        return env
    db = tmp_path / "db.sqlite3"
    shutil.copyfile(request.getfixturevalue("sqlite_template"), db)
    return base_env(tmp_path, DATABASE_URL=f"sqlite:///{db}")


def test_the_fast_send_lane_keeps_every_rule(db_env: dict[str, str]) -> None:
    report = run_report("tests.system.sendcheck", db_env)
    assert report["vendor"] in ("postgresql", "sqlite")
    first = report["first"]
    assert (first["seq"], first["created"], first["body"]) == (1, True, "first words")
    assert report["second"]["seq"] == 2
    # A retry gets the stored message back, wherever it is retried.
    assert report["retry"] == {**first, "created": False}
    assert report["retry_elsewhere"] == {"error": "conflict"}
    # Refusals store nothing and use no seq: the next message is 3.
    assert report["not_friends"] == {"error": "not_friends"}
    assert report["blocked"] == {"error": "not_friends"}
    assert report["former_member"] == {"error": "not_member"}
    assert report["stranger"] == {"error": "not_found"}
    assert report["missing"] == {"error": "not_found"}
    assert report["third"]["seq"] == 3
    assert report["nested_retry"] == {**report["third"], "created": False}
    assert report["nested_next"]["seq"] == 4
    assert report["with_data"]["seq"] == 5
    assert report["stored_data"] == {"k": 1}  # data takes the multi-statement path
    assert report["seqs"][:5] == [1, 2, 3, 4, 5]
    batch = report["batch"]
    assert batch["mixed"] == [
        {"seq": 6, "created": True, "body": "batched one"},
        {"seq": 7, "created": True, "body": "hello"},
        {"seq": 1, "created": False, "body": "first words"},
        {"error": "not_friends"},
        {"seq": 2, "created": True, "body": "hi @ben"},
        {"seq": 8, "created": True, "body": "after the mention"},
        {"seq": 3, "created": True, "body": "plain in the group"},
        {"seq": 9, "created": True, "body": "twice in one batch"},
        {"seq": 9, "created": False, "body": "twice in one batch"},
        {"seq": 6, "created": False, "body": "batched one"},
    ]
    if report["vendor"] == "postgresql":
        # The plain sends before the mention went together, then those after it.
        # (Then the three of the failing batch.)
        assert batch["together"] == [4, 5, 3]
        assert batch["fallback"] == [
            {"seq": 10, "created": True, "body": "before the failure"},
            {"seq": 11, "created": True, "body": "after the failure"},
        ]
        assert batch["fallback_error"] == "DataError"
        assert report["seqs"] == list(range(1, 12))
        assert report["read_cursor"] == 11
    else:
        assert batch["together"] == []
        assert report["seqs"] == list(range(1, 10))
        assert report["read_cursor"] == 9
    assert report["mention"]["seq"] == 1  # the multi-statement path (a mention) still works
    assert report["indexed"] == 1
    assert report["indexes"] == INDEXES
