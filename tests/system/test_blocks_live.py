"""Two real users on a real daphne: a block (over REST) hides presence and typing both ways,
on the sockets open at the time and on new ones; unblocking shows them again."""

from __future__ import annotations

import httpx

from tests.system.conftest import Site
from tests.system.wsclient import WS


def is_user(uid: int):
    return lambda f: f["user"] == uid


def presence_of(uid: int, online: bool):
    # A peer's "online" may arrive twice around a connect (the snapshot and the broadcast
    # race): wait for the state itself, not merely the next presence frame.
    return lambda f: f["user"] == uid and f["online"] is online


async def test_a_block_hides_presence_and_typing_both_ways(sqlite_site: Site):
    world = sqlite_site.seed(users=["ann", "ben"], friends=[["ann", "ben"]])
    server = sqlite_site.daphne()
    ann_id, ben_id = world["users"]["ann"]["id"], world["users"]["ben"]["id"]
    ann_tok, ben_tok = world["users"]["ann"]["token"], world["users"]["ben"]["token"]
    direct = world["direct"]["ann:ben"]
    typing = {"type": "typing", "conversation": direct}
    api = httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Token {ann_tok}"}, timeout=10
    )
    ann = await WS.open(server.ws_url, ann_tok)
    ben = await WS.open(server.ws_url, ben_tok)
    try:
        await ann.expect("presence", where=lambda f: f["user"] == ben_id and f["online"])
        await ben.expect("presence", where=lambda f: f["user"] == ann_id and f["online"])
        # Before: typing reaches the other side.
        await ben.send(typing)
        await ann.expect("typing", where=is_user(ben_id))

        assert (await api.post("/api/v1/blocks/", json={"user": ben_id})).status_code in (200, 201)
        await ben.expect("presence", where=presence_of(ann_id, False))
        await ann.expect("presence", where=presence_of(ben_id, False))
        # From here on only what came after the block counts.
        ann.inbox.clear()
        ben.inbox.clear()
        await ann.send(typing)
        await ben.quiet("typing", within=1.0)
        await ben.send({"type": "typing", "conversation": direct})
        await ann.quiet("typing", within=1.0)
        # Ann's other device comes and goes: ben sees nothing; it sees nothing of ben.
        phone = await WS.open(server.ws_url, ann_tok)
        await phone.quiet("presence", within=0.7)
        await phone.close()
        await ben.quiet("presence", within=0.7)

        assert (await api.delete(f"/api/v1/blocks/{ben_id}/")).status_code == 204
        await ann.expect("presence", where=presence_of(ben_id, True))
        await ben.expect("presence", where=presence_of(ann_id, True))
        await ben.send({"type": "ping"})  # the typing throttle (2 s) has passed by now
        await ben.send(typing)
        await ann.expect("typing", where=is_user(ben_id), timeout=5)
    finally:
        await api.aclose()
        await ann.close()
        await ben.close()
