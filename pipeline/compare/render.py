"""The cohort comparison as tables, a chart, Markdown and one self-contained HTML page."""

from __future__ import annotations

import base64
import html
import io

import pandas as pd

from .cohorts import CohortComparison


def prevalence_table(comparison: CohortComparison) -> pd.DataFrame:
    """Theme x cohort share of conversations, with the test results beside."""
    if comparison.themes.empty:
        return pd.DataFrame()
    wide = comparison.themes.pivot(
        index=["theme_id", "label"], columns="cohort", values="share"
    ).reset_index()
    wide.columns = [str(c) if c in ("theme_id", "label") else f"share[{c}]" for c in wide.columns]
    return (
        wide.merge(comparison.tests.drop(columns=["label"]), on="theme_id", how="left")
        .sort_values(["q_value", "theme_id"])
        .reset_index(drop=True)
    )


def chart_png(comparison: CohortComparison) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    themes = comparison.themes
    # Two themes may share a label: rows are themes, named "label (#id)" where needed.
    data = themes.pivot(index="theme_id", columns="cohort", values="share").fillna(0)
    names = themes.drop_duplicates("theme_id").set_index("theme_id")["label"].astype(str)
    twice = names.duplicated(keep=False)
    names = names.where(~twice, names + " (#" + names.index.astype(str) + ")")
    data.index = [names.get(t, str(t)) for t in data.index]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(data) + 1.5))
    data.plot.barh(ax=ax, width=0.8)
    ax.set_xlabel("share of the cohort's conversations mentioning the theme")
    ax.set_xlim(0, 1)
    ax.set_ylabel("")
    ax.set_title(f"Theme prevalence by {comparison.field}")
    ax.legend(title=comparison.field, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def _md_table(df: pd.DataFrame) -> str:
    if df.empty:
        return "_(none)_\n"
    cells = [
        [str(v).replace("|", "\\|").replace("\n", " ") for v in row]
        for row in df.itertuples(index=False)
    ]
    header = "| " + " | ".join(map(str, df.columns)) + " |\n|" + "---|" * len(df.columns) + "\n"
    return header + "".join("| " + " | ".join(r) + " |\n" for r in cells)


def _html_table(df: pd.DataFrame) -> str:
    if df.empty:
        return "<p><em>(none)</em></p>"
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
        for row in df.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_markdown(c: CohortComparison, png_name: str) -> str:
    parts = [f"# Cohorts by `{c.field}`\n"]
    parts += [f"> **Warning:** {w}\n" for w in c.warnings]
    parts += [
        "\n## Cohorts\n",
        _md_table(c.cohorts),
        f"\n![Theme prevalence by {c.field}]({png_name})\n",
        "\n## Themes by cohort\n",
        "Share of each cohort's conversations that mention the theme; "
        "q = Benjamini-Hochberg adjusted p across themes.\n\n",
        _md_table(prevalence_table(c)),
        "\n## Sections by cohort\n",
        _md_table(c.sections),
        "\n## Distinctive words (c-TF-IDF per cohort)\n",
        _md_table(c.distinctive),
        "\n## Quotes\n",
        _md_table(c.quotes),
    ]
    return "".join(parts)


def render_html(c: CohortComparison, png: bytes) -> str:
    image = base64.b64encode(png).decode()
    warnings = "".join(f'<p class="warn">{html.escape(w)}</p>' for w in c.warnings)
    title = html.escape(f"Cohorts by {c.field}")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body{{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}}
table{{border-collapse:collapse;margin:1em 0;font-size:14px}}
td,th{{border:1px solid #ccc;padding:4px 8px;vertical-align:top}}
th{{background:#f3f3f3}}
.warn{{background:#fff4d6;border-left:4px solid #e0a800;padding:6px 10px}}
</style></head>
<body><h1>{title}</h1>{warnings}
<h2>Cohorts</h2>{_html_table(c.cohorts)}
<img alt="{html.escape(f"Theme prevalence by {c.field}")}" src="data:image/png;base64,{image}">
<h2>Themes by cohort</h2><p>Share of each cohort's conversations that mention the theme;
q = Benjamini-Hochberg adjusted p across themes.</p>
{_html_table(prevalence_table(c))}
<h2>Sections by cohort</h2>{_html_table(c.sections)}
<h2>Distinctive words (c-TF-IDF per cohort)</h2>{_html_table(c.distinctive)}
<h2>Quotes</h2>{_html_table(c.quotes)}
</body></html>
"""
