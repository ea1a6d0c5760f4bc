"""Recall, edit and reactions reach a device that was offline through `sync` alone.

A real daphne on SQLite, real `websockets` clients. One of Bob's devices stays online while
Alice edits, recalls and reacts (and Bob reacts from that device); another is offline and
then reconnects with `sync` from its cursor. Both fold what they received by the rule of
docs/protocol.md §11 and must end with exactly the same messages, which must also be what
the server's history answers. A third device loads the folded history first and only then
replays older entries through `sync`: the entries must not revert anything.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.system.conftest import Site, base_env
from tests.system.wsclient import WS

CHANGE_KINDS = {"recall", "edit", "reaction"}
COMPARED = ("id", "seq", "body", "recalled", "edited", "reactions", "change_seq", "attachment")


class Device:
    """What a client keeps: messages by id, folded; the conversation cursor."""

    def __init__(self) -> None:
        self.messages: dict[int, dict[str, Any]] = {}
        self.held: dict[int, dict[str, Any]] = {}
        self.cursor = 0

    def take(self, message: dict[str, Any]) -> None:
        """Apply messages once, in seq order, holding any that arrive ahead of a gap."""
        if message["seq"] <= self.cursor:
            return
        self.held[message["seq"]] = message
        while self.cursor + 1 in self.held:
            ready = self.held.pop(self.cursor + 1)
            self.cursor = ready["seq"]
            if ready["kind"] in CHANGE_KINDS:
                self.fold(ready)
            else:
                self.messages[ready["id"]] = dict(ready)

    def learn(self, message: dict[str, Any]) -> None:
        held = self.messages.get(message["id"])
        if held is None or held["change_seq"] < message["change_seq"]:
            self.messages[message["id"]] = dict(message)

    def fold(self, entry: dict[str, Any]) -> None:
        target = self.messages.get(entry["target"])
        if target is None or entry["seq"] <= target["change_seq"]:
            return
        target["change_seq"] = entry["seq"]
        if entry["kind"] == "recall":
            target.update(recalled=True, body="", attachment=None, reactions=[])
        elif entry["kind"] == "edit":
            target.update(body=entry["body"], edited=True)
        else:
            emoji, on = entry["data"]["emoji"], entry["data"]["on"]
            who = entry["sender"]["id"]
            rows = [dict(r, users=[u for u in r["users"] if u != who]) for r in target["reactions"]]
            row = next((r for r in rows if r["emoji"] == emoji), None)
            if row is None and on:
                rows.append(row := {"emoji": emoji, "users": []})
            if row is not None and on:
                row["users"].append(who)
            target["reactions"] = [
                {"emoji": r["emoji"], "count": len(r["users"]), "users": r["users"]}
                for r in rows
                if r["users"]
            ]

    def state(self) -> dict[int, tuple]:
        return {mid: tuple(m[k] for k in COMPARED) for mid, m in sorted(self.messages.items())}


@pytest.fixture(scope="module")
def site(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    workdir = tmp_path_factory.mktemp("changes")
    db = workdir / "db.sqlite3"
    shutil.copyfile(sqlite_template, db)
    site = Site(base_env(workdir, DATABASE_URL=f"sqlite:///{db}"), workdir)
    site.daphne()
    yield site
    site.close()


async def drain_until(ws: WS, device: Device, seq: int) -> None:
    """Fold `message` frames (and acks of own changes) until the cursor reaches `seq`."""
    while device.cursor < seq:
        frame = await ws.expect("message", timeout=10)
        device.take(frame["message"])


async def change(ws: WS, device: Device | None, frame: dict[str, Any]) -> dict[str, Any]:
    await ws.send(frame)
    ack = await ws.expect("ack", where=lambda f: f["id"] == frame["id"], timeout=10)
    if device is not None and ack["message"] is not None:
        device.take(ack["message"])
    return ack


async def sync(ws: WS, device: Device, conversation: int) -> None:
    """Send `sync` from the device's cursor until the server has nothing more."""
    while True:
        await ws.send({"type": "sync", "cursors": {str(conversation): device.cursor}})
        synced = await ws.expect("synced", timeout=10)
        # The `message` frames the sync sent came before `synced`: they wait in the inbox.
        frames = [f for f in ws.inbox if f.get("type") == "message"]
        ws.inbox = [f for f in ws.inbox if f.get("type") != "message"]
        for frame in frames:
            device.take(frame["message"])
        if conversation not in synced["has_more"]:
            return


async def test_offline_device_catches_up_to_exactly_the_online_state(site: Site) -> None:
    world = site.seed(users=["al", "bo"], friends=[["al", "bo"]])
    conv = world["direct"]["al:bo"]
    url = site.daphnes[0].ws_url
    al_token, bo_token = world["users"]["al"]["token"], world["users"]["bo"]["token"]
    al = await WS.open(url, al_token)
    online, offline = Device(), Device()
    bo_online = await WS.open(url, bo_token)
    bo_offline = await WS.open(url, bo_token)
    try:
        ids = []
        for i in range(4):
            await al.send({"type": "send", "id": f"m{i}", "conversation": conv, "body": f"m{i}"})
            ids.append((await al.expect("ack", timeout=10))["message"]["id"])
        await drain_until(bo_online, online, 4)
        await drain_until(bo_offline, offline, 4)
        await bo_offline.close()

        # While the second device is away:
        await change(al, None, {"type": "edit", "id": "e1", "message": ids[0], "body": "m0 v2"})
        await change(al, None, {"type": "edit", "id": "e2", "message": ids[0], "body": "m0 v3"})
        await change(al, None, {"type": "recall", "id": "r1", "message": ids[1]})
        await change(
            bo_online, online, {"type": "react", "id": "x1", "message": ids[2], "emoji": "👍"}
        )
        await change(al, None, {"type": "react", "id": "x2", "message": ids[2], "emoji": "👍"})
        await change(al, None, {"type": "react", "id": "x3", "message": ids[3], "emoji": "❤️"})
        await change(al, None, {"type": "react", "id": "x4", "message": ids[3], "emoji": "❤️"})
        await change(al, None, {"type": "recall", "id": "r2", "message": ids[1]})  # no-op
        await al.send(
            {"type": "send", "id": "m4", "conversation": conv, "body": "re", "reply_to": ids[0]}
        )
        top = (await al.expect("ack", timeout=10))["message"]["seq"]
        await drain_until(bo_online, online, top)

        bo_back = await WS.open(url, bo_token)
        try:
            await sync(bo_back, offline, conv)
        finally:
            await bo_back.close()
        assert offline.cursor == online.cursor == top
        assert offline.state() == online.state()

        folded = online.messages
        assert folded[ids[0]]["body"] == "m0 v3"
        assert folded[ids[0]]["edited"] is True
        assert folded[ids[1]]["recalled"] is True
        assert folded[ids[1]]["body"] == ""
        assert [(r["emoji"], r["count"]) for r in folded[ids[2]]["reactions"]] == [("👍", 2)]
        assert folded[ids[3]]["reactions"] == []

        # The server's history answers the same folded messages.
        headers = {"Authorization": f"Token {bo_token}"}
        async with httpx.AsyncClient(base_url=site.daphnes[0].url, headers=headers) as http:
            page = (await http.get(f"/api/v1/conversations/{conv}/messages/")).json()
            listing = (await http.get("/api/v1/conversations/")).json()
        history = Device()
        for m in page["results"]:
            history.messages[m["id"]] = m
        assert history.state() == online.state()
        row = next(c for c in listing if c["id"] == conv)
        assert row["last_message"]["body"] == "re"
        assert row["last_seq"] == top

        # A device that loads folded history first, then replays the older entries.
        late = Device()
        for m in page["results"]:
            late.learn(m)
        late.cursor = 4
        bo_late = await WS.open(url, bo_token)
        try:
            await sync(bo_late, late, conv)
        finally:
            await bo_late.close()
        assert late.state() == online.state()
    finally:
        await al.close()
        await bo_online.close()
