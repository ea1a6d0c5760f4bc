"""Every REST error has the documented shape, and ids past the database's range are 404/400."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from chat.services.messages import conversation_mark_read, conversation_mute_set, message_send
from friends.services import friend_delete, friend_request_send, user_block, user_unblock
from groups.services import group_create, group_member_add, group_member_remove
from happychat.errors import NotFound
from happychat.validators import MAX_ID, require_id
from tests.chat.conftest import befriend

HUGE = 2**63


def api_routes() -> list[str]:
    """Every /api/v1/ route with an <id:…> parameter, as a regex-free template."""
    found: list[str] = []

    def walk(patterns, prefix: str) -> None:
        for entry in patterns:
            route = str(entry.pattern)
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + route)
            elif isinstance(entry, URLPattern) and "<id:" in prefix + route:
                found.append(prefix + route)

    walk(get_resolver().url_patterns, "/")
    return sorted({r for r in found if r.startswith("/api/v1/")})


ROUTES = api_routes()


def shaped(response) -> dict:
    body = response.json()
    assert isinstance(body.get("code"), str), body
    assert body["code"], body
    assert isinstance(body.get("detail"), str), body
    assert body["detail"], body
    return body


@pytest.fixture
def client(user) -> APIClient:
    c = APIClient()
    c.force_authenticate(user)
    return c


def test_there_are_routes_with_ids_to_check():
    assert len(ROUTES) >= 20
    assert "/api/v1/uploads/<id:upload_id>/file/" in ROUTES


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("value", [HUGE, 2**70, 0])
def test_ids_outside_the_database_range_in_paths_answer_404_in_the_shape(client, route, value):
    url = re.sub(r"<id:[a-z_]+>", str(value), route)
    for method in ("get", "post", "patch", "delete"):
        response = getattr(client, method)(url, {}, format="json")

        assert response.status_code == 404, (method, url, response.content)
        assert shaped(response)["code"] == "not_found"


def test_the_largest_id_is_simply_not_found(client):
    response = client.get(f"/api/v1/conversations/{MAX_ID}/")

    assert response.status_code == 404
    assert shaped(response)["code"] == "not_found"


@pytest.mark.parametrize(
    ("method", "url", "body", "field"),
    [
        ("post", "/api/v1/friend-requests/", {"to": HUGE}, "to"),
        ("post", "/api/v1/blocks/", {"user": HUGE}, "user"),
        ("post", "/api/v1/groups/", {"name": "g", "members": [HUGE]}, "members.0"),
    ],
)
def test_ids_outside_the_range_in_bodies_are_field_errors(client, method, url, body, field):
    response = getattr(client, method)(url, body, format="json")

    assert response.status_code == 400
    assert shaped(response)["code"] == "invalid"
    assert field in response.json()["errors"]


def test_conversation_bodies_and_queries_refuse_huge_numbers(user, other_user, client):
    conversation = befriend(user, other_user)
    base = f"/api/v1/conversations/{conversation.pk}"

    for response, field in [
        (client.post(f"{base}/read/", {"seq": HUGE}, format="json"), "seq"),
        (
            client.post(
                f"{base}/messages/",
                {"id": "x", "kind": "image", "attachment": HUGE},
                format="json",
            ),
            "attachment",
        ),
        (client.get(f"{base}/messages/?before={HUGE}"), "before"),
        (client.get(f"{base}/messages/?after={HUGE}"), "after"),
    ]:
        assert response.status_code == 400, response.content
        assert shaped(response)["code"] == "invalid"
        assert field in response.json()["errors"]


def test_group_member_and_transfer_bodies_refuse_huge_ids(user, other_user, client):
    befriend(user, other_user)
    group = group_create(owner=user, name="g", member_ids=[other_user.pk])

    for url in (f"/api/v1/groups/{group.pk}/members/", f"/api/v1/groups/{group.pk}/transfer/"):
        response = client.post(url, {"user": HUGE}, format="json")

        assert response.status_code == 400
        assert "user" in shaped(response)["errors"]


# --- services called with client ids (the socket, robot, scripts) ------------------------


def test_require_id_accepts_the_range_and_refuses_the_rest():
    assert require_id(1, detail="x") == 1
    assert require_id(MAX_ID, detail="x") == MAX_ID
    assert require_id("42", detail="x") == 42
    for bad in (0, -1, HUGE, 2**200, "9" * 30, "1e3", True, None, 1.0, [1]):
        with pytest.raises(NotFound):
            require_id(bad, detail="x")


def test_services_answer_not_found_for_ids_past_the_range(user, other_user):
    befriend(user, other_user)
    group = group_create(owner=user, name="g", member_ids=[other_user.pk])
    calls = [
        lambda: message_send(sender=user, conversation_id=HUGE, client_id="c", body="hi"),
        lambda: conversation_mark_read(user=user, conversation_id=HUGE, seq=1),
        lambda: conversation_mute_set(user=user, conversation_id=HUGE, muted=True),
        lambda: friend_request_send(from_user=user, to_user_id=HUGE),
        lambda: friend_delete(user=user, friend_id=HUGE),
        lambda: user_block(user=user, blocked_id=HUGE),
        lambda: user_unblock(user=user, blocked_id=HUGE),
        lambda: group_member_add(user=user, group_id=HUGE, invitee_id=other_user.pk),
        lambda: group_member_add(user=user, group_id=group.pk, invitee_id=HUGE),
        lambda: group_member_remove(user=user, group_id=group.pk, member_user_id=HUGE),
    ]
    for call in calls:
        with pytest.raises(NotFound):
            call()


def test_a_read_cursor_past_the_range_stays_at_the_end(user, other_user):
    conversation = befriend(user, other_user)
    message_send(sender=other_user, conversation_id=conversation.pk, client_id="a", body="x")

    member = conversation_mark_read(user=user, conversation_id=conversation.pk, seq=HUGE)

    assert member.last_read_seq == 1


def test_creating_a_group_with_huge_member_ids_is_not_found(user):
    with pytest.raises(NotFound):
        group_create(owner=user, name="g", member_ids=[HUGE])


# --- the shape of errors that do not come from a service ---------------------------------


def test_unauthenticated_is_401_in_the_shape(anon_client):
    response = anon_client.get("/api/v1/me/")

    assert response.status_code == 401
    assert shaped(response)["code"] == "unauthenticated"
    assert response["WWW-Authenticate"] == "Token"


def test_bad_token_is_401_in_the_shape(db):
    response = APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION="Token nope")

    assert response.status_code == 401
    assert shaped(response)["code"] == "unauthenticated"


def test_unknown_api_path_is_404_in_the_shape(client):
    for url in ("/api/v1/nothing-here/", "/api/v1/groups/abc/", "/api/v2/"):
        response = client.get(url)

        assert response.status_code == 404, url
        assert shaped(response)["code"] == "not_found"


def test_wrong_method_is_405_in_the_shape(client):
    response = client.put("/api/v1/conversations/", {}, format="json")

    assert response.status_code == 405
    assert shaped(response)["code"] == "method_not_allowed"


def test_malformed_json_is_400_in_the_shape(client):
    response = client.post(
        "/api/v1/friend-requests/", data=b'{"to": ', content_type="application/json"
    )

    assert response.status_code == 400
    assert shaped(response)["code"] == "invalid"


def test_unsupported_media_type_is_415_in_the_shape(client):
    response = client.post("/api/v1/uploads/", data=b"{}", content_type="application/json")

    assert response.status_code == 415
    assert shaped(response)["code"] == "unsupported_media_type"


def test_field_errors_have_the_errors_map(client):
    response = client.post("/api/v1/conversations/1/read/", {"seq": "x"}, format="json")

    assert response.status_code == 400
    body = shaped(response)
    assert body["code"] == "invalid"
    assert isinstance(body["errors"]["seq"], list)
    assert all(isinstance(m, str) for m in body["errors"]["seq"])


def test_too_large_body_is_413_in_the_shape(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100

    response = client.post(
        "/api/v1/friend-requests/",
        data=b'{"to": 1, "message": "' + b"x" * 500 + b'"}',
        content_type="application/json",
    )

    assert response.status_code == 413
    assert shaped(response)["code"] == "too_large"


def test_throttled_is_429_rate_limited_with_retry_after(db, anon_client, monkeypatch):
    from django.core.cache import cache
    from rest_framework.throttling import SimpleRateThrottle

    cache.clear()
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "register", "1/hour")
    try:
        responses = [
            anon_client.post("/api/v1/auth/register/", {"username": f"u{i}"}, format="json")
            for i in range(2)
        ]
    finally:
        cache.clear()

    assert responses[1].status_code == 429
    assert shaped(responses[1])["code"] == "rate_limited"
    assert int(responses[1]["Retry-After"]) > 0
