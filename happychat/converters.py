"""The `<id:…>` path converter: a positive integer that fits the database's BIGINT.

Anything larger (or 0) does not match, so the path answers 404 instead of reaching the
database with a number it cannot hold.
"""

from happychat.validators import MAX_ID


class IdConverter:
    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 0 < number <= MAX_ID:
            raise ValueError(value)
        return number

    def to_url(self, value: int) -> str:
        return str(int(value))
