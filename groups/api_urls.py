"""REST routes of groups under /api/v1/."""

from django.urls import path

from groups import api

urlpatterns = [
    path("groups/", api.GroupListApi.as_view(), name="api-groups"),
    path("groups/<id:group_id>/", api.GroupDetailApi.as_view(), name="api-group"),
    path("groups/<id:group_id>/avatar/", api.GroupAvatarApi.as_view(), name="api-group-avatar"),
    path("groups/<id:group_id>/join/", api.GroupJoinApi.as_view(), name="api-group-join"),
    path("groups/<id:group_id>/leave/", api.GroupLeaveApi.as_view(), name="api-group-leave"),
    path("groups/<id:group_id>/members/", api.GroupMembersApi.as_view(), name="api-group-members"),
    path(
        "groups/<id:group_id>/members/<id:user_id>/",
        api.GroupMemberDetailApi.as_view(),
        name="api-group-member",
    ),
    path(
        "groups/<id:group_id>/transfer/",
        api.GroupTransferApi.as_view(),
        name="api-group-transfer",
    ),
    path("groups/<id:group_id>/me/", api.GroupMeApi.as_view(), name="api-group-me"),
    path("group-invitations/", api.InvitationListApi.as_view(), name="api-group-invitations"),
    path(
        "group-invitations/<id:invitation_id>/accept/",
        api.InvitationAcceptApi.as_view(),
        name="api-group-invitation-accept",
    ),
    path(
        "group-invitations/<id:invitation_id>/reject/",
        api.InvitationRejectApi.as_view(),
        name="api-group-invitation-reject",
    ),
]
