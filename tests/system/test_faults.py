"""Crash tests: clients keep sending while servers are SIGKILLed and restarted.

Afterwards every acked message is stored exactly once with the seq its ack named, every
conversation's seq runs 1..N with no gap, and each device's transcript after a final
`sync` equals the database.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from tests.servers import Daphne, Redis
from tests.system.chaos import Device, plan_for
from tests.system.conftest import Site

# Senders are not throttled here: the point is as many writes in flight as possible.
FAST = {"CHAT_SEND_RATE": "100000", "CHAT_SEND_BURST": "100000"}
PLAN_LENGTH = 3000  # an upper bound; the chaos schedule decides when sending stops


def seed_world(site: Site) -> dict[str, Any]:
    return site.seed(
        users=["ann", "ben", "cat"],
        friends=[["ann", "ben"], ["ben", "cat"]],
        groups=[{"name": "abc", "owner": "ann", "members": ["ben", "cat"]}],
    )


def make_devices(world: dict[str, Any], urls: dict[str, list[str]]) -> list[Device]:
    ab, bc = world["direct"]["ann:ben"], world["direct"]["ben:cat"]
    group = world["groups"]["abc"]["conversation"]
    member_of = {"ann": [ab, group], "ben": [ab, bc, group], "cat": [bc, group]}
    devices = []
    for device, user in [("ann-a", "ann"), ("ann-b", "ann"), ("ben", "ben"), ("cat", "cat")]:
        convs = member_of[user]
        devices.append(
            Device(
                device,
                world["users"][user]["token"],
                urls[device],
                convs,
                plan_for(device, convs, PLAN_LENGTH),
            )
        )
    return devices


async def blocking(fn: Callable[[], Any]) -> Any:
    return await asyncio.to_thread(fn)


async def run_with_chaos(
    devices: list[Device], chaos: Callable[[Callable[[], int]], Awaitable[list[int]]]
) -> list[int]:
    """Run the devices while `chaos` breaks things; return acked counts at each blow."""
    stop = asyncio.Event()

    def acked() -> int:
        return sum(len(d.acks) for d in devices)

    async def conduct() -> list[int]:
        try:
            return await chaos(acked)
        finally:
            stop.set()

    async with asyncio.timeout(120):
        marks, *_ = await asyncio.gather(conduct(), *(d.run(stop) for d in devices))
    marks.append(acked())
    print(  # shown with -s: how hard the run was
        f"acked at each blow {marks}; reconnects {[d.failures for d in devices]}; "
        f"duplicate deliveries deduped {[d.duplicates for d in devices]}"
    )
    return marks


def check_against_database(site: Site, world: dict[str, Any], devices: list[Device]) -> int:
    """Assert the guarantees; return how many messages were stored."""
    stored = site.dump()
    problems = [p for d in devices for p in d.problems]
    assert problems == []
    by_key = {(m["sender"], m["client_id"]): m for m in stored["messages"]}
    assert len(by_key) == len(stored["messages"]), "a (sender, client id) stored twice"
    user_of = {"ann-a": "ann", "ann-b": "ann", "ben": "ben", "cat": "cat"}
    attempted = 0
    for device in devices:
        sender = world["users"][user_of[device.name]]["id"]
        assert not device.inflight
        for conv, client_id in device.plan[: device.next]:
            attempted += 1
            ack = device.acks[client_id]
            row = by_key[(sender, client_id)]
            assert (row["id"], row["seq"], row["conversation"]) == (ack["id"], ack["seq"], conv)
    # Nothing stored that no device was acked for, and nothing twice under another id.
    assert len(stored["messages"]) == attempted
    assert len({m["body"] for m in stored["messages"]}) == attempted
    for conv, last_seq in stored["conversations"].items():
        seqs = [m["seq"] for m in stored["messages"] if str(m["conversation"]) == conv]
        assert seqs == list(range(1, last_seq + 1)), f"conversation {conv} has a gap"
    for device in devices:
        for conv, held in device.transcript.items():
            expected = {
                m["seq"]: (m["id"], m["client_id"])
                for m in stored["messages"]
                if m["conversation"] == conv
            }
            got = {seq: (m["id"], m["client_id"]) for seq, m in held.items()}
            assert got == expected, f"{device.name} transcript of {conv} differs"
    return attempted


async def test_sigkilled_daphne_loses_and_duplicates_nothing_on_sqlite(sqlite_site: Site):
    site = sqlite_site
    world = seed_world(site)
    server = site.daphne(**FAST)
    devices = make_devices(world, {d: [server.ws_url] for d in ("ann-a", "ann-b", "ben", "cat")})

    async def chaos(acked: Callable[[], int]) -> list[int]:
        marks = []
        for _ in range(2):
            await asyncio.sleep(1.5)
            marks.append(acked())
            await blocking(server.kill)
            await asyncio.sleep(0.3)
            await blocking(server.start)  # same port, same database
        await asyncio.sleep(1.5)
        return marks

    marks = await run_with_chaos(devices, chaos)
    for device in devices:
        await device.final_sync()
    stored = check_against_database(site, world, devices)
    # The crashes happened mid-stream, and sending went on after each restart.
    assert 0 < marks[0] < marks[1] < marks[2] == stored
    assert sum(d.failures for d in devices) >= 2 * len(devices)


async def test_sigkilled_daphne_and_redis_lose_and_duplicate_nothing_on_scaleout(
    scaleout_site: Site, redis_server: Redis
):
    site = scaleout_site
    world = seed_world(site)
    one: Daphne = site.daphne(**FAST)
    two: Daphne = site.daphne(**FAST)
    # Each device prefers one process and fails over to the other.
    urls = {
        "ann-a": [one.ws_url, two.ws_url],
        "ann-b": [two.ws_url, one.ws_url],
        "ben": [one.ws_url, two.ws_url],
        "cat": [two.ws_url, one.ws_url],
    }
    devices = make_devices(world, urls)

    async def chaos(acked: Callable[[], int]) -> list[int]:
        marks = []
        await asyncio.sleep(1.5)
        marks.append(acked())
        await blocking(one.kill)
        await asyncio.sleep(0.3)
        await blocking(one.start)
        await asyncio.sleep(1.0)
        marks.append(acked())
        await blocking(redis_server.kill)  # groups, presence and queued wake-ups are gone
        await asyncio.sleep(0.5)
        await blocking(redis_server.start)
        await asyncio.sleep(1.0)
        marks.append(acked())
        await blocking(two.kill)
        await asyncio.sleep(0.3)
        await blocking(two.start)
        await asyncio.sleep(1.5)
        return marks

    started = time.monotonic()
    marks = await run_with_chaos(devices, chaos)
    for device in devices:
        await device.final_sync()
    stored = check_against_database(site, world, devices)
    assert 0 < marks[0] < marks[1] < marks[2] < marks[3] == stored
    assert sum(d.failures for d in devices) >= len(devices)
    assert time.monotonic() - started < 120
