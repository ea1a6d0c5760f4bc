"""Nicknames, bios, group names, notices, aliases, remarks and friend-request messages pass
the same word filter."""

import pytest
from django.test import RequestFactory

from accounts.models import FriendRequest, Friendship, User
from accounts.services import user_profile_update, user_register
from friends.services import friend_remark_set, friend_request_send
from groups.models import Group, GroupMember
from groups.services import group_create, group_member_settings_set, group_update
from happychat.errors import ContentBlocked, ValidationFailed
from safety.services import sensitive_word_save

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def words(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    sensitive_word_save(word="scam", action="reject")
    sensitive_word_save(word="坏蛋", action="reject")
    sensitive_word_save(word="darn", action="mask")
    sensitive_word_save(word="笨蛋", action="mask")


BLOCKED = ["Scam King", "ｓｃａｍ", "s c a m", "sc\u200bam", "大坏 蛋"]
MASKED = [("Darn Cat", "*** Cat"), ("ｄａｒｎ cat", "*** cat"), ("小笨\u200b蛋", "小***")]


@pytest.mark.parametrize("nickname", BLOCKED)
def test_blocked_nickname_is_refused_and_nothing_changes(user, nickname):
    with pytest.raises(ContentBlocked) as caught:
        user_profile_update(user=user, nickname=nickname, bio="new bio")
    assert caught.value.extra == {"field": "nickname"}
    user.refresh_from_db()
    assert (user.nickname, user.bio) == ("Alice", "")


@pytest.mark.parametrize(("nickname", "stored"), MASKED)
def test_masked_nickname_is_stored_masked(user, nickname, stored):
    user_profile_update(user=user, nickname=nickname)
    user.refresh_from_db()
    assert user.nickname == stored


def test_bio_is_filtered_too(user):
    user_profile_update(user=user, bio="what a darn day")
    user.refresh_from_db()
    assert user.bio == "what a *** day"


def test_blocked_nickname_over_rest_answers_content_blocked(api_client, user):
    response = api_client.patch("/api/v1/me/", {"nickname": "S C A M"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "content_blocked"
    user.refresh_from_db()
    assert user.nickname == "Alice"


def register(nickname: str) -> User:
    return user_register(
        username="newbie",
        email="newbie@example.com",
        password="a-long-secret-9",
        nickname=nickname,
        request=RequestFactory().post("/"),
    )


def test_registration_with_a_blocked_nickname_is_refused(db):
    with pytest.raises(ValidationFailed) as caught:
        register("ＳＣＡＭ")
    assert "nickname" in caught.value.extra["errors"]
    assert not User.objects.filter(username="newbie").exists()


def test_registration_masks_the_nickname(db):
    assert register("darn it").nickname == "*** it"


@pytest.mark.parametrize("name", BLOCKED)
def test_blocked_group_name_is_refused(user, name):
    with pytest.raises(ContentBlocked) as caught:
        group_create(owner=user, name=name)
    assert caught.value.extra == {"field": "group_name"}
    assert not Group.objects.exists()


@pytest.mark.parametrize(("name", "stored"), MASKED)
def test_masked_group_name_is_stored_masked(user, name, stored):
    assert group_create(owner=user, name=name).name == stored


def test_renaming_a_group_is_filtered(user):
    group = group_create(owner=user, name="Hikers")
    with pytest.raises(ContentBlocked):
        group_update(user=user, group_id=group.pk, name="scam hikers")
    group.refresh_from_db()
    assert group.name == "Hikers"
    group_update(user=user, group_id=group.pk, name="Darn hikers", notice="no 笨 蛋 here")
    group.refresh_from_db()
    assert (group.name, group.notice) == ("*** hikers", "no *** here")


def test_group_alias_is_filtered(user):
    group = group_create(owner=user, name="Hikers")
    with pytest.raises(ContentBlocked):
        group_member_settings_set(user=user, group_id=group.pk, alias="坏蛋")
    group_member_settings_set(user=user, group_id=group.pk, alias="darn boss")
    assert GroupMember.objects.get(group=group, user=user).alias == "*** boss"


@pytest.fixture
def friendship(user, other_user):
    Friendship.objects.create(user=user, friend=other_user)
    Friendship.objects.create(user=other_user, friend=user)


@pytest.mark.parametrize("remark", BLOCKED)
def test_blocked_remark_is_refused_and_nothing_changes(user, other_user, friendship, remark):
    friend_remark_set(user=user, friend_id=other_user.pk, remark="Bobby")
    with pytest.raises(ContentBlocked) as caught:
        friend_remark_set(user=user, friend_id=other_user.pk, remark=remark)
    assert caught.value.extra == {"field": "remark"}
    assert Friendship.objects.get(user=user, friend=other_user).remark == "Bobby"


@pytest.mark.parametrize(("remark", "stored"), MASKED)
def test_masked_remark_is_stored_masked(user, other_user, friendship, remark, stored):
    friend_remark_set(user=user, friend_id=other_user.pk, remark=remark)
    assert Friendship.objects.get(user=user, friend=other_user).remark == stored


@pytest.mark.parametrize("message", BLOCKED)
def test_blocked_friend_request_message_is_refused_and_nothing_is_sent(user, other_user, message):
    with pytest.raises(ContentBlocked) as caught:
        friend_request_send(from_user=user, to_user_id=other_user.pk, message=message)
    assert caught.value.extra == {"field": "friend_request"}
    assert not FriendRequest.objects.exists()


@pytest.mark.parametrize(("message", "stored"), MASKED)
def test_masked_friend_request_message_is_stored_masked(user, other_user, message, stored):
    friend_request_send(from_user=user, to_user_id=other_user.pk, message=message)
    assert FriendRequest.objects.get(from_user=user, to_user=other_user).message == stored


def test_blocked_friend_request_over_rest_answers_content_blocked(api_client, other_user):
    response = api_client.post(
        "/api/v1/friend-requests/",
        {"to": other_user.pk, "message": "hi, ＳＣＡＭ here"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "content_blocked"
    assert not FriendRequest.objects.exists()
