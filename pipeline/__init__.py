"""Interview-insight analysis pipeline.

For notebooks: ``pipeline.load_results("data/processed")`` gives every artifact of a
run (turns, passages, sections, themes, the saved model) through one small object.
"""

__version__ = "0.1.0"


def load_results(path="data/processed"):
    """The processed artifacts of a run; see :mod:`pipeline.results`."""
    from .results import load_results as _load

    return _load(path)


__all__ = ["__version__", "load_results"]
