"""Render a :class:`Report` as one self-contained HTML page, as Markdown, and as PNG figures.

The renderers only format what report.json holds. All text from transcripts goes
through :func:`esc` in HTML (and is shown as quoted text in Markdown), and the page
makes no external request: no scripts, no web fonts, figures inlined as data URIs.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import PurePosixPath

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from ..core.catalog import artifact
from .schema import Quote, Report  # noqa: E402

# Figure name -> its catalog artifact; the Markdown links them by file name, beside report.md.
FIGURE_ARTIFACTS = {
    "themes_by_section": "report_figure_sections",
    "numbers": "report_figure_numbers",
}
FIGURES = {name: PurePosixPath(artifact(a).path).name for name, a in FIGURE_ARTIFACTS.items()}


def esc(value) -> str:
    """Any value as HTML text: every transcript word goes through here.

    Args:
        value: the value to show.

    Returns:
        Its text with ``& < > " '`` escaped.
    """
    return html.escape(str(value), quote=True)


def support_text(n: int, total: int) -> str:
    """ "3 of 11 conversations": how support is written everywhere in the report.

    Args:
        n: the conversations that support it.
        total: all conversations.

    Returns:
        The phrase.
    """
    return f"{n} of {total} conversations"


def shown_parts(report: Report) -> dict[str, bool]:
    """Which domain parts the report shows: those its profile switches on."""
    parts = {p.split(":")[0] for p in report.profile.parts}
    return {k: k in parts for k in ("advice", "backgrounds", "numbers", "lists")}


def findings_title(report: Report) -> str:
    """ "Takeaways" when they are advice people gave, "Findings" when made from themes."""
    kinds = {t.kind for t in report.takeaways}
    return "Takeaways" if kinds == {"advice"} else "Findings"


def sections_title(report: Report) -> str:
    """The sections part is named after the guide in use, not after the default one."""
    names = [s.name for s in report.sections]
    if names == ["past", "present", "future"]:
        return "Past, present, future"
    return f"By section of the guide{': ' + report.guide if report.guide else ''}"


def support_line(t) -> str:
    """ "3 of 11 conversations gave this advice (and discussed in 2 more)" or "... raised it"."""
    verb = "gave this advice" if t.kind == "advice" else "raised this"
    also = ""
    if t.also_discussed:
        also = (
            f" (and discussed in {t.also_discussed} more)"
            if t.kind == "advice"
            else f" (and {t.also_discussed} more in passing)"
        )
    where = ""
    if t.sections:
        where = "; passages by section: " + ", ".join(f"{k} {v}" for k, v in t.sections.items())
    return f"{support_text(t.support, t.conversations)} {verb}{also}{where}"


def no_findings_text(report: Report) -> str:
    if shown_parts(report)["advice"]:
        return (
            "No advice was given in two or more conversations, and no theme was raised "
            "substantively by two or more."
        )
    return "No theme was raised substantively by two or more conversations."


# ------------------------------------------------------------------- figures


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def figure_themes_by_section(report: Report) -> bytes:
    """Conversations raising each main theme, per section (horizontal bars).

    Args:
        report: the report.

    Returns:
        The figure as PNG bytes.
    """
    rows = [(s.name, t.label, t.conversations) for s in report.sections for t in s.themes]
    fig, ax = plt.subplots(figsize=(7, 0.35 * max(len(rows), 3) + 1))
    names = [f"{section}: {label}" for section, label, _ in rows][::-1]
    values = [n for _, _, n in rows][::-1]
    ax.barh(range(len(values)), values, color="#4C78A8")
    ax.set_yticks(range(len(values)), names, fontsize=8)
    ax.set_xlabel(f"conversations (of {report.overview.conversations})")
    ax.set_xlim(0, max(report.overview.conversations, 1))
    ax.set_title("Main themes per section")
    return _png(fig)


def figure_numbers(report: Report) -> bytes:
    """Each conversation's values per quantity, with the median marked.

    Args:
        report: the report (counts of things are left out of the figure).

    Returns:
        The figure as PNG bytes.
    """
    facts = [f for f in report.numbers if f.kind != "count_of"]
    fig, axes = plt.subplots(
        len(facts) or 1, 1, figsize=(7, 1.1 * max(len(facts), 1) + 0.6), squeeze=False
    )
    for ax, fact in zip(axes[:, 0], facts, strict=False):
        values = [m.value for m in fact.mentions]
        ax.scatter(values, [0] * len(values), alpha=0.6, color="#4C78A8")
        ax.axvline(fact.median, color="#E45756", linewidth=2)
        ax.set_yticks([])
        ax.set_title(
            f"{fact.label}: median {fact.median:g}, n = {fact.n_conversations}",
            fontsize=9,
            loc="left",
        )
    fig.tight_layout()
    return _png(fig)


def figures(report: Report) -> dict[str, bytes]:
    """Every figure of the report.

    Args:
        report: the report.

    Returns:
        PNG bytes by figure name (the keys of :data:`FIGURES`).
    """
    return {
        "themes_by_section": figure_themes_by_section(report),
        "numbers": figure_numbers(report),
    }


# ---------------------------------------------------------------------- html

CSS = (
    "\n"
    'body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:60rem;'
    "margin:2rem auto;padding:0 1rem;\n"
    "line-height:1.5;color:#1d1d1f}\n"
    "h1{font-size:1.9rem}h2{border-bottom:2px solid #ddd;padding-bottom:.2rem;margin-top:2.5rem}\n"
    "blockquote{margin:.5rem 0 .5rem 0;padding:.3rem .8rem;border-left:4px solid #4C78A8;"
    "background:#f5f7fa}\n"
    ".src{color:#666;font-size:.85rem}.support{font-weight:600;color:#2d6a4f}.muted{color:#666}\n"
    ".takeaway{border:1px solid #ddd;border-radius:8px;padding:.8rem 1rem;margin:1rem 0}\n"
    ".takeaway h3{margin:.2rem 0}table{border-collapse:collapse;margin:.5rem 0}\n"
    "td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}\n"
    "nav a{margin-right:1rem}img{max-width:100%}.kw{font-size:.85rem;color:#555}\n"
)


def _quote_html(q: Quote) -> str:
    return (
        f'<blockquote>{esc(q.text)}<div class="src">{esc(q.speaker)} · {esc(q.interview_id)} · '
        f"{esc(q.where)}</div></blockquote>"
    )


def render_html(report: Report, images: dict[str, bytes]) -> str:
    """The report as one self-contained HTML page (figures inlined, no external request).

    Args:
        report: the report.
        images: the figures from :func:`figures`.

    Returns:
        The page.
    """
    o = report.overview
    total = o.conversations
    shows = shown_parts(report)
    nav = [
        ("overview", "Overview"),
        ("sections", "Sections"),
        ("takeaways", findings_title(report)),
    ]
    nav += [("context", "Context")] if report.context else []
    nav += [("numbers", "Numbers")] if shows["numbers"] else []
    nav += [("lists", "Lists")] if shows["lists"] else []
    nav += [("codes", "Codes")] if report.coding else []
    nav += [("rare", "Only one or two said"), ("method", "Method")]
    parts = [
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(report.title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{esc(report.title)}</h1>",
        "<nav>" + "".join(f'<a href="#{a}">{esc(t)}</a>' for a, t in nav) + "</nav>",
    ]

    # overview
    dates = f"{esc(o.date_range[0])} to {esc(o.date_range[1])}" if o.date_range else "not given"
    langs = ", ".join(f"{esc(k)}: {v}" for k, v in o.languages.items())
    parts.append(
        f'<section id="overview"><h2>Overview</h2><p><b>{total}</b> conversations, '
        f"<b>{o.words:,}</b> words ({o.interviewee_words:,} from interviewees), dates {dates}; "
        f"languages {langs}.</p>"
    )
    if shows["backgrounds"]:
        parts.append(
            f"<p>Different is the norm: <b>{len(o.backgrounds)}</b> distinct educational "
            f"backgrounds across {len(o.backgrounds_by_interview)} people: "
            f"{esc(', '.join(o.backgrounds))}.</p>"
        )
        if o.background_quotes:
            parts.append("".join(_quote_html(q) for q in o.background_quotes[:2]))
    parts.append("</section>")

    # sections
    parts.append(
        f'<section id="sections"><h2>{esc(sections_title(report))}</h2>'
        f'<img alt="Main themes per section" src="data:image/png;base64,'
        f'{base64.b64encode(images["themes_by_section"]).decode()}">'
    )
    for s in report.sections:
        parts.append(
            f'<h3 id="section-{esc(s.name)}">{esc(s.name.capitalize())}</h3>'
            f'<p class="muted">{esc(s.description)} ({s.passages} passages from '
            f"{s.conversations} conversations)</p>"
        )
        if not s.themes:
            parts.append("<p>No theme is raised here by enough conversations.</p>")
        for t in s.themes:
            parts.append(
                f'<h4>{esc(t.label)} <span class="support">'
                f"{support_text(t.conversations, total)}</span></h4>"
                f'<p>{esc(t.summary)} <span class="src">({esc(t.summary_source.interview_id)}, '
                f"{esc(t.summary_source.where)})</span></p>{_quote_html(t.quote)}"
            )
    parts.append("</section>")

    # takeaways or findings
    parts.append(f'<section id="takeaways"><h2>{esc(findings_title(report))}</h2>')
    for t in report.takeaways:
        summary = f"<p>{esc(t.summary)}</p>" if t.summary else ""
        parts.append(
            f'<div class="takeaway"><h3>{t.rank}. {esc(t.headline)}</h3>{summary}'
            f"<p><b>{esc(t.lesson)}</b></p>"
            f'<p class="support">{esc(support_line(t))}</p>'
            f'<p class="kw">key terms: {esc(", ".join(t.keywords))}</p>'
            + "".join(_quote_html(q) for q in t.quotes)
            + "</div>"
        )
    if not report.takeaways:
        parts.append(f"<p>{esc(no_findings_text(report))}</p>")
    parts.append("</section>")

    if report.context:
        parts.append(
            '<section id="context"><h2>Context: what nearly every conversation touched</h2>'
            "<p class=muted>Themes raised almost everywhere with words almost everyone used; "
            "the common ground of the corpus rather than findings.</p><ul>"
            + "".join(
                f"<li><b>{esc(c.headline)}</b> ({support_text(c.conversations, total)}; key "
                f"terms: {esc(', '.join(c.keywords))}): {esc(c.reason)}</li>"
                for c in report.context
            )
            + "</ul></section>"
        )

    if shows["numbers"]:
        parts.append(numbers_html(report, images))
    if shows["lists"]:
        parts.append(lists_html(report))
    if report.coding:
        parts.append(codes_html(report))
    parts += rare_and_method_html(report, total)
    return "".join(parts)


def numbers_html(report: Report, images: dict[str, bytes]) -> str:
    """The "Numbers people gave" section of the page."""
    parts = []
    parts.append(
        '<section id="numbers"><h2>Numbers people gave</h2>'
        f'<img alt="Numbers people gave" src="data:image/png;base64,'
        f'{base64.b64encode(images["numbers"]).decode()}">'
        "<table><tr><th>quantity</th><th>median</th><th>range</th><th>conversations</th>"
        "<th>mentions</th></tr>"
    )
    for f in report.numbers:
        by = "; ".join(f"{esc(k)}: {v:g}" for k, v in f.by_section.items())
        parts.append(
            f"<tr><td>{esc(f.label)}</td><td>{f.median:g}</td><td>{f.low:g}–{f.high:g}</td>"
            f"<td>{f.n_conversations}</td>"
            f"<td>{f.n_mentions}{' (' + by + ')' if by else ''}</td></tr>"
        )
    parts.append("</table>")
    for f in report.numbers:
        items = "".join(
            f"<li>“{esc(m.span)}”: {esc(m.quote.text)} "
            f'<span class="src">{esc(m.quote.interview_id)}, {esc(m.quote.where)}</span></li>'
            for m in f.mentions
        )
        parts.append(
            f"<details><summary>{esc(f.label)}: {f.n_mentions} mentions</summary>"
            f"<ul>{items}</ul></details>"
        )
    if not report.numbers:
        parts.append("<p>No number family was given by enough conversations to show.</p>")
    parts.append("</section>")
    return "".join(parts)


def lists_html(report: Report) -> str:
    """The "Lists people enumerated" section of the page."""
    parts = ['<section id="lists"><h2>Lists people enumerated</h2>']
    for g in report.lists:
        rows = "".join(
            f"<tr><td>{esc(i.item)}</td><td>{i.conversations}</td><td>{esc(i.quote.text)} "
            f'<span class="src">{esc(i.quote.interview_id)}, {esc(i.quote.where)}</span></td></tr>'
            for i in g.items
        )
        parts.append(
            f"<h3>{esc(g.description)}</h3><table>"
            "<tr><th>item</th><th>conversations</th><th>for example</th></tr>"
            f"{rows}</table>"
        )
    parts.append("</section>")
    return "".join(parts)


def coding_intro(report: Report) -> str:
    """One sentence: where the coding came from, how much was found, what was learnt."""
    c = report.coding
    learnt = (
        f"; learnt from the {c.coded_conversations} conversation(s) you coded and applied to "
        f"{c.learnt_conversations} more"
        if c.learnt_conversations
        else f"; {c.coded_conversations} conversation(s) coded by you, none left to code"
    )
    return (
        f"Your codebook ({len(c.codes)} codes in use) from {c.source}: {c.located} of "
        f"{c.excerpts} coded excerpts found in the transcripts{learnt}. Unit: {c.unit_reason}."
    )


def code_support(c, total: int) -> str:
    """'12 of 17 conversations (9 coded by you, 40 learnt passages; expected F1 0.58)'."""
    how = (
        "applied from its words (few examples)"
        if c.few_shot
        else (f"expected F1 {c.expected_f1:.2f}" if c.expected_f1 is not None else "not learnt")
    )
    parts = [f"{c.researcher_excerpts} excerpts coded by you"]
    if c.learnt_units:
        parts.append(f"{c.learnt_units} learnt units in {c.learnt_conversations} more; {how}")
    return f"{support_text(c.conversations, total)} ({', '.join(parts)})"


def codes_html(report: Report) -> str:
    c = report.coding
    total = report.overview.conversations
    out = [f'<section id="codes"><h2>Codes</h2><p class="muted">{esc(coding_intro(report))}</p>']
    for code in c.codes:
        sections = ", ".join(f"{esc(k)}: {v}" for k, v in code.sections.items())
        themes = f"; themes: {esc(', '.join(code.themes))}" if code.themes else ""
        desc = f"<p>{esc(code.description)}</p>" if code.description else ""
        out.append(
            f"<h3>{esc(code.code)}</h3>{desc}"
            f'<p class="support">{esc(code_support(code, total))}</p>'
            f'<p class="kw">sections: {sections or "none"}{themes}</p>'
            + "".join(
                f'<p class="muted">{esc(n)}:</p>{_quote_html(q)}'
                for q, n in zip(code.quotes, code.quote_notes)
            )
        )
    if c.new_themes:
        out.append(
            "<p><b>Themes no code covers</b> (new ground for the codebook): "
            f"{esc(', '.join(c.new_themes))}.</p>"
        )
    out += [f'<p class="muted">{esc(n)}</p>' for n in c.notes]
    out.append("</section>")
    return "".join(out)


def codes_markdown(report: Report) -> list[str]:
    c = report.coding
    total = report.overview.conversations
    out = ["## Codes\n", md(coding_intro(report)) + "\n"]
    for code in c.codes:
        sections = ", ".join(f"{k}: {v}" for k, v in code.sections.items()) or "none"
        themes = f"; themes: {', '.join(code.themes)}" if code.themes else ""
        desc = f"{md(code.description)}\n\n" if code.description else ""
        out.append(
            f"### {md(code.code)}\n\n{desc}{md(code_support(code, total))}. "
            f"Sections: {md(sections)}{md(themes)}.\n\n"
            + "\n".join(
                f"_{md(n)}:_\n\n{_quote_md(q)}" for q, n in zip(code.quotes, code.quote_notes)
            )
        )
    if c.new_themes:
        out.append(f"**Themes no code covers** (new ground): {md(', '.join(c.new_themes))}.\n")
    out += [f"_{md(n)}_\n" for n in c.notes]
    return out


def rare_and_method_html(report: Report, total: int) -> list[str]:
    """The "Only one or two said" and method sections of the page."""
    parts = ['<section id="rare"><h2>Only one or two said</h2>']
    for p in report.rare:
        parts.append(
            f'<h4>{esc(p.headline)} <span class="muted">({esc(p.kind)}, '
            f"{support_text(p.conversations, total)})</span></h4>{_quote_html(p.quote)}"
        )
    if not report.rare:
        parts.append("<p>Nothing was said by only one or two conversations.</p>")
    parts.append("</section>")

    # method
    m = report.method
    models = "".join(f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in m.models.items())
    counts = "".join(f"<tr><td>{esc(k)}</td><td>{v}</td></tr>" for k, v in m.counts.items())
    skipped = (
        "".join(
            f"<li>{esc(s.path)}: {esc(s.status)}, {esc(s.reason)}</li>" for s in m.skipped_files
        )
        or "<li>none</li>"
    )
    notes = "".join(f"<li>{esc(n)}</li>" for n in m.notes)
    parts.append(
        f'<section id="method"><h2>Method</h2><ul>{notes}</ul>'
        f"<table>{models}</table><table>{counts}</table>"
        f"<p>Skipped files:</p><ul>{skipped}</ul>"
        f'<p class="src">interview-insights {esc(m.tool_version)} · '
        f"inputs sha256 {esc(m.inputs_sha256)} · "
        f"config sha256 {esc(m.config_sha256)} · report sha256 {esc(m.report_sha256)} · "
        f"generated {esc(report.generated_at)}</p></section></body></html>\n"
    )
    return parts


# ------------------------------------------------------------------ markdown


def md(text) -> str:
    """Transcript text in Markdown: one line, with characters that would become markup escaped.

    Args:
        text: the value to show.

    Returns:
        Its text on one line, markup characters backslash-escaped.
    """
    text = " ".join(str(text).split())
    return "".join("\\" + c if c in "\\`*_{}[]<>#|!" else c for c in text)


def _quote_md(q: Quote) -> str:
    return f"> {md(q.text)}\n>\n> — {md(q.speaker)}, {md(q.interview_id)}, {md(q.where)}\n"


def numbers_markdown(report: Report) -> list[str]:
    """The "Numbers people gave" section in Markdown lines."""
    out = ["## Numbers people gave\n"]
    if not report.numbers:
        return out + ["No number family was given by enough conversations to show.\n"]
    out.append(f"![Numbers people gave]({FIGURES['numbers']})\n")
    out.append("| quantity | median | range | conversations | mentions |\n|---|---|---|---|---|")
    for f in report.numbers:
        out.append(
            f"| {md(f.label)} | {f.median:g} | {f.low:g}–{f.high:g} | {f.n_conversations} "
            f"| {f.n_mentions} |"
        )
    out.append("")
    for f in report.numbers:
        out.append(f"**{md(f.label)}**\n")
        out += [
            f"- “{md(m.span)}”: {md(m.quote.text)} "
            f"({md(m.quote.interview_id)}, {md(m.quote.where)})"
            for m in f.mentions
        ]
        out.append("")
    return out


def lists_markdown(report: Report) -> list[str]:
    """The "Lists people enumerated" section in Markdown lines."""
    out = ["## Lists people enumerated\n"]
    for g in report.lists:
        out.append(
            f"### {md(g.description)}\n\n| item | conversations | for example |\n|---|---|---|"
        )
        out += [
            f"| {md(i.item)} | {i.conversations} | {md(i.quote.text)} "
            f"({md(i.quote.interview_id)}) |"
            for i in g.items
        ]
        out.append("")
    return out


def render_markdown(report: Report) -> str:
    """The report as Markdown, linking the figures as PNG files beside it.

    Args:
        report: the report.

    Returns:
        The Markdown text.
    """
    o = report.overview
    total = o.conversations
    out = [
        f"# {md(report.title)}\n",
        "## Overview\n",
        f"{total} conversations, {o.words:,} words ({o.interviewee_words:,} from interviewees)"
        + (f", {o.date_range[0]} to {o.date_range[1]}" if o.date_range else "")
        + "; languages "
        + ", ".join(f"{k}: {v}" for k, v in o.languages.items())
        + ".\n",
    ]
    shows = shown_parts(report)
    if shows["backgrounds"]:
        out.append(
            f"Different is the norm: **{len(o.backgrounds)}** distinct educational backgrounds "
            f"across {len(o.backgrounds_by_interview)} people: {md(', '.join(o.backgrounds))}.\n"
        )
    out += [
        f"## {md(sections_title(report))}\n",
        f"![Main themes per section]({FIGURES['themes_by_section']})\n",
    ]
    for s in report.sections:
        out.append(
            f"### {md(s.name.capitalize())}\n\n{md(s.description)} ({s.passages} passages from "
            f"{s.conversations} conversations)\n"
        )
        for t in s.themes:
            out.append(
                f"**{md(t.label)}** ({support_text(t.conversations, total)}): {md(t.summary)}\n\n"
                f"{_quote_md(t.quote)}"
            )
    out.append(f"## {findings_title(report)}\n")
    for t in report.takeaways:
        summary = f"{md(t.summary)}\n\n" if t.summary else ""
        out.append(
            f"### {t.rank}. {md(t.headline)}\n\n{summary}**{md(t.lesson)}**\n\n"
            f"{md(support_line(t))}. Key terms: {md(', '.join(t.keywords))}.\n\n"
            + "\n".join(_quote_md(q) for q in t.quotes)
        )
    if not report.takeaways:
        out.append(no_findings_text(report) + "\n")
    if report.context:
        out.append("## Context: what nearly every conversation touched\n")
        out += [
            f"- **{md(c.headline)}** ({support_text(c.conversations, total)}; key terms: "
            f"{md(', '.join(c.keywords))}): {md(c.reason)}"
            for c in report.context
        ]
        out.append("")
    if shows["numbers"]:
        out += numbers_markdown(report)
    if shows["lists"]:
        out += lists_markdown(report)
    if report.coding:
        out += codes_markdown(report)
    out.append("## Only one or two said\n")
    for p in report.rare:
        out.append(
            f"**{md(p.headline)}** ({p.kind}, {support_text(p.conversations, total)})\n\n"
            f"{_quote_md(p.quote)}"
        )
    m = report.method
    out.append("## Method\n")
    out += [f"- {md(n)}" for n in m.notes]
    out.append("\n| model | version |\n|---|---|")
    out += [f"| {md(k)} | {md(v)} |" for k, v in m.models.items()]
    out.append("\n| count | value |\n|---|---|")
    out += [f"| {md(k)} | {v} |" for k, v in m.counts.items()]
    out.append(
        "\nSkipped files: "
        + (", ".join(f"{md(s.path)} ({md(s.reason)})" for s in m.skipped_files) or "none")
    )
    out.append(
        f"\ninputs sha256 `{m.inputs_sha256}` · config sha256 `{m.config_sha256}` · "
        f"report sha256 `{m.report_sha256}` · generated {report.generated_at}\n"
    )
    return "\n".join(out)
