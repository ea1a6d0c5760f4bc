"""REST routes of the friend graph under /api/v1/ (included from accounts.api_urls)."""

from django.urls import path

from friends import api

urlpatterns = [
    path("users/", api.UserSearchApi.as_view(), name="api-users-search"),
    path("users/<id:user_id>/", api.UserDetailApi.as_view(), name="api-user"),
    path("friends/", api.FriendListApi.as_view(), name="api-friends"),
    path("friends/<id:user_id>/", api.FriendDetailApi.as_view(), name="api-friend"),
    path("friend-requests/", api.FriendRequestListApi.as_view(), name="api-friend-requests"),
    path(
        "friend-requests/<id:request_id>/accept/",
        api.FriendRequestAcceptApi.as_view(),
        name="api-friend-request-accept",
    ),
    path(
        "friend-requests/<id:request_id>/reject/",
        api.FriendRequestRejectApi.as_view(),
        name="api-friend-request-reject",
    ),
    path("blocks/", api.BlockListApi.as_view(), name="api-blocks"),
    path("blocks/<id:user_id>/", api.BlockDetailApi.as_view(), name="api-block"),
]
