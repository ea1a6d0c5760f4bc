"""The robot's subscriptions to the lower apps' hooks (connected in `RobotConfig.ready`)."""

from typing import Any

from accounts.models import User
from chat.services.conversations import conversation_robot_ensure
from robot import dispatch


def on_user_registered(sender: Any, *, user: User, **kwargs: Any) -> None:
    """Open the new user's robot conversation, in the registration's transaction."""
    conversation_robot_ensure(user=user)


def on_message_committed(sender: Any, *, message: Any, **kwargs: Any) -> None:
    """Decide off the request path whether to answer a stored message."""
    dispatch.message_committed(message)
