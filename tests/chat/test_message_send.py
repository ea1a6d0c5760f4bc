"""The one send pipeline: authorization, validation, gap-free seq, idempotency, events."""

import json
import threading

import pytest
from django.db import connection

from accounts.models import Block, Friendship
from chat.models import ConversationMember, Message
from chat.services import conversation_member_remove
from chat.services.messages import conversation_mark_read, message_send
from happychat.errors import (
    Conflict,
    InvalidAttachment,
    InvalidInput,
    NotFound,
    NotFriends,
    NotMember,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def published(monkeypatch):
    """Every event published after commit, as (groups, event) pairs."""
    sent = []
    monkeypatch.setattr(
        "happychat.events._group_send", lambda groups, event: sent.append((groups, event))
    )
    return sent


def test_messages_take_seq_one_two_three(alice, bob, direct):
    seqs = [
        message_send(sender=sender, conversation_id=direct.pk, client_id=f"c{i}", body="hi")[0].seq
        for i, sender in enumerate([alice, bob, alice])
    ]
    assert seqs == [1, 2, 3]
    direct.refresh_from_db()
    assert direct.last_seq == 3


def test_retried_send_is_stored_once(alice, direct):
    first, created = message_send(sender=alice, conversation_id=direct.pk, client_id="x", body="a")
    again, created_again = message_send(
        sender=alice, conversation_id=direct.pk, client_id="x", body="a"
    )
    assert created
    assert not created_again
    assert (again.pk, again.seq) == (first.pk, first.seq)
    assert Message.objects.count() == 1


def test_client_id_reused_in_another_conversation_is_refused(alice, bob, carol, direct, trio):
    message_send(sender=alice, conversation_id=direct.pk, client_id="same", body="a")
    with pytest.raises(Conflict):
        message_send(sender=alice, conversation_id=trio.pk, client_id="same", body="b")
    assert Message.objects.count() == 1


def test_same_client_id_from_two_senders_are_two_messages(alice, bob, direct):
    message_send(sender=alice, conversation_id=direct.pk, client_id="1", body="a")
    message_send(sender=bob, conversation_id=direct.pk, client_id="1", body="b")
    assert list(Message.objects.values_list("seq", flat=True)) == [1, 2]


def test_stranger_gets_not_found_and_nothing_is_stored(carol, direct):
    with pytest.raises(NotFound):
        message_send(sender=carol, conversation_id=direct.pk, client_id="c", body="hi")
    with pytest.raises(NotFound):
        message_send(sender=carol, conversation_id=999999, client_id="c", body="hi")
    assert not Message.objects.exists()


def test_unfriended_pair_cannot_send_but_keeps_history(alice, bob, direct):
    message_send(sender=alice, conversation_id=direct.pk, client_id="1", body="before")
    Friendship.objects.filter(user__in=[alice, bob]).delete()
    for sender in (alice, bob):
        with pytest.raises(NotFriends):
            message_send(sender=sender, conversation_id=direct.pk, client_id="2", body="after")
    assert list(Message.objects.values_list("body", flat=True)) == ["before"]


def test_blocked_sender_cannot_send(alice, bob, direct):
    Block.objects.create(user=bob, blocked=alice)
    with pytest.raises(NotFriends):
        message_send(sender=alice, conversation_id=direct.pk, client_id="1", body="hi")
    message_send(sender=bob, conversation_id=direct.pk, client_id="1", body="hi")


def test_removed_member_gets_not_member(alice, bob, trio):
    message_send(sender=alice, conversation_id=trio.pk, client_id="1", body="hi")
    conversation_member_remove(conversation=trio, user_id=bob.pk)
    with pytest.raises(NotMember):
        message_send(sender=bob, conversation_id=trio.pk, client_id="2", body="hi")
    member = ConversationMember.objects.get(conversation=trio, user=bob)
    assert (member.is_active, member.left_seq) == (False, 1)


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"client_id": ""}, InvalidInput),
        ({"client_id": "x" * 65}, InvalidInput),
        ({"client_id": 5}, InvalidInput),
        ({"kind": "video"}, InvalidInput),
        ({"body": "   "}, InvalidInput),
        ({"body": None}, InvalidInput),
        ({"body": "x" * 5001}, InvalidInput),
        ({"kind": "image", "body": ""}, InvalidAttachment),
        ({"kind": "image", "attachment_id": 424242}, InvalidAttachment),
    ],
)
def test_bad_input_is_refused_and_nothing_is_stored(alice, direct, fields, error):
    kwargs = {"client_id": "c1", "kind": "text", "body": "hello"} | fields
    with pytest.raises(error):
        message_send(sender=alice, conversation_id=direct.pk, **kwargs)
    assert not Message.objects.exists()
    direct.refresh_from_db()
    assert direct.last_seq == 0


def test_emoji_and_markup_are_stored_as_plain_text(alice, direct):
    body = "<b>hi</b> 😀 你好"
    message, _ = message_send(sender=alice, conversation_id=direct.pk, client_id="1", body=body)
    message.refresh_from_db()
    assert message.body == body


def test_send_publishes_one_encoded_frame_to_the_conversation_after_commit(
    alice, direct, published
):
    message, _ = message_send(
        sender=alice, conversation_id=direct.pk, client_id="c", body="hi", origin="sock-1"
    )
    messages = [(g, e) for g, e in published if e["type"] == "chat.message"]
    assert len(messages) == 1
    groups, event = messages[0]
    assert groups == [f"conv.{direct.pk}"]
    assert event["origin"] == "sock-1"
    frame = json.loads(event["frame"])
    assert frame["type"] == "message"
    assert frame["message"] | {"created_at": None} == {
        "id": message.pk,
        "conversation": direct.pk,
        "seq": 1,
        "sender": {"id": alice.pk, "username": "alice", "nickname": "Alice", "avatar": None},
        "kind": "text",
        "body": "hi",
        "attachment": None,
        "client_id": "c",
        "created_at": None,
        "recalled": False,
        "recalled_by": None,
        "edited": False,
        "reply_to": None,
        "reply": None,
        "mentions": [],
        "mention_all": False,
        "reactions": [],
        "target": None,
        "data": None,
        "change_seq": 0,
    }


def test_retry_publishes_nothing_more(alice, direct, published):
    message_send(sender=alice, conversation_id=direct.pk, client_id="c", body="hi")
    message_send(sender=alice, conversation_id=direct.pk, client_id="c", body="hi")
    assert len([e for _, e in published if e["type"] == "chat.message"]) == 1


def test_sending_marks_the_sender_read(alice, bob, direct):
    message_send(sender=bob, conversation_id=direct.pk, client_id="1", body="a")
    message_send(sender=alice, conversation_id=direct.pk, client_id="2", body="b")
    assert ConversationMember.objects.get(conversation=direct, user=alice).last_read_seq == 2
    assert ConversationMember.objects.get(conversation=direct, user=bob).last_read_seq == 1


def test_mark_read_moves_forward_only_and_publishes(alice, bob, direct, published):
    for i in range(3):
        message_send(sender=alice, conversation_id=direct.pk, client_id=str(i), body="x")
    published.clear()
    conversation_mark_read(user=bob, conversation_id=direct.pk, seq=99)
    assert ConversationMember.objects.get(conversation=direct, user=bob).last_read_seq == 3
    conversation_mark_read(user=bob, conversation_id=direct.pk, seq=1)
    assert ConversationMember.objects.get(conversation=direct, user=bob).last_read_seq == 3
    reads = [(g, json.loads(e["frame"])) for g, e in published if e["type"] == "chat.read"]
    assert reads == [
        (
            [f"conv.{direct.pk}"],
            {"type": "read", "conversation": direct.pk, "user": bob.pk, "seq": 3},
        )
    ]


def test_mark_read_refuses_bad_seq_and_strangers(alice, carol, direct):
    with pytest.raises(InvalidInput):
        conversation_mark_read(user=alice, conversation_id=direct.pk, seq=-1)
    with pytest.raises(NotFound):
        conversation_mark_read(user=carol, conversation_id=direct.pk, seq=1)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the PostgreSQL run is in tests/system")
def test_concurrent_senders_get_gap_free_seq_on_sqlite(alice, bob, carol, trio):
    errors = []

    def worker(user, n):
        try:
            for i in range(15):
                message_send(sender=user, conversation_id=trio.pk, client_id=f"{n}-{i}", body="m")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=worker, args=(u, n)) for n, u in enumerate([alice, bob, carol] * 2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    seqs = sorted(Message.objects.filter(conversation=trio).values_list("seq", flat=True))
    assert seqs == list(range(1, 91))


def test_retry_after_losing_the_right_to_post_still_gets_the_original(alice, bob, trio):
    first, _ = message_send(sender=bob, conversation_id=trio.pk, client_id="m1", body="hi")
    conversation_member_remove(conversation=trio, user_id=bob.pk)
    again, created = message_send(sender=bob, conversation_id=trio.pk, client_id="m1", body="hi")
    assert (again.pk, again.seq, created) == (first.pk, 1, False)
    with pytest.raises(NotMember):
        message_send(sender=bob, conversation_id=trio.pk, client_id="m2", body="new")
    trio.refresh_from_db()
    assert trio.last_seq == 1


@pytest.mark.parametrize("client_id", ["plain", 'quote " and \\ backslash', "表情 😀", "\u2028"])
def test_an_ack_built_around_the_published_json_is_the_json_of_the_whole_frame(
    alice, direct, client_id
):
    from chat.serializers import message_payload
    from happychat.events import encode, frame_with_message

    message, _ = message_send(sender=alice, conversation_id=direct.pk, client_id="c", body="hé")
    assert message.encoded_payload == encode(message_payload(message))
    text = frame_with_message({"type": "ack", "id": client_id}, message.encoded_payload)
    assert text == encode({"type": "ack", "id": client_id, "message": message_payload(message)})
    assert json.loads(text)["id"] == client_id


def test_the_returned_message_is_the_stored_row_and_touching_its_relations_costs_no_query(
    alice, direct, django_assert_num_queries
):
    from chat.serializers import message_payload

    message, _ = message_send(sender=alice, conversation_id=direct.pk, client_id="c", body="hi")
    with django_assert_num_queries(0):
        assert (message.conversation.kind, message.conversation_id) == ("direct", direct.pk)
        assert message.sender is alice
        assert not message._state.adding
    stored = Message.objects.select_related("sender", "conversation").get(pk=message.pk)
    assert message_payload(message) == message_payload(stored)
    assert message == stored
