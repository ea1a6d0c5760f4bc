"""System messages in the timeline, written by the services that make the change."""

import pytest

from chat import selectors
from chat.models import Conversation, Message
from chat.services.messages import conversation_mark_read
from groups.services import (
    group_create,
    group_join,
    group_leave,
    group_member_add,
    group_member_remove,
    group_owner_transfer,
    group_update,
)
from happychat.errors import InvalidInput
from tests.groups.conftest import make_friends


def timeline(conversation_id: int) -> list[tuple[str, dict]]:
    return [
        (m.data["event"], {k: v for k, v in m.data.items() if k != "event"})
        for m in Message.objects.filter(conversation_id=conversation_id, kind="system").order_by(
            "seq"
        )
    ]


@pytest.fixture
def group(people):
    return group_create(owner=people["owner"], name="Club", member_ids=[people["member"].pk])


def test_creating_a_group_says_so(people, group):
    (message,) = Message.objects.filter(conversation_id=group.conversation_id)
    assert message.kind == "system"
    assert message.data == {
        "event": "group_created",
        "name": "Club",
        "users": [people["member"].pk],
        "by": people["owner"].pk,
    }
    assert message.body == 'Owner created the group "Club"'


def test_members_joining_leaving_and_removed(people, group):
    group_join(user=people["friend"], group_id=group.pk)
    group_member_add(user=people["owner"], group_id=group.pk, invitee_id=people["admin"].pk)
    group_leave(user=people["friend"], group_id=group.pk)
    group_member_remove(user=people["owner"], group_id=group.pk, member_user_id=people["member"].pk)
    assert [event for event, _ in timeline(group.conversation_id)] == [
        "group_created",
        "member_joined",
        "member_joined",
        "member_left",
        "member_removed",
    ]
    events = timeline(group.conversation_id)
    assert events[1][1] == {"user": people["friend"].pk, "by": None}
    assert events[2][1] == {"user": people["admin"].pk, "by": people["owner"].pk}
    assert events[4][1] == {"user": people["member"].pk, "by": people["owner"].pk}


def test_rename_notice_and_transfer(people, group):
    group_update(user=people["owner"], group_id=group.pk, name="Chess club", notice="Fri 6pm")
    group_owner_transfer(user=people["owner"], group_id=group.pk, new_owner_id=people["member"].pk)
    assert timeline(group.conversation_id)[1:] == [
        ("group_renamed", {"name": "Chess club", "by": people["owner"].pk}),
        ("notice_changed", {"notice": "Fri 6pm", "by": people["owner"].pk}),
        ("owner_transferred", {"user": people["member"].pk, "by": people["owner"].pk}),
    ]


def test_the_owner_leaving_hands_over_and_says_so(people, group):
    group_leave(user=people["owner"], group_id=group.pk)
    assert [e for e, _ in timeline(group.conversation_id)][-2:] == [
        "member_left",
        "owner_transferred",
    ]


def test_a_refused_change_writes_nothing(people, group):
    with pytest.raises(InvalidInput):
        group_update(user=people["owner"], group_id=group.pk, name="")
    assert len(timeline(group.conversation_id)) == 1


def test_system_messages_are_not_unread_but_show_in_the_list(people, group):
    group_join(user=people["friend"], group_id=group.pk)
    rows = {r["id"]: r for r in selectors.conversation_list(user=people["member"])}
    row = rows[group.conversation_id]
    assert row["unread"] == 0
    assert row["last_message"]["data"]["event"] == "member_joined"


def test_becoming_friends_says_so_in_the_direct_chat(db):
    from tests.factories import UserFactory

    a, b = UserFactory(username="ann"), UserFactory(username="ben")
    make_friends(a, b)
    conversation = Conversation.objects.get(kind="direct")
    (message,) = Message.objects.filter(conversation=conversation)
    assert (message.kind, message.data["event"]) == ("system", "friend_added")
    conversation_mark_read(user=a, conversation_id=conversation.pk, seq=0)
    (row,) = [r for r in selectors.conversation_list(user=a) if r["kind"] == "direct"]
    assert row["unread"] == 0
