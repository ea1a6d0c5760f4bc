"""The push REST endpoints: config, subscribe (one row per endpoint), delete; bad input."""

import pytest
from knox.models import AuthToken
from rest_framework.test import APIClient

from push.models import PushSubscription
from tests.factories import UserFactory
from tests.push.push_service import Browser

pytestmark = pytest.mark.django_db
URL = "/api/v1/push/subscriptions/"


@pytest.fixture
def browser(vapid) -> Browser:
    return Browser(endpoint="http://127.0.0.1:9/push/device-1")


def test_config_gives_the_public_key(api_client, vapid):
    response = api_client.get("/api/v1/push/config/")
    assert response.status_code == 200
    assert response.json() == {"public_key": vapid, "preview": "text"}


def test_config_says_no_pushes_without_keys(api_client, settings):
    settings.WEBPUSH_VAPID_PUBLIC_KEY = settings.WEBPUSH_VAPID_PRIVATE_KEY = ""
    assert api_client.get("/api/v1/push/config/").json()["public_key"] is None


def test_push_endpoints_need_a_login(anon_client):
    assert anon_client.get("/api/v1/push/config/").status_code in (401, 403)
    assert anon_client.post(URL, {}, format="json").status_code in (401, 403)


def test_subscribing_twice_keeps_one_row(api_client, user, browser):
    first = api_client.post(URL, {**browser.subscription(), "language": "zh-hans"}, format="json")
    assert first.status_code == 201
    assert first.json()["endpoint"] == browser.endpoint
    again = api_client.post(URL, browser.subscription(), format="json")
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    stored = PushSubscription.objects.get()
    assert (stored.user, stored.language) == (user, "en")
    assert [s["id"] for s in api_client.get(URL).json()] == [stored.pk]


def test_the_same_browser_subscribing_for_another_user_moves_the_row(api_client, browser):
    api_client.post(URL, browser.subscription(), format="json")
    other = UserFactory(username="carol")
    client = APIClient()
    client.force_authenticate(other)
    assert client.post(URL, browser.subscription(), format="json").status_code == 200
    assert PushSubscription.objects.get().user == other
    assert api_client.get(URL).json() == []


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"endpoint": "ftp://127.0.0.1/x"}, "https"),
        ({"endpoint": "http://10.0.0.5/push/x"}, "https"),
        ({"endpoint": "https://evil.example.com/push/x"}, "known push service"),
        ({"endpoint": 42}, "URL"),
        ({"keys": None}, "keys"),
        ({"keys": {"p256dh": "AAAA", "auth": "AAAAAAAAAAAAAAAAAAAAAA"}}, "65 bytes"),
        ({"keys": {"p256dh": "not base64!"}}, "p256dh"),
    ],
)
def test_a_bad_subscription_is_refused_and_nothing_stored(api_client, browser, change, detail):
    body = {**browser.subscription(), **change}
    response = api_client.post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_frame"
    assert detail in response.json()["detail"]
    assert not PushSubscription.objects.exists()


def test_delete_by_endpoint_and_by_id(api_client, user, vapid):
    one, two = (Browser(endpoint=f"http://127.0.0.1:9/push/{n}") for n in ("a", "b"))
    api_client.post(URL, one.subscription(), format="json")
    second = api_client.post(URL, two.subscription(), format="json").json()
    assert api_client.delete(URL, {"endpoint": one.endpoint}, format="json").status_code == 204
    assert api_client.delete(f"{URL}{second['id']}/").status_code == 204
    assert not PushSubscription.objects.exists()
    again = api_client.delete(URL, {"endpoint": one.endpoint}, format="json")
    assert (again.status_code, again.json()["code"]) == (404, "not_found")


def test_nobody_deletes_someone_elses_subscription(api_client, browser):
    row = api_client.post(URL, browser.subscription(), format="json").json()
    other = APIClient()
    other.force_authenticate(UserFactory(username="mallory"))
    assert other.delete(URL, {"endpoint": browser.endpoint}, format="json").status_code == 404
    assert other.delete(f"{URL}{row['id']}/").status_code == 404
    assert PushSubscription.objects.count() == 1


def test_logging_out_deletes_the_sessions_subscription(client, user, browser):
    client.force_login(user)
    assert (
        client.post(URL, browser.subscription(), content_type="application/json").status_code == 201
    )
    assert PushSubscription.objects.get().session is not None
    client.post("/accounts/logout/")
    assert not PushSubscription.objects.exists()


def test_revoking_the_token_deletes_its_subscription(user, browser):
    _token, key = AuthToken.objects.create(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.post(URL, browser.subscription(), format="json").status_code == 201
    assert PushSubscription.objects.get().token is not None
    assert client.delete("/api/v1/auth/token/").status_code == 204
    assert not PushSubscription.objects.exists()


def test_the_schema_documents_the_push_endpoints(api_client):
    schema = api_client.get("/api/schema/?format=json").json()
    assert {"post", "delete", "get"} <= set(schema["paths"]["/api/v1/push/subscriptions/"])
    assert "get" in schema["paths"]["/api/v1/push/config/"]
