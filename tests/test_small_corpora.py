"""Small and odd corpora: one or two short notes give a report, Chinese text is counted and cut.

The notes and the Chinese conversations below are synthetic: invented for these tests.
"""

# The Chinese fixture's answers are one line each (wide characters count double).
# ruff: noqa: E501

from __future__ import annotations

import json
import re

import pytest

from pipeline import themes
from pipeline.core.catalog import ASSIGNMENTS, INTERVIEWS, THEMES, ArtifactError, read_table
from pipeline.core.config import Config, ThemesConfig
from pipeline.ingest.clean import word_count
from pipeline.ingest.language import detect_language

# ------------------------------------------------------------------ synthetic notes

NOTES = {
    "dana.md": "# Call with Dana\n\nDana has freelanced for two years. She finds clients "
    "through former colleagues and charges a day rate. She wants to raise it next year.\n",
    "omar.md": "# Call with Omar\n\nOmar left his bank job last spring. Most of his work "
    "comes from one agency, which worries him. He plans to write more on LinkedIn.\n",
}

# Three invented calls with Chinese freelance data analysts (synthetic, not real people).
CHINESE = {
    "zh-01.md": """Interviewer: 你是怎么开始做自由职业的？

Interviewee: 我以前在银行做数据分析。后来公司裁员，我就开始接私活。第一个客户是以前的同事介绍的。

Interviewer: 现在客户主要从哪里来？

Interviewee: 大部分客户来自朋友推荐。我也在领英上发文章，偶尔有人私信联系我。平台上的项目价格太低，我很少用。

Interviewer: 你怎么定价？

Interviewee: 我按天收费，一天两千元。去年涨过一次价格，老客户都接受了。新客户我会先报一个项目总价。

Interviewer: 一周工作多少小时？

Interviewee: 一般每周工作三十个小时。早上写代码，下午开会。周末尽量不工作，陪孩子。

Interviewer: 以后有什么打算？

Interviewee: 我想做一个自己的数据产品。也考虑招一个助理，帮我处理发票和合同。
""",
    "zh-02.md": """Interviewer: 请介绍一下你的背景。

Interviewee: 我是统计学硕士毕业。毕业后在医院做临床数据分析，做了五年。后来觉得工作太单调，就辞职了。

Interviewer: 找客户难吗？

Interviewee: 刚开始很难，三个月没有收入。后来在技术社区写博客，慢慢有客户找上门。现在客户大多是创业公司。

Interviewer: 价格怎么谈？

Interviewee: 我一般按项目收费。小项目一万元左右，大项目按月结算。客户砍价的时候，我会减少工作范围，不降低价格。

Interviewer: 工作时间怎么安排？

Interviewee: 我每天上午写报告，下午和客户开会。晚上学习新的机器学习方法。每周大概工作四十个小时。

Interviewer: 未来呢？

Interviewee: 我打算开一门数据分析的网课。收入更稳定，也能认识更多客户。
""",
    "zh-03.md": """Interviewer: 你做自由职业多久了？

Interviewee: 快三年了。之前在互联网公司做推荐算法工程师。公司搬到外地，我不想搬家，就出来单干。

Interviewer: 客户从哪里来？

Interviewee: 主要靠以前公司的合作伙伴。他们知道我的能力，项目一直不断。我也在开源社区维护一个工具，带来了几个客户。

Interviewer: 收费方式是什么？

Interviewee: 我按小时收费，每小时五百元。合同里写清楚付款时间，先付一半定金。拖欠付款的客户我不再合作。

Interviewer: 平时怎么工作？

Interviewee: 我在家办公，每天工作六个小时。下午去咖啡馆写代码，效率更高。每周五整理发票和账目。

Interviewer: 之后的计划？

Interviewee: 我想和两个朋友成立一个小团队，一起接大项目。也想多花时间陪家人。
""",
}

_CJK = re.compile(r"[\u4e00-\u9fff]")


def _raw(tmp_path, files: dict[str, str]):
    raw = tmp_path / "raw"
    raw.mkdir()
    for name, text in files.items():
        (raw / name).write_text(text, encoding="utf-8")
    return raw


# ------------------------------------------------------------------ fast checks


def test_chinese_words_are_counted_one_per_character_and_other_words_as_before():
    sentence = "我做自由职业已经三年了，主要给小公司做数据分析。"
    assert word_count(sentence) == len(_CJK.findall(sentence)) == 22  # not 2 runs
    assert word_count("用Python做data分析") == 6  # 用, Python, 做, data, 分, 析
    assert word_count("I'm a data-scientist, 42 years in") == 8  # unchanged: runs of \w
    answer = CHINESE["zh-01.md"].split("Interviewee: ")[1].split("\n")[0]
    assert word_count(answer) > 30


def test_a_short_chinese_sentence_has_a_language():
    languages = Config().ingest.languages
    assert detect_language("我做自由职业已经三年了", languages)[0] == "zh"
    assert detect_language("Hi there friend", languages)[0] == "und"  # still too short


def test_chinese_is_cut_into_words_for_the_keywords():
    analyzer = themes.LemmaAnalyzer({}, {}, themes.stop_words())
    text = CHINESE["zh-02.md"].split("Interviewee: ")[2].split("\n")[0]
    tokens = analyzer(text)
    unigrams = [t for t in tokens if " " not in t]
    assert {"客户", "创业", "公司"} <= set(unigrams)
    assert max(len(t) for t in unigrams) <= 4  # words, not the clause "现在客户大多是创业公司"
    assert not {"现在", "没有", "大多"} & set(tokens)  # Chinese stop words
    assert all(len(t) >= 2 for t in unigrams)  # one-character function words (的, 了, 我) never
    assert analyzer.content_words(text) >= 8


# ------------------------------------------------------------------ end to end


def _no_themes(out, conversations: str):
    table = read_table(THEMES, out)
    assert len(table) == 0 and list(table.columns)[:3] == ["theme_id", "label", "keywords"]
    assert len(read_table(ASSIGNMENTS, out)) == 0
    info = json.loads((out / "themes.json").read_text())
    assert info["n_themes"] == 0
    assert info["skipped"].startswith(f"No themes: {conversations} to theme")
    assert f"at least {ThemesConfig().min_passages} passages" in info["skipped"]
    assert info["notes"][0] == info["skipped"]
    assert info["skipped"] in (out / "run.log").read_text()
    with pytest.raises(ArtifactError, match="holds no model"):
        themes.load_model(out)
    for name in ("report.html", "report.md", "report.json"):
        assert (out / "report" / name).is_file(), name


@pytest.mark.slow
def test_one_short_note_gives_a_report_without_themes(cli, tmp_path):
    raw, out = _raw(tmp_path, {"dana.md": NOTES["dana.md"]}), tmp_path / "out"
    proc = cli("run", raw, "--out", out)
    assert proc.returncode == 0, proc.stderr
    _no_themes(out, "1 conversation with 1 passage")
    again = cli("run", raw, "--out", out)  # the empty artifacts are a finished run
    assert again.returncode == 0 and "themes: up to date" in again.stderr


@pytest.mark.slow
def test_two_short_notes_give_a_report_without_themes(cli, tmp_path):
    raw, out = _raw(tmp_path, NOTES), tmp_path / "out"
    proc = cli("run", raw, "--out", out)
    assert proc.returncode == 0, proc.stderr
    _no_themes(out, "2 conversations with 2 passages")


@pytest.mark.slow
def test_a_note_with_nothing_to_theme_gives_empty_themes(cli, tmp_path):
    raw, out = _raw(tmp_path, {"hi.md": "# Call\n\nHi there.\n"}), tmp_path / "out"
    for command in ("ingest", "passages", "embed", "segment", "themes"):
        args = (command, raw) if command == "ingest" else (command,)
        proc = cli(*args, "--out", out)
        assert proc.returncode == 0, proc.stderr
    assert len(read_table(THEMES, out)) == 0
    info = json.loads((out / "themes.json").read_text())
    assert info["skipped"].startswith("No themes: 0 conversations with 0 passages to theme")


@pytest.mark.slow
def test_chinese_corpus_words_keywords_and_what_the_english_model_cannot_do(cli, tmp_path):
    raw, out = _raw(tmp_path, CHINESE), tmp_path / "out"
    small = ("--set", "themes.min_passages=10")  # 15 answers: enough for this check
    for command in ("ingest", "passages", "embed", "segment", "themes"):
        args = (command, raw) if command == "ingest" else (command,)
        proc = cli(*args, "--out", out, *small)
        assert proc.returncode == 0, proc.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["main_language"] == "zh"
    interviews = read_table(INTERVIEWS, out)
    for row in interviews.itertuples():
        chars = len(_CJK.findall(CHINESE[f"{row.interview_id}.md"]))
        assert row.n_words >= chars  # every character a word (and "Interviewer" etc. too)
    table = read_table(THEMES, out)
    assert len(table) >= 2
    stop = themes.stop_words()
    for keywords, label in zip(table.keywords, table.label, strict=True):
        for keyword in keywords.split("; "):
            parts = keyword.split()
            assert 1 <= len(parts) <= 2 and all(len(p) <= 6 for p in parts), keyword
            assert not set(parts) & stop, keyword
        assert len(label) <= 20 and "(no keywords)" != label, label
    info = json.loads((out / "themes.json").read_text())
    assert any("Chinese (zh)" in n and "embed.model" in n for n in info["notes"]), info["notes"]
    assert "trained on English only" in (out / "run.log").read_text()
