"""Who may call what: every friends and groups endpoint × every relationship to the data.

The scene: `owner` owns a private group "Secret Garden" (and a public one, "Open Field")
with `admin` and `member`; `exmember` was in both and left; `friend` is the owner's friend
outside the groups; `stranger` knows nobody. `newbie` is every member's friend; `asker` has
asked the owner to be friends; `friend` has an invitation to the private group. The robot
is in the public group only.
"""

from dataclasses import dataclass
from typing import Any

import pytest
from rest_framework.test import APIClient

from friends.services import friend_request_send
from groups.models import Group, GroupMember
from groups.services import (
    group_create,
    group_leave,
    group_member_add,
    group_member_role_set,
)
from robot.services import robot_group_join
from tests.factories import UserFactory
from tests.groups.conftest import make_friends

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "stranger", "friend", "member", "admin", "owner", "exmember"]
SECRET = "Secret Garden"


@dataclass
class Scene:
    users: dict[str, Any]
    private: Group
    public: Group
    request_id: int
    invitation_id: int

    def fill(self, template: str) -> str:
        return template.format(
            g=self.private.pk,
            p=self.public.pk,
            owner=self.users["owner"].pk,
            member=self.users["member"].pk,
            req=self.request_id,
            inv=self.invitation_id,
        )


@pytest.fixture
def scene(people) -> Scene:
    newbie = UserFactory(username="newbie")
    for name in ("owner", "admin", "member", "exmember"):
        make_friends(newbie, people[name])
    asker = UserFactory(username="asker")
    request = friend_request_send(from_user=asker, to_user_id=people["owner"].pk)
    groups = []
    for name, public in ((SECRET, False), ("Open Field", True)):
        g = group_create(
            owner=people["owner"],
            name=name,
            is_public=public,
            member_ids=[people["admin"].pk, people["member"].pk, people["exmember"].pk],
        )
        group_member_role_set(
            user=people["owner"], group_id=g.pk, member_user_id=people["admin"].pk, role="admin"
        )
        group_leave(user=people["exmember"], group_id=g.pk)
        groups.append(g)
    invitation = group_member_add(
        user=people["owner"], group_id=groups[0].pk, invitee_id=people["friend"].pk
    )
    robot_group_join(user=people["owner"], group_id=groups[1].pk)
    return Scene({**people, "newbie": newbie}, groups[0], groups[1], request.pk, invitation.pk)


def row(method: str, path: str, body: dict | None, **expected: int) -> tuple:
    statuses = [expected[r] for r in ROLES[1:]]
    return (method, path, body, statuses)


NON = {"stranger": 404, "friend": 404, "exmember": 404}  # outsiders of the private group
ALL_OK = dict.fromkeys(ROLES[1:], 200)

MATRIX = [
    # friends (the owner is everyone's friend but the stranger's)
    row("get", "users/?search=own", None, **ALL_OK),
    row("get", "friends/", None, **ALL_OK),
    row(
        "patch",
        "friends/{owner}/",
        {"remark": "boss"},
        stranger=404,
        friend=200,
        member=200,
        admin=200,
        owner=404,
        exmember=200,
    ),
    row(
        "delete",
        "friends/{owner}/",
        None,
        stranger=404,
        friend=204,
        member=204,
        admin=204,
        owner=404,
        exmember=204,
    ),
    row("get", "friend-requests/", None, **ALL_OK),
    row(
        "post",
        "friend-requests/",
        {"to": "{owner}"},
        stranger=201,
        friend=409,
        member=409,
        admin=409,
        owner=400,
        exmember=409,
    ),
    row(
        "post",
        "friend-requests/{req}/accept/",
        None,
        stranger=404,
        friend=404,
        member=404,
        admin=404,
        owner=200,
        exmember=404,
    ),
    row(
        "post",
        "friend-requests/{req}/reject/",
        None,
        stranger=404,
        friend=404,
        member=404,
        admin=404,
        owner=200,
        exmember=404,
    ),
    row("get", "blocks/", None, **ALL_OK),
    row(
        "post",
        "blocks/",
        {"user": "{owner}"},
        stranger=201,
        friend=201,
        member=201,
        admin=201,
        owner=400,
        exmember=201,
    ),
    row("delete", "blocks/{owner}/", None, **dict.fromkeys(ROLES[1:], 404)),
    # groups: the private one
    row("get", "groups/", None, **ALL_OK),
    row("post", "groups/", {"name": "New"}, **dict.fromkeys(ROLES[1:], 201)),
    row("get", "groups/{g}/", None, **NON, member=200, admin=200, owner=200),
    row("patch", "groups/{g}/", {"name": "Renamed"}, **NON, member=403, admin=200, owner=200),
    row("delete", "groups/{g}/", None, **NON, member=403, admin=403, owner=204),
    row("post", "groups/{g}/join/", None, **NON, member=409, admin=409, owner=409),
    row("post", "groups/{g}/leave/", None, **NON, member=204, admin=204, owner=204),
    row("get", "groups/{g}/members/", None, **NON, member=200, admin=200, owner=200),
    row("post", "groups/{g}/members/", {"user": "newbie"}, **NON, member=202, admin=202, owner=202),
    row(
        "patch",
        "groups/{g}/members/{member}/",
        {"role": "admin"},
        **NON,
        member=403,
        admin=403,
        owner=200,
    ),
    row("delete", "groups/{g}/members/{member}/", None, **NON, member=403, admin=204, owner=204),
    row(
        "post",
        "groups/{g}/transfer/",
        {"user": "{member}"},
        **NON,
        member=403,
        admin=403,
        owner=200,
    ),
    row(
        "patch",
        "groups/{g}/me/",
        {"alias": "me", "muted": True},
        **NON,
        member=200,
        admin=200,
        owner=200,
    ),
    row("post", "groups/{g}/robot/", None, **NON, member=403, admin=201, owner=201),
    # the robot is not in the private group: nothing to remove
    row("delete", "groups/{g}/robot/", None, **NON, member=403, admin=404, owner=404),
    row("get", "group-invitations/", None, **ALL_OK),
    row(
        "post",
        "group-invitations/{inv}/accept/",
        None,
        stranger=404,
        friend=200,
        member=404,
        admin=404,
        owner=404,
        exmember=404,
    ),
    row(
        "post",
        "group-invitations/{inv}/reject/",
        None,
        stranger=404,
        friend=200,
        member=404,
        admin=404,
        owner=404,
        exmember=404,
    ),
    # groups: the public one, which anyone signed in may see and join
    row("get", "groups/{p}/", None, **ALL_OK),
    row("get", "groups/{p}/members/", None, **ALL_OK),
    row(
        "patch",
        "groups/{p}/",
        {"notice": "n"},
        stranger=403,
        friend=403,
        member=403,
        admin=200,
        owner=200,
        exmember=403,
    ),
    row(
        "delete",
        "groups/{p}/",
        None,
        stranger=403,
        friend=403,
        member=403,
        admin=403,
        owner=204,
        exmember=403,
    ),
    row(
        "post",
        "groups/{p}/join/",
        None,
        stranger=200,
        friend=200,
        member=409,
        admin=409,
        owner=409,
        exmember=200,
    ),
    row(
        "post",
        "groups/{p}/leave/",
        None,
        stranger=403,
        friend=403,
        member=204,
        admin=204,
        owner=204,
        exmember=403,
    ),
    row(
        "post",
        "groups/{p}/members/",
        {"user": "newbie"},
        stranger=403,
        friend=403,
        member=201,
        admin=201,
        owner=201,
        exmember=403,
    ),
    row(
        "delete",
        "groups/{p}/members/{member}/",
        None,
        stranger=403,
        friend=403,
        member=403,
        admin=204,
        owner=204,
        exmember=403,
    ),
    row(
        "post",
        "groups/{p}/robot/",
        None,
        stranger=403,
        friend=403,
        member=403,
        admin=409,
        owner=409,
        exmember=403,
    ),
    row(
        "delete",
        "groups/{p}/robot/",
        None,
        stranger=403,
        friend=403,
        member=403,
        admin=204,
        owner=204,
        exmember=403,
    ),
    row(
        "patch",
        "groups/{p}/me/",
        {"alias": "me"},
        stranger=403,
        friend=403,
        member=200,
        admin=200,
        owner=200,
        exmember=403,
    ),
]


def body_for(scene: Scene, body: dict | None) -> dict | None:
    if body is None:
        return None
    out = {}
    for key, value in body.items():
        if value == "newbie":
            value = scene.users["newbie"].pk
        elif isinstance(value, str) and value.startswith("{"):
            value = int(scene.fill(value))
        out[key] = value
    return out


CASES = [
    pytest.param(method, path, body, role, status, id=f"{method} {path} as {role}")
    for method, path, body, statuses in MATRIX
    for role, status in zip(["anonymous", *ROLES[1:]], [None, *statuses], strict=True)
]


@pytest.mark.parametrize(("method", "path", "body", "role", "expected"), CASES)
def test_endpoint_answers_each_role_as_expected(scene, method, path, body, role, expected):
    client = APIClient()
    if role != "anonymous":
        client.force_authenticate(scene.users[role])
    url = "/api/v1/" + scene.fill(path)
    response = getattr(client, method)(url, body_for(scene, body), format="json")
    if role == "anonymous":
        assert response.status_code in (401, 403)
        return
    assert response.status_code == expected, response.content
    if expected == 404:
        # Never a hint of what is behind it.
        assert SECRET.encode() not in response.content
        assert response.json()["code"] == "not_found"


def test_private_group_never_shows_up_in_an_outsiders_search(scene):
    for role in ("stranger", "friend", "exmember"):
        client = APIClient()
        client.force_authenticate(scene.users[role])
        response = client.get("/api/v1/groups/?search=Secret")
        assert response.status_code == 200
        assert response.json() == []


def test_ex_member_keeps_no_membership(scene):
    assert not GroupMember.objects.filter(user=scene.users["exmember"]).exists()
