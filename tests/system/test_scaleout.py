"""Scale-out: two daphne processes sharing PostgreSQL and Redis deliver each other's frames."""

from __future__ import annotations

from typing import Any

from tests.system.conftest import Site
from tests.system.wsclient import WS


def send_frame(client_id: str, conversation: int, body: str) -> dict[str, Any]:
    return {
        "type": "send",
        "id": client_id,
        "conversation": conversation,
        "kind": "text",
        "body": body,
    }


def by_id(message_id: int):
    return lambda f: f["message"]["id"] == message_id


async def test_two_daphnes_deliver_each_others_direct_and_group_messages(scaleout_site: Site):
    site = scaleout_site
    world = site.seed(
        users=["amy", "bo", "cy"],
        friends=[["amy", "bo"]],
        groups=[{"name": "both", "owner": "amy", "members": ["bo", "cy"]}],
    )
    # One with the default single writer thread, one with two lanes of conversations.
    one, two = site.daphne(), site.daphne(CHAT_DB_WRITERS="2")
    tok = {name: u["token"] for name, u in world["users"].items()}
    direct, group = world["direct"]["amy:bo"], world["groups"]["both"]["conversation"]

    amy = await WS.open(one.ws_url, tok["amy"])
    bo = await WS.open(two.ws_url, tok["bo"])
    cy = await WS.open(two.ws_url, tok["cy"])
    amy_phone = await WS.open(two.ws_url, tok["amy"])
    sockets = [amy, bo, cy, amy_phone]
    try:
        ack = await amy.request(send_frame("d-1", direct, "from one"), "ack")
        for ws in (bo, amy_phone):
            got = await ws.expect("message", where=by_id(ack["message"]["id"]))
            assert got["message"] == ack["message"]

        ack = await bo.request(send_frame("d-2", direct, "from two"), "ack")
        got = await amy.expect("message", where=by_id(ack["message"]["id"]))
        assert (got["message"]["seq"], got["message"]["body"]) == (2, "from two")

        ack = await amy.request(send_frame("g-1", group, "to the group"), "ack")
        for ws in (bo, cy, amy_phone):
            await ws.expect("message", where=by_id(ack["message"]["id"]))
        ack = await cy.request(send_frame("g-2", group, "back"), "ack")
        got = await amy.expect("message", where=by_id(ack["message"]["id"]))
        assert got["message"]["seq"] == 2

        # Amy reads bo's message on her phone (process two): her laptop (one) and bo hear it.
        await amy_phone.send({"type": "read", "conversation": direct, "seq": 2})
        for ws in (amy, bo):
            read = await ws.expect("read")
            assert (read["user"], read["seq"]) == (world["users"]["amy"]["id"], 2)

        await amy.send({"type": "typing", "conversation": group})
        for ws in (bo, cy):
            typing = await ws.expect("typing")
            assert typing["user"] == world["users"]["amy"]["id"]
    finally:
        for ws in sockets:
            await ws.close()
    stored = site.dump([direct, group])["messages"]
    assert sorted((m["conversation"], m["seq"], m["client_id"]) for m in stored) == sorted(
        [(direct, 1, "d-1"), (direct, 2, "d-2"), (group, 1, "g-1"), (group, 2, "g-2")]
    )


async def test_presence_is_shared_between_daphnes(scaleout_site: Site):
    site = scaleout_site
    world = site.seed(users=["pia", "quin"], friends=[["pia", "quin"]])
    # One with the default single writer thread, one with two lanes of conversations.
    one, two = site.daphne(), site.daphne(CHAT_DB_WRITERS="2")
    quin_id = world["users"]["quin"]["id"]
    pia = await WS.open(one.ws_url, world["users"]["pia"]["token"])
    try:
        quin = await WS.open(two.ws_url, world["users"]["quin"]["token"])
        await pia.expect("presence", where=lambda f: f["user"] == quin_id and f["online"])
        # A second device on the other process: still one person online.
        quin_phone = await WS.open(one.ws_url, world["users"]["quin"]["token"])
        await quin.close()
        await pia.quiet(
            "presence", within=0.7, where=lambda f: f["user"] == quin_id and not f["online"]
        )
        await quin_phone.close()
        await pia.expect("presence", where=lambda f: f["user"] == quin_id and f["online"] is False)
    finally:
        await pia.close()
