"""Run every benchmark once with modest defaults (`make bench`); each prints its table.

    .venv/bin/python bench/run.py [--quick]

--quick: smaller sizes (100,000 history messages, 3 s load) for a smoke run.
Every process a benchmark starts is stopped by its pid before the next one begins.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    seconds = "3" if args.quick else "5"
    messages = "100000" if args.quick else "1000000"
    runs = [
        # throughput.py runs the bare relay first and reports the ratio to it.
        ["throughput.py", "--seconds", seconds, "--idle", "200" if args.quick else "500"],
        ["history.py", "--messages", messages, "--repeat", "10" if args.quick else "30"],
    ]
    failed = 0
    for script, *rest in runs:
        print(f"\n$ bench/{script} {' '.join(rest)}", flush=True)
        done = subprocess.run([sys.executable, str(HERE / script), *rest], check=False)
        failed += done.returncode != 0
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
