"""The web shell's store (static/js/shell/store.js) under Node's test runner, without a
browser or a server: tests/js/shell-store.test.mjs."""

import shutil

import pytest

from tests.servers import node_suite


def test_shell_store_counts_unread_as_the_server_does() -> None:
    if shutil.which("node") is None:
        pytest.fail("node is needed: run ./scripts/test")
    assert "# pass 4" in node_suite("shell-store.test.mjs")
