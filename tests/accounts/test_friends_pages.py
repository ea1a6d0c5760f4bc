"""The /friends/ page: search, request, accept, remark, delete, block; errors in words."""

import pytest
from django.test import Client

from accounts.models import FriendRequest
from accounts.selectors import are_friends, friend_remarks, is_blocked
from tests.factories import UserFactory
from tests.groups import capture

pytestmark = pytest.mark.django_db
fast_passwords = capture.fast_passwords


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def alice():
    return UserFactory(username="alice", nickname="Alice")


@pytest.fixture
def bob():
    return UserFactory(username="bob", nickname="<i>Bob</i>", email="bob@example.com")


def test_search_request_accept_remark_delete_through_the_page(alice, bob):
    a, b = browser(alice), browser(bob)
    assert 'data-testid="add-bob"' in a.get("/friends/?q=bob@example.com").content.decode()
    page = a.get("/friends/?q=bo").content.decode()
    assert "@bob" in page
    assert "bob@example.com" not in page  # e-mails are matched, never shown
    assert "&lt;i&gt;Bob&lt;/i&gt;" in page  # user text is escaped, never HTML
    response = a.post("/friends/request/", {"to": bob.pk, "message": "hi"}, follow=True)
    assert "Friend request sent." in response.content.decode()
    request = FriendRequest.objects.get()
    assert "hi" in b.get("/friends/").content.decode()
    response = b.post(f"/friends/requests/{request.pk}/accept/", follow=True)
    assert "You are now friends." in response.content.decode()
    assert are_friends(alice.pk, bob.pk)
    a.post(f"/friends/{bob.pk}/remark/", {"remark": "Bobby B"})
    assert friend_remarks(alice.pk) == {bob.pk: "Bobby B"}
    assert "Bobby B" in a.get("/friends/").content.decode()
    a.post(f"/friends/{bob.pk}/delete/")
    assert not are_friends(alice.pk, bob.pk)


def test_errors_are_shown_in_words(alice, bob):
    a = browser(alice)
    a.post("/friends/request/", {"to": bob.pk})
    response = a.post("/friends/request/", {"to": bob.pk}, follow=True)
    assert "already sent this person a request" in response.content.decode()
    response = a.post("/friends/request/", {"to": "nobody"}, follow=True)
    assert "Choose a person first." in response.content.decode()
    response = a.post(f"/friends/{bob.pk}/remark/", {"remark": "x"}, follow=True)
    assert "not your friend" in response.content.decode()
    assert FriendRequest.objects.count() == 1


def test_block_and_unblock_from_the_page(alice, bob):
    a = browser(alice)
    response = a.post("/friends/block/", {"user": bob.pk}, follow=True)
    assert "Blocked." in response.content.decode()
    assert is_blocked(alice.pk, bob.pk)
    a.post(f"/friends/{bob.pk}/unblock/")
    assert not is_blocked(alice.pk, bob.pk)


def test_next_must_stay_on_this_site(alice, bob):
    response = browser(alice).post(
        "/friends/request/", {"to": bob.pk, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/friends/"


def test_friends_page_needs_login(client):
    assert client.get("/friends/").status_code == 302
