"""The pipeline's statement conversion (chat/pgpipeline.py), without a database."""

import pytest

from chat import pgpipeline
from chat.services.messages import _SEND_ONE_SQL


def test_named_placeholders_become_numbered_once_per_name() -> None:
    query = pgpipeline._Query(
        "SELECT %(a)s::bigint, %(b)s::text WHERE %(a)s::bigint > 0", b"happychat_t"
    )
    assert query.text == b"SELECT $1::bigint, $2::text WHERE $1::bigint > 0"
    assert query.names == ("a", "b")


def test_the_send_statement_converts_with_every_parameter_once() -> None:
    query = pgpipeline._Query(_SEND_ONE_SQL, b"happychat_t")
    assert set(query.names) == {
        "conversation",
        "sender",
        "now",
        "kind",
        "body",
        "client_id",
        "tokens",
    }
    assert b"%(" not in query.text
    assert f"${len(query.names)}::".encode() in query.text


def test_a_literal_percent_is_refused() -> None:
    with pytest.raises(ValueError, match="literal %"):
        pgpipeline._Query("SELECT 'a%%b' || %(x)s::text", b"happychat_t")


def test_the_same_sql_keeps_its_prepared_name() -> None:
    sql = "SELECT %(only_here)s::int"
    assert pgpipeline._query(sql) is pgpipeline._query(sql)
    assert pgpipeline._query(sql).name.startswith(b"happychat_")
