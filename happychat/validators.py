"""Input checks shared by every service, REST view and socket handler.

Ids must fit the database's BIGINT (SQLite and PostgreSQL both stop at 2**63 - 1; past
that the drivers raise OverflowError or a data error, which is a client mistake and never
worth a retry). Text must be storable on both databases: no NUL (PostgreSQL refuses it)
and no lone surrogate (not encodable as UTF-8).
"""

from typing import Any

from django.utils.translation import gettext as _

from happychat.errors import InvalidInput, NotFound

MAX_ID = 2**63 - 1


def id_or_none(value: Any) -> int | None:
    """`value` as a positive id within the database's range, or None (bools are not ids)."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 < value <= MAX_ID else None


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored as text, or None when it can."""
    if "\x00" in value:
        return _("Text must not contain NUL characters.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return _("Text must be valid Unicode (no lone surrogates).")
    return None


def clean_text(value: Any, *, field: str, max_length: int | None = None) -> str:
    """Return `value` if it is storable text (of at most `max_length`), else InvalidInput."""
    if not isinstance(value, str):
        raise InvalidInput(_("`%(field)s` must be text.") % {"field": field}, field=field)
    problem = text_problem(value)
    if problem is not None:
        raise InvalidInput(f"`{field}`: {problem}", field=field)
    if max_length is not None and len(value) > max_length:
        raise InvalidInput(
            _("`%(field)s` is limited to %(n)d characters.") % {"field": field, "n": max_length},
            field=field,
        )
    return value


def require_id(value: Any, *, detail: str) -> int:
    """`value` as an id within the database's range, else NotFound(detail): no such row can
    exist, and that is never worth a retry."""
    pk = id_or_none(value)
    if pk is None:
        raise NotFound(detail)
    return pk
