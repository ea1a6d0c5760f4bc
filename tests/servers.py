"""Real processes for system and browser tests: daphne (and, in tests/system, redis-server
and PostgreSQL), each on a free loopback port, stopped by the pid we started."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable  # the venv's own interpreter, never a shim


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, *, timeout: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


def stop_pid(proc: subprocess.Popen, *, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
    """Stop the process we started, by its pid, escalating to SIGKILL."""
    if proc.poll() is not None:
        return
    os.kill(proc.pid, sig)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=timeout)


def django_env(extra: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update({"DJANGO_SETTINGS_MODULE": "happychat.settings", "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


def manage(env: Mapping[str, str], *args: str) -> None:
    subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=dict(env), check=True,
        stdout=subprocess.DEVNULL,
    )


class Daphne:
    """A daphne process serving happychat.asgi on a free loopback port."""

    def __init__(self, env: Mapping[str, str], log_path: Path, port: int | None = None) -> None:
        self.env = dict(env)
        self.port = port or free_port()
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/chat/"

    def start(self) -> Daphne:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [PYTHON, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port),
             "happychat.asgi:application"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        wait_for_port(self.port, proc=self.proc)
        return self

    def kill(self) -> None:
        """SIGKILL: the crash the delivery guarantees must survive."""
        if self.proc is not None:
            stop_pid(self.proc, sig=signal.SIGKILL)

    def stop(self) -> None:
        if self.proc is not None:
            stop_pid(self.proc)
