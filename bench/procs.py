"""What the server processes cost: CPU seconds (utime + stime from /proc) and resident memory.

A server is one or more root pids; its CPU is theirs plus their descendants' (PostgreSQL's
backends are children of the postmaster), plus what their reaped children used (cutime +
cstime), so a backend that exits between two readings still counts.
"""

from __future__ import annotations

import os
import resource
from collections.abc import Iterable

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            raw = f.read()
    except OSError:
        return None
    # The command name (field 2) may contain spaces; everything after its ")" is numbers.
    return raw[raw.rindex(")") + 2 :].split()


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        fields = _stat(int(name))
        if fields is not None:
            tree.setdefault(int(fields[1]), []).append(int(name))
    return tree


def main_thread_cpu_seconds(pids: Iterable[int]) -> float:
    """CPU seconds used so far by the main threads of `pids` (daphne's event loop, without
    its writer and executor threads)."""
    total = 0
    for pid in pids:
        fields = _stat_path(f"/proc/{pid}/task/{pid}/stat")
        if fields is not None:
            total += int(fields[11]) + int(fields[12])
    return total / TICK


def _stat_path(path: str) -> list[str] | None:
    try:
        with open(path) as f:
            raw = f.read()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()


def cpu_seconds(roots: Iterable[int]) -> float:
    """CPU seconds (user + system) used so far by `roots`, their descendants, and their reaped
    children."""
    tree = _children()
    total = 0
    seen: set[int] = set()
    todo = list(roots)
    root_set = set(todo)
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        fields = _stat(pid)
        if fields is None:
            continue
        # After the ")": state ppid pgrp session tty tpgid flags minflt cminflt majflt
        # cmajflt utime stime cutime cstime (fields 3.. of proc(5), here 0-based from 0).
        total += int(fields[11]) + int(fields[12])
        if pid in root_set:
            total += int(fields[13]) + int(fields[14])
        todo += tree.get(pid, [])
    return total / TICK


def rss_kib(pid: int) -> int:
    """Resident set size of a process, in KiB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def raise_open_files(wanted: int) -> int:
    """Raise this process's (and so its children's) open-file limit toward `wanted`, within the
    hard limit; return the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())
