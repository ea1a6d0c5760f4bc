"""The admin lists and edits friendships, requests, blocks, groups and memberships."""

import pytest

from accounts.models import Block, FriendRequest, Friendship
from groups.models import Group, GroupInvitation, GroupMember
from groups.services import group_create, group_member_add
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, people):
    boss = UserFactory(username="boss", is_staff=True, is_superuser=True)
    client.force_login(boss)
    g = group_create(owner=people["owner"], name="Hikers", member_ids=[people["member"].pk])
    private = group_create(owner=people["owner"], name="Secret", is_public=False)
    group_member_add(user=people["owner"], group_id=private.pk, invitee_id=people["friend"].pk)
    Block.objects.create(user=people["stranger"], blocked=people["owner"])
    assert g
    return client


@pytest.mark.parametrize(
    "model", [Friendship, FriendRequest, Block, Group, GroupMember, GroupInvitation]
)
def test_admin_lists_and_opens_each_social_model(admin_client, model):
    meta = model._meta
    listing = admin_client.get(f"/admin/{meta.app_label}/{meta.model_name}/")
    assert listing.status_code == 200
    obj = model.objects.first()
    change = admin_client.get(f"/admin/{meta.app_label}/{meta.model_name}/{obj.pk}/change/")
    assert change.status_code == 200


def test_admin_edits_a_member_role_inline(admin_client, people):
    group = Group.objects.get(name="Hikers")
    member = GroupMember.objects.get(group=group, user=people["member"])
    response = admin_client.post(
        f"/admin/groups/groupmember/{member.pk}/change/",
        {"group": group.pk, "user": people["member"].pk, "role": "admin", "alias": "Boss"},
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.role, member.alias) == ("admin", "Boss")
