"""Three concurrent near-limit decompression bombs keep a real daphne's memory bounded.

Each upload is a 155 KB all-zero 6320×6320 RGBA PNG (39.9 megapixels, just under the
40-megapixel limit), which used to take a daphne from 460 MB to 2.7 GB, 1.9 GB of which
stayed. Now at most UPLOAD_DECODE_CONCURRENCY (2) decode at once, each decode is shrunk
band by band, and freed pixel memory goes back to the system.
"""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import httpx
from PIL import Image

from tests.system.conftest import Site

SIDE = 6320
# Measured on a 2-CPU machine: one decode peaks ~260 MB above the idle process, two at
# once ~520 MB. The bound leaves room for allocator slack, not for a third decode.
PEAK_BOUND_MB = 700
# What may stay resident once every upload has been answered.
SETTLED_BOUND_MB = 120


def bomb() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (SIDE, SIDE), (0, 0, 0, 0)).save(buffer, "PNG")
    return buffer.getvalue()


def small_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def status_mb(pid: int) -> dict[str, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields


def reset_peak(pid: int) -> None:
    # "5" resets VmHWM (the peak resident size) to the current VmRSS.
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def upload(url: str, token: str, data: bytes, name: str) -> httpx.Response:
    return httpx.post(
        f"{url}/api/v1/uploads/",
        headers={"Authorization": f"Token {token}"},
        files={"file": (name, data, "image/png")},
        timeout=300,
    )


def test_three_concurrent_near_limit_bombs_stay_under_a_fixed_memory_bound(sqlite_site: Site):
    world = sqlite_site.seed(users=["uma"])
    token = world["users"]["uma"]["token"]
    server = sqlite_site.daphne(
        THROTTLE_UPLOAD="1000/min", UPLOAD_DECODE_CONCURRENCY="2", UPLOAD_DECODE_WAIT_SECONDS="240"
    )
    assert server.proc is not None
    pid = server.proc.pid
    # Warm up: imports, Pillow's plugins, the database connection, the first thread.
    assert upload(server.url, token, small_png(), "warm.png").status_code == 201
    time.sleep(0.5)
    baseline = status_mb(pid)["VmRSS"]
    reset_peak(pid)

    data = bomb()
    assert 100_000 < len(data) < 200_000
    answers: list[httpx.Response] = []
    threads = [
        threading.Thread(
            target=lambda i=i: answers.append(upload(server.url, token, data, f"{i}.png"))
        )
        for i in range(3)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    elapsed = time.monotonic() - started
    time.sleep(1.0)
    after = status_mb(pid)
    peak_growth = after["VmHWM"] - baseline
    settled_growth = after["VmRSS"] - baseline
    print(
        f"\nthree concurrent {SIDE}x{SIDE} RGBA bombs: baseline {baseline:.0f} MB, "
        f"peak +{peak_growth:.0f} MB (bound {PEAK_BOUND_MB}), settled +{settled_growth:.0f} MB "
        f"(bound {SETTLED_BOUND_MB}), {elapsed:.1f} s"
    )

    assert [a.status_code for a in answers] == [201, 201, 201], [a.text for a in answers]
    assert all(max(a.json()["width"], a.json()["height"]) == 4096 for a in answers)
    assert peak_growth < PEAK_BOUND_MB
    assert settled_growth < SETTLED_BOUND_MB
