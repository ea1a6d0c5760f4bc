"""Moderation writes: users report messages, operators close the reports."""

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from happychat.errors import InvalidInput, NotFound
from happychat.validators import clean_text, require_id
from moderation.models import MessageReport
from moderation.selectors import message_visible_to


@transaction.atomic
def message_report_create(
    *, reporter: User, message_id: int, reason: str
) -> tuple[MessageReport, bool]:
    """Report a message the reporter can see; a second report returns the first and False."""
    message_id = require_id(message_id, detail=_("Not found."))
    message = message_visible_to(user=reporter, message_id=message_id)
    if message is None:
        raise NotFound()
    reason = clean_text(reason, field="reason").strip()
    if not reason:
        raise InvalidInput(_("Say why you report this message."))
    if len(reason) > MessageReport._meta.get_field("reason").max_length:  # type: ignore[operator]
        raise InvalidInput(_("A reason is at most 500 characters."))
    return MessageReport.objects.get_or_create(
        message=message, reporter=reporter, defaults={"reason": reason}
    )


@transaction.atomic
def message_reports_close(
    *, report_ids: Iterable[int], status: str = MessageReport.Status.RESOLVED
) -> int:
    """Close open reports as resolved or dismissed; return how many changed."""
    if status not in (MessageReport.Status.RESOLVED, MessageReport.Status.DISMISSED):
        raise InvalidInput(_("Unknown status."))
    return MessageReport.objects.filter(
        pk__in=list(report_ids), status=MessageReport.Status.OPEN
    ).update(status=status, resolved_at=timezone.now())
