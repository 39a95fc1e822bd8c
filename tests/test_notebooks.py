"""The notebooks and the results API they are built on.

Notebooks rot silently: nobody runs them until a reader does. So they are executed
here, top to bottom, on the sample pipeline outputs, in a kernel of this very
interpreter (a fresh clone has only the venv, no registered Jupyter kernel). They are
committed without outputs so diffs stay readable and no stale figures ship.
"""

import re
import shutil
from pathlib import Path

import nbformat
import pytest

from pipeline.core.catalog import ArtifactError
from pipeline.ingest.clean import STAGE_DIRECTION_RE
from pipeline.results import load_results

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
EXPLORE = NOTEBOOKS / "01-explore-themes.ipynb"
COMPARE = NOTEBOOKS / "02-compare-cohorts.ipynb"
CELL_TIMEOUT = 300


# ------------------------------------------------------------------ notebooks


@pytest.mark.parametrize("path", [EXPLORE, COMPARE], ids=lambda p: p.name)
def test_notebook_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        and (cell.get("outputs") or cell.get("execution_count") is not None)
    ]
    assert not dirty, f"{path.name}: cells {dirty} have outputs; clear them before committing"


@pytest.fixture(scope="session")
def kernel_manager_factory(tmp_path_factory):
    """Kernels of this interpreter, whatever kernelspecs the machine has installed.

    The spec is written to a private folder and only that folder is searched, so a
    system-wide ``python3`` kernel pointing at another Python cannot be picked up.
    """
    from ipykernel.kernelspec import install
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    prefix = tmp_path_factory.mktemp("kernelspec")
    install(kernel_name="python3", prefix=str(prefix))
    kernels = prefix / "share" / "jupyter" / "kernels"

    def make():
        ksm = KernelSpecManager(kernel_dirs=[str(kernels)], ensure_native_kernel=False)
        return KernelManager(kernel_name="python3", kernel_spec_manager=ksm)

    return make


def execute(
    path: Path, out: Path, kernel_manager_factory, monkeypatch, **env
) -> nbformat.NotebookNode:
    from nbclient import NotebookClient

    monkeypatch.setenv("INSIGHTS_OUT", str(out))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        km=kernel_manager_factory(),
        kernel_name="python3",
        timeout=CELL_TIMEOUT,
        allow_errors=False,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()  # raises CellExecutionError naming the cell on the first error
    return nb


def outputs_text(nb) -> str:
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            parts.append(output.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


@pytest.mark.slow
def test_explore_notebook_runs(themed, kernel_manager_factory, monkeypatch):
    nb = execute(EXPLORE, themed, kernel_manager_factory, monkeypatch)
    text = outputs_text(nb)
    assert "passages mention 'client'" in text
    assert ">> " in text  # the quote's own turn is marked in the context view
    assert not any(o.get("output_type") == "error" for c in nb.cells for o in c.get("outputs", []))


@pytest.mark.slow
def test_compare_notebook_runs(themed, kernel_manager_factory, monkeypatch):
    try:
        import pipeline.compare  # noqa: F401
    except ImportError:
        pytest.skip("pipeline.compare not available")
    nb = execute(COMPARE, themed, kernel_manager_factory, monkeypatch, INSIGHTS_FIELD="folder")
    assert "comparing by 'folder'" in outputs_text(nb)


# ------------------------------------------------------------------ results API
# (every test from here on reads the sample pipeline's outputs: slow)


@pytest.fixture(scope="module")
def r(themed):
    return load_results(themed)


@pytest.mark.slow
def test_load_results_reads_every_table(r):
    assert set(r.available.values()) == {"ok"}, r.available
    assert len(r.turns) and len(r.interviews) and len(r.passages) and len(r.themes)
    assert r.manifest["files"]


@pytest.mark.slow
def test_search_by_keyword_finds_every_passage_containing_it(r):
    hits = r.search(keyword="Upwork")
    assert len(hits) > 0
    assert hits["text"].str.lower().str.contains("upwork").all()
    answers = r.passages[r.passages["role"] != "interviewer"]
    expected = answers[answers["text"].str.lower().str.contains("upwork")]
    assert set(hits["passage_id"]) == set(expected["passage_id"])
    for column in ("interview_id", "source_file", "source_line", "text", "theme", "section"):
        assert column in hits.columns
    assert r.search(keyword="zzzz-not-a-word").empty


@pytest.mark.slow
def test_search_keyword_is_literal_not_regex(r):
    assert (
        r.search(keyword="(").empty
        or r.search(keyword="(")["text"].str.contains("(", regex=False).all()
    )
    assert r.search(keyword=".*").empty


@pytest.mark.slow
def test_search_by_theme_section_and_interview(r):
    table = r.theme_table()
    theme_id, label = int(table["theme_id"].iloc[0]), table["label"].iloc[0]
    by_label = r.search(theme=label)
    assert len(by_label) == int(table["size"].iloc[0])
    assert (by_label["theme_id"] == theme_id).all()
    assert by_label["probability"].is_monotonic_decreasing  # most representative first
    assert r.search(theme=theme_id)["passage_id"].tolist() == by_label["passage_id"].tolist()
    section = r.sections()[0]
    both = r.search(theme=theme_id, section=section)
    assert len(both) and (both["section"] == section).all() and (both["theme_id"] == theme_id).all()
    interview = by_label["interview_id"].iloc[0]
    one = r.search(interview=interview)
    assert len(one) and (one["interview_id"] == interview).all()
    with pytest.raises(KeyError, match="no theme matches"):
        r.search(theme="no such theme at all")


@pytest.mark.slow
def test_in_context_returns_the_passages_own_turn(r):
    # Passages leave out transcriber annotations ("[laughs]") that the turn keeps.
    squash = lambda s: re.sub(r"\s+", " ", STAGE_DIRECTION_RE.sub(" ", s)).strip()  # noqa: E731
    for pid in r.search(theme=int(r.theme_table()["theme_id"].iloc[0]))["passage_id"].head(5):
        passage = r.passages.set_index("passage_id").loc[pid]
        context = r.in_context(pid, window=2)
        own = context[context["is_passage"]]
        assert len(own) == 1
        assert own["turn_index"].iloc[0] == passage["turn_index"]
        assert (context["interview_id"] == passage["interview_id"]).all()
        assert squash(passage["text"]) in squash(own["text"].iloc[0])
        assert (
            context["turn_index"]
            .between(passage["turn_index"] - 2, passage["turn_index"] + 2)
            .all()
        )
        assert {"speaker", "role", "text"} <= set(context.columns)
    with pytest.raises(KeyError, match="no passage"):
        r.in_context("nobody#0.0")


@pytest.mark.slow
def test_theme_tables_agree(r):
    table = r.theme_table()
    matrix = r.theme_section_matrix()
    assignments = r.assignments[r.assignments["theme_id"] != -1]
    assert int(matrix.to_numpy().sum()) == len(assignments) == int(table["size"].sum())
    assert list(matrix.columns) == [s for s in r.sections() if s in matrix.columns]
    assert list(matrix.index) == [r.theme_labels()[t] for t in sorted(table["theme_id"])]
    assert table["top_section"].notna().all()
    joined = r.passages_with_themes()
    assert len(joined) == len(r.passages)
    assert joined["theme_id"].notna().sum() == len(r.assignments)


@pytest.mark.slow
def test_passage_map_and_metadata_fields(r):
    points = r.passage_map(method="pca")
    assert len(points) == len(r.assignments)
    assert points[["x", "y"]].notna().all().all()
    fields = r.metadata_fields()
    assert fields["field"].iloc[0] == "folder"
    assert "interview_id" not in set(fields["field"])


# ------------------------------------------------------------------ missing or stale artifacts


@pytest.fixture
def out_copy(themed, copy_of):
    return copy_of(themed, without=("cache",))


@pytest.mark.slow
def test_missing_ingest_output_fails_at_load(out_copy):
    (out_copy / "turns.parquet").unlink()
    with pytest.raises(ArtifactError, match=r"turns\.parquet.*insights ingest"):
        load_results(out_copy)
    with pytest.raises(ArtifactError, match="insights ingest"):
        load_results(out_copy / "nowhere")


@pytest.mark.slow
def test_missing_themes_name_the_command(out_copy):
    (out_copy / "themes.parquet").unlink()
    r = load_results(out_copy)  # passages and segments are still usable
    assert len(r.passages) and len(r.segments)
    for use in (
        lambda: r.themes,
        lambda: r.assignments,
        r.theme_table,
        r.theme_section_matrix,
        r.passages_with_themes,
        lambda: r.search(keyword="upwork"),
        r.model,
    ):
        with pytest.raises(ArtifactError, match=r"themes\.parquet.*`insights themes`"):
            use()
    assert "insights themes" in r.available["hierarchy"]


@pytest.mark.slow
def test_missing_segments_and_passages_name_the_command(out_copy):
    (out_copy / "segments.parquet").unlink()
    r = load_results(out_copy)
    with pytest.raises(ArtifactError, match="insights segment"):
        r.segments  # noqa: B018 - reading the property is the test
    assert len(r.search(keyword="upwork"))  # themes carry their own sections
    (out_copy / "passages.parquet").unlink()
    r = load_results(out_copy)
    for use in (lambda: r.passages, lambda: r.themes, lambda: r.search(keyword="upwork")):
        with pytest.raises(ArtifactError, match="insights passages"):
            use()


@pytest.mark.slow
def test_stale_themes_and_missing_model_name_the_command(out_copy):
    import json

    info = json.loads((out_copy / "themes.json").read_text())
    info["passages_sha256"] = "0" * 64
    (out_copy / "themes.json").write_text(json.dumps(info))
    with pytest.raises(ArtifactError, match="older.*`insights themes` again"):
        load_results(out_copy).themes  # noqa: B018 - reading the property is the test
    info["passages_sha256"] = json.loads((out_copy / "embeddings.json").read_text())[
        "passages_sha256"
    ]
    (out_copy / "themes.json").write_text(json.dumps(info))
    shutil.rmtree(out_copy / "themes_model")
    r = load_results(out_copy)
    assert len(r.themes)
    with pytest.raises(ArtifactError, match="themes_model.*insights themes"):
        r.model()
