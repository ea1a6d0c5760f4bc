"""A small `websockets` client for /ws/chat/, as a script or an app would write one."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

Frame = dict[str, Any]


def auth_headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Token {token}"} if token else {}


class WS:
    """One socket; frames not yet asked for wait in `inbox`, in arrival order."""

    def __init__(self, conn: ClientConnection) -> None:
        self.conn = conn
        self.inbox: list[Frame] = []
        self.hello: Frame | None = None

    @classmethod
    async def open(
        cls, url: str, token: str | None = None, *, hello: bool = True, **kwargs: Any
    ) -> WS:
        """Connect with `Authorization: Token <token>` and, by default, wait for `hello`."""
        conn = await websockets.connect(
            url,
            additional_headers=auth_headers(token),
            open_timeout=10,
            max_size=2**22,
            **kwargs,
        )
        ws = cls(conn)
        if hello:
            ws.hello = await ws.expect("hello")
        return ws

    async def send(self, frame: Frame | str | bytes) -> None:
        await self.conn.send(frame if isinstance(frame, str | bytes) else json.dumps(frame))

    async def expect(
        self, kind: str, *, timeout: float = 5.0, where: Callable[[Frame], bool] | None = None
    ) -> Frame:
        """The first frame of type `kind` (satisfying `where`), waiting up to `timeout` s."""

        def fits(frame: Frame) -> bool:
            return frame.get("type") == kind and (where is None or where(frame))

        for i, frame in enumerate(self.inbox):
            if fits(frame):
                return self.inbox.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {kind!r} frame within {timeout}s; got {self.inbox}")
            try:
                raw = await asyncio.wait_for(self.conn.recv(), remaining)
            except TimeoutError:
                continue
            frame = json.loads(raw)
            if fits(frame):
                return frame
            self.inbox.append(frame)

    async def quiet(
        self, kind: str, *, within: float = 0.5, where: Callable[[Frame], bool] | None = None
    ) -> None:
        """Assert that no frame of type `kind` (satisfying `where`) arrives within `within` s."""
        try:
            frame = await self.expect(kind, timeout=within, where=where)
        except AssertionError:
            return
        raise AssertionError(f"unexpected {kind!r} frame: {frame}")

    async def request(self, frame: Frame, answer: str, *, timeout: float = 5.0) -> Frame:
        await self.send(frame)
        return await self.expect(answer, timeout=timeout)

    async def sync(
        self, cursors: dict[int, int], *, timeout: float = 10.0
    ) -> tuple[list[Frame], Frame]:
        """Send one `sync`; return the `message` frames it produced and the `synced` frame."""
        await self.send({"type": "sync", "cursors": {str(k): v for k, v in cursors.items()}})
        synced = await self.expect("synced", timeout=timeout)
        messages = [f for f in self.inbox if f.get("type") == "message"]
        self.inbox = [f for f in self.inbox if f.get("type") != "message"]
        return messages, synced

    async def closed(self, *, timeout: float = 5.0) -> int | None:
        """Wait until the server closes the socket; return the close code."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    self.inbox.append(json.loads(await self.conn.recv()))
        except websockets.ConnectionClosed as exc:
            return exc.rcvd.code if exc.rcvd else None
        except TimeoutError:
            raise AssertionError(f"socket still open after {timeout}s") from None

    async def close(self) -> None:
        await self.conn.close()


async def close_code_on_connect(url: str, token: str | None, **kwargs: Any) -> int | None:
    """Open a socket and return the code it is closed with (fail if it stays open)."""
    ws = await WS.open(url, token, hello=False, **kwargs)
    return await ws.closed()
