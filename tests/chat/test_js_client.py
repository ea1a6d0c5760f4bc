"""Run the JS client core's unit tests (node's test runner) as part of the suite."""

import subprocess

from tests.servers import ROOT


def test_js_client_unit_tests_pass():
    result = subprocess.run(
        ["node", "--test", "static/js/tests/"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout
