"""Export one user's data as a zip archive (the right of access and portability).

What is in it, and why (also in the archive's README.txt and docs/deploy.md):
- profile.json: the account (no password hash), its e-mail addresses, when it joined and
  last logged in, its device tokens' creation and expiry (never a token or its key), its
  WeChat links, and its push subscriptions (the push service's host, never the endpoint
  or keys).
- friends.json: friends with the remark *this user* gave them, friend requests sent and
  received, people this user blocked.
- groups.json: current groups with role and own alias; invitations sent and received.
- conversations.json: every conversation the user is or was in, as the REST API lists it.
- messages_sent.json: every message the user sent, each with its conversation.
- conversations/<id>.json: each conversation's history exactly as far as the user may
  read it through the API (up to where they left), with their own remarks as names.
  Left out with `include_history=False`.
- uploads.json and files/: the user's avatar and the images they uploaded. Images others
  sent appear in the histories as references, not as files.
- reports.json (messages this user reported), robot.json (their turns with the robot).

Other people's private data (their remarks, e-mail addresses, tokens, conversations this
user is not in, what was said after this user left) is never read into the archive.
When an app starts storing personal data, add its section here.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import IO, Any
from urllib.parse import urlsplit

from allauth.account.models import EmailAddress
from django.db.models.fields.files import FieldFile
from knox.models import AuthToken

from accounts.models import Block, FriendRequest, Friendship, User, WeChatIdentity
from accounts.serializers import user_payload
from chat.models import ConversationMember, Message, Upload
from chat.selectors import conversation_row, visible_last_seq
from chat.serializers import CHANGE_KINDS, iso, message_payload
from groups.models import GroupInvitation, GroupMember
from moderation.models import MessageReport
from ops.backup import app_version
from push.models import PushSubscription
from robot.models import RobotTurn

FORMAT = "happychat-user-export"
FORMAT_VERSION = 1
BATCH = 1000

README = """\
HappyChat: your data
====================

This archive holds what HappyChat stores about you, as JSON (UTF-8) and files.

profile.json          your account, e-mail addresses, sign-up and last login times,
                      when your device tokens were created and expire (never the tokens),
                      linked WeChat accounts, devices receiving push notifications
friends.json          your friends with the remarks you gave them, friend requests you
                      sent and received, people you blocked
groups.json           your groups with your role and alias, group invitations
conversations.json    every conversation you are or were in
messages_sent.json    every message you sent, with the conversation it is in
conversations/*.json  each conversation's messages as far as you can read them in the app
uploads.json          the images you uploaded; the files are in files/
reports.json          messages you reported
robot.json            what you said to the robot and what it answered
manifest.json         when and by what this archive was made, and what it contains
"""


@dataclass
class ExportSummary:
    counts: dict[str, int] = field(default_factory=dict)
    missing_files: list[str] = field(default_factory=list)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1, default=str)


class _Writer:
    def __init__(self, zf: zipfile.ZipFile, summary: ExportSummary) -> None:
        self.zf = zf
        self.summary = summary

    def json(self, name: str, value: Any) -> None:
        self.zf.writestr(name, _dumps(value), compress_type=zipfile.ZIP_DEFLATED)

    def json_list(self, name: str, head: dict[str, Any], key: str, items: Iterable[Any]) -> int:
        """Stream `{**head, key: [items…]}` into the zip without holding the list in memory."""
        count = 0
        fields = "".join(f"{json.dumps(k)}: {_dumps(v)},\n " for k, v in head.items())
        with self.zf.open(name, "w", force_zip64=True) as out:
            out.write(f"{{\n {fields}{json.dumps(key)}: [".encode())
            for item in items:
                out.write((",\n" if count else "\n").encode())
                out.write(json.dumps(item, ensure_ascii=False, default=str).encode())
                count += 1
            out.write(b"\n]}\n")
        return count

    def file(self, name: str, source: FieldFile) -> str | None:
        """Copy a stored file (through its storage) into the zip; None if it is unreadable."""
        spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
        with spool:
            try:
                with source.storage.open(str(source.name), "rb") as stream:
                    # Read whole before writing: a read failing halfway leaves no torn entry.
                    shutil.copyfileobj(stream, spool, 1024 * 1024)
            except Exception:  # a missing or unreachable file must not lose the rest
                self.summary.missing_files.append(str(source.name))
                return None
            spool.seek(0)
            info = zipfile.ZipInfo(name, date_time=datetime.now(UTC).timetuple()[:6])
            with self.zf.open(info, "w", force_zip64=True) as out:
                shutil.copyfileobj(spool, out, 1024 * 1024)
        return name


def _profile(user: User, avatar_file: str | None) -> dict[str, Any]:
    return {
        "id": user.pk,
        "username": user.username,
        "nickname": user.nickname,
        "email": user.email,
        "bio": user.bio,
        "gender": user.gender,
        "region": user.region,
        "avatar": avatar_file,
        "is_active": user.is_active,
        "date_joined": iso(user.date_joined),
        "last_login": iso(user.last_login),
        "email_addresses": [
            {"email": e.email, "verified": e.verified, "primary": e.primary}
            for e in EmailAddress.objects.filter(user=user).order_by("id")
        ],
        "devices": [
            {"created_at": iso(t.created), "expires_at": iso(t.expiry)}
            for t in AuthToken.objects.filter(user=user).order_by("created")
        ],
        "wechat_links": [
            {
                "app_id": w.app_id,
                "openid": w.openid,
                "unionid": w.unionid,
                "linked_at": iso(w.created_at),
            }
            for w in WeChatIdentity.objects.filter(user=user).order_by("id")
        ],
        # The push service's host only: the endpoint's path and the keys are secrets that
        # let anyone push to the device.
        "push_subscriptions": [
            {
                "service": urlsplit(p.endpoint).hostname,
                "language": p.language,
                "user_agent": p.user_agent,
                "created_at": iso(p.created_at),
                "last_success_at": iso(p.last_success_at),
            }
            for p in PushSubscription.objects.filter(user=user).order_by("id")
        ],
    }


def _person(user: User, remarks: dict[int, str]) -> dict[str, Any]:
    return user_payload(user, remark=remarks.get(user.pk))


def _friends(user: User, remarks: dict[int, str]) -> dict[str, Any]:
    friendships = Friendship.objects.filter(user=user).select_related("friend").order_by("id")
    requests = FriendRequest.objects.select_related("from_user", "to_user").order_by("id")
    return {
        "friends": [
            {
                "user": user_payload(f.friend),
                "remark": f.remark,
                "since": iso(f.created_at),
            }
            for f in friendships
        ],
        "requests_sent": [
            {
                "to": _person(r.to_user, remarks),
                "message": r.message,
                "status": r.status,
                "created_at": iso(r.created_at),
                "responded_at": iso(r.responded_at),
            }
            for r in requests.filter(from_user=user)
        ],
        "requests_received": [
            {
                "from": _person(r.from_user, remarks),
                "message": r.message,
                "status": r.status,
                "created_at": iso(r.created_at),
                "responded_at": iso(r.responded_at),
            }
            for r in requests.filter(to_user=user)
        ],
        "blocked": [
            {"user": _person(b.blocked, remarks), "since": iso(b.created_at)}
            for b in Block.objects.filter(user=user).select_related("blocked").order_by("id")
        ],
    }


def _groups(user: User, remarks: dict[int, str]) -> dict[str, Any]:
    memberships = GroupMember.objects.filter(user=user).select_related("group").order_by("id")
    invitations = GroupInvitation.objects.select_related("group", "inviter", "invitee")
    return {
        "groups": [
            {
                "id": m.group.pk,
                "name": m.group.name,
                "notice": m.group.notice,
                "public": m.group.is_public,
                "conversation": m.group.conversation_id,
                "role": m.role,
                "alias": m.alias,
                "joined_at": iso(m.created_at),
                "dissolved_at": iso(m.group.dissolved_at),
            }
            for m in memberships
        ],
        "invitations_received": [
            {
                "group": {"id": i.group.pk, "name": i.group.name},
                "inviter": _person(i.inviter, remarks),
                "status": i.status,
                "created_at": iso(i.created_at),
                "responded_at": iso(i.responded_at),
            }
            for i in invitations.filter(invitee=user).order_by("id")
        ],
        "invitations_sent": [
            {
                "group": {"id": i.group.pk, "name": i.group.name},
                "invitee": _person(i.invitee, remarks),
                "status": i.status,
                "created_at": iso(i.created_at),
            }
            for i in invitations.filter(inviter=user).order_by("id")
        ],
    }


def _with_file(payload: dict[str, Any], files: dict[int, str]) -> dict[str, Any]:
    attachment = payload.get("attachment")
    if isinstance(attachment, dict) and attachment.get("id") in files:
        payload["attachment"] = {**attachment, "file": files[attachment["id"]]}
    return payload


def _history(
    member: ConversationMember, remarks: dict[int, str], files: dict[int, str]
) -> Iterable[dict[str, Any]]:
    """The conversation's messages up to where the member may read, oldest first."""
    top = visible_last_seq(member)
    # Folded, like history pages: recalls, edits and reactions are already in the messages.
    rows = (
        Message.objects.filter(conversation_id=member.conversation_id, seq__lte=top)
        .exclude(kind__in=CHANGE_KINDS)
        .select_related("sender", "attachment", "reply_to__sender")
        .prefetch_related("reactions")
        .order_by("seq")
    )
    for message in rows.iterator(chunk_size=BATCH):
        yield _with_file(message_payload(message, remarks=remarks), files)


def _sent(user: User, remarks: dict[int, str], files: dict[int, str]) -> Iterable[dict]:
    # What the user wrote: not their change entries (folded into the messages) nor the
    # system messages written in their name ("You are now friends").
    rows = (
        Message.objects.filter(sender=user)
        .exclude(kind__in=(*CHANGE_KINDS, "system"))
        .select_related("sender", "attachment", "conversation", "reply_to__sender")
        .prefetch_related("reactions")
        .order_by("conversation_id", "seq")
    )
    for message in rows.iterator(chunk_size=BATCH):
        payload = _with_file(message_payload(message, remarks=remarks), files)
        payload["conversation_kind"] = message.conversation.kind
        yield payload


def user_export(*, user: User, out: IO[bytes], include_history: bool = True) -> ExportSummary:
    """Write the user's data as a zip archive into `out` (see the module docstring)."""
    summary = ExportSummary()
    remarks = dict(
        Friendship.objects.filter(user=user).exclude(remark="").values_list("friend_id", "remark")
    )
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        w = _Writer(zf, summary)
        zf.writestr("README.txt", README)

        avatar = None
        if user.avatar:
            suffix = PurePosixPath(str(user.avatar.name)).suffix
            avatar = w.file(f"files/avatar{suffix}", user.avatar)
        w.json("profile.json", _profile(user, avatar))

        uploads = []
        files: dict[int, str] = {}
        for upload in Upload.objects.filter(owner=user).order_by("id"):
            name = w.file(
                f"files/uploads/{PurePosixPath(str(upload.image.name)).name}", upload.image
            )
            if name:
                files[upload.pk] = name
            uploads.append(
                {
                    "id": upload.pk,
                    "file": name,
                    "content_type": upload.content_type,
                    "width": upload.width,
                    "height": upload.height,
                    "size": upload.size,
                    "created_at": iso(upload.created_at),
                }
            )
        w.json("uploads.json", {"uploads": uploads})
        summary.counts["uploads"] = len(uploads)

        friends = _friends(user, remarks)
        w.json("friends.json", friends)
        summary.counts["friends"] = len(friends["friends"])
        groups = _groups(user, remarks)
        w.json("groups.json", groups)
        summary.counts["groups"] = len(groups["groups"])

        members = list(
            ConversationMember.objects.filter(user=user)
            .select_related("conversation", "user")
            .order_by("conversation_id")
        )
        conversations = []
        for member in members:
            row = conversation_row(member=member)
            row["joined_at"] = iso(member.created_at)
            row["readable_up_to_seq"] = visible_last_seq(member)
            if include_history:
                row["messages_file"] = f"conversations/{member.conversation_id}.json"
            conversations.append(row)
        w.json("conversations.json", {"conversations": conversations})
        summary.counts["conversations"] = len(conversations)

        summary.counts["messages_sent"] = w.json_list(
            "messages_sent.json", {}, "messages", _sent(user, remarks, files)
        )
        if include_history:
            readable = 0
            for member in members:
                readable += w.json_list(
                    f"conversations/{member.conversation_id}.json",
                    {"conversation": member.conversation_id},
                    "messages",
                    _history(member, remarks, files),
                )
            summary.counts["messages_readable"] = readable

        reports = MessageReport.objects.filter(reporter=user).select_related("message")
        w.json(
            "reports.json",
            {
                "reports": [
                    {
                        "message": r.message_id,
                        "conversation": r.message.conversation_id,
                        "reason": r.reason,
                        "status": r.status,
                        "created_at": iso(r.created_at),
                        "resolved_at": iso(r.resolved_at),
                    }
                    for r in reports.order_by("id")
                ]
            },
        )
        turns = RobotTurn.objects.filter(user=user).order_by("id")
        w.json(
            "robot.json",
            {"turns": [{"role": t.role, "text": t.text, "at": iso(t.created_at)} for t in turns]},
        )

        w.json(
            "manifest.json",
            {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "generated_at": iso(datetime.now(UTC)),
                "app": app_version(),
                "user": {"id": user.pk, "username": user.username},
                "history_included": include_history,
                "counts": summary.counts,
                "missing_files": summary.missing_files,
            },
        )
    return summary
