"""happychat.asgi as daphne loads it."""

import subprocess
import sys

from tests.servers import ROOT, django_env

_FROZEN = "import gc, sys; {imports}; import happychat.asgi; print(gc.get_freeze_count())"


def _frozen_after(imports: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", _FROZEN.format(imports=imports)],
        cwd=ROOT,
        env=django_env({}),
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout.split()[-1])


def test_under_daphne_what_the_application_loaded_is_kept_out_of_the_collectors_sight():
    # daphne's command line is loaded before the application, as `daphne …` loads it.
    assert _frozen_after("import daphne.cli") > 50_000


def test_other_processes_importing_the_application_freeze_nothing():
    # Tests and manage.py load daphne.server too (daphne is an installed app).
    assert _frozen_after("import daphne.server") == 0
