"""What friends announce to the apps above them (push), which subscribe in `AppConfig.ready`.

- `friend_request_sent(request_id)`: after the transaction that stored a new pending
  request commits. Receivers must return quickly and must not raise: an error is logged
  and never reaches the person who sent the request.
"""

import logging

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger("happychat.hooks")

friend_request_sent = Signal()


def announce_friend_request_sent(request_id: int) -> None:
    """Call every `friend_request_sent` receiver after commit; log what one of them raises."""

    def announce() -> None:
        for receiver, result in friend_request_sent.send_robust(sender=None, request_id=request_id):
            if isinstance(result, Exception):
                logger.error(
                    "friend_request_sent receiver %r failed for request %s",
                    receiver,
                    request_id,
                    exc_info=result,
                )

    transaction.on_commit(announce)
