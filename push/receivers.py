"""Push's subscriptions to the lower apps' hooks (connected in `PushConfig.ready`)."""

from typing import Any

from push import services


def on_message_committed(sender: Any, *, message: Any, **kwargs: Any) -> None:
    """Queue the pushes a stored message may cause (off the request path)."""
    services.message_committed(message)


def on_friend_request_sent(sender: Any, *, request_id: int, **kwargs: Any) -> None:
    """Queue a push to the recipient of a new friend request."""
    services.friend_request_sent(request_id)
