"""REST shapes of groups: the Group object, members with roles and remarks, avatar upload."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from chat.models import ConversationMember
from groups.models import Group

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_create_answers_the_group_object(people):
    response = client_for(people["owner"]).post(
        "/api/v1/groups/",
        {"name": "Hikers", "members": [people["member"].pk], "is_public": False},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    group = Group.objects.get()
    assert body == {
        "id": group.pk,
        "name": "Hikers",
        "notice": "",
        "avatar": None,
        "owner": {
            "id": people["owner"].pk,
            "username": "owner",
            "nickname": "Owner",
            "avatar": None,
        },
        "conversation": group.conversation_id,
        "member_count": 2,
        "is_public": False,
        "my_role": "owner",
    }


def test_create_with_a_stranger_is_403_not_friends(people):
    response = client_for(people["owner"]).post(
        "/api/v1/groups/", {"name": "G", "members": [people["stranger"].pk]}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "not_friends"
    assert not Group.objects.exists()


def test_list_shows_my_role_and_counts(people):
    owner = client_for(people["owner"])
    gid = owner.post("/api/v1/groups/", {"name": "Hikers"}, format="json").json()["id"]
    stranger = client_for(people["stranger"])
    assert stranger.get("/api/v1/groups/?search=hik").json()[0]["my_role"] is None
    assert stranger.post(f"/api/v1/groups/{gid}/join/").json()["my_role"] == "member"
    listed = stranger.get("/api/v1/groups/").json()
    assert [(g["id"], g["my_role"], g["member_count"]) for g in listed] == [(gid, "member", 2)]


def test_members_list_shows_roles_aliases_and_the_viewers_remarks(people):
    owner = client_for(people["owner"])
    gid = owner.post(
        "/api/v1/groups/", {"name": "G", "members": [people["member"].pk]}, format="json"
    ).json()["id"]
    owner.patch(f"/api/v1/friends/{people['member'].pk}/", {"remark": "Mem"}, format="json")
    client_for(people["member"]).patch(f"/api/v1/groups/{gid}/me/", {"alias": "M"}, format="json")
    members = owner.get(f"/api/v1/groups/{gid}/members/").json()
    assert [(m["user"]["username"], m["role"], m["alias"]) for m in members] == [
        ("owner", "owner", ""),
        ("member", "member", "M"),
    ]
    assert members[1]["user"]["remark"] == "Mem"


def test_mute_over_rest_mutes_the_conversation(people):
    owner = client_for(people["owner"])
    gid = owner.post("/api/v1/groups/", {"name": "G"}, format="json").json()["id"]
    response = owner.patch(f"/api/v1/groups/{gid}/me/", {"muted": True}, format="json")
    assert response.json() == {"alias": "", "muted": True}
    group = Group.objects.get(pk=gid)
    assert ConversationMember.objects.get(
        conversation=group.conversation, user=people["owner"]
    ).muted


def test_avatar_upload_by_multipart(people):
    owner = client_for(people["owner"])
    gid = owner.post("/api/v1/groups/", {"name": "G"}, format="json").json()["id"]
    buf = io.BytesIO()
    Image.new("RGB", (40, 40), "blue").save(buf, format="JPEG")
    upload = SimpleUploadedFile("a.jpg", buf.getvalue(), content_type="image/jpeg")
    response = owner.patch(f"/api/v1/groups/{gid}/", {"avatar": upload}, format="multipart")
    assert response.status_code == 200, response.content
    assert response.json()["avatar"].startswith("/media/group-avatars/")
    bad = SimpleUploadedFile("a.jpg", b"nope", content_type="image/jpeg")
    response = owner.patch(f"/api/v1/groups/{gid}/", {"avatar": bad}, format="multipart")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_attachment"


def jpeg(colour: str = "blue") -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", (40, 40), colour).save(buf, format="JPEG")
    return SimpleUploadedFile("a.jpg", buf.getvalue(), content_type="image/jpeg")


def test_avatar_by_post_for_clients_that_can_only_post_files(people):
    owner = client_for(people["owner"])
    gid = owner.post(
        "/api/v1/groups/",
        {"name": "G", "members": [people["admin"].pk, people["member"].pk], "is_public": False},
        format="json",
    ).json()["id"]
    owner.patch(f"/api/v1/groups/{gid}/members/{people['admin'].pk}/", {"role": "admin"})
    url = f"/api/v1/groups/{gid}/avatar/"

    response = client_for(people["admin"]).post(url, {"file": jpeg()}, format="multipart")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["avatar"].startswith("/media/group-avatars/")
    assert body["my_role"] == "admin"
    assert Group.objects.get(pk=gid).avatar.name.endswith(body["avatar"].split("/")[-1])
    refused = {
        name: client_for(people[name]).post(url, {"file": jpeg("red")}, format="multipart")
        for name in ("member", "stranger")
    }
    assert refused["member"].status_code == 403
    assert refused["stranger"].status_code == 404
    bad = SimpleUploadedFile("a.jpg", b"nope", content_type="image/jpeg")
    assert owner.post(url, {"file": bad}, format="multipart").json()["code"] == (
        "invalid_attachment"
    )
    assert owner.post(url, {}, format="multipart").json()["errors"].keys() == {"file"}
    assert Group.objects.get(pk=gid).avatar.name.endswith(body["avatar"].split("/")[-1])


def test_private_group_invitation_over_rest(people):
    owner = client_for(people["owner"])
    gid = owner.post("/api/v1/groups/", {"name": "G", "is_public": False}, format="json").json()[
        "id"
    ]
    invited = owner.post(f"/api/v1/groups/{gid}/members/", {"user": people["friend"].pk})
    assert invited.status_code == 202
    friend = client_for(people["friend"])
    assert friend.get(f"/api/v1/groups/{gid}/").status_code == 404
    pending = friend.get("/api/v1/group-invitations/").json()
    assert [i["group"]["id"] for i in pending] == [gid]
    joined = friend.post(f"/api/v1/group-invitations/{pending[0]['id']}/accept/")
    assert joined.status_code == 200
    assert joined.json()["my_role"] == "member"
    assert friend.get(f"/api/v1/groups/{gid}/").status_code == 200
