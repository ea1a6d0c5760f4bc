"""Routes of the group page's robot actions."""

from django.urls import path

from robot import views

urlpatterns = [
    path("groups/<id:group_id>/robot/add/", views.robot_add, name="group-robot-add"),
    path("groups/<id:group_id>/robot/remove/", views.robot_remove, name="group-robot-remove"),
]
