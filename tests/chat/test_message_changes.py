"""Recall, edit, react, reply, mentions, forward: entries in the sequence, folded targets."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Friendship, User
from chat import selectors
from chat.models import ConversationMember, Message, Reaction
from chat.serializers import message_payload
from chat.services.changes import (
    message_edit,
    message_react,
    message_recall,
    message_takedown,
    messages_forward,
)
from chat.services.messages import conversation_mark_read, message_send
from groups.models import Group
from groups.services import group_create, group_leave, group_member_role_set
from happychat.errors import (
    Conflict,
    ContentBlocked,
    InvalidInput,
    NotFound,
    NotMember,
    PermissionDenied,
)
from safety.services import sensitive_word_save
from tests.factories import UserFactory


def send(user: User, conversation_id: int, body: str = "hello", cid: str | None = None, **kw):
    cid = cid or f"{user.pk}-{Message.objects.count()}"
    return message_send(
        sender=user, conversation_id=conversation_id, client_id=cid, body=body, **kw
    )[0]


def age(message: Message, seconds: int) -> None:
    Message.objects.filter(pk=message.pk).update(
        created_at=timezone.now() - timedelta(seconds=seconds)
    )
    message.refresh_from_db()


@pytest.fixture
def team(alice, bob, carol) -> Group:
    """A group: alice owner, bob admin, carol member."""
    for friend in (bob, carol):
        Friendship.objects.get_or_create(user=alice, friend=friend)
        Friendship.objects.get_or_create(user=friend, friend=alice)
    group = group_create(owner=alice, name="Team", member_ids=[bob.pk, carol.pk])
    group_member_role_set(user=alice, group_id=group.pk, member_user_id=bob.pk, role="admin")
    return group


# --- recall ---------------------------------------------------------------------------


def test_recall_appends_an_entry_and_folds_the_target(db, alice, bob, direct):
    message = send(alice, direct.pk, "oops")
    target, entry = message_recall(user=alice, message_id=message.pk)
    assert entry is not None
    assert (entry.kind, entry.target_id, entry.seq) == ("recall", message.pk, 2)
    assert entry.data == {"by": "sender"}
    target.refresh_from_db()
    assert target.recalled
    assert target.body == ""
    assert target.change_seq == 2
    payload = message_payload(target)
    assert payload["recalled"] is True
    assert payload["body"] == ""
    assert payload["attachment"] is None
    direct.refresh_from_db()
    assert direct.last_seq == 2


def test_recall_twice_changes_nothing_more(db, alice, direct):
    message = send(alice, direct.pk)
    message_recall(user=alice, message_id=message.pk)
    _target, entry = message_recall(user=alice, message_id=message.pk)
    assert entry is None
    assert Message.objects.filter(kind="recall").count() == 1


def test_recall_after_the_time_limit_is_refused(db, alice, direct, settings):
    settings.CHAT_RECALL_SECONDS = 120
    message = send(alice, direct.pk)
    age(message, 121)
    with pytest.raises(PermissionDenied):
        message_recall(user=alice, message_id=message.pk)
    assert not Message.objects.get(pk=message.pk).recalled


def test_recall_by_someone_else_in_a_direct_chat_is_refused(db, alice, bob, direct):
    message = send(alice, direct.pk)
    with pytest.raises(PermissionDenied):
        message_recall(user=bob, message_id=message.pk)


def test_recall_by_a_stranger_is_not_found(db, alice, direct):
    message = send(alice, direct.pk)
    with pytest.raises(NotFound):
        message_recall(user=UserFactory(), message_id=message.pk)


def test_a_plain_member_cannot_recall_another_members_message(db, alice, bob, carol, team):
    message = send(bob, team.conversation_id)
    with pytest.raises(PermissionDenied):
        message_recall(user=carol, message_id=message.pk)


def test_an_admin_recalls_a_members_message_at_any_time(db, bob, carol, team):
    message = send(carol, team.conversation_id)
    age(message, 10_000)
    target, entry = message_recall(user=bob, message_id=message.pk)
    assert target.recalled
    assert entry.data == {"by": "admin"}
    assert entry.sender_id == bob.pk
    # Every API tells who did it, so nobody reads "Carol recalled a message".
    assert message_payload(target)["recalled_by"] == bob.pk
    member = ConversationMember.objects.get(conversation_id=team.conversation_id, user=carol)
    page = selectors.message_page(member=member)
    shown = [message_payload(m) for m in page.messages if m.pk == message.pk]
    assert [m["recalled_by"] for m in shown] == [bob.pk]


def test_a_recall_by_the_sender_names_nobody_else(db, alice, direct):
    message = send(alice, direct.pk)
    target, _entry = message_recall(user=alice, message_id=message.pk)
    assert message_payload(target)["recalled_by"] is None
    assert message_payload(send(alice, direct.pk, cid="2"))["recalled_by"] is None


def test_an_admin_cannot_recall_the_owners_message(db, alice, bob, team):
    message = send(alice, team.conversation_id)
    with pytest.raises(PermissionDenied):
        message_recall(user=bob, message_id=message.pk)


def test_the_owner_recalls_an_admins_message(db, alice, bob, team):
    message = send(bob, team.conversation_id)
    target, _entry = message_recall(user=alice, message_id=message.pk)
    assert target.recalled


def test_a_member_who_left_cannot_recall(db, carol, team):
    message = send(carol, team.conversation_id)
    group_leave(user=carol, group_id=team.pk)
    with pytest.raises(NotMember):
        message_recall(user=carol, message_id=message.pk)


def test_recall_blanks_the_text_of_earlier_edit_entries(db, alice, direct):
    message = send(alice, direct.pk, "first")
    message_edit(user=alice, message_id=message.pk, body="secret second")
    message_recall(user=alice, message_id=message.pk)
    assert list(Message.objects.filter(kind="edit").values_list("body", flat=True)) == [""]


def test_recall_removes_reactions(db, alice, bob, direct):
    message = send(alice, direct.pk)
    message_react(user=bob, message_id=message.pk, emoji="👍")
    target, _ = message_recall(user=alice, message_id=message.pk)
    assert not Reaction.objects.exists()
    assert message_payload(target)["reactions"] == []


def test_operator_takedown_records_who_and_why_and_hides_the_operator(db, alice, direct):
    operator = UserFactory(username="op", is_staff=True)
    message = send(alice, direct.pk, "bad words")
    age(message, 10**6)
    target = message_takedown(operator=operator, message_id=message.pk, reason="spam")
    assert target.recalled
    assert target.recalled_by == operator
    assert target.recall_reason == "spam"
    entry = Message.objects.get(kind="recall")
    assert entry.sender_id == alice.pk
    assert entry.data == {"by": "operator"}
    assert message_payload(target)["recalled_by"] is None  # the operator stays unnamed


def test_takedown_needs_staff_and_a_reason(db, alice, direct):
    message = send(alice, direct.pk)
    with pytest.raises(PermissionDenied):
        message_takedown(operator=alice, message_id=message.pk, reason="x")
    with pytest.raises(InvalidInput):
        message_takedown(operator=UserFactory(is_staff=True), message_id=message.pk, reason="  ")


def test_change_entries_cannot_be_targets(db, alice, direct):
    message = send(alice, direct.pk)
    _target, entry = message_edit(user=alice, message_id=message.pk, body="new")
    with pytest.raises(NotFound):
        message_recall(user=alice, message_id=entry.pk)


# --- edit -----------------------------------------------------------------------------


def test_edit_appends_an_entry_and_folds_the_latest_text(db, alice, direct):
    message = send(alice, direct.pk, "helo")
    target, entry = message_edit(user=alice, message_id=message.pk, body="hello")
    assert (entry.kind, entry.body, entry.target_id, entry.seq) == ("edit", "hello", message.pk, 2)
    target.refresh_from_db()
    assert (target.body, target.edited, target.change_seq) == ("hello", True, 2)


def test_edit_with_the_same_text_changes_nothing(db, alice, direct):
    message = send(alice, direct.pk, "same")
    _target, entry = message_edit(user=alice, message_id=message.pk, body="same")
    assert entry is None


def test_only_the_sender_edits(db, alice, bob, direct):
    message = send(alice, direct.pk)
    with pytest.raises(PermissionDenied):
        message_edit(user=bob, message_id=message.pk, body="mine now")


def test_edit_after_the_time_limit_is_refused(db, alice, direct, settings):
    settings.CHAT_EDIT_SECONDS = 86400
    message = send(alice, direct.pk)
    age(message, 86401)
    with pytest.raises(PermissionDenied):
        message_edit(user=alice, message_id=message.pk, body="late")


def test_a_recalled_message_cannot_be_edited(db, alice, direct):
    message = send(alice, direct.pk)
    message_recall(user=alice, message_id=message.pk)
    with pytest.raises(Conflict):
        message_edit(user=alice, message_id=message.pk, body="again")


def test_edit_rejects_an_empty_text(db, alice, direct):
    message = send(alice, direct.pk)
    with pytest.raises(InvalidInput):
        message_edit(user=alice, message_id=message.pk, body="   ")


def test_the_content_filter_applies_to_the_new_text(db, alice, direct):
    sensitive_word_save(word="badword", action="reject")
    message = send(alice, direct.pk, "fine")
    with pytest.raises(ContentBlocked):
        message_edit(user=alice, message_id=message.pk, body="a badword here")
    assert Message.objects.get(pk=message.pk).body == "fine"


# --- reactions ------------------------------------------------------------------------


def test_reactions_toggle_and_count_with_who(db, alice, bob, direct):
    message = send(alice, direct.pk)
    message_react(user=bob, message_id=message.pk, emoji="👍")
    target, entry = message_react(user=alice, message_id=message.pk, emoji="👍")
    assert entry.data == {"emoji": "👍", "on": True}
    assert message_payload(target)["reactions"] == [
        {"emoji": "👍", "count": 2, "users": [bob.pk, alice.pk]}
    ]
    target, entry = message_react(user=bob, message_id=message.pk, emoji="👍")
    assert entry.data == {"emoji": "👍", "on": False}
    assert message_payload(target)["reactions"] == [
        {"emoji": "👍", "count": 1, "users": [alice.pk]}
    ]


def test_reaction_with_on_is_idempotent(db, alice, bob, direct):
    message = send(alice, direct.pk)
    message_react(user=bob, message_id=message.pk, emoji="❤️", on=True)
    _target, entry = message_react(user=bob, message_id=message.pk, emoji="❤️", on=True)
    assert entry is None
    assert Reaction.objects.count() == 1


def test_only_the_fixed_reactions_are_allowed(db, alice, direct):
    message = send(alice, direct.pk)
    with pytest.raises(InvalidInput):
        message_react(user=alice, message_id=message.pk, emoji="🦄")


def test_a_stranger_cannot_react(db, alice, direct):
    message = send(alice, direct.pk)
    with pytest.raises(NotFound):
        message_react(user=UserFactory(), message_id=message.pk, emoji="👍")


# --- history, sync, list: folded state; entries not unread ----------------------------


def test_history_shows_folded_messages_without_entries(db, alice, bob, direct):
    first = send(alice, direct.pk, "one")
    second = send(alice, direct.pk, "two")
    message_edit(user=alice, message_id=first.pk, body="ONE")
    message_react(user=bob, message_id=first.pk, emoji="😂")
    message_recall(user=alice, message_id=second.pk)
    member = selectors.access_conversation(user=bob, conversation_id=direct.pk)
    page = selectors.message_page(member=member)
    shown = [message_payload(m) for m in page.messages]
    assert [(m["seq"], m["body"], m["edited"], m["recalled"]) for m in shown] == [
        (1, "ONE", True, False),
        (2, "", False, True),
    ]
    assert shown[0]["change_seq"] == 4
    assert shown[1]["change_seq"] == 5


def test_sync_carries_the_entries_in_seq_order(db, alice, bob, direct):
    first = send(alice, direct.pk, "one")
    message_edit(user=alice, message_id=first.pk, body="ONE")
    message_react(user=bob, message_id=first.pk, emoji="👍")
    batch = selectors.sync_batch(user=bob, cursors={direct.pk: 1}, limit=50)
    assert [(m.seq, m.kind, m.target_id) for m in batch.messages] == [
        (2, "edit", first.pk),
        (3, "reaction", first.pk),
    ]


def test_changes_are_not_unread_and_do_not_become_the_preview(db, alice, bob, direct):
    first = send(alice, direct.pk, "hello")
    conversation_mark_read(user=bob, conversation_id=direct.pk, seq=1)
    message_react(user=alice, message_id=first.pk, emoji="👍")
    message_edit(user=alice, message_id=first.pk, body="hello!")
    (row,) = selectors.conversation_list(user=bob)
    assert row["unread"] == 0
    assert row["last_message"]["id"] == first.pk
    assert row["last_message"]["body"] == "hello!"
    assert row["last_seq"] == 3


def test_a_recall_updates_the_preview(db, alice, bob, direct):
    message = send(alice, direct.pk, "secret")
    message_recall(user=alice, message_id=message.pk)
    (row,) = selectors.conversation_list(user=bob)
    assert row["last_message"]["recalled"] is True
    assert row["last_message"]["body"] == ""
    assert row["unread"] == 1  # the recalled message is still a message bob has not seen


def test_unread_counts_others_messages_only(db, alice, bob, direct):
    send(alice, direct.pk, "a")
    send(alice, direct.pk, "b")
    (row,) = selectors.conversation_list(user=bob)
    assert row["unread"] == 2


# --- replies --------------------------------------------------------------------------


def test_a_reply_carries_the_quoted_message(db, alice, bob, direct):
    original = send(alice, direct.pk, "lunch?")
    reply = send(bob, direct.pk, "yes", reply_to=original.pk)
    payload = message_payload(reply)
    assert payload["reply_to"] == original.pk
    assert payload["reply"]["seq"] == 1
    assert payload["reply"]["body"] == "lunch?"


def test_a_recalled_original_shows_as_recalled_in_the_quote(db, alice, bob, direct):
    original = send(alice, direct.pk, "lunch?")
    send(bob, direct.pk, "yes", reply_to=original.pk)
    message_recall(user=alice, message_id=original.pk)
    member = selectors.access_conversation(user=bob, conversation_id=direct.pk)
    reply = next(m for m in selectors.message_page(member=member).messages if m.reply_to_id)
    quote = message_payload(reply)["reply"]
    assert quote["recalled"] is True
    assert quote["body"] == ""


def test_a_reply_must_quote_this_conversations_message(db, alice, bob, carol, direct, trio):
    elsewhere = send(carol, trio.pk, "other room")
    with pytest.raises(InvalidInput):
        send(alice, direct.pk, "re", reply_to=elsewhere.pk)
    with pytest.raises(InvalidInput):
        send(alice, direct.pk, "re", reply_to=10**9)


# --- mentions -------------------------------------------------------------------------


def test_mentions_are_kept_for_members_only(db, alice, bob, carol, team):
    stranger = UserFactory()
    message = send(alice, team.conversation_id, "hi", mentions=[bob.pk, stranger.pk, alice.pk])
    assert message.mentions == [bob.pk]


def test_at_names_in_the_text_are_resolved(db, alice, bob, carol, team):
    message = send(alice, team.conversation_id, "@bob, and @Carol please look")
    assert message.mentions == sorted([bob.pk, carol.pk])


def test_a_mention_marks_the_conversation_until_read(db, alice, bob, carol, team):
    message = send(carol, team.conversation_id, "hey @bob")
    rows = {r["id"]: r for r in selectors.conversation_list(user=bob)}
    assert rows[team.conversation_id]["mentioned"] is True
    rows = {r["id"]: r for r in selectors.conversation_list(user=alice)}
    assert rows[team.conversation_id]["mentioned"] is False
    conversation_mark_read(user=bob, conversation_id=team.conversation_id, seq=message.seq)
    rows = {r["id"]: r for r in selectors.conversation_list(user=bob)}
    assert rows[team.conversation_id]["mentioned"] is False


def test_mention_all_is_for_the_owner_and_admins(db, alice, bob, carol, team):
    with pytest.raises(PermissionDenied):
        send(carol, team.conversation_id, "everyone!", mention_all=True)
    message = send(bob, team.conversation_id, "meeting now", mention_all=True)
    assert message.mention_all
    assert (
        ConversationMember.objects.get(conversation_id=team.conversation_id, user=carol).mention_seq
        == message.seq
    )
    # "@all" typed by a plain member is just text.
    assert not send(carol, team.conversation_id, "@all hi").mention_all


def test_mentions_outside_groups_are_refused(db, alice, bob, direct):
    with pytest.raises(InvalidInput):
        send(alice, direct.pk, "hi", mentions=[bob.pk])


# --- forward --------------------------------------------------------------------------


def test_forward_copies_messages_in_order_and_says_where_from(db, alice, bob, carol, direct, trio):
    one = send(bob, direct.pk, "one")
    two = send(alice, direct.pk, "two")
    copies = messages_forward(
        user=alice, message_ids=[one.pk, two.pk], conversation_id=trio.pk, client_id="fw1"
    )
    assert [(c.seq, c.body, c.data["forwarded_from"]["id"]) for c in copies] == [
        (1, "one", one.pk),
        (2, "two", two.pk),
    ]
    again = messages_forward(
        user=alice, message_ids=[one.pk, two.pk], conversation_id=trio.pk, client_id="fw1"
    )
    assert [c.pk for c in again] == [c.pk for c in copies]


def test_forward_needs_read_access_to_every_message(db, alice, bob, carol, direct, trio):
    private = send(alice, direct.pk, "just us")
    with pytest.raises(NotFound):
        messages_forward(
            user=carol, message_ids=[private.pk], conversation_id=trio.pk, client_id="x"
        )
    assert not Message.objects.filter(conversation_id=trio.pk).exists()


def test_forward_into_a_conversation_one_is_not_in_is_refused(db, alice, bob, direct):
    message = send(alice, direct.pk, "hi")
    other = UserFactory()
    with pytest.raises(NotFound):
        messages_forward(
            user=other, message_ids=[message.pk], conversation_id=direct.pk, client_id="y"
        )


def test_a_recalled_message_cannot_be_forwarded(db, alice, bob, direct, trio):
    message = send(alice, direct.pk, "gone")
    message_recall(user=alice, message_id=message.pk)
    with pytest.raises(Conflict):
        messages_forward(
            user=alice, message_ids=[message.pk], conversation_id=trio.pk, client_id="z"
        )
