"""The /groups/ pages: render, act through the services, say errors in words, hide privates."""

import pytest
from django.test import Client

from groups.models import Group, GroupInvitation, GroupMember
from groups.services import group_create, group_member_add

pytestmark = pytest.mark.django_db


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_groups_page_creates_a_group_with_friends(people):
    owner = browser(people["owner"])
    assert owner.get("/groups/").status_code == 200
    response = owner.post(
        "/groups/create/",
        {"name": "Hikers", "is_public": "on", "members": [people["member"].pk]},
        follow=True,
    )
    group = Group.objects.get()
    assert response.redirect_chain[-1][0] == f"/groups/{group.pk}/"
    assert "Group created." in response.content.decode()
    assert set(GroupMember.objects.filter(group=group).values_list("role", flat=True)) == {
        "owner",
        "member",
    }


def test_create_without_a_name_says_why_and_creates_nothing(people):
    response = browser(people["owner"]).post("/groups/create/", {"name": " "}, follow=True)
    assert "A group needs a name." in response.content.decode()
    assert not Group.objects.exists()


def test_group_names_are_escaped(people):
    group_create(owner=people["owner"], name="<b>bold</b>")
    page = browser(people["owner"]).get("/groups/").content.decode()
    assert "&lt;b&gt;bold&lt;/b&gt;" in page
    assert "<b>bold</b>" not in page


def test_private_group_page_is_404_for_outsiders(people):
    g = group_create(owner=people["owner"], name="Secret", is_public=False)
    response = browser(people["stranger"]).get(f"/groups/{g.pk}/")
    assert response.status_code == 404
    assert b"Secret" not in response.content


def test_search_join_and_leave_from_the_pages(people):
    g = group_create(owner=people["owner"], name="Open Field")
    stranger = browser(people["stranger"])
    assert "Open Field" in stranger.get("/groups/?q=field").content.decode()
    stranger.post(f"/groups/{g.pk}/join/")
    assert GroupMember.objects.filter(group=g, user=people["stranger"]).exists()
    response = stranger.post(f"/groups/{g.pk}/leave/", follow=True)
    assert "You left the group." in response.content.decode()
    assert not GroupMember.objects.filter(group=g, user=people["stranger"]).exists()


def test_invitation_to_private_group_accepted_from_the_page(people):
    g = group_create(owner=people["owner"], name="Secret", is_public=False)
    response = browser(people["owner"]).post(
        f"/groups/{g.pk}/invite/", {"user": people["friend"].pk}, follow=True
    )
    assert "Invitation sent" in response.content.decode()
    friend = browser(people["friend"])
    invitation = GroupInvitation.objects.get()
    assert "Secret" in friend.get("/groups/").content.decode()
    friend.post(f"/groups/invitations/{invitation.pk}/accept/")
    assert GroupMember.objects.filter(group=g, user=people["friend"]).exists()


def test_member_cannot_remove_and_is_told_in_words(people):
    g = group_create(
        owner=people["owner"], name="G", member_ids=[people["member"].pk, people["admin"].pk]
    )
    response = browser(people["member"]).post(
        f"/groups/{g.pk}/members/{people['admin'].pk}/remove/", follow=True
    )
    assert "Only the group" in response.content.decode()
    assert GroupMember.objects.filter(group=g).count() == 3


def test_owner_edits_notice_and_members_see_it(people):
    g = group_create(owner=people["owner"], name="G", member_ids=[people["member"].pk])
    browser(people["owner"]).post(
        f"/groups/{g.pk}/update/", {"name": "G2", "notice": "Meet <at> 9", "is_public": "on"}
    )
    page = browser(people["member"]).get(f"/groups/{g.pk}/").content.decode()
    assert "Meet &lt;at&gt; 9" in page
    assert "G2" in page


def test_pages_refuse_posts_without_csrf(people):
    g = group_create(owner=people["owner"], name="G")
    client = Client(enforce_csrf_checks=True)
    client.force_login(people["stranger"])
    assert client.post(f"/groups/{g.pk}/join/").status_code == 403
    assert not GroupMember.objects.filter(group=g, user=people["stranger"]).exists()


def test_group_pages_need_login(client):
    response = client.get("/groups/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_public_add_from_page(people):
    g = group_create(owner=people["owner"], name="Open")
    group_member_add(user=people["owner"], group_id=g.pk, invitee_id=people["member"].pk)
    page = browser(people["owner"]).get(f"/groups/{g.pk}/").content.decode()
    assert 'data-testid="member-member"' in page


def test_owner_adds_and_removes_the_robot_from_the_page(people):
    g = group_create(owner=people["owner"], name="G", member_ids=[people["member"].pk])
    owner = browser(people["owner"])
    assert 'data-testid="robot-add"' in owner.get(f"/groups/{g.pk}/").content.decode()

    response = owner.post(f"/groups/{g.pk}/robot/add/", follow=True)

    page = response.content.decode()
    assert "The robot joined the group." in page
    assert 'data-testid="member-robot"' in page
    assert 'data-testid="robot-remove"' in page
    assert GroupMember.objects.filter(group=g, user__is_robot=True).exists()
    response = owner.post(f"/groups/{g.pk}/robot/remove/", follow=True)
    assert "The robot left the group." in response.content.decode()
    assert not GroupMember.objects.filter(group=g, user__is_robot=True).exists()


def test_plain_member_sees_no_robot_button_and_cannot_add_it(people):
    g = group_create(owner=people["owner"], name="G", member_ids=[people["member"].pk])
    member = browser(people["member"])
    assert 'data-testid="robot-add"' not in member.get(f"/groups/{g.pk}/").content.decode()

    response = member.post(f"/groups/{g.pk}/robot/add/", follow=True)

    assert "Only the owner or an admin can add the robot." in response.content.decode()
    assert not GroupMember.objects.filter(group=g, user__is_robot=True).exists()
