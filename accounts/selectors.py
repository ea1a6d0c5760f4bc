"""Account reads other apps may call (the chat pipeline's sending and naming rules)."""

from accounts.selectors_friends import (
    are_friends,
    blocked_either_way,
    friend_ids,
    friend_remarks,
    is_blocked,
)

__all__ = ["are_friends", "blocked_either_way", "friend_ids", "friend_remarks", "is_blocked"]
