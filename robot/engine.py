"""The offline answer chain: commands, then the FAQ, then small talk, then a fallback.

It needs no network and answers in milliseconds, so it is also what every smart backend
falls back to. Replies are robot content, kept here (and in the admin-edited FAQ) in
English and Chinese; the language follows the user's text.
"""

import logging
import re
import threading
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from rapidfuzz import fuzz

from robot.calc import CalcError, calculate
from robot.models import Language
from robot.selectors import Knowledge, knowledge_get

logger = logging.getLogger("happychat.robot")

FAQ_THRESHOLD = 72
SMALL_TALK_THRESHOLD = 88

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")

TEXTS = {
    "help": {
        Language.EN: (
            "I am HappyBot. Try:\n"
            "/help – this list\n"
            "/time – the server's date and time\n"
            "/calc 2*(3+4) – arithmetic with + - * / // % ** and parentheses\n"
            "Or ask me about HappyChat: friends, groups, pictures, read receipts…"
        ),
        Language.ZH: (
            "我是 HappyBot。可以试试：\n"
            "/help – 显示帮助\n"
            "/time – 服务器的日期和时间\n"
            "/calc 2*(3+4) – 计算器，支持 + - * / // % ** 和括号\n"
            "也可以问我 HappyChat 的用法：好友、群聊、图片、已读回执……"
        ),
    },
    "time": {
        Language.EN: "It is {now} ({zone}).",
        Language.ZH: "现在是 {now}（{zone}）。",
    },
    "time_question": {
        Language.EN: "It is {time} on {weekday}, {date} ({zone}).",
        Language.ZH: "现在是 {date} {weekday} {time}（{zone}）。",
    },
    "calc": {Language.EN: "{expression} = {result}", Language.ZH: "{expression} = {result}"},
    "calc_error": {
        Language.EN: "I can't calculate that: {error}. Try /calc 2*(3+4).",
        Language.ZH: "这个我算不了：{error}。试试 /calc 2*(3+4)。",
    },
    "unknown_command": {
        Language.EN: "I don't know the command {command}. Type /help to see what I can do.",
        Language.ZH: "我不认识命令 {command}。输入 /help 看看我能做什么。",
    },
    "fallback": {
        Language.EN: (
            "I'm not sure I understood. Ask me about friends, groups, pictures or read "
            "receipts, or type /help."
        ),
        Language.ZH: "我还不太明白。可以问我好友、群聊、图片或已读回执的问题，或者输入 /help。",
    },
    "blocked": {
        Language.EN: "Sorry, I'd better not answer that.",
        Language.ZH: "抱歉，这个问题我不方便回答。",
    },
}

COMMAND_ALIASES = {
    "/help": "help",
    "/帮助": "help",
    "/?": "help",
    "/time": "time",
    "/时间": "time",
    "/calc": "calc",
    "/计算": "calc",
}


WEEKDAYS = {
    Language.EN: ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    Language.ZH: ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"),
}

# Plain-language commands, matched on the normalized text (see `normalize`) after the
# polite words around a question are peeled off: "help" without the slash, and the usual
# ways of asking the time or the date. Whole-message matches only, so "how do I set the
# time zone" or "can you help me add a friend" still go to the FAQ.
HELP_WORDS = frozenset(
    {"help", "help me", "commands", "menu", "帮助", "求助", "帮忙", "命令", "菜单", "帮助菜单"}
)
_EN_LEAD = re.compile(
    r"^(?:hi|hey|hello|ok|okay|so|and|please|sorry|excuse me|robot|bot|happybot"
    r"|can you tell me|could you tell me|can you please tell me|do you know|tell me) "
)
_EN_TAIL = re.compile(r" (?:now|right now|please|today|currently|then|robot|bot|happybot)$")
_EN_TIME = re.compile(
    r"^(?:what s (?:the )?(?:current |exact )?time(?: it s)?"
    r"|what time(?: it s| s it)?|(?:the |current |exact )?time"
    r"|what s (?:the |today s )?date(?: it s| today)?"
    r"|what date(?: it s| s it| s today)?|(?:today s |the )?date"
    r"|what day(?: of the week)?(?: it s| s it| s today)?"
    r"|do you have the time|got the time|time check)$"
)
_ZH_LEAD = re.compile(
    r"^(?:请问|问一下|问下|你好|您好|嗨|哈喽|机器人|小助手|那个|麻烦|告诉我|你知道)"
)
_ZH_TAIL = re.compile(r"(?:了|呀|啊|呢|吗|哦|嘛|啦|吧)$")
_ZH_TIME = re.compile(
    r"^(?:(?:现在|当前|目前|此刻|今天|今日)?是?(?:北京时间)?"
    r"(?:几点钟?|几点几分|什么时间|几号|几月几号|几月几日|星期几|礼拜几|周几"
    r"|什么日子|日期|时间|的日期|的时间|报时)|(?:现在|此刻)是?什么时候)$"
)


def _peel(text: str, lead: re.Pattern[str], tail: re.Pattern[str]) -> str:
    """`text` without the greetings and polite words before and after the question."""
    while True:
        peeled = tail.sub("", lead.sub("", text)).strip()
        if peeled == text:
            return text
        text = peeled


def _english_question(query: str) -> str:
    """Spell the contractions one way: "what is" / "what's" / "whats" all become "what s"."""
    for word, spelled in (("whats", "what s"), ("its", "it s"), ("todays", "today s"), ("is", "s")):
        query = re.sub(rf"\b{word}\b", spelled, query)
    return query


@dataclass(frozen=True)
class Answer:
    text: str
    source: str  # "command", "faq", "small_talk", "fallback", or a backend's name


def language_of(text: str) -> str:
    return Language.ZH if _CJK.search(text) else Language.EN


def say(key: str, language: str, **values: object) -> str:
    return TEXTS[key][Language(language)].format(**values)


def normalize(text: str) -> str:
    """Fold width and case and turn punctuation into spaces, for matching."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(
        "".join(
            c if not unicodedata.category(c).startswith(("P", "S")) else " " for c in text
        ).split()
    )


# jieba loads its dictionary in about a second; until a background warm-up finishes,
# Chinese is compared character by character, which rapidfuzz handles well enough.
_jieba_ready = threading.Event()


def warm_up() -> None:
    """Load jieba's dictionary (call from a background thread)."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    _jieba_ready.set()


def tokens(text: str) -> str:
    """Space-separated tokens; Chinese segmented with jieba once it is ready."""
    if _CJK.search(text):
        if _jieba_ready.is_set():
            import jieba

            return " ".join(t for t in jieba.lcut(text) if t.strip())
        return " ".join(text.replace(" ", ""))
    return text


def answer_command(text: str, language: str) -> Answer | None:
    if not text.startswith("/"):
        return None
    command, _space, argument = text.partition(" ")
    name = COMMAND_ALIASES.get(command.casefold())
    if name is None:
        return Answer(say("unknown_command", language, command=command[:30]), "command")
    if name == "help":
        return Answer(say("help", language), "command")
    if name == "time":
        now = timezone.localtime()
        return Answer(
            say("time", language, now=now.strftime("%Y-%m-%d %H:%M:%S"), zone=settings.TIME_ZONE),
            "command",
        )
    try:
        result = calculate(argument)
    except CalcError as error:
        return Answer(say("calc_error", language, error=error), "command")
    return Answer(say("calc", language, expression=argument.strip(), result=result), "command")


def answer_plain_command(query: str, language: str) -> Answer | None:
    """Help and time asked in words ("help", "what time is it", "现在几点"), as commands."""
    if language == Language.ZH:
        core = _peel(query.replace(" ", ""), _ZH_LEAD, _ZH_TAIL)
        is_time = _ZH_TIME.match(core) is not None
    else:
        core = _peel(_english_question(query), _EN_LEAD, _EN_TAIL)
        is_time = _EN_TIME.match(core) is not None
    if core in HELP_WORDS or query in HELP_WORDS:
        return Answer(say("help", language), "command")
    if not is_time:
        return None
    now = timezone.localtime()
    return Answer(
        say(
            "time_question",
            language,
            time=now.strftime("%H:%M"),
            date=now.strftime("%Y-%m-%d"),
            weekday=WEEKDAYS[Language(language)][now.weekday()],
            zone=settings.TIME_ZONE,
        ),
        "command",
    )


def contains_phrase(query: str, phrase: str) -> bool:
    """Whether `phrase` is in `query`; Latin phrases only as whole words ("seen" ≠ "unseen")."""
    if not phrase.isascii():
        return phrase in query
    return re.search(rf"(?<![a-z0-9]){re.escape(phrase)}(?![a-z0-9])", query) is not None


def _faq_score(query: str, query_tokens: str, question: str, keywords: list[str]) -> float:
    if any(contains_phrase(query, k) for k in keywords):
        return 100.0
    target = normalize(question)
    return max(
        fuzz.token_set_ratio(query_tokens, tokens(target)),
        fuzz.ratio(query, target),
    )


def answer_faq(query: str, language: str, knowledge: Knowledge) -> Answer | None:
    query_tokens = tokens(query)
    best: tuple[float, str] | None = None
    for entry in knowledge.faq:
        if entry.language != language:
            continue
        score = _faq_score(query, query_tokens, entry.question, entry.keywords)
        if best is None or score > best[0]:
            best = (score, entry.answer)
    if best is not None and best[0] >= FAQ_THRESHOLD:
        return Answer(best[1], "faq")
    return None


def answer_small_talk(query: str, language: str, knowledge: Knowledge) -> Answer | None:
    best: tuple[float, str] | None = None
    for entry in knowledge.small_talk:
        if entry.language != language:
            continue
        for pattern in entry.patterns:
            score = 100.0 if query == pattern else fuzz.ratio(query, pattern)
            if best is None or score > best[0]:
                best = (score, entry.reply)
    if best is not None and best[0] >= SMALL_TALK_THRESHOLD:
        return Answer(best[1], "small_talk")
    return None


def answer_offline(text: str) -> Answer:
    """Answer `text` with no network: command, FAQ, small talk, or a friendly fallback."""
    text = text.strip()
    language = language_of(text)
    command = answer_command(text, language)
    if command is not None:
        return command
    query = normalize(text)
    plain = answer_plain_command(query, language)
    if plain is not None:
        return plain
    knowledge = knowledge_get()
    return (
        answer_faq(query, language, knowledge)
        or answer_small_talk(query, language, knowledge)
        or Answer(say("fallback", language), "fallback")
    )
