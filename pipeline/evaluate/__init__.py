"""Evaluation: our themes and sections against internal measures, baselines and people's labels.

:mod:`.coding` scores the machine's coding against a researcher's (leave one interview out)
beside a logistic-regression baseline;
:mod:`.themes` scores the themes beside vanilla BERTopic (and against coded excerpts);
:mod:`.segments` scores the sections against hand labels beside two baselines;
:mod:`.report` checks a finished report.json (headlines, summaries, quotes, support, labels);
:mod:`.gold` reads the hand-made gold CSVs.
"""

from .coding import evaluate_coding
from .report import evaluate_report
from .segments import evaluate_segments
from .themes import evaluate_themes

__all__ = ["evaluate_coding", "evaluate_report", "evaluate_segments", "evaluate_themes"]
