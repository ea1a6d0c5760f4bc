"""REST routes of the robot under /api/v1/."""

from django.urls import path

from robot import api

urlpatterns = [
    path("groups/<id:group_id>/robot/", api.GroupRobotApi.as_view(), name="api-group-robot"),
]
