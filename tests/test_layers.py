"""The apps stay layered one way (docs/architecture.md), checked by import-linter.

The contract lives in pyproject.toml ([tool.importlinter]): a lower app importing a higher
one, or two apps of one layer importing each other, fails this test with the import chain.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_no_app_imports_a_higher_layer():
    # A process of its own: import-linter reads the source files, not what pytest imported.
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
