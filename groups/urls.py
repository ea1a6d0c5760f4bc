"""Routes of the /groups/ pages and their form actions."""

from django.urls import path

from groups import views

urlpatterns = [
    path("groups/", views.groups_page, name="groups"),
    path("groups/create/", views.create, name="groups-create"),
    path(
        "groups/invitations/<int:invitation_id>/accept/",
        views.invitation_accept,
        name="groups-invitation-accept",
    ),
    path(
        "groups/invitations/<int:invitation_id>/reject/",
        views.invitation_reject,
        name="groups-invitation-reject",
    ),
    path("groups/<int:group_id>/", views.group_page, name="group"),
    path("groups/<int:group_id>/join/", views.join, name="group-join"),
    path("groups/<int:group_id>/leave/", views.leave, name="group-leave"),
    path("groups/<int:group_id>/update/", views.update, name="group-update"),
    path("groups/<int:group_id>/dissolve/", views.dissolve, name="group-dissolve"),
    path("groups/<int:group_id>/invite/", views.invite, name="group-invite"),
    path("groups/<int:group_id>/transfer/", views.transfer, name="group-transfer"),
    path("groups/<int:group_id>/me/", views.my_settings, name="group-me"),
    path(
        "groups/<int:group_id>/members/<int:user_id>/remove/",
        views.remove,
        name="group-remove",
    ),
    path("groups/<int:group_id>/members/<int:user_id>/role/", views.role, name="group-role"),
]
