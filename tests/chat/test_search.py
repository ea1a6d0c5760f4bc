"""Message search: what a user may read, English and Chinese, filters, paging, consistency."""

import pytest

from chat import search, selectors
from chat.models import Message
from chat.services import conversation_member_remove
from chat.services.changes import message_edit, message_recall
from chat.services.messages import message_send
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _jieba_loaded():
    search.warm_up()


def send(user, conversation_id, body):
    cid = f"{user.pk}-{Message.objects.count()}"
    return message_send(sender=user, conversation_id=conversation_id, client_id=cid, body=body)[0]


def found(user, q, **kw):
    search.wait_idle()
    return [m.body for m, _snippet in selectors.message_search(user=user, q=q, **kw).hits]


def test_words_in_english_and_chinese_are_found_newest_first(alice, bob, direct):
    send(alice, direct.pk, "Meeting at noon")
    send(bob, direct.pk, "the meeting moved to 3pm")
    send(alice, direct.pk, "我们明天开会讨论预算")
    assert found(bob, "meeting") == ["the meeting moved to 3pm", "Meeting at noon"]
    assert found(bob, "MEETING noon") == ["Meeting at noon"]
    assert found(bob, "预算") == ["我们明天开会讨论预算"]
    assert found(bob, "开会 预算") == ["我们明天开会讨论预算"]
    assert found(bob, "nothing-like-this") == []


def test_only_conversations_the_user_is_in(alice, bob, carol, direct, trio):
    send(alice, direct.pk, "secret plan")
    send(carol, trio.pk, "public plan")
    assert found(carol, "plan") == ["public plan"]
    assert found(UserFactory(), "plan") == []


def test_a_left_group_is_searched_up_to_when_they_left(alice, bob, carol, trio):
    send(alice, trio.pk, "budget draft one")
    conversation_member_remove(conversation=trio, user_id=carol.pk)
    send(alice, trio.pk, "budget draft two")
    assert found(carol, "budget") == ["budget draft one"]
    assert found(bob, "budget") == ["budget draft two", "budget draft one"]


def test_filters_by_conversation_and_sender(alice, bob, carol, direct, trio):
    send(alice, direct.pk, "apple in direct")
    send(bob, direct.pk, "apple from bob")
    send(alice, trio.pk, "apple in the group")
    assert found(alice, "apple", conversation_id=trio.pk) == ["apple in the group"]
    assert found(alice, "apple", sender_id=bob.pk) == ["apple from bob"]


def test_keyset_pages(alice, bob, direct):
    for i in range(5):
        send(alice, direct.pk, f"note {i}")
    first = selectors.message_search(user=bob, q="note", limit=2)
    assert [m.body for m, _ in first.hits] == ["note 4", "note 3"]
    assert first.has_more
    second = selectors.message_search(user=bob, q="note", limit=2, before=first.hits[-1][0].pk)
    assert [m.body for m, _ in second.hits] == ["note 2", "note 1"]
    last = selectors.message_search(user=bob, q="note", limit=2, before=second.hits[-1][0].pk)
    assert [m.body for m, _ in last.hits] == ["note 0"]
    assert not last.has_more


def test_the_index_follows_recall_and_edit(alice, bob, direct):
    gone = send(alice, direct.pk, "password is hunter2")
    typo = send(alice, direct.pk, "see you tomorow")
    message_recall(user=alice, message_id=gone.pk)
    message_edit(user=alice, message_id=typo.pk, body="see you tomorrow")
    assert found(bob, "hunter2") == []
    assert found(bob, "tomorow") == []
    assert found(bob, "tomorrow") == ["see you tomorrow"]
    message_edit(user=alice, message_id=typo.pk, body="见面地点改了")
    assert found(bob, "地点") == ["见面地点改了"]


def test_snippets_mark_the_hits(alice, bob, direct):
    send(alice, direct.pk, "x" * 100 + " the deadline is Friday")
    ((_, snippet),) = selectors.message_search(user=bob, q="deadline").hits
    assert {"text": "deadline", "hit": True} in snippet
    assert snippet[0] == {"text": "…", "hit": False}
    assert "".join(p["text"] for p in snippet).endswith("Friday")


def test_punctuation_only_queries_find_nothing(alice, bob, direct):
    send(alice, direct.pk, "hello")
    assert found(bob, '"*) AND (') == []


def test_chinese_sent_before_jieba_loads_is_indexed_in_the_background(
    alice, bob, direct, monkeypatch
):
    monkeypatch.setattr(search, "_jieba", None)
    send(alice, direct.pk, "周末去爬山吗")
    assert search.wait_idle(10)
    assert found(bob, "爬山") == ["周末去爬山吗"]
