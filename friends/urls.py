"""Routes of the /friends/ page and its form actions (included from accounts.urls)."""

from django.urls import path

from friends import views

urlpatterns = [
    path("friends/", views.friends_page, name="friends"),
    path("friends/request/", views.request_send, name="friends-request"),
    path(
        "friends/requests/<id:request_id>/accept/",
        views.request_accept,
        name="friends-request-accept",
    ),
    path(
        "friends/requests/<id:request_id>/reject/",
        views.request_reject,
        name="friends-request-reject",
    ),
    path("friends/<id:user_id>/remark/", views.remark_set, name="friends-remark"),
    path("friends/<id:user_id>/delete/", views.friend_delete, name="friends-delete"),
    path("friends/block/", views.block, name="friends-block"),
    path("friends/<id:user_id>/unblock/", views.unblock, name="friends-unblock"),
]
