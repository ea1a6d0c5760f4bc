"""REST for the robot in groups: an owner or admin adds or removes it."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from groups.api import ERRORS, MemberSerializer
from groups.serializers import member_payload
from happychat.api import me
from robot.services import robot_group_join, robot_group_leave


class GroupRobotApi(APIView):
    @extend_schema(
        operation_id="groups_robot_add",
        request=None,
        responses={201: MemberSerializer, **ERRORS},
        description="Add the robot to the group (owner or admin); it answers when mentioned "
        "(`@robot …`). `conflict` if it is already there.",
    )
    def post(self, request: Request, group_id: int) -> Response:
        member = robot_group_join(user=me(request), group_id=group_id)
        return Response(member_payload(member), status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="groups_robot_remove",
        responses={204: OpenApiResponse(description="Removed."), **ERRORS},
        description="Remove the robot from the group (owner or admin); `not_found` if it is "
        "not there.",
    )
    def delete(self, request: Request, group_id: int) -> Response:
        robot_group_leave(user=me(request), group_id=group_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
