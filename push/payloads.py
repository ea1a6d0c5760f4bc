"""What a push says: the JSON the service worker shows, in the subscriber's language.

Shape (docs/protocol.md, "Web Push"): {type, title, body, url, tag, lang, sent_at} plus
`conversation` (messages) or `request` (friend requests). How much a message push
reveals is `WEBPUSH_PREVIEW`: "text" (sender and a preview, the default, like WeChat),
"sender" (who wrote, not what), or "none" (only that something arrived). Push services
see only ciphertext either way (RFC 8291); this setting is about the lock screen.
"""

from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

PREVIEW_CHARS = 120
FRIEND_REQUESTS_URL = "/contacts/requests/"


def conversation_url(conversation_id: int) -> str:
    """Where a click on a message notification leads (the app routes it)."""
    return f"/chats/{conversation_id}/"


def conversation_tag(conversation_id: int) -> str:
    """The notification tag: the page's own notifications use the same one, so they merge."""
    return f"conversation-{conversation_id}"


def _preview(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


def message_push(
    *,
    language: str,
    conversation_id: int,
    kind: str,
    sender_name: str,
    group_name: str | None,
    message_kind: str,
    body: str,
    sent_at: str,
    mentioned: bool = False,
) -> dict[str, Any]:
    """The push for one new message, as `language` reads it."""
    mode = settings.WEBPUSH_PREVIEW
    with translation.override(language or settings.LANGUAGE_CODE):
        text = _("[Image]") if message_kind == "image" else _preview(body)
        if mode == "none":
            title, shown = "HappyChat", _("You have a new message.")
        elif kind == "group":
            title = group_name or _("Group chat")
            if mode == "sender":
                shown = _("%(name)s mentioned you") % {"name": sender_name}
            elif mentioned:
                shown = _("%(name)s mentioned you: %(text)s") % {"name": sender_name, "text": text}
            else:
                shown = f"{sender_name}: {text}"
        else:
            title = sender_name
            shown = text if mode == "text" else _("New message")
        lang = translation.get_language()
    return {
        "type": "message",
        "title": title,
        "body": shown,
        "url": conversation_url(conversation_id),
        "tag": conversation_tag(conversation_id),
        "conversation": conversation_id,
        "mention": mentioned,
        "lang": lang,
        "sent_at": sent_at,
    }


def friend_request_push(
    *, language: str, request_id: int, sender_name: str, message: str, sent_at: str
) -> dict[str, Any]:
    """The push for a friend request, as `language` reads it."""
    mode = settings.WEBPUSH_PREVIEW
    with translation.override(language or settings.LANGUAGE_CODE):
        if mode == "none":
            title, body = "HappyChat", _("You have a new friend request.")
        else:
            title = _("Friend request")
            body = _("%(name)s wants to add you as a friend.") % {"name": sender_name}
            if mode == "text" and message:
                body = f"{body} “{_preview(message)}”"
        lang = translation.get_language()
    return {
        "type": "friend_request",
        "title": title,
        "body": body,
        "url": FRIEND_REQUESTS_URL,
        "tag": "friend-requests",
        "request": request_id,
        "lang": lang,
        "sent_at": sent_at,
    }
