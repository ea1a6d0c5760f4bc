"""A daphne application that writes text frames through chat/flow.py's short write path,
as the chat consumer does, so tests can check the frames themselves: sizes at every
header length, order, and backpressure (tests/system/test_frames.py).

Commands, one JSON text frame each:
- `{"sizes": [n, ...], "char": "x"}`: one frame per size, of n copies of `char` (waiting
  for the socket to drain whenever Twisted paused it), then
  `{"done": k}` where k counts the frames the short path wrote (not daphne's).
- `{"flood": n, "size": s}`: n numbered frames of about s bytes, waiting for the socket to
  drain whenever Twisted paused it (as a sync page does), then `{"flooded": n}`.
- `{"stats": true}`: `{"pauses": p, "max_buffered": b}` over all sockets so far.
"""

from __future__ import annotations

import json
from typing import Any

from chat import flow

flow.install()  # daphne.server is loaded before the application

STATS = {"pauses": 0, "max_buffered": 0}


def _count_pauses() -> None:
    pause = flow.Flow.pauseProducing

    def counted(self: flow.Flow) -> None:
        STATS["pauses"] += 1
        pause(self)

    flow.Flow.pauseProducing = counted  # type: ignore[method-assign]


_count_pauses()


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    assert scope["type"] == "websocket"
    socket_flow: flow.Flow = scope["extensions"]["happychat.flow"]

    async def send_text(text: str) -> bool:
        if socket_flow.send_text(text):
            STATS["max_buffered"] = max(STATS["max_buffered"], socket_flow.buffered())
            return True
        await send({"type": "websocket.send", "text": text})
        return False

    while True:
        event = await receive()
        if event["type"] == "websocket.connect":
            await send({"type": "websocket.accept"})
        elif event["type"] == "websocket.disconnect":
            return
        elif event["type"] == "websocket.receive":
            command = json.loads(event["text"])
            if "sizes" in command:
                direct = 0
                for size in command["sizes"]:
                    await socket_flow.drained()
                    direct += await send_text(command.get("char", "x") * size)
                await send_text(json.dumps({"done": direct}))
            elif "flood" in command:
                pad = "y" * command["size"]
                for n in range(command["flood"]):
                    await socket_flow.drained()
                    await send_text(f"{n:08d}{pad}")
                await send_text(json.dumps({"flooded": command["flood"]}))
            elif "stats" in command:
                await send_text(json.dumps(STATS))
