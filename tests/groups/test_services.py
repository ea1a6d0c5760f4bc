"""Group rules: create, edit, dissolve, join, leave, invite, roles, alias and mute, events."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from chat.models import Conversation, ConversationMember
from chat.services.conversations import robot_user
from groups.models import Group, GroupInvitation, GroupMember
from groups.selectors import access_group, group_invitation_list, group_list
from groups.services import (
    group_create,
    group_dissolve,
    group_invitation_accept,
    group_invitation_reject,
    group_join,
    group_leave,
    group_member_add,
    group_member_remove,
    group_member_role_set,
    group_member_settings_set,
    group_owner_transfer,
    group_update,
)
from happychat.errors import (
    Conflict,
    InvalidAttachment,
    InvalidInput,
    NotFound,
    NotFriends,
    NotMember,
    PermissionDenied,
)
from robot.services import robot_group_join
from tests.factories import UserFactory
from tests.groups.conftest import make_friends

pytestmark = pytest.mark.django_db


def roles(group: Group) -> dict[str, str]:
    return {m.user.username: m.role for m in GroupMember.objects.filter(group=group)}


def active(group: Group) -> set[str]:
    return set(
        ConversationMember.objects.filter(
            conversation=group.conversation, is_active=True
        ).values_list("user__username", flat=True)
    )


@pytest.fixture
def group(people) -> Group:
    g = group_create(
        owner=people["owner"], name="Hikers", member_ids=[people["admin"].pk, people["member"].pk]
    )
    group_member_role_set(
        user=people["owner"], group_id=g.pk, member_user_id=people["admin"].pk, role="admin"
    )
    return g


# --- create ---------------------------------------------------------------------------


def test_create_makes_creator_owner_friends_members_and_one_group_conversation(
    people, published, commit
):
    with commit():
        g = group_create(
            owner=people["owner"], name="  Book club ", member_ids=[people["member"].pk]
        )
    assert g.name == "Book club"
    assert g.is_public
    assert g.conversation.kind == Conversation.Kind.GROUP
    assert roles(g) == {"owner": "owner", "member": "member"}
    assert active(g) == {"owner", "member"}
    created = published.events("conversation_created")
    assert sorted(p.user_id for p in created) == sorted([people["owner"].pk, people["member"].pk])
    assert all(p.subscribe == g.conversation_id for p in created)
    data = created[0].data
    assert data["conversation"] == {
        "id": g.conversation_id,
        "kind": "group",
        "peer": None,
        "group": g.pk,
    }
    assert data["group"]["name"] == "Book club"
    assert data["group"]["member_count"] == 2
    assert data["group"]["owner"]["id"] == people["owner"].pk


def test_create_private_group(people):
    g = group_create(owner=people["owner"], name="Secret", is_public=False)
    assert not g.is_public


@pytest.mark.parametrize("name", ["", "   ", "x" * 65, None, 5])
def test_create_with_bad_name_is_refused_and_creates_nothing(people, name):
    with pytest.raises(InvalidInput):
        group_create(owner=people["owner"], name=name)
    assert not Group.objects.exists()
    assert not Conversation.objects.filter(kind="group").exists()


def test_create_with_a_non_friend_member_is_refused_and_creates_nothing(people):
    with pytest.raises(NotFriends):
        group_create(owner=people["owner"], name="G", member_ids=[people["stranger"].pk])
    assert not Group.objects.exists()
    assert not Conversation.objects.filter(kind="group").exists()


# --- visibility and search ------------------------------------------------------------


def test_private_group_is_not_found_for_non_members(people):
    g = group_create(owner=people["owner"], name="Secret", is_public=False)
    with pytest.raises(NotFound):
        access_group(user=people["stranger"], group_id=g.pk)
    assert access_group(user=people["owner"], group_id=g.pk)[1].role == "owner"


def test_search_lists_my_groups_and_matching_public_groups_only(people, group):
    private = group_create(owner=people["owner"], name="Hidden hikers", is_public=False)
    other = group_create(owner=people["friend"], name="Chess")
    found = group_list(user=people["stranger"], query="hik")
    assert [(g.name, role) for g, role in found] == [("Hikers", None)]
    mine = group_list(user=people["owner"], query="")
    assert [(g.name, role) for g, role in mine] == [("Hidden hikers", "owner"), ("Hikers", "owner")]
    assert private.pk not in [g.pk for g, _ in group_list(user=people["member"], query="Hidden")]
    assert [g.pk for g, _ in group_list(user=people["member"], query="chess")] == [other.pk]


def test_dissolved_group_is_not_found(people, group):
    group_dissolve(user=people["owner"], group_id=group.pk)
    with pytest.raises(NotFound):
        access_group(user=people["owner"], group_id=group.pk)
    assert group_list(user=people["owner"], query="") == []


# --- edit -----------------------------------------------------------------------------


def test_owner_and_admin_edit_name_and_notice_and_everyone_hears(people, group, published, commit):
    with commit():
        group_update(user=people["admin"], group_id=group.pk, name="Hill walkers", notice="Sunday")
    group.refresh_from_db()
    assert (group.name, group.notice) == ("Hill walkers", "Sunday")
    updated = published.events("group_updated")
    assert sorted(p.user_id for p in updated) == sorted(
        people[n].pk for n in ("owner", "admin", "member")
    )
    assert updated[0].data["changed"] == ["name", "notice"]
    assert updated[0].data["group"]["name"] == "Hill walkers"
    assert updated[0].data["group"]["notice"] == "Sunday"
    assert updated[0].data["by"] == people["admin"].pk


def test_plain_member_cannot_edit(people, group):
    with pytest.raises(PermissionDenied):
        group_update(user=people["member"], group_id=group.pk, name="Mine now")
    group.refresh_from_db()
    assert group.name == "Hikers"


def test_non_member_cannot_edit_a_public_group(people, group):
    with pytest.raises(NotMember):
        group_update(user=people["stranger"], group_id=group.pk, name="X")


def test_edit_with_bad_values_changes_nothing(people, group):
    for kwargs in ({"name": ""}, {"notice": "n" * 2001}, {"is_public": "yes"}, {}):
        with pytest.raises(InvalidInput):
            group_update(user=people["owner"], group_id=group.pk, **kwargs)
    group.refresh_from_db()
    assert (group.name, group.notice, group.is_public) == ("Hikers", "", True)


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (600, 300), "red").save(out, format="PNG")
    return out.getvalue()


def test_avatar_is_verified_and_resized(people, group):
    upload = SimpleUploadedFile("a.png", png_bytes(), content_type="image/png")
    group_update(user=people["owner"], group_id=group.pk, avatar=upload)
    group.refresh_from_db()
    with Image.open(group.avatar.path) as img:
        assert max(img.size) == 256


def test_avatar_is_cropped_square_and_cleaned_like_every_upload(people, group, settings):
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"
    out = io.BytesIO()
    Image.new("RGB", (600, 300), "red").save(out, format="JPEG", exif=exif.tobytes())
    upload = SimpleUploadedFile("my-holiday.jpg", out.getvalue(), content_type="image/jpeg")
    group_update(user=people["owner"], group_id=group.pk, avatar=upload)
    group.refresh_from_db()
    assert "holiday" not in group.avatar.name
    with Image.open(group.avatar.path) as img:
        assert img.size == (settings.AVATAR_SIZE, settings.AVATAR_SIZE)
        assert not img.getexif()
    with open(group.avatar.path, "rb") as f:
        assert b"SpyCam" not in f.read()


def test_avatar_over_the_pixel_budget_is_refused_without_decoding(people, group, settings):
    settings.UPLOAD_MAX_PIXELS = 10_000
    upload = SimpleUploadedFile("a.png", png_bytes(), content_type="image/png")
    with pytest.raises(InvalidAttachment, match="pixels"):
        group_update(user=people["owner"], group_id=group.pk, avatar=upload)
    group.refresh_from_db()
    assert not group.avatar


def test_avatar_that_is_not_an_image_is_refused(people, group):
    upload = SimpleUploadedFile("a.png", b"not an image", content_type="image/png")
    with pytest.raises(InvalidAttachment):
        group_update(user=people["owner"], group_id=group.pk, avatar=upload)
    group.refresh_from_db()
    assert not group.avatar


# --- join, invite ---------------------------------------------------------------------


def test_anyone_joins_a_public_group_and_the_group_hears(people, group, published, commit):
    with commit():
        group_join(user=people["stranger"], group_id=group.pk)
    assert roles(group)["stranger"] == "member"
    assert "stranger" in active(group)
    joined = {p.user_id: p for p in published.events("group_joined")}
    assert set(joined) == {people[n].pk for n in ("owner", "admin", "member", "stranger")}
    assert joined[people["stranger"].pk].subscribe == group.conversation_id
    assert joined[people["owner"].pk].subscribe is None
    assert joined[people["owner"].pk].data["user"]["id"] == people["stranger"].pk
    assert joined[people["owner"].pk].data["group"]["member_count"] == 4


def test_joining_twice_is_a_conflict(people, group):
    with pytest.raises(Conflict):
        group_join(user=people["member"], group_id=group.pk)


def test_private_group_cannot_be_joined_without_invitation(people):
    g = group_create(owner=people["owner"], name="Secret", is_public=False)
    with pytest.raises(NotFound):
        group_join(user=people["friend"], group_id=g.pk)
    assert "friend" not in roles(g)


def test_member_adds_a_friend_to_a_public_group_at_once(people, group):
    member = group_member_add(
        user=people["owner"], group_id=group.pk, invitee_id=people["friend"].pk
    )
    assert isinstance(member, GroupMember)
    assert roles(group)["friend"] == "member"


def test_only_friends_can_be_added(people, group):
    with pytest.raises(NotFriends):
        group_member_add(user=people["owner"], group_id=group.pk, invitee_id=people["stranger"].pk)
    with pytest.raises(NotMember):
        group_member_add(user=people["friend"], group_id=group.pk, invitee_id=people["owner"].pk)
    with pytest.raises(Conflict):
        group_member_add(user=people["owner"], group_id=group.pk, invitee_id=people["member"].pk)
    assert set(roles(group)) == {"owner", "admin", "member"}


def test_private_group_invitation_waits_for_the_invitee(people, published, commit):
    g = group_create(owner=people["owner"], name="Secret", is_public=False)
    published.clear()
    with commit():
        invitation = group_member_add(
            user=people["owner"], group_id=g.pk, invitee_id=people["friend"].pk
        )
    assert isinstance(invitation, GroupInvitation)
    assert "friend" not in roles(g)
    assert published.recipients("group_invitation") == [people["friend"].pk]
    data = published.events("group_invitation")[0].data["invitation"]
    assert data["group"] == {"id": g.pk, "name": "Secret", "avatar": None}
    assert data["inviter"]["id"] == people["owner"].pk
    assert data["status"] == "pending"
    assert [i.pk for i in group_invitation_list(user=people["friend"])] == [invitation.pk]
    with pytest.raises(Conflict):
        group_member_add(user=people["owner"], group_id=g.pk, invitee_id=people["friend"].pk)

    published.clear()
    with commit():
        group_invitation_accept(user=people["friend"], invitation_id=invitation.pk)
    assert roles(g)["friend"] == "member"
    assert "friend" in active(g)
    assert published.recipients("group_joined") == sorted([people["owner"].pk, people["friend"].pk])
    assert group_invitation_list(user=people["friend"]).count() == 0


def test_only_the_invitee_answers_an_invitation_once(people):
    g = group_create(owner=people["owner"], name="Secret", is_public=False)
    invitation = group_member_add(
        user=people["owner"], group_id=g.pk, invitee_id=people["friend"].pk
    )
    with pytest.raises(NotFound):
        group_invitation_accept(user=people["stranger"], invitation_id=invitation.pk)
    with pytest.raises(NotFound):
        group_invitation_reject(user=people["owner"], invitation_id=invitation.pk)
    group_invitation_reject(user=people["friend"], invitation_id=invitation.pk)
    with pytest.raises(Conflict):
        group_invitation_accept(user=people["friend"], invitation_id=invitation.pk)
    assert "friend" not in roles(g)


def test_rejecting_an_invitation_tells_the_invitees_devices(people, published, commit):
    g = group_create(owner=people["owner"], name="Secret", is_public=False)
    invitation = group_member_add(
        user=people["owner"], group_id=g.pk, invitee_id=people["friend"].pk
    )
    published.clear()
    with commit():
        group_invitation_reject(user=people["friend"], invitation_id=invitation.pk)
    assert published.recipients("group_invitation") == [people["friend"].pk]
    assert published.events()[0].data["invitation"]["status"] == "rejected"


# --- leave, remove --------------------------------------------------------------------


def test_leaving_stops_receiving_but_keeps_history_and_the_group_hears(
    people, group, published, commit
):
    Conversation.objects.filter(pk=group.conversation_id).update(last_seq=7)
    with commit():
        group_leave(user=people["member"], group_id=group.pk)
    assert "member" not in roles(group)
    cm = ConversationMember.objects.get(conversation=group.conversation, user=people["member"])
    assert (cm.is_active, cm.left_seq) == (False, 7)
    left = {p.user_id: p for p in published.events("group_left")}
    assert set(left) == {people[n].pk for n in ("owner", "admin", "member")}
    assert left[people["member"].pk].unsubscribe == group.conversation_id
    assert left[people["owner"].pk].unsubscribe is None
    assert left[people["owner"].pk].data["user"] == people["member"].pk
    assert left[people["owner"].pk].data["reason"] == "left"
    assert left[people["owner"].pk].data["group"]["member_count"] == 2


def test_non_member_cannot_leave(people, group):
    with pytest.raises(NotMember):
        group_leave(user=people["stranger"], group_id=group.pk)


def test_leaving_owner_hands_over_to_the_oldest_admin(people, group, published, commit):
    with commit():
        group_leave(user=people["owner"], group_id=group.pk)
    group.refresh_from_db()
    assert group.owner == people["admin"]
    assert roles(group) == {"admin": "owner", "member": "member"}
    updated = published.events("group_updated")
    assert sorted(p.user_id for p in updated) == sorted([people["admin"].pk, people["member"].pk])
    assert updated[0].data["member"] == {"user": people["admin"].pk, "role": "owner"}


def test_leaving_owner_without_admins_hands_over_to_the_oldest_member(people):
    g = group_create(
        owner=people["owner"], name="G", member_ids=[people["member"].pk, people["friend"].pk]
    )
    group_leave(user=people["owner"], group_id=g.pk)
    g.refresh_from_db()
    assert g.owner == people["member"]
    assert roles(g) == {"member": "owner", "friend": "member"}


def test_last_member_leaving_dissolves_the_group(people, published, commit):
    g = group_create(owner=people["owner"], name="Solo")
    with commit():
        group_leave(user=people["owner"], group_id=g.pk)
    g.refresh_from_db()
    assert g.dissolved_at is not None
    assert published.recipients("group_dissolved") == [people["owner"].pk]


def test_last_person_leaving_dissolves_the_group_even_with_the_robot_in_it(
    people, published, commit
):
    g = group_create(owner=people["owner"], name="Bot and me", member_ids=[people["member"].pk])
    robot_group_join(user=people["owner"], group_id=g.pk)
    group_leave(user=people["member"], group_id=g.pk)
    with commit():
        group_leave(user=people["owner"], group_id=g.pk)
    g.refresh_from_db()
    assert g.dissolved_at is not None
    assert g.owner == people["owner"]
    assert not GroupMember.objects.filter(group=g).exists()
    assert active(g) == set()
    assert people["owner"].pk in published.recipients("group_dissolved")


def test_leaving_owner_never_hands_the_group_to_the_robot(people):
    g = group_create(owner=people["owner"], name="G")
    robot_group_join(user=people["owner"], group_id=g.pk)  # the oldest member after the owner
    group_member_add(user=people["owner"], group_id=g.pk, invitee_id=people["member"].pk)
    group_leave(user=people["owner"], group_id=g.pk)
    g.refresh_from_db()
    assert g.owner == people["member"]
    assert roles(g) == {"member": "owner", "robot": "member"}


def test_an_admin_robot_is_passed_over_for_ownership(people):
    g = group_create(owner=people["owner"], name="G", member_ids=[people["member"].pk])
    robot_group_join(user=people["owner"], group_id=g.pk)
    group_member_role_set(
        user=people["owner"], group_id=g.pk, member_user_id=robot_user().pk, role="admin"
    )
    group_leave(user=people["owner"], group_id=g.pk)
    g.refresh_from_db()
    assert g.owner == people["member"]
    assert roles(g) == {"member": "owner", "robot": "admin"}


def test_ownership_cannot_be_transferred_to_the_robot(people):
    g = group_create(owner=people["owner"], name="G")
    robot_group_join(user=people["owner"], group_id=g.pk)
    with pytest.raises(InvalidInput):
        group_owner_transfer(user=people["owner"], group_id=g.pk, new_owner_id=robot_user().pk)
    assert roles(g) == {"owner": "owner", "robot": "member"}


def test_admin_removes_members_but_not_the_owner_or_other_admins(people, group, published, commit):
    group_member_add(user=people["owner"], group_id=group.pk, invitee_id=people["friend"].pk)
    group_member_role_set(
        user=people["owner"], group_id=group.pk, member_user_id=people["friend"].pk, role="admin"
    )
    for target in ("owner", "friend"):
        with pytest.raises(PermissionDenied):
            group_member_remove(
                user=people["admin"], group_id=group.pk, member_user_id=people[target].pk
            )
    published.clear()
    with commit():
        group_member_remove(
            user=people["admin"], group_id=group.pk, member_user_id=people["member"].pk
        )
    assert "member" not in roles(group)
    assert "member" not in active(group)
    left = {p.user_id: p for p in published.events("group_left")}
    assert left[people["member"].pk].unsubscribe == group.conversation_id
    assert left[people["member"].pk].data["reason"] == "removed"
    assert left[people["member"].pk].data["by"] == people["admin"].pk


def test_owner_removes_an_admin(people, group):
    group_member_remove(user=people["owner"], group_id=group.pk, member_user_id=people["admin"].pk)
    assert "admin" not in roles(group)


def test_member_cannot_remove_and_nobody_removes_themselves(people, group):
    with pytest.raises(PermissionDenied):
        group_member_remove(
            user=people["member"], group_id=group.pk, member_user_id=people["admin"].pk
        )
    with pytest.raises(InvalidInput):
        group_member_remove(
            user=people["owner"], group_id=group.pk, member_user_id=people["owner"].pk
        )
    with pytest.raises(NotFound):
        group_member_remove(
            user=people["owner"], group_id=group.pk, member_user_id=people["stranger"].pk
        )
    assert len(roles(group)) == 3


# --- roles and transfer ---------------------------------------------------------------


def test_owner_appoints_and_demotes_admins_and_the_group_hears(people, group, published, commit):
    with commit():
        group_member_role_set(
            user=people["owner"],
            group_id=group.pk,
            member_user_id=people["admin"].pk,
            role="member",
        )
    assert roles(group)["admin"] == "member"
    updated = published.events("group_updated")
    assert len(updated) == 3
    assert updated[0].data["changed"] == ["roles"]
    assert updated[0].data["member"] == {"user": people["admin"].pk, "role": "member"}


def test_only_the_owner_sets_roles_and_only_admin_or_member(people, group):
    with pytest.raises(PermissionDenied):
        group_member_role_set(
            user=people["admin"],
            group_id=group.pk,
            member_user_id=people["member"].pk,
            role="admin",
        )
    for role in ("owner", "boss", None):
        with pytest.raises(InvalidInput):
            group_member_role_set(
                user=people["owner"],
                group_id=group.pk,
                member_user_id=people["member"].pk,
                role=role,
            )
    with pytest.raises(InvalidInput):
        group_member_role_set(
            user=people["owner"],
            group_id=group.pk,
            member_user_id=people["owner"].pk,
            role="member",
        )
    assert roles(group) == {"owner": "owner", "admin": "admin", "member": "member"}


def test_owner_transfers_ownership_and_becomes_a_member(people, group, published, commit):
    with commit():
        group_owner_transfer(
            user=people["owner"], group_id=group.pk, new_owner_id=people["member"].pk
        )
    group.refresh_from_db()
    assert group.owner == people["member"]
    assert roles(group) == {"owner": "member", "admin": "admin", "member": "owner"}
    updated = published.events("group_updated")
    assert len(updated) == 3
    assert updated[0].data["changed"] == ["owner"]
    assert updated[0].data["group"]["owner"]["id"] == people["member"].pk


def test_transfer_only_by_the_owner_to_a_member(people, group):
    with pytest.raises(PermissionDenied):
        group_owner_transfer(
            user=people["admin"], group_id=group.pk, new_owner_id=people["admin"].pk
        )
    with pytest.raises(NotFound):
        group_owner_transfer(
            user=people["owner"], group_id=group.pk, new_owner_id=people["stranger"].pk
        )
    with pytest.raises(InvalidInput):
        group_owner_transfer(
            user=people["owner"], group_id=group.pk, new_owner_id=people["owner"].pk
        )
    group.refresh_from_db()
    assert group.owner == people["owner"]


# --- dissolve -------------------------------------------------------------------------


def test_owner_dissolves_and_every_member_stops_receiving(people, group, published, commit):
    with commit():
        group_dissolve(user=people["owner"], group_id=group.pk)
    group.refresh_from_db()
    assert group.dissolved_at is not None
    assert active(group) == set()
    dissolved = published.events("group_dissolved")
    assert sorted(p.user_id for p in dissolved) == sorted(
        people[n].pk for n in ("owner", "admin", "member")
    )
    assert all(p.unsubscribe == group.conversation_id for p in dissolved)
    assert dissolved[0].data["group"]["id"] == group.pk


def test_only_the_owner_dissolves(people, group):
    with pytest.raises(PermissionDenied):
        group_dissolve(user=people["admin"], group_id=group.pk)
    group.refresh_from_db()
    assert group.dissolved_at is None


# --- alias and mute -------------------------------------------------------------------


def test_member_sets_alias_and_mute(people, group, published, commit):
    with commit():
        member, muted = group_member_settings_set(
            user=people["member"], group_id=group.pk, alias=" 小明 ", muted=True
        )
    assert member.alias == "小明"
    assert muted
    cm = ConversationMember.objects.get(conversation=group.conversation, user=people["member"])
    assert cm.muted
    updated = published.events("group_updated")
    alias_events = [p for p in updated if p.data["changed"] == ["alias"]]
    mute_events = [p for p in updated if p.data["changed"] == ["muted"]]
    assert len(alias_events) == 3
    assert alias_events[0].data["member"] == {"user": people["member"].pk, "alias": "小明"}
    # Muting is private to the member's own devices.
    assert [p.user_id for p in mute_events] == [people["member"].pk]


def test_alias_too_long_or_nothing_to_change_is_refused(people, group):
    with pytest.raises(InvalidInput):
        group_member_settings_set(user=people["member"], group_id=group.pk, alias="a" * 65)
    with pytest.raises(InvalidInput):
        group_member_settings_set(user=people["member"], group_id=group.pk)
    with pytest.raises(InvalidInput):
        group_member_settings_set(user=people["member"], group_id=group.pk, muted="yes")
    with pytest.raises(NotMember):
        group_member_settings_set(user=people["stranger"], group_id=group.pk, alias="x")
    assert GroupMember.objects.get(group=group, user=people["member"]).alias == ""


def test_ex_member_can_rejoin_a_public_group(people, group):
    group_leave(user=people["member"], group_id=group.pk)
    group_join(user=people["member"], group_id=group.pk)
    assert "member" in active(group)


def test_blocked_friend_cannot_be_added(people, group):
    from friends.services import user_block

    user_block(user=people["friend"], blocked_id=people["owner"].pk)
    with pytest.raises(PermissionDenied):
        group_member_add(user=people["owner"], group_id=group.pk, invitee_id=people["friend"].pk)


def test_new_friend_of_a_member_can_be_invited(people, group):
    newcomer = UserFactory(username="newcomer")
    make_friends(people["member"], newcomer)
    group_member_add(user=people["member"], group_id=group.pk, invitee_id=newcomer.pk)
    assert roles(group)["newcomer"] == "member"
