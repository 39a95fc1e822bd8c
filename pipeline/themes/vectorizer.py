"""The themes' vocabulary: content words grouped by lemma, shown as people said them.

Stop words, conversational filler, anonymisation placeholders and every known speaker
and metadata name are removed; unigrams and bigrams never cross punctuation.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from itertools import pairwise

import pandas as pd
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

from ..core.config import ThemesConfig
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


def stop_words(names: list[str] = (), extra: list[str] = ()) -> frozenset[str]:
    """The words that are never keywords.

    Args:
        names: names of people and organisations; each of their words is stopped.
        extra: more stop words (``themes.extra_stop_words``).

    Returns:
        scikit-learn's English stop words, :data:`CONVERSATIONAL`, the names' words and
        ``extra``, casefolded.
    """
    tokens = {w.casefold() for name in names for w in re.findall(r"[^\W\d_]+", str(name))}
    return frozenset(ENGLISH_STOP_WORDS) | CONVERSATIONAL | tokens | {w.casefold() for w in extra}


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
        word = word.lower().replace("’", "'")
        if word in self.stop or word.replace("'", "") in self.stop or "'" in word:
            return None
        lemma = self.word_lemma.get(word, word)
        if lemma in self.stop or len(word) < 2:
            return None
        form = self.canonical.get(lemma, word)
        return None if form in self.stop else form

    def content_words(self, text: str) -> int:
        """How many content words ``text`` has (placeholders such as "Company 1" left out).

        Args:
            text: any text.

        Returns:
            The number of its words that are tokens.
        """
        return sum(1 for w in _WORD_RE.findall(PLACEHOLDER_RE.sub(" ", str(text))) if self.token(w))

    def __call__(self, text: str) -> list[str]:
        """Tokenise ``text`` for the CountVectorizer.

        Args:
            text: a passage, or several joined.

        Returns:
            Its unigram tokens, then the bigrams of each clause (two different tokens in a
            row), clause by clause.
        """
        out: list[str] = []
        text = PLACEHOLDER_RE.sub(" , ", str(text))  # "Company 1" is anonymisation, not a theme
        for clause in _CLAUSE_RE.split(text):
            tokens = [t for t in (self.token(w) for w in _WORD_RE.findall(clause)) if t]
            out += tokens
            out += [f"{a} {b}" for a, b in pairwise(tokens) if a != b]
        return out


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
