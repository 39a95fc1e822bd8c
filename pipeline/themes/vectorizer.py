"""The themes' vocabulary: content words grouped by lemma, shown as people said them.

Stop words, conversational filler, anonymisation placeholders and redaction marks
("Company 1", "[name]", "<redacted>", "PERSON_1", "xxxxxxx", "[inaudible]", timestamps) and
every known speaker and metadata name are removed; unigrams and bigrams never cross
punctuation or a mark. Chinese and Japanese text, written without spaces, is cut into words
with jieba.
"""

from __future__ import annotations

import logging
import re
from collections import Counter, defaultdict
from itertools import pairwise

import pandas as pd
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

from ..core.config import ThemesConfig
from ..ingest.clean import CJK_RE
from ..passages import PLACEHOLDER_RE

# Words people say in every conversation, whatever it is about.
CONVERSATIONAL = frozenset(
    """don dont didn didnt doesn doesnt isn isnt wasn wasnt aren arent couldn couldnt wouldn
    wouldnt shouldn shouldnt haven havent hasn hasnt won wont ca cant im ive youre youve theyre
    weve thats ll ve re like yeah yes yep yup ya know gonna wanna gotta kind sort thing things
    really actually basically literally honestly just okay ok right um uh uhm umm mm hmm mhm oh
    ah eh stuff lot lots pretty maybe guess think thought mean meant say said tell told get got
    go going went come came make made do did does doing done want wanted bit little good great
    well sure exactly totally definitely probably obviously anyway anyways whatever somebody
    someone something everything anything nothing everybody anybody guy guys kinda sorta
    alright cool nice fine lol laugh laughs laughing hey hi hello bye thanks thank sorry wow
    huh let look looked looking feel felt able sure end usually interesting different try tried
    trying talk talked talking need needed needs sounds""".split()
)

# What transcribers and anonymisers write in place of speech: never a theme's word.
REDACTION_WORDS = frozenset(
    """redacted redact redaction anonymised anonymized anonymisation anonymization inaudible
    unintelligible indiscernible incomprehensible crosstalk laughter applause placeholder
    xx xxx xxxx""".split()
)

# Chinese function words and conversational filler (one-character words are never tokens).
CHINESE_STOP = frozenset(
    """我们 你们 他们 她们 它们 咱们 自己 什么 怎么 怎样 怎么样 为什么 这个 那个 这些 那些 这样
    那样 这种 那种 这里 那里 这边 那边 这么 那么 就是 就是说 然后 因为 所以 但是 可是 不过 而且
    还是 或者 如果 虽然 已经 可能 可以 应该 觉得 知道 一个 一些 一点 一下 一样 有点 比较 非常
    特别 真的 其实 当然 还有 没有 不是 是不是 的话 时候 现在 之后 之前 以后 以前 后来 东西 事情
    嗯嗯 对对 好的 对吧 是的 哈哈 一直 一般 大家 别人 很多 所有 每个 各种 一定 肯定 确实 基本上
    基本 起来 出来 而已 接着 总是 通常 有些 有的 也就是 这是 那是 我觉 感觉 反正 比如 比如说
    然后呢 那个那个 还好 其他 另外 一种 一次 有时候 有没有 不会 不能 能够 需要 我会 我也 我就
    我要 你会 他会 她会 左右 大部分 大多 主要 一边 这时 那时""".split()
)

# Redaction marks and transcription annotations, replaced by a clause break before tokenising.
_ANNOTATIONS = (
    r"redact\w*|removed|omitted|deleted|anonymi[sz]\w*|inaudible|unintelligible|indiscernible|"
    r"incomprehensible|unclear|crosstalk|cross-talk|laugh\w*|chuckl\w*|pause\w*|silence|music|"
    r"noise|cough\w*|sigh\w*|overlapping|applause"
)
# In square or curly brackets only, and at most three words: "[name]", "[name of company]".
_KINDS = (
    r"names?|person|participant|interviewe[er]|speaker|respondent|company|organi[sz]ation|org|"
    r"employer|client|customer|place|city|location|country|school|university|e-?mail|phone|url|"
    r"link|address|number|date|blank"
)
MARK_RE = re.compile(
    "|".join(
        (
            r"\\?[\[({]\s*(?:" + _ANNOTATIONS + r")\b[^\])}]{0,40}?\\?[\])}]",  # [inaudible 01:02]
            r"\\?[\[{]\s*(?:" + _KINDS + r")\b(?:[\s-]+[\w'-]+){0,2}\s*\\?[\]}]",  # [name]
            r"\\?\[\s*[A-Z]{2,}[A-Z0-9 _.-]*\\?\]",  # [NAME], [COMPANY X]
            r"<\s*/?\s*[A-Za-z][^<>]{0,40}>",  # <redacted>, <name>, <em>
            r"\b[^\W\d_]+(?:_[^\W_]+)+\b",  # PERSON_1, NAME_REDACTED
            r"\b[xX]{3,}\b",  # xxxxxxx, XXX
            r"\\?[\[(]\s*\d{1,2}(?::\d{2}){1,2}(?:[.,]\d+)?\s*\\?[\])]",  # [04:10], (00:12:33.2)
            r"\b\d{1,2}(?::\d{2}){1,2}(?:[.,]\d+)?\b",  # 04:10, 00:12:33
        )
    )
)


def strip_marks(text: str) -> str:
    """``text`` with placeholders, redaction marks, annotations and timestamps as clause breaks.

    Args:
        text: any text.

    Returns:
        The text with every "Company 1", "[name]", "<redacted>", "PERSON_1", "xxxxxxx",
        "[inaudible]", "(laughs)", "[04:10]" and "00:12:33" replaced by " , ".
    """
    return MARK_RE.sub(" , ", PLACEHOLDER_RE.sub(" , ", str(text)))


def _cut_cjk(word: str) -> list[str]:
    import jieba

    jieba.setLogLevel(logging.WARNING)  # its dictionary-loading messages are not ours
    return [w for w in jieba.lcut(word) if w.strip()]


def split_words(text: str) -> list[str]:
    """The words of ``text`` (marks not removed): letter runs, Chinese and Japanese cut by jieba.

    Args:
        text: any text.

    Returns:
        Its words in order; a run of CJK characters becomes jieba's words ("我做数据分析" ->
        "我", "做", "数据分析"), mixed runs ("用Python") are cut the same way.
    """
    out: list[str] = []
    for word in _WORD_RE.findall(text):
        out += _cut_cjk(word) if CJK_RE.search(word) else [word]
    return out


def stop_words(names: list[str] = (), extra: list[str] = ()) -> frozenset[str]:
    """The words that are never keywords.

    Args:
        names: names of people and organisations; each of their words is stopped.
        extra: more stop words (``themes.extra_stop_words``).

    Returns:
        scikit-learn's English stop words, :data:`CONVERSATIONAL`, :data:`REDACTION_WORDS`,
        :data:`CHINESE_STOP`, the names' words and ``extra``, casefolded.
    """
    tokens = {w.casefold() for name in names for w in re.findall(r"[^\W\d_]+", str(name))}
    return (
        frozenset(ENGLISH_STOP_WORDS)
        | CONVERSATIONAL
        | REDACTION_WORDS
        | CHINESE_STOP
        | tokens
        | {w.casefold() for w in extra}
    )


_WORD_RE = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")


_CLAUSE_RE = re.compile(r"[.,;:!?()\[\]\"“”—–…/]+|\s-\s")


class LemmaAnalyzer:
    """Text -> unigrams and bigrams of content words, grouped by lemma.

    Words are mapped to their spaCy lemma (learnt from the passages' aligned
    ``lemmas``/``words``) and shown as the lemma's most common surface word, so
    "client"/"clients" count together and read as "clients", and "data" is not shown
    as spaCy's "datum". Bigrams never cross punctuation, so "...hours. Hourly..." does
    not make the phrase "hours hourly". Works on any text, including the per-theme
    concatenations c-TF-IDF feeds it.

    Args:
        word_lemma: lowercase surface word -> its lemma.
        canonical: lemma -> the surface word shown for it.
        stop: words never made tokens (as said, or by lemma, or as shown).
    """

    def __init__(self, word_lemma: dict[str, str], canonical: dict[str, str], stop: frozenset[str]):
        self.word_lemma = word_lemma
        self._tokens: dict[str, str | None] = {}
        self.canonical = canonical
        self.stop = stop

    @classmethod
    def from_passages(cls, passages: pd.DataFrame, stop: frozenset[str]) -> LemmaAnalyzer:
        """Learn lemmas and shown forms from passages' aligned ``lemmas`` and ``words``.

        Args:
            passages: a table with space-separated ``lemmas`` and ``words`` columns.
            stop: the stop words.

        Returns:
            An analyzer mapping each word to its most common lemma and showing each lemma as
            its most common word (ties: the shorter, then alphabetical).
        """
        forms: dict[str, Counter[str]] = defaultdict(Counter)
        lemma_of: dict[str, Counter[str]] = defaultdict(Counter)
        for lemmas, words in zip(passages["lemmas"], passages["words"], strict=True):
            # Aligned by construction; an odd row is read as far as it goes, as before.
            for lemma, word in zip(str(lemmas).split(), str(words).split()):  # noqa: B905
                forms[lemma][word] += 1
                lemma_of[word][lemma] += 1
        pick = lambda c: sorted(c.items(), key=lambda kv: (-kv[1], len(kv[0]), kv[0]))[0][0]  # noqa: E731
        return cls(
            {w: pick(c) for w, c in lemma_of.items()},
            {lemma: pick(c) for lemma, c in forms.items()},
            stop,
        )

    def token(self, word: str) -> str | None:
        """The token a word counts as.

        Args:
            word: one word as written.

        Returns:
            The shown form of its lemma, or None for a stop word, a contraction or a
            one-letter word.
        """
        known = self._tokens.get(word, _UNSEEN)
        if known is not _UNSEEN:
            return known
        token = self._token(word)
        self._tokens[word] = token  # c-TF-IDF analyses every passage several times
        return token

    def _token(self, word: str) -> str | None:
        word = word.lower().replace("’", "'")
        if word in self.stop or word.replace("'", "") in self.stop or "'" in word:
            return None
        lemma = self.word_lemma.get(word, word)
        if lemma in self.stop or len(word) < 2:
            return None
        form = self.canonical.get(lemma, word)
        return None if form in self.stop else form

    def content_words(self, text: str) -> int:
        """How many content words ``text`` has (placeholders and marks such as "[name]" left out).

        Args:
            text: any text.

        Returns:
            The number of its words that are tokens.
        """
        return sum(1 for w in split_words(strip_marks(text)) if self.token(w))

    def __call__(self, text: str) -> list[str]:
        """Tokenise ``text`` for the CountVectorizer.

        Args:
            text: a passage, or several joined.

        Returns:
            Its unigram tokens, then the bigrams of each clause (two different tokens in a
            row), clause by clause. Placeholders and redaction marks ("Company 1", "[name]")
            are anonymisation, not a theme: they break clauses like punctuation.
        """
        out: list[str] = []
        for clause in _CLAUSE_RE.split(strip_marks(text)):
            tokens = [t for t in (self.token(w) for w in split_words(clause)) if t]
            out += tokens
            out += [f"{a} {b}" for a, b in pairwise(tokens) if a != b]
        return out


_UNSEEN = object()


def count_vectorizer(analyzer: LemmaAnalyzer, n_docs: int, cfg: ThemesConfig) -> CountVectorizer:
    """BERTopic's vectorizer: the analyzer's tokens, rare ones left out of larger corpora.

    Args:
        analyzer: the tokeniser.
        n_docs: the number of passages themed.
        cfg: the themes settings (``vocabulary_min_df``, ``vocabulary_min_df_from``).

    Returns:
        A CountVectorizer with ``min_df`` = ``cfg.vocabulary_min_df`` from
        ``cfg.vocabulary_min_df_from`` passages on, else 1.
    """
    min_df = cfg.vocabulary_min_df if n_docs >= cfg.vocabulary_min_df_from else 1
    return CountVectorizer(analyzer=analyzer, min_df=min_df)


def speaker_names(passages: pd.DataFrame, interviews: pd.DataFrame) -> list[str]:
    """Every name we know of, so names never become theme keywords.

    Args:
        passages: the passages table (its ``speaker`` column).
        interviews: the interviews table (``interviewer``, ``interviewee``, ``speakers``).

    Returns:
        The names, as written, duplicates kept.
    """
    names = [str(v) for v in passages["speaker"].dropna()]
    for col in ("interviewer", "interviewee", "speakers"):
        if col in interviews.columns:
            names += [str(v) for v in interviews[col].dropna()]
    return names


def analyzer_for(
    texts: pd.DataFrame, passages: pd.DataFrame, interviews: pd.DataFrame, cfg: ThemesConfig
) -> LemmaAnalyzer:
    """The themes vectorizer's analyzer, learnt from ``texts``, with every known name stopped.

    Args:
        texts: the passages whose lemmas and words it learns (those themed).
        passages: all passages (for speaker names).
        interviews: the interviews table (for interviewer and interviewee names).
        cfg: the themes settings (``extra_stop_words``).

    Returns:
        The analyzer.
    """
    stop = stop_words(speaker_names(passages, interviews), cfg.extra_stop_words)
    return LemmaAnalyzer.from_passages(texts, stop)
