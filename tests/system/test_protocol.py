"""docs/protocol.md §2 end to end: real `websockets` clients against one real daphne on SQLite.

Every client frame type, every error code the socket can give without other
subsystems, and the delivery guarantees that one server can show.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.system.conftest import Site, base_env
from tests.system.wsclient import WS, close_code_on_connect

MESSAGE_FIELDS = {
    "id",
    "conversation",
    "seq",
    "sender",
    "kind",
    "body",
    "attachment",
    "client_id",
    "created_at",
}
USER_FIELDS = {"id", "username", "nickname", "avatar"}

PEOPLE = [
    "ann",
    "ben",
    "cat",
    "dan",
    "eve",
    "gus",
    "rd1",
    "rd2",
    "sy1",
    "sy2",
    "lg1",
    "lg2",
    "pr1",
    "pr2",
    "re1",
    "re2",
    "hb1",
]


@pytest.fixture(scope="module")
def site(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    workdir = tmp_path_factory.mktemp("protocol")
    db = workdir / "db.sqlite3"
    shutil.copyfile(sqlite_template, db)
    site = Site(base_env(workdir, DATABASE_URL=f"sqlite:///{db}"), workdir)
    site.daphne()
    yield site
    site.close()


@pytest.fixture(scope="module")
def world(site: Site) -> dict[str, Any]:
    return site.seed(
        users=PEOPLE,
        friends=[
            ["ann", "ben"],
            ["ann", "cat"],
            ["ben", "cat"],
            ["rd1", "rd2"],
            ["sy1", "sy2"],
            ["lg1", "lg2"],
            ["pr1", "pr2"],
            ["re1", "re2"],
        ],
        exfriends=[["ann", "eve"]],
        groups=[{"name": "trio", "owner": "ann", "members": ["ben", "cat"], "former": ["gus"]}],
    )


@pytest.fixture
def url(site: Site) -> str:
    return site.daphnes[0].ws_url


def token(world: dict[str, Any], name: str) -> str:
    return world["users"][name]["token"]


def uid(world: dict[str, Any], name: str) -> int:
    return world["users"][name]["id"]


async def connect(url: str, world: dict[str, Any], name: str) -> WS:
    return await WS.open(url, token(world, name))


def send_frame(client_id: str, conversation: int, body: str = "hi", **extra: Any) -> dict:
    return {
        "type": "send",
        "id": client_id,
        "conversation": conversation,
        "kind": "text",
        "body": body,
        **extra,
    }


# --- authentication -------------------------------------------------------------------


async def test_header_token_gets_hello_with_user_heartbeat_and_server_time(url, world):
    ws = await connect(url, world, "ann")
    try:
        hello = ws.hello
        assert hello is not None
        assert hello["user"]["id"] == uid(world, "ann")
        assert set(hello["user"]) >= USER_FIELDS
        assert hello["heartbeat"] == 25
        assert hello["server_time"].startswith("20")
    finally:
        await ws.close()


async def test_ping_gets_pong_with_server_time(url, world):
    ws = await connect(url, world, "ann")
    try:
        pong = await ws.request({"type": "ping"}, "pong")
        assert "server_time" in pong
    finally:
        await ws.close()


async def test_first_frame_auth_gets_hello_and_nothing_works_before_it(url, world):
    ws = await WS.open(url, None, hello=False)
    try:
        error = await ws.request(send_frame("pre-auth", 1), "error")
        assert error["code"] == "unauthenticated"
        hello = await ws.request({"type": "auth", "token": token(world, "ben")}, "hello")
        assert hello["user"]["id"] == uid(world, "ben")
        await ws.request({"type": "ping"}, "pong")
    finally:
        await ws.close()


async def test_bad_header_token_is_closed_with_4001(url):
    assert await close_code_on_connect(url, "not-a-real-token") == 4001


async def test_bad_first_frame_token_is_closed_with_4001(url):
    ws = await WS.open(url, None, hello=False)
    await ws.send({"type": "auth", "token": "wrong"})
    assert await ws.closed() == 4001


async def test_token_in_the_query_string_is_not_accepted(url, world):
    ws = await WS.open(f"{url}?token={token(world, 'ann')}", None, hello=False)
    try:
        await ws.quiet("hello", within=0.5)
        error = await ws.request({"type": "typing", "conversation": 1}, "error")
        assert error["code"] == "unauthenticated"
    finally:
        await ws.close()


# --- send, ack, delivery, idempotency ---------------------------------------------------


async def test_send_is_acked_and_delivered_to_peer_and_to_senders_other_device(url, world, site):
    conv = world["direct"]["ann:ben"]
    ann1, ann2, ben = [await connect(url, world, n) for n in ("ann", "ann", "ben")]
    try:
        ack = await ann1.request(send_frame("ab-1", conv, "你好 👋 <b>x</b>"), "ack")
        message = ack["message"]
        assert ack["id"] == "ab-1"
        assert set(message) >= MESSAGE_FIELDS
        assert message["conversation"] == conv
        assert message["sender"]["id"] == uid(world, "ann")
        assert message["body"] == "你好 👋 <b>x</b>"
        assert message["kind"] == "text"
        assert message["attachment"] is None
        assert message["client_id"] == "ab-1"
        for device in (ben, ann2):
            got = await device.expect(
                "message", where=lambda f: f["message"]["id"] == message["id"]
            )
            assert got["message"] == message
        # The sending socket has its ack; it does not get the message a second time.
        await ann1.quiet("message", within=0.5)
        stored = site.dump([conv])["messages"]
        assert [(m["client_id"], m["seq"]) for m in stored] == [("ab-1", message["seq"])]
    finally:
        for ws in (ann1, ann2, ben):
            await ws.close()


async def test_retried_send_returns_the_same_ack_and_is_stored_and_delivered_once(url, world, site):
    conv = world["direct"]["ann:cat"]
    ann, cat = await connect(url, world, "ann"), await connect(url, world, "cat")
    try:
        first = await ann.request(send_frame("retry-1", conv, "once"), "ack")
        await cat.expect("message", where=lambda f: f["message"]["client_id"] == "retry-1")
        # The ack was "lost": the client retries on a new socket with the same id.
        await ann.close()
        ann = await connect(url, world, "ann")
        again = await ann.request(send_frame("retry-1", conv, "once"), "ack")
        assert again == first
        await cat.quiet("message", within=0.7)
        stored = [m for m in site.dump([conv])["messages"] if m["client_id"] == "retry-1"]
        assert len(stored) == 1
        assert stored[0]["id"] == first["message"]["id"]
    finally:
        await ann.close()
        await cat.close()


async def test_seq_runs_one_by_one_in_each_conversation(url, world, site):
    conv = world["direct"]["re1:re2"]
    ws = await connect(url, world, "re1")
    try:
        for n in range(10):
            await ws.send(send_frame(f"seq-{n}", conv, f"m{n}"))
        acks = [
            await ws.expect("ack", where=lambda f, n=n: f["id"] == f"seq-{n}") for n in range(10)
        ]
        assert [a["message"]["seq"] for a in acks] == list(range(1, 11))
        assert [m["seq"] for m in site.dump([conv])["messages"]] == list(range(1, 11))
    finally:
        await ws.close()


# --- sync -------------------------------------------------------------------------------


async def test_sync_returns_exactly_the_missing_messages_then_synced(url, world):
    conv = world["direct"]["sy1:sy2"]
    sender = await connect(url, world, "sy1")
    try:
        for n in range(5):
            await sender.request(send_frame(f"sync-{n}", conv, f"s{n}"), "ack")
    finally:
        await sender.close()
    # sy2 was offline the whole time.
    ws = await connect(url, world, "sy2")
    try:
        messages, synced = await ws.sync({conv: 0})
        assert [m["message"]["seq"] for m in messages] == [1, 2, 3, 4, 5]
        assert [m["message"]["body"] for m in messages] == [f"s{n}" for n in range(5)]
        assert synced["cursors"][str(conv)] == 5
        assert str(conv) not in {str(c) for c in synced["has_more"]}

        messages, synced = await ws.sync({conv: 3})
        assert [m["message"]["seq"] for m in messages] == [4, 5]

        messages, synced = await ws.sync({conv: 5})
        assert messages == []
        assert synced["cursors"][str(conv)] == 5
    finally:
        await ws.close()


async def test_sync_of_a_long_gap_pages_with_has_more_until_complete(url, world, site):
    conv = world["direct"]["lg1:lg2"]
    total = 130
    done = site.race(conversation=conv, senders=["lg1"], per_sender=total, threads_per_sender=1)
    assert done["errors"] == []
    ws = await connect(url, world, "lg2")
    try:
        # A conversation left out of the cursors: the newest page, and has_more says so.
        messages, synced = await ws.sync({})
        newest = [m["message"]["seq"] for m in messages if m["message"]["conversation"] == conv]
        assert newest == list(range(total - 49, total + 1))
        assert str(conv) in {str(c) for c in synced["has_more"]}

        # With a cursor: page forward until has_more no longer names the conversation.
        seen: list[int] = []
        cursor = 0
        for _ in range(10):
            messages, synced = await ws.sync({conv: cursor})
            seen += [m["message"]["seq"] for m in messages]
            # synced.cursors is the server's newest seq; the client resumes from what it got.
            assert synced["cursors"][str(conv)] == total
            cursor = seen[-1]
            if str(conv) not in {str(c) for c in synced["has_more"]}:
                break
        assert seen == list(range(1, total + 1))
    finally:
        await ws.close()


# --- read, typing, presence -------------------------------------------------------------


async def test_read_goes_to_the_other_member_and_the_readers_other_device(url, world):
    conv = world["direct"]["rd1:rd2"]
    rd1 = await connect(url, world, "rd1")
    for n in range(3):
        await rd1.request(send_frame(f"read-{n}", conv, f"r{n}"), "ack")
    reader, reader2 = await connect(url, world, "rd2"), await connect(url, world, "rd2")
    headers = {"Authorization": f"Token {token(world, 'rd2')}"}
    base = url.replace("ws://", "http://").removesuffix("/ws/chat/")
    try:
        await reader.send({"type": "read", "conversation": conv, "seq": 2})
        for ws in (rd1, reader2):
            read = await ws.expect("read")
            assert read == {
                "type": "read",
                "conversation": conv,
                "user": uid(world, "rd2"),
                "seq": 2,
            }
        async with httpx.AsyncClient(base_url=base, headers=headers) as http:
            listing = (await http.get("/api/v1/conversations/")).json()
        rows = listing["results"] if isinstance(listing, dict) else listing
        row = next(c for c in rows if c["id"] == conv)
        assert (row["last_read_seq"], row["unread"]) == (2, 1)
    finally:
        for ws in (rd1, reader, reader2):
            await ws.close()


async def test_typing_reaches_the_other_members_online_and_is_not_stored(url, world, site):
    conv = world["groups"]["trio"]["conversation"]
    before = len(site.dump([conv])["messages"])
    ann, ben, cat = [await connect(url, world, n) for n in ("ann", "ben", "cat")]
    try:
        await ann.send({"type": "typing", "conversation": conv})
        for ws in (ben, cat):
            typing = await ws.expect("typing")
            assert typing == {"type": "typing", "conversation": conv, "user": uid(world, "ann")}
        await ann.quiet("typing", within=0.3)
        assert len(site.dump([conv])["messages"]) == before
    finally:
        for ws in (ann, ben, cat):
            await ws.close()


async def test_presence_is_counted_across_devices(url, world):
    pr2 = uid(world, "pr2")

    def about_pr2(online: bool):
        return lambda f: f["user"] == pr2 and f["online"] is online

    watcher = await connect(url, world, "pr1")
    try:
        phone = await connect(url, world, "pr2")
        await watcher.expect("presence", where=about_pr2(True))
        # The newcomer learns who of its friends is online already.
        await phone.expect(
            "presence", where=lambda f: f["user"] == uid(world, "pr1") and f["online"] is True
        )
        laptop = await connect(url, world, "pr2")
        await laptop.close()
        await watcher.quiet("presence", within=0.7, where=about_pr2(False))
        await phone.close()
        await watcher.expect("presence", where=about_pr2(False))
    finally:
        await watcher.close()


# --- errors -----------------------------------------------------------------------------


async def test_every_bad_frame_gets_its_error_code_and_the_socket_stays_open(url, world, site):
    trio = world["groups"]["trio"]["conversation"]
    before = site.dump()["messages"]
    gus, ann, dan = [await connect(url, world, n) for n in ("gus", "ann", "dan")]
    cases: list[tuple[WS, Any, str, str | None]] = [
        (ann, "not json", "invalid_frame", None),
        (ann, "[1, 2]", "invalid_frame", None),
        (ann, {"no": "type"}, "invalid_frame", None),
        (ann, {"type": "dance"}, "unknown_type", None),
        (
            ann,
            {"type": "send", "id": "noconv", "body": "no conversation"},
            "invalid_frame",
            "noconv",
        ),
        (ann, {"type": "send", "conversation": trio, "body": "no id"}, "invalid_frame", None),
        (ann, send_frame("y" * 65, trio), "invalid_frame", "y" * 65),
        (ann, send_frame("blank", trio, "   "), "invalid_frame", "blank"),
        (ann, send_frame("huge", trio, "z" * 70_000), "too_large", None),
        (ann, send_frame("nowhere", 999_999), "not_found", "nowhere"),
        (dan, send_frame("stranger", trio), "not_found", "stranger"),
        (gus, send_frame("left", trio), "not_member", "left"),
        (ann, send_frame("ex", world["direct"]["ann:eve"]), "not_friends", "ex"),
        (
            ann,
            send_frame("img", trio, "", kind="image", attachment=987_654),
            "invalid_attachment",
            "img",
        ),
        (ann, {"type": "sync", "cursors": [1, 2]}, "invalid_frame", None),
        (ann, {"type": "read", "conversation": trio}, "invalid_frame", None),
        (dan, {"type": "read", "conversation": trio, "seq": 1}, "not_found", None),
        (ann, {"type": "typing"}, "invalid_frame", None),
    ]
    try:
        for ws, frame, code, ref in cases:
            error = await ws.request(frame, "error")
            assert (error["code"], error.get("ref")) == (code, ref), (frame, error)
            assert error["detail"]
        for ws in (gus, ann, dan):
            await ws.request({"type": "ping"}, "pong")
        assert site.dump()["messages"] == before
    finally:
        for ws in (gus, ann, dan):
            await ws.close()


async def test_a_socket_that_keeps_sending_garbage_is_closed_with_4029(url, world):
    ws = await connect(url, world, "hb1")
    for _ in range(40):
        try:
            await ws.send("garbage")
        except Exception:  # closed mid-flood, which is the point
            break
    assert await ws.closed() == 4029


# --- REST send ---------------------------------------------------------------------------


async def test_rest_send_has_the_socket_guarantees(url, world, site):
    conv = world["direct"]["ben:cat"]
    base = url.replace("ws://", "http://").removesuffix("/ws/chat/")
    headers = {"Authorization": f"Token {token(world, 'ben')}"}
    cat = await connect(url, world, "cat")
    try:
        body = {"id": "rest-1", "kind": "text", "body": "over http"}
        async with httpx.AsyncClient(base_url=base, headers=headers) as http:
            first = await http.post(f"/api/v1/conversations/{conv}/messages/", json=body)
            again = await http.post(f"/api/v1/conversations/{conv}/messages/", json=body)
            page = (await http.get(f"/api/v1/conversations/{conv}/messages/?after=0")).json()
        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json() == first.json()
        pushed = await cat.expect("message")
        assert pushed["message"] == first.json()
        await cat.quiet("message", within=0.5)
        assert [m["client_id"] for m in page["results"]] == ["rest-1"]
        assert page["has_more"] is False
        assert [m["client_id"] for m in site.dump([conv])["messages"]] == ["rest-1"]
    finally:
        await cat.close()


# --- silence ------------------------------------------------------------------------------


async def test_silent_sockets_are_closed_and_pinging_ones_kept(site, world):
    # A second daphne on the same database with a 1 s heartbeat: idle limit 2.5 s.
    quick = site.daphne(CHAT_HEARTBEAT_SECONDS="1")
    url = quick.ws_url

    async def never_authenticates() -> int | None:
        ws = await WS.open(url, None, hello=False)
        return await ws.closed(timeout=13)

    async def silent() -> float:
        ws = await connect(url, world, "dan")
        assert ws.hello is not None
        assert ws.hello["heartbeat"] == 1
        started = asyncio.get_running_loop().time()
        assert await ws.closed(timeout=6) == 4008
        return asyncio.get_running_loop().time() - started

    async def pinging() -> None:
        ws = await connect(url, world, "eve")
        for _ in range(8):
            await asyncio.sleep(0.5)
            await ws.request({"type": "ping"}, "pong")
        await ws.close()

    try:
        unauth_code, idle_after, _ = await asyncio.gather(
            never_authenticates(), silent(), pinging()
        )
    finally:
        quick.stop()
    assert unauth_code == 4001
    assert 2.0 <= idle_after <= 4.5
