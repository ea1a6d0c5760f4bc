"""The offline chain: commands, FAQ (English and Chinese), small talk, then a fallback."""

import re

import pytest

from robot import engine
from robot.engine import answer_offline
from robot.models import FaqEntry, SmallTalk
from robot.selectors import knowledge_forget

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_knowledge():
    knowledge_forget()
    yield
    knowledge_forget()


@pytest.fixture(params=["characters", "jieba"])
def segmentation(request):
    """Chinese is answered before jieba has loaded (characters) and after (words)."""
    if request.param == "jieba":
        engine.warm_up()
        yield
    else:
        ready = engine._jieba_ready.is_set()
        engine._jieba_ready.clear()
        yield
        if ready:
            engine._jieba_ready.set()


def test_help_lists_the_commands():
    answer = answer_offline("/help")
    assert answer.source == "command"
    for command in ("/help", "/time", "/calc"):
        assert command in answer.text


def test_help_in_chinese():
    assert "帮助" in answer_offline("/帮助").text


def test_time_tells_the_server_time(settings):
    settings.TIME_ZONE = "UTC"
    answer = answer_offline("/time")
    assert answer.source == "command"
    assert re.fullmatch(r"It is \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(UTC\)\.", answer.text)


def test_calc_answers_with_the_result():
    assert answer_offline("/calc 2*(3+4)").text == "2*(3+4) = 14"


def test_calc_explains_what_it_refuses():
    answer = answer_offline("/calc __import__('os')")
    assert answer.text.startswith("I can't calculate that")


def test_unknown_command_points_to_help():
    assert "/help" in answer_offline("/dance").text


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How can I add a friend?", "send a friend request"),
        ("how do i ACCEPT a friend request", "Accept and Reject"),
        ("How do I delete someone from my friends", "Delete friend"),
        ("can I set a remark on a friend?", "Remark"),
        ("how do i make a group", "New group"),
        ("How do I leave a group?", "Leave"),
        ("who can rename the group", "dissolve"),
        ("can I send photos?", "JPEG, PNG, GIF or WebP"),
        ("what are read receipts", "how far they have read"),
        ("do I get my offline messages", "exactly once"),
        ("can I use several devices", "every device"),
        ("how to change my avatar", "nickname, avatar"),
        ("I did not get the activation email", "Resend activation"),
        ("forgot password", "Forgot password"),
        ("how do I report a message", "Report"),
        ("why was my message blocked", "Rephrase"),
        ("is there a dark mode?", "dark"),
        ("what can you do", "/calc"),
        ("ＨＯＷ ＤＯ Ｉ ＡＤＤ Ａ ＦＲＩＥＮＤ", "send a friend request"),
    ],
)
def test_english_faq_is_answered(question, expected):
    answer = answer_offline(question)
    assert answer.source == "faq"
    assert expected in answer.text


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("请问怎么加好友？", "发送好友申请"),
        ("怎么同意好友申请", "同意"),
        ("如何删除好友", "删除好友"),
        ("怎么改备注", "备注"),
        ("怎么建群", "新建群聊"),
        ("我想退群", "退出群聊"),
        ("怎么发送图片", "JPEG"),
        ("已读回执是什么", "未读数"),
        ("离线的时候消息会丢吗", "同步"),
        ("能多个设备同时登录吗", "每个设备"),
        ("怎么修改头像", "头像"),
        ("收不到激活邮件", "重新发送激活邮件"),
        ("忘记密码了", "忘记密码"),
        ("怎么举报", "举报"),
        ("有夜间模式吗", "深色"),
        ("你能做什么", "/calc"),
    ],
)
def test_chinese_faq_is_answered(segmentation, question, expected):
    answer = answer_offline(question)
    assert answer.source == "faq"
    assert expected in answer.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hello", "Hello"),
        ("Thanks!", "welcome"),
        ("bye", "Bye"),
        ("你好", "你好"),
        ("谢谢", "不客气"),
    ],
)
def test_small_talk_is_answered(text, expected):
    answer = answer_offline(text)
    assert answer.source == "small_talk"
    assert expected in answer.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [("what's the weather like on mars", "/help"), ("今天股票会涨吗", "/help")],
)
def test_anything_else_gets_a_friendly_fallback(text, expected):
    answer = answer_offline(text)
    assert answer.source == "fallback"
    assert expected in answer.text


def test_fallback_answers_in_the_users_language():
    assert "我还不太明白" in answer_offline("今天股票会涨吗").text
    assert "not sure" in answer_offline("what's the weather like on mars").text


def test_faq_edited_in_the_admin_is_used():
    FaqEntry.objects.create(
        language="en",
        question="Where is the HappyChat office?",
        keywords="office, headquarters",
        answer="We are remote-first.",
    )
    SmallTalk.objects.create(language="en", patterns="ping", reply="pong!")
    knowledge_forget()
    assert answer_offline("where is your headquarters").text == "We are remote-first."
    assert answer_offline("ping").text == "pong!"


def test_inactive_faq_entries_are_ignored():
    FaqEntry.objects.filter(language="en").update(is_active=False)
    knowledge_forget()
    assert answer_offline("How can I add a friend?").source == "fallback"
