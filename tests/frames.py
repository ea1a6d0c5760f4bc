"""Hypothesis strategies for hostile socket frames, shared by the consumer and daphne fuzzes.

A frame is ("text", str) or ("bytes", bytes). Texts may hold lone surrogates and NUL (as
JSON escapes, which is how they reach a real server), numbers past 2^63, floats, NaN,
wrong types, deep nesting, and plain garbage. The string CONV inside a frame stands for
the conversation the test uses, so many frames reach real handlers.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

CONV = "$conversation"
FRAME_TYPES = ["auth", "ping", "send", "sync", "read", "typing"]
SERVER_TYPES = {
    "hello",
    "pong",
    "ack",
    "message",
    "synced",
    "read",
    "typing",
    "presence",
    "event",
    "error",
}
# Everything the contract lets the server answer with (docs/protocol.md §2.4).
CONTRACT_ERRORS = {
    "invalid_frame",
    "too_large",
    "unknown_type",
    "not_member",
    "not_friends",
    "not_found",
    "rate_limited",
    "content_blocked",
    "invalid_attachment",
    "unauthenticated",
    "conflict",
    "busy",
}

# Lone surrogates (category Cs) and NUL included.
any_char = st.characters(exclude_categories=())
# Strings no UTF-8 encoder or PostgreSQL text column takes.
poison = st.sampled_from(["\ud800", "w\udfff", "\udc00x", "\x00", "a\x00b"])
texts = st.one_of(
    poison,
    st.text(any_char, max_size=20),
    st.sampled_from(["", " ", "text", "image", CONV]),
)
ints = st.one_of(
    st.integers(-(2**70), 2**70),
    st.integers(-3, 60),
    st.sampled_from([2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**30]),
)
scalars = st.one_of(
    st.none(), st.booleans(), ints, st.floats(allow_nan=True, allow_infinity=True), texts
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=4)),
    max_leaves=12,
)
ids = st.one_of(texts, st.just(CONV), ints, json_values)
cursors = st.one_of(
    st.dictionaries(st.one_of(texts, ints.map(str), st.just(CONV)), json_values, max_size=4),
    json_values,
)
FIELDS = {
    "id": ids,
    "conversation": st.one_of(st.just(CONV), ints, json_values),
    "seq": st.one_of(ints, json_values),
    "kind": st.one_of(st.sampled_from(["text", "image"]), json_values),
    "body": st.one_of(texts, json_values),
    "attachment": st.one_of(ints, json_values),
    "cursors": st.one_of(cursors, st.dictionaries(st.just(CONV), ints, max_size=1)),
    "limit": st.one_of(ints, json_values),
    "token": st.one_of(texts, json_values),
}
typed_frames = st.fixed_dictionaries(
    {"type": st.one_of(st.sampled_from(FRAME_TYPES), texts, json_values)},
    optional={**FIELDS, "extra": json_values},  # type: ignore[arg-type]
)


# Valid frames of every type, of which `mutated_frames` spoils one or two fields: these get
# past the first checks and reach the handlers, the services and the database.
VALID = {
    "ping": {"type": "ping"},
    "send": {"type": "send", "id": "m", "conversation": CONV, "kind": "text", "body": "hi"},
    "sync": {"type": "sync", "cursors": {CONV: 0}, "limit": 5},
    "read": {"type": "read", "conversation": CONV, "seq": 1},
    "typing": {"type": "typing", "conversation": CONV},
    "auth": {"type": "auth", "token": "nope"},
}


@st.composite
def mutated_frames(draw: Any) -> dict[str, Any]:
    frame = dict(VALID[draw(st.sampled_from(sorted(VALID)))])
    if frame["type"] == "send":
        frame["id"] = "m" + draw(st.one_of(st.text(max_size=8), poison))
    for field in draw(st.lists(st.sampled_from(sorted(FIELDS)), min_size=1, max_size=2)):
        frame[field] = draw(FIELDS[field])
    return frame


def _nested(depth: int) -> str:
    return '{"type": "send", "body": ' + "[" * depth + "]" * depth + "}"


raw_texts = st.one_of(
    st.text(any_char, max_size=40),
    st.integers(100, 60_000).map(_nested),
    st.integers(100, 40_000).map(lambda d: "[" * d),
    st.sampled_from(["", "null", "[]", "{}", '"ping"', "1" * 5000, "NaN", "{" * 10]),
)


def _encode(value: Any, conversation: int, ascii_only: bool) -> str:
    text = json.dumps(value, ensure_ascii=ascii_only, allow_nan=True)
    return text.replace(json.dumps(CONV), str(conversation))


@st.composite
def frames(draw: Any, conversation: int, real_socket: bool) -> tuple[str, Any]:
    """One hostile frame for a socket whose user is a member of `conversation`.

    A real socket only carries valid UTF-8, so for it texts are ASCII-escaped JSON
    (`\\ud800` escapes) and raw garbage is sent as bytes.
    """
    kind = draw(st.sampled_from(["mutated", "mutated", "typed", "typed", "value", "raw", "bytes"]))
    if kind == "bytes":
        return ("bytes", draw(st.binary(max_size=60)))
    if kind == "raw":
        text = draw(raw_texts)
        if real_socket:
            return ("bytes", text.encode("utf-8", "surrogatepass"))
        return ("text", text)
    strategy = {"mutated": mutated_frames(), "typed": typed_frames, "value": json_values}[kind]
    value = draw(strategy)
    ascii_only = True if real_socket else draw(st.booleans())
    return ("text", _encode(value, conversation, ascii_only))
