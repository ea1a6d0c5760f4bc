"""On PostgreSQL a plain message is stored by one statement (authorization, seq, row, read
cursor and search index together): the same rules as the multi-statement path hold."""

from __future__ import annotations

import json
import subprocess

from tests.servers import PYTHON, ROOT


def test_one_statement_send_keeps_every_rule_on_postgres(pg_env: dict[str, str]) -> None:
    done = subprocess.run(
        [PYTHON, "-m", "tests.system.sendcheck"],
        cwd=ROOT,
        env=pg_env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    report = json.loads(done.stdout)
    assert report["vendor"] == "postgresql"
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
    assert report["seqs"] == [1, 2, 3, 4, 5]
    assert report["read_cursor"] == 5
    assert report["mention"]["seq"] == 1  # the multi-statement path (a mention) still works
    assert report["indexed"] == 1
