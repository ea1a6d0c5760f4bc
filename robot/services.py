"""Robot writes: answer a stored message as the robot, and remember the conversation."""

import logging
import re
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from asgiref.sync import async_to_sync
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.serializers import user_payload
from chat import events as chat_events
from chat.models import Conversation, ConversationMember, Message
from chat.services.conversations import (
    conversation_member_remove,
    conversation_members_add,
    robot_user,
)
from groups.models import Group, GroupMember
from groups.selectors import access_group
from groups.serializers import group_brief
from happychat import events
from happychat.errors import Conflict, ContentBlocked, NotFound, NotMember, PermissionDenied
from robot.backends import configured_backend
from robot.engine import Answer, answer_offline, language_of, say
from robot.models import RobotTurn
from robot.selectors import robot_memory

logger = logging.getLogger("happychat.robot")

# Backend calls run here so the deadline holds even if a backend ignores its own timeout.
_backend_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="robot-backend")


def robot_answer(
    *, user: User, text: str, history: list[dict[str, str]], started: float | None = None
) -> Answer:
    """Answer within ROBOT_REPLY_DEADLINE of `started`: smart backend if healthy, else offline."""
    started = time.monotonic() if started is None else started
    offline = answer_offline(text)
    configured = configured_backend()
    # Commands are exact and instant; a smart backend would only be slower and vaguer.
    if configured is None or offline.source == "command":
        return offline
    backend, breaker = configured
    if not breaker.allow():
        return offline
    remaining = settings.ROBOT_REPLY_DEADLINE - (time.monotonic() - started)
    timeout = max(0.05, min(settings.ROBOT_BACKEND_TIMEOUT, remaining))
    future = _backend_pool.submit(
        backend.reply, user=user.username, text=text, history=history, timeout=timeout
    )
    try:
        reply = future.result(timeout=timeout)
    except FutureTimeout:
        future.cancel()
        logger.warning("robot backend %s missed its %.2fs deadline", backend.name, timeout)
        breaker.record_failure()
        return offline
    except Exception:
        logger.warning("robot backend %s failed", backend.name, exc_info=True)
        breaker.record_failure()
        return offline
    breaker.record_success()
    return Answer(reply, backend.name)


def _mention(robot: User) -> re.Pattern[str]:
    names = {re.escape(robot.username)} | ({re.escape(robot.nickname)} if robot.nickname else set())
    return re.compile(rf"@(?:{'|'.join(sorted(names))})(?![A-Za-z0-9_])", re.IGNORECASE)


def _should_answer(message: Message, robot: User) -> str | None:
    """The text to answer (mention removed), or None if the robot stays quiet."""
    if message.sender_id == robot.pk or message.kind != Message.Kind.TEXT:
        return None
    text = message.body.strip()
    kind = message.conversation.kind
    if kind == Conversation.Kind.ROBOT:
        return text or None
    if kind != Conversation.Kind.GROUP:
        return None
    mention = _mention(robot)
    if not mention.search(text):
        return None
    if not ConversationMember.objects.filter(
        conversation_id=message.conversation_id, user=robot, is_active=True
    ).exists():
        return None
    return mention.sub(" ", text).strip() or "/help"


def reply_client_id(message: Message) -> str:
    return f"reply:{message.pk}"


def robot_reply(*, message_id: int) -> Message | None:
    """Answer a stored message as the robot if it should; one reply per message at most."""
    from chat.services.messages import message_send

    started = time.monotonic()
    message = Message.objects.select_related("conversation", "sender").filter(pk=message_id).first()
    if message is None:
        return None
    robot = robot_user()
    text = _should_answer(message, robot)
    if text is None:
        return None
    client_id = reply_client_id(message)
    existing = Message.objects.filter(sender=robot, client_id=client_id).first()
    if existing is not None:
        return existing
    async_to_sync(chat_events.typing)(conversation_id=message.conversation_id, user_id=robot.pk)
    history = robot_memory(user_id=message.sender_id, limit=settings.ROBOT_MEMORY_TURNS)
    answer = robot_answer(user=message.sender, text=text, history=history, started=started)
    body = answer.text
    if message.conversation.kind == Conversation.Kind.GROUP:
        body = f"@{message.sender.display_name} {body}"
    # The turn is remembered in the reply's transaction: once the reply can be seen, the
    # next question already finds it in the robot's memory.
    with transaction.atomic():
        try:
            reply, created = message_send(
                sender=robot,
                conversation_id=message.conversation_id,
                client_id=client_id,
                body=body,
            )
        except ContentBlocked:
            # The robot's words pass the same filter as everyone's; say something safe instead.
            reply, created = message_send(
                sender=robot,
                conversation_id=message.conversation_id,
                client_id=client_id,
                body=say("blocked", language_of(text)),
            )
        if created:
            robot_memory_record(user=message.sender, text=text, reply=reply.body)
    return reply


@transaction.atomic
def robot_memory_record(*, user: User, text: str, reply: str) -> None:
    """Remember one exchange, keeping only the last ROBOT_MEMORY_TURNS turns of the user."""
    RobotTurn.objects.bulk_create(
        [
            RobotTurn(user=user, role=RobotTurn.Role.USER, text=text),
            RobotTurn(user=user, role=RobotTurn.Role.ROBOT, text=reply),
        ]
    )
    keep = list(
        RobotTurn.objects.filter(user=user)
        .order_by("-id")
        .values_list("id", flat=True)[: settings.ROBOT_MEMORY_TURNS]
    )
    RobotTurn.objects.filter(user=user).exclude(id__in=keep).delete()


def _group_managed_by(*, user: User, group_id: int, denied: str) -> Group:
    """The live group `user` owns or administers, locked for the change; else a domain error."""
    group, membership = access_group(user=user, group_id=group_id)
    if membership is None:
        raise NotMember(_("You are not a member of this group."))
    if membership.role not in (GroupMember.Role.OWNER, GroupMember.Role.ADMIN):
        raise PermissionDenied(denied)
    Group.objects.select_for_update().filter(pk=group.pk).first()
    return group


@transaction.atomic
def robot_group_join(*, user: User, group_id: int) -> GroupMember:
    """Add the robot to a group the user owns or administers; it answers when mentioned."""
    group = _group_managed_by(
        user=user, group_id=group_id, denied=_("Only the owner or an admin can add the robot.")
    )
    robot = robot_user()
    member, created = GroupMember.objects.get_or_create(
        group=group, user=robot, defaults={"role": GroupMember.Role.MEMBER}
    )
    if not created:
        raise Conflict(_("The robot is already in this group."))
    conversation_members_add(conversation=group.conversation, user_ids=[robot.pk])
    member_ids = list(GroupMember.objects.filter(group=group).values_list("user_id", flat=True))
    events.user_event(
        [uid for uid in member_ids if uid != robot.pk],
        "group_joined",
        {"group": group_brief(group), "user": user_payload(robot), "by": user.pk},
    )
    return member


@transaction.atomic
def robot_group_leave(*, user: User, group_id: int) -> None:
    """Remove the robot from a group the user owns or administers."""
    group = _group_managed_by(
        user=user, group_id=group_id, denied=_("Only the owner or an admin can remove the robot.")
    )
    robot = robot_user()
    deleted, _details = GroupMember.objects.filter(group=group, user=robot).delete()
    if not deleted:
        raise NotFound(_("The robot is not in this group."))
    conversation_member_remove(conversation=group.conversation, user_id=robot.pk)
    member_ids = list(GroupMember.objects.filter(group=group).values_list("user_id", flat=True))
    events.user_event(
        member_ids,
        "group_left",
        {"group": group_brief(group), "user": robot.pk, "reason": "removed", "by": user.pk},
    )
