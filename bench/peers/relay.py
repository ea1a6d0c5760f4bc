"""The bare `websockets` relay: every path is a room; a frame is acked to its sender and
forwarded to the room's other sockets. It stores nothing: the ceiling of this machine.

    python -m bench.peers.relay PORT
"""

from __future__ import annotations

import asyncio
import json
import sys


async def serve(port: int) -> None:
    import websockets
    from websockets.asyncio.server import ServerConnection, broadcast

    rooms: dict[str, set[ServerConnection]] = {}

    async def handler(ws: ServerConnection) -> None:
        room = rooms.setdefault(ws.request.path, set())
        room.add(ws)
        try:
            async for raw in ws:
                frame = json.loads(raw)
                message = {
                    "id": frame["id"],
                    "conversation": frame["conversation"],
                    "body": frame["body"],
                }
                await ws.send(json.dumps({"type": "ack", "id": frame["id"], "message": message}))
                broadcast(room - {ws}, json.dumps({"type": "message", "message": message}))
        finally:
            room.discard(ws)

    async with websockets.serve(handler, "127.0.0.1", port, compression=None, max_queue=None):
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
