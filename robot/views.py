"""The group page's robot buttons: an owner or admin adds or removes the robot."""

from django.http import HttpRequest
from django.utils.translation import gettext_lazy

from groups.views import group_action
from robot.services import robot_group_join, robot_group_leave


@group_action(gettext_lazy("The robot joined the group."))
def robot_add(request: HttpRequest, group_id: int) -> None:
    robot_group_join(user=request.user, group_id=group_id)  # type: ignore[arg-type]


@group_action(gettext_lazy("The robot left the group."))
def robot_remove(request: HttpRequest, group_id: int) -> None:
    robot_group_leave(user=request.user, group_id=group_id)  # type: ignore[arg-type]
