"""The offline chain: commands, FAQ (English and Chinese), small talk, then a fallback."""

import datetime as dt
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


@pytest.mark.parametrize("text", ["help", "Help!", "HELP me", "hi, help", "帮助", "帮助！", "菜单"])
def test_help_without_the_slash_lists_the_commands(text):
    answer = answer_offline(text)
    assert answer.source == "command"
    assert "/calc" in answer.text
    assert ("帮助" in answer.text) == ("帮" in text or "菜单" in text)


TIME_ANSWER_EN = re.compile(
    r"It is \d\d:\d\d on (Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day, \d{4}-\d\d-\d\d \(UTC\)\."
)
TIME_ANSWER_ZH = re.compile(r"现在是 \d{4}-\d\d-\d\d 星期[一二三四五六日] \d\d:\d\d（UTC）。")


@pytest.mark.parametrize(
    "text",
    [
        "what time is it",
        "What time is it?",
        "what time is it now",
        "What's the time?",
        "whats the time",
        "what is the time now please",
        "Hey robot, what time is it?",
        "can you tell me the time?",
        "do you know what time it is",
        "what is the current time",
        "What's the date today?",
        "what day is it today",
        "what day of the week is it",
        "time",
        "@robot what time is it",
    ],
)
def test_time_questions_in_english_tell_the_server_time(settings, text):
    settings.TIME_ZONE = "UTC"
    answer = answer_offline(text.removeprefix("@robot "))
    assert answer.source == "command"
    assert TIME_ANSWER_EN.fullmatch(answer.text), answer.text


@pytest.mark.parametrize(
    "text",
    [
        "现在几点",
        "现在几点了？",
        "几点了",
        "请问现在几点钟？",
        "现在是几点",
        "现在什么时间",
        "现在是什么时间了",
        "今天几号",
        "今天星期几？",
        "今天是几月几号",
        "几点啦",
        "现在时间",
        "机器人，现在几点了",
    ],
)
def test_time_questions_in_chinese_tell_the_server_time(settings, text):
    settings.TIME_ZONE = "UTC"
    answer = answer_offline(text)
    assert answer.source == "command"
    assert TIME_ANSWER_ZH.fullmatch(answer.text), answer.text


def test_time_question_answers_with_the_local_weekday(settings, monkeypatch):
    settings.TIME_ZONE = "Asia/Shanghai"
    fixed = dt.datetime(2025, 6, 1, 23, 30, tzinfo=dt.UTC)  # Monday 07:30 in Shanghai
    monkeypatch.setattr(engine.timezone, "now", lambda: fixed)
    assert answer_offline("what time is it").text == (
        "It is 07:30 on Monday, 2025-06-02 (Asia/Shanghai)."
    )
    assert answer_offline("今天星期几").text == "现在是 2025-06-02 星期一 07:30（Asia/Shanghai）。"


@pytest.mark.parametrize(
    ("text", "source"),
    [
        ("can you help me add a friend?", "faq"),
        ("how do I set the time zone", "fallback"),
        ("what time did alice send the picture", "fallback"),
        ("群聊什么时候解散", "fallback"),
        ("how can I add a friend? help", "faq"),
    ],
)
def test_sentences_that_only_mention_help_or_time_are_not_commands(text, source):
    assert answer_offline(text).source == source
