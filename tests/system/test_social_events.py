"""Social events end to end: real `websockets` clients on a real daphne (SQLite).

Each step is one REST call; afterwards every open socket is drained for a moment and the
`event` frames it got are compared with what the users concerned — on every device —
and nobody else should have seen. Membership events also move live subscriptions: a
newcomer's sockets get the group's messages at once, a leaver's stop at once.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from tests.system.conftest import Site
from tests.system.wsclient import WS

pytestmark = pytest.mark.slow

WINDOW = 0.6  # seconds every socket is drained after a step


class Device:
    def __init__(self, person: str, ws: WS) -> None:
        self.person = person
        self.ws = ws

    async def drain(self, seconds: float = WINDOW) -> list[dict[str, Any]]:
        """Every frame that arrives within `seconds` (plus any already waiting)."""
        frames, self.ws.inbox = list(self.ws.inbox), []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while (remaining := deadline - loop.time()) > 0:
            try:
                raw = await asyncio.wait_for(self.ws.conn.recv(), remaining)
            except TimeoutError:
                break
            frames.append(json.loads(raw))
        return frames


class World:
    def __init__(self, site: Site, seeded: dict[str, Any], server_url: str) -> None:
        self.site = site
        self.users = seeded["users"]
        self.server_url = server_url
        self.devices: list[Device] = []

    def id(self, person: str) -> int:
        return int(self.users[person]["id"])

    async def connect(self, ws_url: str, layout: dict[str, int]) -> None:
        for person, count in layout.items():
            for _ in range(count):
                ws = await WS.open(ws_url, self.users[person]["token"])
                self.devices.append(Device(person, ws))

    async def call(self, person: str, method: str, path: str, body: Any = None) -> httpx.Response:
        headers = {"Authorization": f"Token {self.users[person]['token']}"}
        async with httpx.AsyncClient(base_url=self.server_url, headers=headers) as client:
            response = await client.request(method, f"/api/v1/{path}", json=body)
        assert response.status_code < 300, (path, response.status_code, response.text)
        return response

    async def frames(self) -> list[tuple[Device, list[dict[str, Any]]]]:
        drained = await asyncio.gather(*(d.drain() for d in self.devices))
        return list(zip(self.devices, drained, strict=True))

    async def step(self, expected: dict[str, list[str]]) -> dict[str, list[dict[str, Any]]]:
        """Drain all sockets; assert each device of each person got exactly `expected[person]`."""
        seen: dict[str, list[dict[str, Any]]] = {}
        for device, frames in await self.frames():
            events = [f for f in frames if f.get("type") == "event"]
            names = sorted(f["event"] for f in events)
            want = sorted(expected.get(device.person, []))
            assert names == want, f"{device.person}: got {names}, expected {want}"
            seen.setdefault(device.person, []).extend(events)
        return seen

    async def messages_seen(self, body: str) -> dict[str, int]:
        """How many devices of each person got a `message` frame with this body."""
        counts: dict[str, int] = {}
        for device, frames in await self.frames():
            got = any(f.get("type") == "message" and f["message"]["body"] == body for f in frames)
            counts[device.person] = counts.get(device.person, 0) + int(got)
        return counts

    async def close(self) -> None:
        for d in self.devices:
            await d.ws.close()


@pytest.fixture
def world(sqlite_site: Site) -> World:
    seeded = sqlite_site.seed(
        users=["ann", "ben", "cat", "dan"],
        friends=[["ann", "cat"], ["ann", "dan"]],
    )
    server = sqlite_site.daphne()
    w = World(sqlite_site, seeded, server.url)
    w.ws_url = server.ws_url  # type: ignore[attr-defined]
    return w


def only(events: dict[str, list[dict[str, Any]]], person: str, name: str) -> dict[str, Any]:
    matching = [e["data"] for e in events[person] if e["event"] == name]
    assert matching, f"{person} got no {name}"
    return matching[0]


async def test_every_social_event_reaches_every_device_of_those_concerned_and_nobody_else(
    world: World,
) -> None:
    # ann and ben on two devices each, cat and dan on one.
    await world.connect(world.ws_url, {"ann": 2, "ben": 2, "cat": 1, "dan": 1})  # type: ignore[attr-defined]
    await world.step({})
    ann, ben, cat, dan = (world.id(p) for p in ("ann", "ben", "cat", "dan"))
    try:
        # friend_request: sender's and recipient's devices
        sent = await world.call("ann", "POST", "friend-requests/", {"to": ben, "message": "hi"})
        seen = await world.step({"ann": ["friend_request"], "ben": ["friend_request"]})
        assert only(seen, "ben", "friend_request")["request"]["message"] == "hi"

        # accepting: the request's new status, the new conversation, the new friend
        await world.call("ben", "POST", f"friend-requests/{sent.json()['id']}/accept/")
        trio = ["friend_request", "conversation_created", "friend_added"]
        seen = await world.step({"ann": trio, "ben": trio})
        assert only(seen, "ann", "friend_added")["user"]["id"] == ben
        assert only(seen, "ben", "friend_added")["user"]["id"] == ann
        direct = only(seen, "ann", "friend_added")["conversation"]
        assert only(seen, "ben", "conversation_created")["conversation"]["id"] == direct

        # a remark is private: only ann's devices hear of it
        await world.call("ann", "PATCH", f"friends/{ben}/", {"remark": "Benny"})
        seen = await world.step({"ann": ["friend_updated"]})
        assert only(seen, "ann", "friend_updated")["user"]["remark"] == "Benny"

        # a group with friends: its first members are told and follow it at once
        created = await world.call("ann", "POST", "groups/", {"name": "Hikers", "members": [cat]})
        group = created.json()
        seen = await world.step({"ann": ["conversation_created"], "cat": ["conversation_created"]})
        assert only(seen, "cat", "conversation_created")["group"]["id"] == group["id"]

        # dan joins the public group: everyone in it hears, dan's socket follows it
        await world.call("dan", "POST", f"groups/{group['id']}/join/")
        seen = await world.step(
            {"ann": ["group_joined"], "cat": ["group_joined"], "dan": ["group_joined"]}
        )
        assert only(seen, "cat", "group_joined")["user"]["id"] == dan
        await world.call(
            "cat",
            "POST",
            f"conversations/{group['conversation']}/messages/",
            {"id": "m1", "conversation": group["conversation"], "kind": "text", "body": "hey"},
        )
        assert await world.messages_seen("hey") == {"ann": 2, "ben": 0, "cat": 1, "dan": 1}

        # the admin renames: every member's devices
        await world.call("ann", "PATCH", f"groups/{group['id']}/", {"name": "Walkers"})
        seen = await world.step(
            {"ann": ["group_updated"], "cat": ["group_updated"], "dan": ["group_updated"]}
        )
        assert only(seen, "dan", "group_updated")["group"]["name"] == "Walkers"

        # dan leaves: everyone hears, and dan's socket stops receiving the group at once
        await world.call("dan", "POST", f"groups/{group['id']}/leave/")
        seen = await world.step(
            {"ann": ["group_left"], "cat": ["group_left"], "dan": ["group_left"]}
        )
        assert only(seen, "ann", "group_left")["user"] == dan
        await world.call(
            "cat",
            "POST",
            f"conversations/{group['conversation']}/messages/",
            {"id": "m2", "conversation": group["conversation"], "kind": "text", "body": "bye"},
        )
        assert await world.messages_seen("bye") == {"ann": 2, "ben": 0, "cat": 1, "dan": 0}

        # a private group's invitation: only the invitee's devices
        private = await world.call("ann", "POST", "groups/", {"name": "Secret", "is_public": False})
        await world.step({"ann": ["conversation_created"]})
        await world.call("ann", "POST", f"groups/{private.json()['id']}/members/", {"user": ben})
        seen = await world.step({"ben": ["group_invitation"]})
        assert only(seen, "ben", "group_invitation")["invitation"]["group"]["name"] == "Secret"

        # dissolving: every member's devices, which stop following the group
        await world.call("ann", "DELETE", f"groups/{group['id']}/")
        await world.step({"ann": ["group_dissolved"], "cat": ["group_dissolved"]})

        # block: only the blocker's devices (the blocked person is never told)
        await world.call("ann", "POST", "blocks/", {"user": dan})
        await world.step({"ann": ["user_blocked"]})
        await world.call("ann", "DELETE", f"blocks/{dan}/")
        await world.step({"ann": ["user_unblocked"]})

        # deleting a friend: both sides, every device
        await world.call("ben", "DELETE", f"friends/{ann}/")
        seen = await world.step({"ann": ["friend_removed"], "ben": ["friend_removed"]})
        assert only(seen, "ann", "friend_removed") == {"user": ben}
    finally:
        await world.close()
