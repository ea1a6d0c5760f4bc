"""Exporting one user's data: what the archive holds, and what it must never hold.

alice is exported. bob is her friend (each gave the other a remark), carol shares a group
with her, she left a second group, dave talks with bob only, erin asked to be her friend,
frank is blocked. Other people's remarks, conversations alice is not in and what was said
after she left must not appear anywhere in the archive's bytes.
"""

from __future__ import annotations

import io
import json
import warnings
import zipfile
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import AsyncClient
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient

from chat.models import ConversationMember
from chat.services import conversation_direct_get_or_create
from chat.services.messages import message_send
from chat.uploads import upload_create
from friends.services import (
    friend_remark_set,
    friend_request_accept,
    friend_request_send,
    user_block,
)
from groups.services import group_create, group_leave, group_member_settings_set
from moderation.services import message_report_create
from ops.export import user_export
from push.models import PushSubscription
from robot.models import RobotTurn
from tests.factories import UserFactory
from tests.ops.sitetool import png

SECRETS = [
    "SECRET-REMARK-BY-BOB",  # bob's remark for alice: bob's data
    "CAROL-PRIVATE-REMARK",  # carol's remark for bob
    "BOB-TO-DAVE-PRIVATE",  # a conversation alice is not in
    "AFTER-ALICE-LEFT",  # said in a group after alice left it
    "bob@example.com",  # other people's e-mail addresses
    "carol@example.com",
]


def befriend(a, b) -> None:
    request = friend_request_send(from_user=a, to_user_id=b.pk)
    friend_request_accept(user=b, request_id=request.pk)


def say(user, conversation_id: int, body: str, client_id: str) -> Any:
    message, _ = message_send(
        sender=user, conversation_id=conversation_id, client_id=client_id, body=body
    )
    return message


@pytest.fixture
def world(db, django_capture_on_commit_callbacks) -> dict[str, Any]:
    people = {n: UserFactory(username=n) for n in ("alice", "bob", "carol", "dave", "erin")}
    people["frank"] = UserFactory(username="frank")
    alice, bob, carol, dave = (people[n] for n in ("alice", "bob", "carol", "dave"))
    befriend(alice, bob)
    befriend(carol, alice)
    befriend(carol, bob)
    befriend(bob, dave)
    friend_remark_set(user=alice, friend_id=bob.pk, remark="Bobby")
    friend_remark_set(user=bob, friend_id=alice.pk, remark="SECRET-REMARK-BY-BOB")
    friend_remark_set(user=carol, friend_id=bob.pk, remark="CAROL-PRIVATE-REMARK")
    friend_request_send(from_user=people["erin"], to_user_id=alice.pk, message="hi from erin")
    user_block(user=alice, blocked_id=people["frank"].pk)

    direct, _ = conversation_direct_get_or_create(user_a=alice, user_b=bob)
    bob_dave, _ = conversation_direct_get_or_create(user_a=bob, user_b=dave)
    say(alice, direct.pk, "hello bob", "a1")
    bob_says = say(bob, direct.pk, "hi alice", "b1")
    say(bob, bob_dave.pk, "BOB-TO-DAVE-PRIVATE", "b2")

    stays = group_create(owner=carol, name="Stays", member_ids=[alice.pk, bob.pk])
    group_member_settings_set(user=alice, group_id=stays.pk, alias="Ally")
    say(carol, stays.conversation_id, "welcome", "c1")
    say(alice, stays.conversation_id, "alice in group", "a2")
    leaves = group_create(owner=carol, name="Leaves", member_ids=[alice.pk])
    say(alice, leaves.conversation_id, "alice before leaving", "a3")
    group_leave(user=alice, group_id=leaves.pk)
    say(carol, leaves.conversation_id, "AFTER-ALICE-LEFT", "c2")

    image = upload_create(
        owner=alice, file=SimpleUploadedFile("p.png", png((1, 2, 3), (120, 90)), "image/png")
    )
    message_send(sender=alice, conversation_id=direct.pk, client_id="a4", kind="image",
                 attachment_id=image.pk)  # fmt: skip
    bobs_image = upload_create(
        owner=bob, file=SimpleUploadedFile("q.png", png((9, 8, 7), (100, 80)), "image/png")
    )
    message_send(sender=bob, conversation_id=direct.pk, client_id="b3", kind="image",
                 attachment_id=bobs_image.pk)  # fmt: skip
    alice.avatar.save("face.png", SimpleUploadedFile("face.png", png((5, 5, 5))))
    message_report_create(reporter=alice, message_id=bob_says.pk, reason="rude")
    RobotTurn.objects.create(user=alice, role="user", text="what time is it")
    _, token_key = AuthToken.objects.create(alice)
    PushSubscription.objects.create(
        user=alice,
        endpoint="https://fcm.googleapis.com/fcm/send/SECRET-ENDPOINT-PATH",
        p256dh="B" * 87,
        auth="SECRET-AUTH-KEY",
        language="en",
    )
    return {
        **people,
        "direct": direct,
        "bob_dave": bob_dave,
        "stays": stays,
        "leaves": leaves,
        "image": image,
        "bobs_image": bobs_image,
        "token_key": token_key,
    }


def export(user, **kwargs: Any) -> zipfile.ZipFile:
    out = io.BytesIO()
    user_export(user=user, out=out, **kwargs)
    out.seek(0)
    return zipfile.ZipFile(out)


def read_json(zf: zipfile.ZipFile, name: str) -> Any:
    return json.loads(zf.read(name))


def everything(zf: zipfile.ZipFile) -> bytes:
    return b"\n".join(zf.read(name) for name in zf.namelist())


def test_archive_lists_the_users_data_in_named_files(world):
    alice = world["alice"]
    zf = export(alice)
    names = set(zf.namelist())
    conversation_ids = set(
        ConversationMember.objects.filter(user=alice).values_list("conversation_id", flat=True)
    )

    assert {
        "README.txt",
        "manifest.json",
        "profile.json",
        "friends.json",
        "groups.json",
        "conversations.json",
        "messages_sent.json",
        "uploads.json",
        "reports.json",
        "robot.json",
        "files/avatar.png",
        f"files/uploads/{world['image'].image.name.rsplit('/', 1)[-1]}",
    } <= names
    assert {n for n in names if n.startswith("conversations/")} == {
        f"conversations/{cid}.json" for cid in conversation_ids
    }
    assert world["bob_dave"].pk not in conversation_ids
    manifest = read_json(zf, "manifest.json")
    assert manifest["format"] == "happychat-user-export"
    assert manifest["user"] == {"id": alice.pk, "username": "alice"}
    assert manifest["counts"]["messages_sent"] == 4
    assert manifest["missing_files"] == []


def test_profile_has_the_account_and_device_metadata_but_no_secret(world):
    alice = world["alice"]
    zf = export(alice)
    profile = read_json(zf, "profile.json")

    assert profile["username"] == "alice"
    assert profile["email"] == "alice@example.com"
    assert profile["email_addresses"] == [
        {"email": "alice@example.com", "verified": True, "primary": True}
    ]
    assert profile["avatar"] == "files/avatar.png"
    assert zf.read("files/avatar.png") == alice.avatar.open("rb").read()
    assert profile["date_joined"]
    assert len(profile["devices"]) == 1
    assert set(profile["devices"][0]) == {"created_at", "expires_at"}
    assert [p["service"] for p in profile["push_subscriptions"]] == ["fcm.googleapis.com"]
    blob = everything(zf)
    assert b"SECRET-ENDPOINT-PATH" not in blob
    assert b"SECRET-AUTH-KEY" not in blob
    token = AuthToken.objects.get(user=alice)
    for secret in (world["token_key"], world["token_key"][:15], token.digest, alice.password):
        assert secret.encode() not in blob


def test_friends_carry_only_the_users_own_remarks(world):
    friends = read_json(export(world["alice"]), "friends.json")

    by_name = {f["user"]["username"]: f for f in friends["friends"]}
    assert set(by_name) == {"bob", "carol"}
    assert by_name["bob"]["remark"] == "Bobby"
    assert by_name["carol"]["remark"] == ""
    received = [(r["from"]["username"], r["message"], r["status"])
                for r in friends["requests_received"]]  # fmt: skip
    assert received == [("carol", "", "accepted"), ("erin", "hi from erin", "pending")]
    assert {r["to"]["username"] for r in friends["requests_sent"]} == {"bob"}
    assert [b["user"]["username"] for b in friends["blocked"]] == ["frank"]


def test_groups_hold_role_and_alias_of_current_groups(world):
    groups = read_json(export(world["alice"]), "groups.json")["groups"]

    assert [(g["name"], g["role"], g["alias"]) for g in groups] == [("Stays", "member", "Ally")]


def test_messages_sent_are_the_users_own_each_with_its_conversation(world):
    alice = world["alice"]
    sent = read_json(export(alice), "messages_sent.json")["messages"]

    assert {m["sender"]["id"] for m in sent} == {alice.pk}
    assert sorted((m["conversation"], m["body"]) for m in sent) == sorted(
        [
            (world["direct"].pk, "hello bob"),
            (world["direct"].pk, ""),
            (world["stays"].conversation_id, "alice in group"),
            (world["leaves"].conversation_id, "alice before leaving"),
        ]
    )
    image = next(m for m in sent if m["kind"] == "image")
    assert image["conversation_kind"] == "direct"
    assert image["attachment"]["file"].startswith("files/uploads/")


def test_histories_stop_where_the_user_may_no_longer_read(world):
    zf = export(world["alice"])
    direct = read_json(zf, f"conversations/{world['direct'].pk}.json")
    left = read_json(zf, f"conversations/{world['leaves'].conversation_id}.json")

    assert direct["conversation"] == world["direct"].pk
    # Becoming friends wrote a system message first ("You are now friends").
    assert direct["messages"][0]["kind"] == "system"
    written = [m for m in direct["messages"] if m["kind"] != "system"]
    assert [m["seq"] for m in written] == [2, 3, 4, 5]
    assert [m["body"] for m in written[:2]] == ["hello bob", "hi alice"]
    # Names as alice sees them: her remark for bob.
    assert written[1]["sender"]["remark"] == "Bobby"
    # bob's picture is referenced, not copied: it is bob's file.
    bobs = written[3]["attachment"]
    assert bobs["id"] == world["bobs_image"].pk
    assert "file" not in bobs
    assert [m["body"] for m in left["messages"] if m["kind"] != "system"] == [
        "alice before leaving"
    ]
    rows = {c["id"]: c for c in read_json(zf, "conversations.json")["conversations"]}
    assert rows[world["leaves"].conversation_id]["is_active"] is False
    # "Carol created the group" (seq 1), then alice's message (seq 2); she left after it.
    assert rows[world["leaves"].conversation_id]["readable_up_to_seq"] == 2


def test_nothing_private_to_others_is_in_the_archive(world):
    blob = everything(export(world["alice"]))

    for secret in SECRETS:
        assert secret.encode() not in blob, secret
    bobs_file = world["bobs_image"].image.open("rb").read()
    assert bobs_file not in blob


def test_uploads_are_included_as_files_with_their_metadata(world):
    zf = export(world["alice"])
    uploads = read_json(zf, "uploads.json")["uploads"]

    assert len(uploads) == 1
    assert uploads[0]["id"] == world["image"].pk
    assert zf.read(uploads[0]["file"]) == world["image"].image.open("rb").read()
    assert read_json(zf, "reports.json")["reports"][0]["reason"] == "rude"
    assert read_json(zf, "robot.json")["turns"][0]["text"] == "what time is it"


def test_an_unreadable_file_is_reported_and_the_rest_exported(world):
    image = world["image"]
    image.image.storage.delete(image.image.name)

    zf = export(world["alice"])

    assert read_json(zf, "manifest.json")["missing_files"] == [image.image.name]
    assert read_json(zf, "uploads.json")["uploads"][0]["file"] is None
    assert read_json(zf, "profile.json")["avatar"] == "files/avatar.png"


def test_sent_only_leaves_out_the_histories(world):
    zf = export(world["alice"], include_history=False)

    assert not [n for n in zf.namelist() if n.startswith("conversations/")]
    assert read_json(zf, "manifest.json")["history_included"] is False
    assert len(read_json(zf, "messages_sent.json")["messages"]) == 4


# --- command and REST -----------------------------------------------------------------


def test_export_user_command_writes_the_archive(world, tmp_path, capsys):
    out = tmp_path / "alice.zip"

    call_command("export_user", "ALICE", "--out", str(out))

    assert "Exported alice to" in capsys.readouterr().out
    with zipfile.ZipFile(out) as zf:
        assert read_json(zf, "profile.json")["username"] == "alice"
    assert not list(tmp_path.glob("*.partial"))


def test_export_user_command_refuses_unknown_users_and_existing_files(world, tmp_path):
    existing = tmp_path / "there.zip"
    existing.write_bytes(b"keep")

    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("export_user", "nobody", "--out", str(tmp_path / "x.zip"))
    with pytest.raises(CommandError, match="exists"):
        call_command("export_user", "alice", "--out", str(existing))
    assert existing.read_bytes() == b"keep"


def test_users_download_their_own_export_and_nobody_elses(world):
    anonymous = APIClient().get(reverse("api-me-export"))
    assert anonymous.status_code in (401, 403)

    # Through the ASGI handler, as under daphne: the zip is streamed chunk by chunk.
    client = AsyncClient()
    client.force_login(world["bob"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        response = async_to_sync(client.get)(reverse("api-me-export"))
        body = async_to_sync(read_all)(response)

    # A synchronous iterator would have been read whole into memory first, with a warning.
    assert not [w for w in caught if "StreamingHttpResponse" in str(w.message)]
    assert response.status_code == 200
    assert response.is_async
    assert response["Content-Type"] == "application/zip"
    assert 'attachment; filename="happychat-bob-' in response["Content-Disposition"]
    assert len(body) == int(response["Content-Length"])
    zf = zipfile.ZipFile(io.BytesIO(body))
    assert read_json(zf, "profile.json")["username"] == "bob"
    assert b"SECRET-REMARK-BY-BOB" in everything(zf)  # bob's own remark, in bob's export
    assert b"CAROL-PRIVATE-REMARK" not in everything(zf)


async def read_all(response) -> bytes:
    return b"".join([chunk async for chunk in response.streaming_content])


def test_export_endpoint_is_rate_limited(world, monkeypatch):
    from django.core.cache import cache
    from rest_framework.throttling import SimpleRateThrottle

    cache.clear()
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "export", "2/hour")
    client = APIClient()
    client.force_authenticate(world["carol"])
    url = reverse("api-me-export")

    codes = [client.get(url).status_code for _ in range(3)]

    assert codes == [200, 200, 429]
    cache.clear()
