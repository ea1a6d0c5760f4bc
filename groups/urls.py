"""Routes of the /groups/ pages and their form actions."""

from django.urls import path

from groups import views

urlpatterns = [
    path("groups/", views.groups_page, name="groups"),
    path("groups/create/", views.create, name="groups-create"),
    path(
        "groups/invitations/<id:invitation_id>/accept/",
        views.invitation_accept,
        name="groups-invitation-accept",
    ),
    path(
        "groups/invitations/<id:invitation_id>/reject/",
        views.invitation_reject,
        name="groups-invitation-reject",
    ),
    path("groups/<id:group_id>/", views.group_page, name="group"),
    path("groups/<id:group_id>/join/", views.join, name="group-join"),
    path("groups/<id:group_id>/leave/", views.leave, name="group-leave"),
    path("groups/<id:group_id>/update/", views.update, name="group-update"),
    path("groups/<id:group_id>/dissolve/", views.dissolve, name="group-dissolve"),
    path("groups/<id:group_id>/invite/", views.invite, name="group-invite"),
    path("groups/<id:group_id>/transfer/", views.transfer, name="group-transfer"),
    path("groups/<id:group_id>/me/", views.my_settings, name="group-me"),
    path(
        "groups/<id:group_id>/members/<id:user_id>/remove/",
        views.remove,
        name="group-remove",
    ),
    path("groups/<id:group_id>/members/<id:user_id>/role/", views.role, name="group-role"),
]
