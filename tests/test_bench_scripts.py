"""Every benchmark script starts: its imports resolve (a module left out of a commit shows
here, not on the day someone runs `make bench`) and it answers `--help`."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = sorted(
    path.name
    for path in (ROOT / "bench").glob("*.py")
    if "argparse.ArgumentParser" in path.read_text(encoding="utf-8")
)


def test_the_benchmark_scripts_are_found() -> None:
    assert {"run.py", "throughput.py", "history.py", "search.py", "flood.py"} <= set(SCRIPTS)


@pytest.mark.parametrize("script", SCRIPTS)
def test_a_benchmark_script_answers_help(script: str) -> None:
    done = subprocess.run(
        [sys.executable, f"bench/{script}", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage:" in done.stdout
