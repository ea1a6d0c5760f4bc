"""A well-behaved client for fault tests: it keeps sending, retries, reconnects and syncs.

It does what docs/protocol.md §2 asks of a client: retry a send with the same id until it is
acked, reconnect with exponential backoff and jitter (scaled down for tests), and `sync`
with its cursors after every (re)connect. What it saw is kept for the checks.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from typing import Any

import websockets

from tests.system.wsclient import auth_headers

RETRYABLE = {"busy", "rate_limited"}
ANSWER_TIMEOUT = 5.0


class Device:
    """One device of one user, sending its `plan` of (conversation, client id) in order."""

    def __init__(
        self,
        name: str,
        token: str,
        urls: list[str],
        conversations: list[int],
        plan: list[tuple[int, str]],
        pace: float = 0.01,
    ) -> None:
        self.name = name
        self.token = token
        self.urls = urls
        self.plan = plan
        self.pace = pace
        self.next = 0  # index in plan of the first message not acked yet
        self.acks: dict[str, dict[str, Any]] = {}
        self.transcript: dict[int, dict[int, dict[str, Any]]] = {c: {} for c in conversations}
        self.problems: list[str] = []
        self.connects = 0
        self.failures = 0
        self.duplicates = 0  # message frames for a seq already held (allowed, deduped)
        self.inflight = False  # plan[next] was sent and is not acked yet: it must be retried
        self._url = 0

    # --- what the device holds --------------------------------------------------------

    def cursor(self, conversation: int) -> int:
        """The highest seq up to which this device has every message (gap detection)."""
        held = self.transcript[conversation]
        seq = 0
        while seq + 1 in held:
            seq += 1
        return seq

    def record(self, message: dict[str, Any]) -> None:
        conv, seq = message["conversation"], message["seq"]
        if conv not in self.transcript:
            self.problems.append(f"{self.name}: message from foreign conversation {conv}")
            return
        held = self.transcript[conv].get(seq)
        if held is None:
            self.transcript[conv][seq] = message
        elif held["id"] != message["id"]:
            self.problems.append(f"{self.name}: seq {conv}:{seq} was {held['id']} now {message}")
        else:
            self.duplicates += 1

    # --- the protocol -----------------------------------------------------------------

    async def _frames(self, ws: Any, timeout: float = ANSWER_TIMEOUT) -> dict[str, Any]:
        frame = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if frame.get("type") == "message":
            self.record(frame["message"])
        return frame

    async def sync(self, ws: Any) -> None:
        """Sync until the server says nothing older is missing."""
        for _ in range(500):
            cursors = {str(c): self.cursor(c) for c in self.transcript}
            await ws.send(json.dumps({"type": "sync", "cursors": cursors}))
            while (frame := await self._frames(ws, timeout=15))["type"] != "synced":
                if frame["type"] == "error":
                    self.problems.append(f"{self.name}: sync error {frame}")
            behind = [
                c for c in self.transcript if self.cursor(c) < frame["cursors"].get(str(c), 0)
            ]
            if not frame["has_more"] and not behind:
                return
        self.problems.append(f"{self.name}: sync never completed")

    async def session(self, stop: asyncio.Event) -> None:
        """One connection: sync, then send until told to stop (finishing what is in flight)."""
        url = self.urls[self._url % len(self.urls)]
        async with websockets.connect(
            url, additional_headers=auth_headers(self.token), open_timeout=3, close_timeout=1
        ) as ws:
            while (await self._frames(ws))["type"] != "hello":
                pass
            self.connects += 1
            await self.sync(ws)
            while self.next < len(self.plan) and (self.inflight or not stop.is_set()):
                conv, client_id = self.plan[self.next]
                await ws.send(
                    json.dumps(
                        {
                            "type": "send",
                            "id": client_id,
                            "conversation": conv,
                            "kind": "text",
                            "body": f"body {client_id}",
                        }
                    )
                )
                self.inflight = True
                while True:
                    frame = await self._frames(ws)
                    if frame["type"] == "ack" and frame["id"] == client_id:
                        self.record(frame["message"])
                        self.acks[client_id] = frame["message"]
                        self.next += 1
                        self.inflight = False
                        break
                    if frame["type"] == "error" and frame.get("ref") == client_id:
                        if frame["code"] in RETRYABLE:
                            await asyncio.sleep(0.2)  # then the same id again
                        else:
                            self.problems.append(f"{self.name}: {client_id} refused: {frame}")
                            self.next += 1
                            self.inflight = False
                        break
                if self.pace:
                    await asyncio.sleep(self.pace)

    async def run(self, stop: asyncio.Event) -> None:
        """Send the plan across crashes: reconnect with backoff and jitter, then resume."""
        backoff = 0.1
        while self.next < len(self.plan) and (self.inflight or not stop.is_set()):
            try:
                await self.session(stop)
                backoff = 0.1
            except (OSError, TimeoutError, websockets.WebSocketException):
                self.failures += 1
                self._url += 1  # try the next server (only one on a single machine)
                await asyncio.sleep(backoff * random.uniform(0.5, 1.5))
                backoff = min(backoff * 2, 1.0)

    async def final_sync(self, deadline: float = 30.0) -> None:
        """Reconnect (servers are up again) and sync everything."""
        until = time.monotonic() + deadline
        while True:
            url = self.urls[self._url % len(self.urls)]
            try:
                async with websockets.connect(
                    url, additional_headers=auth_headers(self.token), open_timeout=3
                ) as ws:
                    while (await self._frames(ws))["type"] != "hello":
                        pass
                    await self.sync(ws)
                    return
            except (OSError, TimeoutError, websockets.WebSocketException):
                if time.monotonic() > until:
                    raise
                self._url += 1
                await asyncio.sleep(0.3)


def plan_for(name: str, conversations: list[int], count: int) -> list[tuple[int, str]]:
    """`count` sends spread round-robin over the conversations, with unique client ids."""
    return [(conversations[n % len(conversations)], f"{name}-{n}") for n in range(count)]
