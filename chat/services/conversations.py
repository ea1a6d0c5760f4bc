"""Conversations and who is in them.

These functions do not publish: the service that calls them (friend accepted, group
joined…) publishes its own `event` with `subscribe=`/`unsubscribe=` the conversation id,
which makes live sockets follow the change at once.
"""

from collections.abc import Iterable

from django.conf import settings
from django.db import transaction

from accounts.models import User
from chat.models import Conversation, ConversationMember


def pair_key(user_a_id: int, user_b_id: int) -> str:
    low, high = sorted((user_a_id, user_b_id))
    return f"{low}:{high}"


def robot_user() -> User:
    """The robot (created by the accounts migrations; recreated if an operator deleted it)."""
    robot, _ = User.objects.get_or_create(
        username=settings.ROBOT_USERNAME,
        defaults={"nickname": "HappyBot", "is_robot": True, "password": "!"},
    )
    return robot


@transaction.atomic
def conversation_members_add(*, conversation: Conversation, user_ids: Iterable[int]) -> None:
    """Make the users active members; a returning member keeps their read cursor."""
    ids = set(user_ids)
    existing = {
        m.user_id: m
        for m in ConversationMember.objects.select_for_update().filter(
            conversation=conversation, user_id__in=ids
        )
    }
    for member in existing.values():
        if not member.is_active:
            member.is_active = True
            member.left_seq = None
            member.save(update_fields=["is_active", "left_seq"])
    ConversationMember.objects.bulk_create(
        [
            ConversationMember(
                conversation=conversation, user_id=uid, last_read_seq=conversation.last_seq
            )
            for uid in ids - existing.keys()
        ]
    )


@transaction.atomic
def conversation_member_remove(*, conversation: Conversation, user_id: int) -> None:
    """Stop a member receiving and sending; they keep history up to now."""
    last_seq = Conversation.objects.values_list("last_seq", flat=True).get(pk=conversation.pk)
    ConversationMember.objects.filter(
        conversation=conversation, user_id=user_id, is_active=True
    ).update(is_active=False, left_seq=last_seq)


@transaction.atomic
def conversation_direct_get_or_create(*, user_a: User, user_b: User) -> tuple[Conversation, bool]:
    """The one direct conversation of a pair (history kept if they become friends again)."""
    conversation, created = Conversation.objects.get_or_create(
        pair_key=pair_key(user_a.pk, user_b.pk), defaults={"kind": Conversation.Kind.DIRECT}
    )
    conversation_members_add(conversation=conversation, user_ids=[user_a.pk, user_b.pk])
    return conversation, created


@transaction.atomic
def conversation_robot_ensure(*, user: User) -> Conversation:
    """The user's conversation with the robot, created on first need."""
    robot = robot_user()
    conversation, _ = Conversation.objects.get_or_create(
        pair_key=pair_key(user.pk, robot.pk), defaults={"kind": Conversation.Kind.ROBOT}
    )
    conversation_members_add(conversation=conversation, user_ids=[user.pk, robot.pk])
    return conversation


@transaction.atomic
def conversation_group_create(*, user_ids: Iterable[int]) -> Conversation:
    """A new group conversation with these members."""
    conversation = Conversation.objects.create(kind=Conversation.Kind.GROUP)
    conversation_members_add(conversation=conversation, user_ids=user_ids)
    return conversation
