"""happychat.events.encode: every socket frame's JSON, as json.dumps would write it."""

import datetime
import json
import uuid
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from happychat.events import encode


def reference(frame: object) -> str:
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"), default=str)


# What frames hold: text (any code point, control characters and U+2028 included),
# integers (also beyond 64 bits), booleans, null, lists and objects of them.
_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(st.text(), _values, max_size=6))
def test_a_frame_is_encoded_exactly_as_json_dumps_encodes_it(frame):
    assert encode(frame) == reference(frame)


def test_what_json_hands_to_str_is_written_as_str_of_it():
    frame = {
        "at": datetime.datetime(2026, 12, 1, 8, 0, tzinfo=datetime.UTC),
        "day": datetime.date(2026, 12, 1),
        "id": uuid.UUID(int=7),
        "amount": Decimal("1.50"),
        "type": "x",
    }
    assert encode(frame) == reference(frame)
    assert json.loads(encode(frame))["at"] == "2026-12-01 08:00:00+00:00"


def test_what_orjson_refuses_is_still_encoded():
    # Beyond 64 bits, a non-string key, a lone surrogate (not UTF-8 encodable).
    for frame in ({"n": 2**70}, {1: "one"}, {"text": "\ud800"}):
        assert encode(frame) == reference(frame)


def test_numbers_with_a_fraction_keep_their_value():
    frame = {"f": [0.1, 1e16, -2.5e-8, 3.0]}
    assert json.loads(encode(frame)) == frame
