"""The web shell's store (static/js/shell/store.js) under Node's test runner, without a
browser or a server: tests/js/shell-store.test.mjs."""

import shutil
import subprocess

import pytest

from tests.servers import ROOT


def test_shell_store_counts_unread_as_the_server_does() -> None:
    if shutil.which("node") is None:
        pytest.fail("node is needed: run ./scripts/test")
    result = subprocess.run(
        ["node", "--test", str(ROOT / "tests" / "js" / "shell-store.test.mjs")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    report = result.stdout[-6000:] + result.stderr[-3000:]
    assert result.returncode == 0, report
    assert "# fail 0" in result.stdout, report
    assert "# pass 4" in result.stdout, report
