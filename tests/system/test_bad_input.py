"""Text no database can store (NUL, lone surrogates) and ids past 2**63 are refused as the
client's mistake — never `busy`, never 500 — on SQLite and on PostgreSQL, over REST and the
socket, and the socket keeps working afterwards."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.system.conftest import Site
from tests.system.wsclient import WS

BAD_TEXTS = ["nul\x00inside", "lone \ud800 surrogate", "\udfff"]
HUGE = 2**63


@pytest.fixture(params=["sqlite", "postgresql"])
def site(request) -> Site:
    return request.getfixturevalue("sqlite_site" if request.param == "sqlite" else "scaleout_site")


def post(client: httpx.Client, url: str, body: dict, method: str = "POST") -> httpx.Response:
    # json.dumps escapes a lone surrogate as \\ud800, exactly what a hostile client sends.
    return client.request(
        method, url, content=json.dumps(body), headers={"Content-Type": "application/json"}
    )


def assert_refused(response: httpx.Response, status: int = 400) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] not in ("busy", "server_error"), body
    assert "retryable" not in body
    assert isinstance(body["detail"], str)
    return body


async def test_bad_text_and_huge_ids_are_refused_everywhere(site: Site):
    world = site.seed(
        users=["ann", "ben"],
        friends=[["ann", "ben"]],
        groups=[{"name": "g", "owner": "ann", "members": ["ben"]}],
    )
    server = site.daphne()
    token = world["users"]["ann"]["token"]
    ben_id = world["users"]["ben"]["id"]
    direct, group_id = world["direct"]["ann:ben"], world["groups"]["g"]["id"]
    headers = {"Authorization": f"Token {token}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=10) as api:
        for i, text in enumerate(BAD_TEXTS):
            assert_refused(
                post(
                    api, f"/api/v1/conversations/{direct}/messages/", {"id": f"r{i}", "body": text}
                )
            )
            assert_refused(
                post(api, f"/api/v1/conversations/{direct}/messages/", {"id": text, "body": "x"})
            )
            assert_refused(post(api, f"/api/v1/friends/{ben_id}/", {"remark": text}, "PATCH"))
            assert_refused(post(api, f"/api/v1/groups/{group_id}/", {"name": text}, "PATCH"))
            assert_refused(post(api, "/api/v1/me/", {"nickname": text}, "PATCH"))
            assert_refused(post(api, "/api/v1/groups/", {"name": text}))
        # A URL cannot carry a lone surrogate (Django decodes bytes with replacement), but NUL:
        assert_refused(api.get("/api/v1/users/?search=a%00b"))
        assert_refused(api.get("/api/v1/groups/?search=a%00b"))
        assert_refused(
            post(api, "/api/v1/auth/token/", {"username": "ann\x00", "password": "x\ud800"})
        )
        assert_refused(post(api, f"/api/v1/conversations/{HUGE}/messages/", {"id": "h"}), 404)
        assert_refused(post(api, "/api/v1/friend-requests/", {"to": HUGE}))
        ok = post(api, f"/api/v1/conversations/{direct}/messages/", {"id": "fine", "body": "ok"})
        assert ok.status_code == 201, ok.text

    ws = await WS.open(server.ws_url, token)
    try:
        for i, text in enumerate(BAD_TEXTS):
            frame = {"type": "send", "id": f"s{i}", "conversation": direct, "body": text}
            error = await ws.request(frame, "error")
            assert error["code"] == "invalid_frame", error
            assert not error.get("retryable")
        error = await ws.request(
            {"type": "send", "id": "big", "conversation": HUGE, "body": "x"}, "error"
        )
        assert error["code"] in ("not_found", "invalid_frame"), error
        assert not error.get("retryable")
        ack = await ws.request(
            {"type": "send", "id": "after", "conversation": direct, "body": "still here"}, "ack"
        )
        assert ack["message"]["body"] == "still here"
    finally:
        await ws.close()
    stored = site.dump([direct])["messages"]
    assert sorted(m["client_id"] for m in stored) == ["after", "fine"]
    assert "Traceback" not in site.logs()
