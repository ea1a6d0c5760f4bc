"""User payloads shared by REST and the socket (docs/protocol.md §7 User)."""

from typing import Any

from rest_framework import serializers

from accounts.models import User


def avatar_url(user: User) -> str | None:
    return user.avatar.url if user.avatar else None


def user_payload(user: User, *, remark: str | None = None) -> dict[str, Any]:
    """The public User object; `remark` is the viewer's alias for this person, if any."""
    payload: dict[str, Any] = {
        "id": user.pk,
        "username": user.username,
        "nickname": user.nickname or user.username,
        "avatar": avatar_url(user),
    }
    if remark:
        payload["remark"] = remark
    if user.is_robot:
        payload["is_robot"] = True
    return payload


class UserSerializer(serializers.Serializer):
    """docs/protocol.md §7 User, for the schema (`user_payload` builds the responses)."""

    id = serializers.IntegerField()
    username = serializers.CharField()
    nickname = serializers.CharField()
    avatar = serializers.CharField(allow_null=True)
    remark = serializers.CharField(required=False, help_text="The viewer's alias for a friend.")
    is_robot = serializers.BooleanField(
        required=False, help_text="Present (and true) only for the robot: show it as a bot."
    )
