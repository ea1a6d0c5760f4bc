"""REST for groups (docs/protocol.md §6 `groups/…`): each view parses, calls one service.

A group a user may not see (private and not a member, or dissolved) is `404` everywhere.
"""

from typing import Any

from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api import AvatarUploadSerializer, ErrorSerializer, UserSerializer, parse
from accounts.selectors import friend_remarks
from groups import selectors, services
from groups.models import Group, GroupInvitation, GroupMember
from groups.serializers import group_payload, invitation_payload, member_payload
from happychat.api import IdField, me

# --- shapes ---------------------------------------------------------------------------


class GroupSerializer(serializers.Serializer):
    """docs/protocol.md §7 Group (documentation only)."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    notice = serializers.CharField()
    avatar = serializers.CharField(allow_null=True)
    owner = UserSerializer()
    conversation = serializers.IntegerField()
    member_count = serializers.IntegerField()
    is_public = serializers.BooleanField()
    my_role = serializers.ChoiceField(choices=["owner", "admin", "member"], allow_null=True)


class MemberSerializer(serializers.Serializer):
    user = UserSerializer()
    role = serializers.ChoiceField(choices=GroupMember.Role.choices)
    alias = serializers.CharField()
    joined_at = serializers.DateTimeField()


class GroupMeSerializer(serializers.Serializer):
    alias = serializers.CharField()
    muted = serializers.BooleanField()


InvitationSerializer = inline_serializer(
    "GroupInvitation",
    {
        "id": serializers.IntegerField(),
        "group": inline_serializer(
            "GroupRef",
            {
                "id": serializers.IntegerField(),
                "name": serializers.CharField(),
                "avatar": serializers.CharField(allow_null=True),
            },
        ),
        "inviter": UserSerializer(),
        "invitee": UserSerializer(),
        "status": serializers.ChoiceField(choices=GroupInvitation.Status.choices),
        "created_at": serializers.DateTimeField(),
    },
)


class GroupCreateSerializer(serializers.Serializer):
    name = serializers.CharField(trim_whitespace=False, help_text="1–64 characters.")
    members = serializers.ListField(
        child=IdField(),
        required=False,
        default=list,
        help_text="User ids of friends to add at once.",
    )
    is_public = serializers.BooleanField(
        required=False,
        default=True,
        help_text="Public groups can be found and joined by anyone; private ones only by "
        "invitation.",
    )


class GroupUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, trim_whitespace=False)
    notice = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    is_public = serializers.BooleanField(required=False)
    avatar = serializers.FileField(
        required=False,
        allow_null=True,
        help_text="JPEG, PNG, GIF or WebP, at most 10 MB (multipart); null removes it.",
    )


class UserRefSerializer(serializers.Serializer):
    user = IdField(help_text="A user id.")


class RoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=["admin", "member"])


class GroupMeUpdateSerializer(serializers.Serializer):
    alias = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text="Your name inside this group (群昵称); empty clears it.",
    )
    muted = serializers.BooleanField(required=False)


ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input; nothing changed."),
    403: OpenApiResponse(
        ErrorSerializer, description="`not_member`, `not_friends` or `permission_denied`."
    ),
    404: OpenApiResponse(ErrorSerializer, description="No such group, or not visible to you."),
    409: OpenApiResponse(ErrorSerializer, description="`conflict` with the current state."),
}


def _count(group: Group) -> int:
    """The member count annotated by `selectors.live_groups`."""
    return int(group.num_members)  # type: ignore[attr-defined]


def _group_out(group: Group, user_id: int) -> dict[str, Any]:
    member = selectors.membership_get(group_id=group.pk, user_id=user_id)
    return group_payload(group, my_role=member.role if member else None)


# --- views ----------------------------------------------------------------------------


class GroupListApi(APIView):
    @extend_schema(
        operation_id="groups_list",
        parameters=[OpenApiParameter("search", str, description="Name contains.")],
        responses={200: GroupSerializer(many=True)},
        description="Your groups, then public groups whose name matches `search` (50 at most).",
    )
    def get(self, request: Request) -> Response:
        found = selectors.group_list(user=me(request), query=request.GET.get("search", ""))
        return Response(
            [group_payload(g, my_role=role, member_count=_count(g)) for g, role in found]
        )

    @extend_schema(
        operation_id="groups_create",
        request=GroupCreateSerializer,
        responses={201: GroupSerializer, **ERRORS},
        description="Create a group: you are its owner; `members` must be your friends.",
    )
    def post(self, request: Request) -> Response:
        data = parse(GroupCreateSerializer, request.data)
        group = services.group_create(
            owner=me(request),
            name=data["name"],
            member_ids=data["members"],
            is_public=data["is_public"],
        )
        return Response(_group_out(group, me(request).pk), status=status.HTTP_201_CREATED)


class GroupDetailApi(APIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        operation_id="groups_retrieve", responses={200: GroupSerializer, 404: ErrorSerializer}
    )
    def get(self, request: Request, group_id: int) -> Response:
        group, member = selectors.access_group(user=me(request), group_id=group_id)
        return Response(
            group_payload(
                group,
                my_role=member.role if member else None,
                member_count=_count(group),
            )
        )

    @extend_schema(
        operation_id="groups_update",
        request={
            "application/json": GroupUpdateSerializer,
            "multipart/form-data": GroupUpdateSerializer,
        },
        responses={200: GroupSerializer, **ERRORS},
        description="Rename, change the notice, avatar or visibility (owner or admin).",
    )
    def patch(self, request: Request, group_id: int) -> Response:
        data = parse(GroupUpdateSerializer, request.data)
        group = services.group_update(user=me(request), group_id=group_id, **data)
        return Response(_group_out(group, me(request).pk))

    @extend_schema(
        operation_id="groups_dissolve",
        responses={204: OpenApiResponse(description="Dissolved."), **ERRORS},
        description="Dissolve the group (owner only). Members keep the history they had.",
    )
    def delete(self, request: Request, group_id: int) -> Response:
        services.group_dissolve(user=me(request), group_id=group_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class GroupAvatarApi(APIView):
    # POST because WeChat's wx.uploadFile can only POST (PATCH groups/<id>/ takes it too).
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="groups_avatar_upload",
        request={"multipart/form-data": AvatarUploadSerializer},
        responses={
            200: GroupSerializer,
            **ERRORS,
            503: OpenApiResponse(
                ErrorSerializer,
                description="`busy` (`retryable: true`): the file storage is unreachable; "
                "the old avatar stays. Retry.",
            ),
        },
        description="Replace the group's avatar with the uploaded image (multipart `file`; "
        "owner or admin): the same as PATCH `groups/<id>/` with `avatar`, for clients that "
        "can only POST files (a mini-program's `wx.uploadFile`).",
    )
    def post(self, request: Request, group_id: int) -> Response:
        data = parse(AvatarUploadSerializer, request.data)
        group = services.group_update(user=me(request), group_id=group_id, avatar=data["file"])
        return Response(_group_out(group, me(request).pk))


class GroupJoinApi(APIView):
    @extend_schema(
        operation_id="groups_join",
        request=None,
        responses={200: GroupSerializer, **ERRORS},
        description="Join a public group (private groups: accept an invitation).",
    )
    def post(self, request: Request, group_id: int) -> Response:
        member = services.group_join(user=me(request), group_id=group_id)
        return Response(_group_out(member.group, me(request).pk))


class GroupLeaveApi(APIView):
    @extend_schema(
        operation_id="groups_leave",
        request=None,
        responses={204: OpenApiResponse(description="Left."), **ERRORS},
        description="Leave a group. A leaving owner hands the group to the oldest admin, "
        "else the oldest member (never the robot); the last person leaving dissolves it.",
    )
    def post(self, request: Request, group_id: int) -> Response:
        services.group_leave(user=me(request), group_id=group_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class GroupMembersApi(APIView):
    @extend_schema(
        operation_id="groups_members_list",
        responses={200: MemberSerializer(many=True), 404: ErrorSerializer},
        description="Members: owner, admins, then members.",
    )
    def get(self, request: Request, group_id: int) -> Response:
        group, _member = selectors.access_group(user=me(request), group_id=group_id)
        remarks = friend_remarks(me(request).pk)
        return Response(
            [
                member_payload(m, remark=remarks.get(m.user_id))
                for m in selectors.group_members_sorted(group=group)
            ]
        )

    @extend_schema(
        operation_id="groups_members_add",
        request=UserRefSerializer,
        responses={
            201: OpenApiResponse(MemberSerializer, description="Added (public group)."),
            202: OpenApiResponse(
                InvitationSerializer, description="Invited (private group): they must accept."
            ),
            **ERRORS,
        },
        description="Add a friend to a public group, or invite them to a private one.",
    )
    def post(self, request: Request, group_id: int) -> Response:
        data = parse(UserRefSerializer, request.data)
        result = services.group_member_add(
            user=me(request), group_id=group_id, invitee_id=data["user"]
        )
        if isinstance(result, GroupInvitation):
            return Response(invitation_payload(result), status=status.HTTP_202_ACCEPTED)
        return Response(member_payload(result), status=status.HTTP_201_CREATED)


class GroupMemberDetailApi(APIView):
    @extend_schema(
        operation_id="groups_members_role",
        request=RoleSerializer,
        responses={200: MemberSerializer, **ERRORS},
        description="Appoint or demote an admin (owner only).",
    )
    def patch(self, request: Request, group_id: int, user_id: int) -> Response:
        data = parse(RoleSerializer, request.data)
        member = services.group_member_role_set(
            user=me(request), group_id=group_id, member_user_id=user_id, role=data["role"]
        )
        return Response(member_payload(member))

    @extend_schema(
        operation_id="groups_members_remove",
        responses={204: OpenApiResponse(description="Removed."), **ERRORS},
        description="Remove a member (owner: anyone; admin: plain members).",
    )
    def delete(self, request: Request, group_id: int, user_id: int) -> Response:
        services.group_member_remove(user=me(request), group_id=group_id, member_user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class GroupTransferApi(APIView):
    @extend_schema(
        operation_id="groups_transfer",
        request=UserRefSerializer,
        responses={200: GroupSerializer, **ERRORS},
        description="Hand the group to another member (owner only); you become a member.",
    )
    def post(self, request: Request, group_id: int) -> Response:
        data = parse(UserRefSerializer, request.data)
        group = services.group_owner_transfer(
            user=me(request), group_id=group_id, new_owner_id=data["user"]
        )
        return Response(_group_out(group, me(request).pk))


class GroupMeApi(APIView):
    @extend_schema(
        operation_id="groups_me_update",
        request=GroupMeUpdateSerializer,
        responses={200: GroupMeSerializer, **ERRORS},
        description="Your alias inside the group and whether it is muted for you.",
    )
    def patch(self, request: Request, group_id: int) -> Response:
        data = parse(GroupMeUpdateSerializer, request.data)
        member, muted = services.group_member_settings_set(
            user=me(request), group_id=group_id, **data
        )
        return Response({"alias": member.alias, "muted": muted})


class InvitationListApi(APIView):
    @extend_schema(
        operation_id="group_invitations_list",
        responses={200: serializers.ListSerializer(child=InvitationSerializer)},
        description="Your pending invitations to private groups, newest first.",
    )
    def get(self, request: Request) -> Response:
        invitations = selectors.group_invitation_list(user=me(request))
        return Response([invitation_payload(i) for i in invitations])


class InvitationAcceptApi(APIView):
    @extend_schema(
        operation_id="group_invitations_accept",
        request=None,
        responses={200: GroupSerializer, **ERRORS},
        description="Accept an invitation: join the group.",
    )
    def post(self, request: Request, invitation_id: int) -> Response:
        member = services.group_invitation_accept(user=me(request), invitation_id=invitation_id)
        return Response(_group_out(member.group, me(request).pk))


class InvitationRejectApi(APIView):
    @extend_schema(
        operation_id="group_invitations_reject",
        request=None,
        responses={200: InvitationSerializer, **ERRORS},
        description="Decline an invitation.",
    )
    def post(self, request: Request, invitation_id: int) -> Response:
        invitation = services.group_invitation_reject(user=me(request), invitation_id=invitation_id)
        return Response(invitation_payload(invitation))
