"""Hostile frames against a real daphne: errors from the contract or a clean close, never 1011.

The consumer fuzz (tests/chat/test_consumer_fuzz.py) runs in-process; here the same frames
go over real sockets, where daphne encodes every answer to UTF-8 (a lone surrogate echoed
back used to kill the socket with 1011) and autobahn checks the framing.
"""

from __future__ import annotations

import asyncio
import json
from itertools import count
from typing import Any

import pytest
import websockets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.frames import CONTRACT_ERRORS, SERVER_TYPES, frames
from tests.system.conftest import Site
from tests.system.wsclient import WS, auth_headers

probes = count()
WORLD: dict[str, Any] = {}


@pytest.fixture
def served(sqlite_site: Site) -> dict[str, Any]:
    world = sqlite_site.seed(users=["ann", "bob"], friends=[["ann", "bob"]])
    server = sqlite_site.daphne()
    WORLD.update(
        url=server.ws_url,
        token=world["users"]["ann"]["token"],
        conversation=world["direct"]["ann:bob"],
        site=sqlite_site,
    )
    return WORLD


async def answers_until_ack(ws: WS, probe: str) -> list[dict[str, Any]]:
    """Every frame up to the probe's ack; fails on a close or an answer off the contract."""
    seen = []
    while True:
        try:
            raw = await asyncio.wait_for(ws.conn.recv(), 10)
        except websockets.ConnectionClosed as exc:
            raise AssertionError(f"socket closed with {exc.rcvd}") from None
        frame = json.loads(raw)
        assert frame["type"] in SERVER_TYPES, frame
        if frame["type"] == "error":
            assert frame["code"] in CONTRACT_ERRORS - {"busy"}, frame
        seen.append(frame)
        if frame["type"] == "ack" and frame["id"] == probe:
            return seen


async def close_code(conn: Any) -> int:
    """Read until the server closes; the close code (1006 if it just dropped the TCP link)."""
    try:
        while True:
            await asyncio.wait_for(conn.recv(), 5)
    except websockets.ConnectionClosed as exc:
        return exc.rcvd.code if exc.rcvd else 1006


async def probe_send(ws: WS, conversation: int) -> list[dict[str, Any]]:
    probe = f"probe-{next(probes)}"
    await ws.send({"type": "send", "id": probe, "conversation": conversation, "body": "alive"})
    return await answers_until_ack(ws, probe)


@st.composite
def frame_lists(draw: Any) -> list[tuple[str, Any]]:
    strategy = frames(WORLD["conversation"], real_socket=True)
    return draw(st.lists(strategy, min_size=1, max_size=6))


@settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sent=frame_lists())
async def test_fuzzed_frames_over_a_real_socket_never_break_it(served, sent):
    ws = await WS.open(served["url"], served["token"])
    try:
        for _, payload in sent:
            await ws.send(payload)
        await probe_send(ws, served["conversation"])
    finally:
        await ws.close()


@pytest.mark.parametrize(
    "raw",
    [
        '{"type": "read", "id": "\\ud800", "conversation": 1, "seq": "x"}',
        '{"type": "send", "id": "w\\ud800", "conversation": CONV, "body": "x"}',
        '{"type": "send", "id": "n", "conversation": CONV, "body": "nul \\u0000"}',
        '{"type": "send", "id": "big", "conversation": 9223372036854775808, "body": "x"}',
        '{"type": "sync", "cursors": {"CONV": 9223372036854775808}}',
        "[" * 50_000 + "]" * 50_000,
    ],
)
async def test_the_old_crashers_get_an_error_and_the_socket_lives(served, raw):
    ws = await WS.open(served["url"], served["token"])
    try:
        await ws.send(raw.replace("CONV", str(served["conversation"])))
        error = await ws.expect("error")
        assert error["code"] in {"invalid_frame", "too_large", "not_found"}
        assert "retryable" not in error
        await probe_send(ws, served["conversation"])
    finally:
        await ws.close()
    assert "Exception inside application" not in served["site"].logs()


async def test_invalid_utf8_in_a_text_frame_is_a_clean_protocol_close(served):
    bystander = await WS.open(served["url"], served["token"])
    conn = await websockets.connect(served["url"], additional_headers=auth_headers(served["token"]))
    try:
        await conn.recv()  # hello
        await conn.send(b'{"type": "ping", "x": "\xff"}', text=True)
        code = await close_code(conn)
        assert code == 1007  # "invalid frame payload data" (chat/flow.py), never 1011
        await probe_send(bystander, served["conversation"])
    finally:
        await conn.close()
        await bystander.close()
