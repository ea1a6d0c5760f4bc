"""The shared text check: every service refuses text no database can store, as the client's
mistake (InvalidInput / field errors), before anything is written."""

import pytest

from accounts.services import user_profile_update, user_register_check
from chat.models import Message
from chat.services.messages import message_send
from friends.selectors import user_search
from friends.services import friend_remark_set, friend_request_send
from groups.selectors import group_list
from groups.services import group_create, group_member_settings_set, group_update
from happychat.errors import InvalidInput, ValidationFailed
from happychat.validators import clean_text, text_problem
from tests.chat.conftest import befriend

BAD = ["a\x00b", "a\ud800b", "\udfff", "\x00"]


@pytest.mark.parametrize("text", BAD)
def test_text_problem_names_nul_and_lone_surrogates(text):
    assert text_problem(text)
    with pytest.raises(InvalidInput) as caught:
        clean_text(text, field="body")
    assert caught.value.code == "invalid_frame"
    assert caught.value.extra["field"] == "body"


@pytest.mark.parametrize("text", ["", "hello", "你好 👋", "\U0001f600" * 3, "tab\tnew\nline"])
def test_ordinary_text_passes(text):
    assert text_problem(text) is None
    assert clean_text(text, field="body") == text


def test_clean_text_checks_type_and_length():
    with pytest.raises(InvalidInput):
        clean_text(5, field="body")
    with pytest.raises(InvalidInput):
        clean_text("abc", field="body", max_length=2)


@pytest.mark.parametrize("text", BAD)
def test_services_refuse_unstorable_text_and_store_nothing(user, other_user, text):
    conversation = befriend(user, other_user)
    group = group_create(owner=user, name="g", member_ids=[other_user.pk])
    calls = [
        lambda: message_send(
            sender=user, conversation_id=conversation.pk, client_id="c", body=text
        ),
        lambda: message_send(
            sender=user, conversation_id=conversation.pk, client_id=text, body="x"
        ),
        lambda: friend_remark_set(user=user, friend_id=other_user.pk, remark=text),
        lambda: friend_request_send(from_user=other_user, to_user_id=user.pk, message=text),
        lambda: group_create(owner=user, name=text),
        lambda: group_update(user=user, group_id=group.pk, name=text),
        lambda: group_update(user=user, group_id=group.pk, notice=text),
        lambda: group_member_settings_set(user=user, group_id=group.pk, alias=text),
        lambda: user_search(viewer=user, query=text),
        lambda: group_list(user=user, query=text),
    ]
    for call in calls:
        with pytest.raises(InvalidInput):
            call()
    assert not Message.objects.filter(conversation=conversation).exists()


@pytest.mark.parametrize("text", BAD)
def test_profile_and_registration_report_a_field_error(user, text):
    with pytest.raises(ValidationFailed) as caught:
        user_profile_update(user=user, nickname=text, bio=text, region=text)
    assert set(caught.value.extra["errors"]) == {"nickname", "bio", "region"}
    user.refresh_from_db()
    assert "\x00" not in user.nickname

    errors = user_register_check(username=text, email="a@b.c", password=text, nickname=text)
    assert {"username", "password", "nickname"} <= set(errors)
