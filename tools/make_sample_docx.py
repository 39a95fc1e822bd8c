"""Build the bundled synthetic .docx sample(s) from their plain-text sources.

Each source in tools/sample_src/<id>.txt becomes data/raw/<round>/<id>.docx,
one Word paragraph per non-empty line, in the style of an Otter/Word export
("Name: text" speaker labels). A first paragraph marks the file as synthetic.

Usage (from the repository root):
    python tools/make_sample_docx.py                 # all sources, default rounds
    python tools/make_sample_docx.py call-09-rafael --round round-2
"""

from __future__ import annotations

import argparse
from pathlib import Path

from docx import Document
from docx.shared import Pt

ROOT = Path(__file__).resolve().parent.parent
SRC_DIR = ROOT / "tools" / "sample_src"
RAW_DIR = ROOT / "data" / "raw"
MARKER = "SYNTHETIC SAMPLE - fictional interview"
# which round folder each bundled source belongs to
DEFAULT_ROUNDS = {"call-09-rafael": "round-2"}


def build(interview_id: str, round_dir: str) -> Path:
    src = SRC_DIR / f"{interview_id}.txt"
    lines = [ln.strip() for ln in src.read_text(encoding="utf-8").splitlines()]
    doc = Document()
    doc.core_properties.title = interview_id
    doc.core_properties.comments = "Synthetic sample: fictional interview written for testing."
    doc.add_paragraph(MARKER)
    for i, line in enumerate(ln for ln in lines if ln):
        para = doc.add_paragraph(line)
        if i == 0:  # the export's title line
            para.runs[0].bold = True
            para.runs[0].font.size = Pt(14)
    out = RAW_DIR / round_dir / f"{interview_id}.docx"
    out.parent.mkdir(parents=True, exist_ok=True)
    doc.save(out)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "ids", nargs="*", help="interview ids (default: every source in tools/sample_src)"
    )
    ap.add_argument(
        "--round",
        dest="round_dir",
        default=None,
        help="folder under data/raw to write to (default: per-id mapping, else round-2)",
    )
    args = ap.parse_args()
    ids = args.ids or sorted(p.stem for p in SRC_DIR.glob("*.txt"))
    for interview_id in ids:
        round_dir = args.round_dir or DEFAULT_ROUNDS.get(interview_id, "round-2")
        print(build(interview_id, round_dir).relative_to(ROOT))


if __name__ == "__main__":
    main()
