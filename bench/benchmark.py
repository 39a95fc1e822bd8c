#!/usr/bin/env python
"""Benchmark the pipeline on a folder of notes: time, memory, speed-ups and agreement.

    .venv/bin/python bench/benchmark.py [--raw data/raw] [--json out.json] [--quick]

Everything runs in temporary folders in one invocation (``data/processed`` and the raw
folder are never touched). It prints figures, never asserts:

1. a cold run (fresh out dir, empty cache): wall time and peak RSS of each stage,
   each stage in its own fresh process (multiprocessing 'spawn');
2. embedding throughput of the default model (sentence-transformers MiniLM, the
   configured batch_size) and of the fast backend (model2vec, distilled once: the
   one-off distillation is reported apart), on the same passages;
3. agreement of the two backends: themes fitted on each, NMI between the two
   assignments (skipped with --quick);
4. the embedding cache: cold embed vs a warm re-run vs adding one interview;
5. vanilla BERTopic() on the same passages and vectors vs our themes stage.

See bench/README.md for what each figure means.
"""

from __future__ import annotations

import os

# Before anything imports tqdm (tqdm reads TQDM_* at import time): no progress bars in the output.
os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import argparse
import json
import logging
import multiprocessing as mp
import platform
import resource
import shutil
import sys
import tempfile
import time
import traceback
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
for folder in (REPO, REPO / "bench"):  # `pipeline` and `whole_runs` importable from anywhere
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import whole_runs  # noqa: E402

from pipeline.core.catalog import load  # noqa: E402
from pipeline.core.registry import RUN_ORDER  # noqa: E402

# The stages timed one by one (the report stage is not part of this benchmark yet).
STAGES = tuple(s for s in RUN_ORDER if s != "report")
SPAWN = mp.get_context("spawn")
# The themes stage's phases, reported to the hooks by pipeline.themes.stage: (phase, label)
THEMES_PARTS = (
    ("fit", "fit (UMAP, k-means, keywords)"),
    ("labels", "labels"),
    ("per-section keywords", "per-section keywords"),
    ("hierarchy", "hierarchy"),
    ("save model", "save model"),
)
PHASE_LABELS = dict(THEMES_PARTS)
# The scaling curve times every stage of `insights run` but the code stage (no coding given).
SCALING_STAGES = tuple(s for s in RUN_ORDER if s != "code")


# --- small helpers ------------------------------------------------------------


def now() -> float:
    return time.perf_counter()


def peak_rss() -> tuple[float, str]:
    """This process's peak resident set size in MB, and how it was read.

    On Linux ``VmHWM`` from /proc/self/status: ``ru_maxrss`` would be wrong for a spawned
    child there, because the kernel carries the peak of the forked copy of the parent
    over the exec (every child of a 1 GB parent would report at least 1 GB).
    Elsewhere ``ru_maxrss`` (KiB on Linux, bytes on macOS).
    """
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024, "VmHWM"
    except OSError:
        pass
    value = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return (value / (1024 * 1024) if sys.platform == "darwin" else value / 1024), "ru_maxrss"


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


def fmt_ratio(r: float | None) -> str:
    if r is None:
        return "n/a"
    if r >= 10:
        return f"{r:.0f}x"
    if r >= 1:
        return f"{r:.1f}x"
    return f"{r:.2g}x"


def fmt_s(s: float | None) -> str:
    return "n/a" if s is None else (f"{s:.2f} s" if s < 10 else f"{s:.1f} s")


def quiet_logging(verbose: bool) -> None:
    """Pipeline warnings (e.g. 'conversation in French left out') are expected here; hide them
    unless -v."""
    logging.basicConfig(level=logging.WARNING, format="  [log] %(name)s: %(message)s")
    logging.getLogger("pipeline").setLevel(logging.INFO if verbose else logging.ERROR)
    for name in (
        "sentence_transformers",
        "transformers",
        "model2vec",
        "bertopic",
        "BERTopic",
        "numba",
        "umap",
    ):
        logging.getLogger(name).setLevel(logging.INFO if verbose else logging.ERROR)
    if not verbose:
        warnings.filterwarnings("ignore")


def quiet_transformers() -> None:
    """The model2vec distillation loads the model through transformers without the pipeline's
    own silencing; silence it here so the table stays readable."""
    try:
        import transformers

        transformers.logging.set_verbosity_error()
        transformers.utils.logging.disable_progress_bar()
    except Exception:  # pragma: no cover - only cosmetics
        pass


def config_with(config_json: str, **embed: Any):
    from pipeline.core.config import Config

    cfg = Config.model_validate(json.loads(config_json))
    for key, value in embed.items():
        setattr(cfg.embed, key, value)
    return cfg


# --- instrumentation: the registry's hooks (pipeline code is not patched) ---


class Probe:
    """Collects the phases the pipeline reports through :func:`pipeline.core.registry.add_hook`.

    Phases nest ("fit/MiniLM encode"); they are kept under the names the report below
    prints: a phase's own name, and every embedder's encode calls charged to the top-level
    phase they ran in ("MiniLM encode in fit (UMAP, k-means, keywords)").
    """

    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self.counts: dict[str, int] = {}

    def add(self, key: str, seconds: float, n: int = 0) -> None:
        self.times[key] = self.times.get(key, 0.0) + seconds
        if n:
            self.counts[key] = self.counts.get(key, 0) + n

    def on_phase(self, stage: str, path: str, seconds: float, counts: dict[str, int]) -> None:
        parts = path.split("/")
        name, outer = parts[-1], PHASE_LABELS.get(parts[0], parts[0])
        if len(parts) == 1 and name in PHASE_LABELS:
            self.add(PHASE_LABELS[name], seconds, 1)
        if name.endswith(" model load") or name == "spaCy load":
            self.add(name, seconds, 1)
        if name.endswith(" encode"):
            where = outer if len(parts) > 1 else "stage"
            self.add(f"{name} in {where}", seconds, 1)
            key = f"{name.replace(' encode', ' texts')} in {where}"
            self.counts[key] = self.counts.get(key, 0) + counts.get("texts", 0)

    def attach(self):
        from pipeline.core.registry import Hooks, add_hook

        return add_hook(Hooks(phase=self.on_phase))


# --- one stage in a fresh process ----------------------------------------------


def _stage_worker(
    stage: str, raw: str, out: str, config_json: str, verbose: bool
) -> dict[str, Any]:
    """Runs in a fresh 'spawn' process: import the stage, run it, report time and peak RSS."""
    quiet_logging(verbose)
    t_start = now()
    from pipeline.core.config import Config
    from pipeline.core.registry import run_stage as run_pipeline_stage

    cfg = Config.model_validate(json.loads(config_json))
    probe = Probe()
    probe.attach()
    result: dict[str, Any] = {}
    clock: dict[str, float] = {}

    def timed(fn, *args, **kwargs):
        clock["import_s"] = now() - t_start
        t, c = now(), cpu_seconds()
        value = fn(*args, **kwargs)
        clock["wall_s"], clock["run_cpu_s"] = now() - t, cpu_seconds() - c
        return value

    if stage in STAGES:
        options = {"raw_dir": Path(raw)} if stage == "ingest" else {}
        value = timed(run_pipeline_stage, stage, Path(out), cfg, **options)
        if stage == "ingest":
            result["counts"] = value.manifest["counts"]
        elif stage == "passages":
            result["passages"] = len(value)
            result["interviewee_passages"] = int((value["role"] == "interviewee").sum())
        elif stage == "embed":
            result["info"] = load("embeddings_info", Path(out))
        elif stage == "segment":
            result["segments"] = len(value)
        elif stage == "themes":
            result["info"] = load("themes_info", Path(out))
    elif stage == "vanilla":
        from pipeline.core.catalog import cache_dir
        from pipeline.embed import make_embedder
        from pipeline.evaluate.themes import (
            OUTLIER,
            ours_from_outputs,
            outlier_share,
            vanilla_bertopic,
        )

        ours, selected, vectors = ours_from_outputs(Path(out), cfg)
        docs = selected["clean_text"].astype(str).tolist()
        embedder = make_embedder(cfg.embed, cache_dir(Path(out)))
        vanilla = timed(vanilla_bertopic, docs, vectors, embedder, cfg.themes.seed)
        result.update(
            passages=len(docs),
            ours_themes=len(set(ours.topics) - {OUTLIER}),
            vanilla_themes=len(set(vanilla.topics) - {OUTLIER}),
            ours_outlier_share=outlier_share(ours.topics),
            vanilla_outlier_share=outlier_share(vanilla.topics),
        )
    elif stage == "baseline":
        timed(lambda: None)
    else:  # pragma: no cover
        raise ValueError(stage)
    rss, how = peak_rss()
    result.update(
        stage=stage,
        **clock,
        process_cpu_s=cpu_seconds(),
        peak_rss_mb=rss,
        rss_method=how,
        parts=probe.times,
        part_counts=probe.counts,
    )
    return result


def run_stage(
    stage: str, raw: Path | None, out: Path, config_json: str, verbose: bool
) -> dict[str, Any]:
    t = now()
    with ProcessPoolExecutor(max_workers=1, mp_context=SPAWN) as pool:
        result = pool.submit(
            _stage_worker, stage, str(raw) if raw else "", str(out), config_json, verbose
        ).result()
    result["process_s"] = now() - t
    return result


# --- the five measurements ------------------------------------------------------


def machine_facts() -> dict[str, Any]:
    import numpy
    import torch

    facts = {
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "numpy": numpy.__version__,
        "load_avg_start": [round(x, 2) for x in os.getloadavg()],
    }
    try:
        with open("/proc/meminfo") as fh:
            total_kb = int(next(line for line in fh if line.startswith("MemTotal")).split()[1])
        facts["memory_gb"] = round(total_kb / 1024 / 1024, 1)
    except (OSError, StopIteration, ValueError):
        pass
    for pkg in ("sentence_transformers", "model2vec", "bertopic", "umap", "sklearn", "spacy"):
        try:
            facts[pkg] = __import__(pkg).__version__
        except Exception:
            facts[pkg] = "?"
    return facts


def cold_run(raw: Path, out: Path, config_json: str, verbose: bool) -> dict[str, Any]:
    stages = {"baseline": run_stage("baseline", None, out, config_json, verbose)}
    for stage in STAGES:
        stages[stage] = run_stage(stage, raw, out, config_json, verbose)
    return stages


def throughput(
    out: Path, store: Path, config, batch64: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Encode the cold run's passages (unique texts, as embed.run does) with each backend, no
    cache."""

    from pipeline.embed import Model2VecEmbedder, SentenceTransformerEmbedder

    texts = list(dict.fromkeys(load("passages", out)["clean_text"].astype(str)))
    res: dict[str, Any] = {"texts": len(texts)}

    t = now()
    st = SentenceTransformerEmbedder(config.embed.model, config.embed.batch_size)
    st.encode(["warm up"])  # loads the model
    res["minilm_load_s"] = now() - t
    t = now()
    st.encode(texts)
    res["minilm_encode_s"] = now() - t
    res["minilm_batch_size"] = config.embed.batch_size
    res["minilm_per_s"] = len(texts) / res["minilm_encode_s"]
    if batch64:
        # The other way of batching, for comparison: one at a time beside batches.
        alt = 1 if config.embed.batch_size != 1 else 64
        st.batch_size = alt
        t = now()
        st.encode(texts)
        res["minilm_alt_batch_size"] = alt
        res["minilm_alt_encode_s"] = now() - t
        res["minilm_alt_per_s"] = len(texts) / res["minilm_alt_encode_s"]
        st.batch_size = config.embed.batch_size

    quiet_transformers()
    m2v = Model2VecEmbedder(st, store)
    t = now()
    m2v.model  # noqa: B018 - distils (once) and loads
    res["m2v_distill_s"] = now() - t
    t = now()
    Model2VecEmbedder(st, store).model  # noqa: B018 - load of the stored, already distilled model
    res["m2v_load_s"] = now() - t
    m2v.encode(["warm up"])
    runs = []
    for _ in range(3):  # a fraction of a second: best of three
        t = now()
        m2v.encode(texts)
        runs.append(now() - t)
    res["m2v_encode_s"] = min(runs)
    res["m2v_per_s"] = len(texts) / res["m2v_encode_s"]
    res["speedup_m2v_over_minilm"] = ratio(res["m2v_per_s"], res["minilm_per_s"])
    return res, {"minilm": st, "m2v": m2v}


def backend_agreement(
    cold_out: Path, m2v_out: Path, config_json: str, m2v, verbose: bool
) -> dict[str, Any]:
    """Embed and theme the cold run's passages with model2vec, each stage in a fresh process."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    from pipeline.core.catalog import cache_dir

    m2v_out.mkdir(parents=True)
    from pipeline.core.catalog import LINEAGE_RECORD, artifact

    names = [
        artifact(a).path
        for a in ("turns", "interviews", "passages", "manifest", "effective_config")
    ]
    names += [LINEAGE_RECORD.format(stage=stage) for stage in ("ingest", "passages")]
    for name in names:
        if (cold_out / name).exists():
            (m2v_out / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(cold_out / name, m2v_out / name)
    # The static model distilled in (2), where the stage looks for it: no second distillation.
    shutil.copytree(m2v.folder, cache_dir(m2v_out) / m2v.folder.relative_to(m2v.folder.parents[1]))
    m2v_json = config_with(config_json, backend="model2vec").to_json()
    embedded = run_stage("embed", None, m2v_out, m2v_json, verbose)
    run_stage(
        "segment", None, m2v_out, m2v_json, verbose
    )  # themes read the sections; not a figure here
    themed = run_stage("themes", None, m2v_out, m2v_json, verbose)

    a = load("assignments", cold_out)[["passage_id", "theme_id"]]
    b = load("assignments", m2v_out)[["passage_id", "theme_id"]]
    both = a.merge(b, on="passage_id", suffixes=("_minilm", "_m2v"))
    info_a = load("themes_info", cold_out)
    info_b = themed["info"]
    return {
        "passages_both": len(both),
        "passages_minilm": len(a),
        "passages_m2v": len(b),
        "nmi": float(normalized_mutual_info_score(both["theme_id_minilm"], both["theme_id_m2v"])),
        "ari": float(adjusted_rand_score(both["theme_id_minilm"], both["theme_id_m2v"])),
        "themes_minilm": info_a["n_themes"],
        "themes_m2v": info_b["n_themes"],
        "k_range": info_a["params"],
        "m2v_embed_s": embedded["wall_s"],
        "m2v_embed_peak_rss_mb": embedded["peak_rss_mb"],
        "m2v_themes_s": themed["wall_s"],
        "m2v_themes_peak_rss_mb": themed["peak_rss_mb"],
        "m2v_themes_parts": themed["parts"],
    }


def cache_figures(
    raw: Path,
    tmp: Path,
    cold_out: Path,
    cold: dict,
    config_json: str,
    st,
    verbose: bool,
    leave_out: str | None,
) -> dict[str, Any]:

    from pipeline import embed, passages
    from pipeline import ingest as ingest_stage

    res: dict[str, Any] = {
        "cold_embed_s": cold["embed"]["wall_s"],
        "cold_embedded_now": cold["embed"]["info"]["embedded_now"],
    }

    # Re-embedding rewrites embeddings.json (its cache counts), which makes the cold run's themes
    # stale for the vanilla comparison; so the warm run works on a copy, cache included.
    warm_out = tmp / "out-warm"
    shutil.copytree(cold_out, warm_out)
    warm = run_stage("embed", None, warm_out, config_json, verbose)
    res["warm_embed_s"] = warm["wall_s"]
    res["warm_embedded_now"] = warm["info"]["embedded_now"]
    res["warm_peak_rss_mb"] = warm["peak_rss_mb"]

    candidates = whole_runs.interview_files(raw)
    if leave_out is None:
        leave_out = candidates[-1]
    if leave_out not in candidates:
        raise ValueError(
            f"--leave-out {leave_out!r} is not a file under {raw} (try one of: "
            f"{', '.join(candidates)})"
        )
    res["left_out_file"] = leave_out

    raw_copy, out = tmp / "raw-incremental", tmp / "out-incremental"
    shutil.copytree(raw, raw_copy)
    (raw_copy / leave_out).unlink()
    cfg = config_with(config_json, backend="sentence-transformers")
    ingest_stage.run(out, cfg, raw_dir=raw_copy)
    passages.run(out, cfg)
    embed.run(
        out, cfg, embedder=st
    )  # the model is already loaded: this set-up embed is not a figure
    res["before_passages"] = load("embeddings_info", out)["n"]

    shutil.copy2(raw / leave_out, raw_copy / leave_out)
    ingest_stage.run(out, cfg, raw_dir=raw_copy)
    table = passages.run(out, cfg)
    added = run_stage("embed", None, out, config_json, verbose)
    info = added["info"]
    turns = load("turns", out)
    new_ids = set(turns.loc[turns["source_file"] == leave_out, "interview_id"])
    res.update(
        added_interviews=sorted(new_ids),
        added_passages=int(table["interview_id"].isin(new_ids).sum()),
        after_passages=info["n"],
        added_embedded_now=info["embedded_now"],
        added_embed_s=added["wall_s"],
        added_model_load_s=added["parts"].get("MiniLM model load"),
        warm_over_cold=ratio(warm["wall_s"], cold["embed"]["wall_s"]),
        added_over_cold=ratio(added["wall_s"], cold["embed"]["wall_s"]),
    )
    return res


def vanilla_vs_ours(cold_out: Path, cold: dict, config_json: str, verbose: bool) -> dict[str, Any]:
    """Vanilla BERTopic() in a fresh process, like our themes stage (both read UMAP's compiled
    code from numba's cache)."""
    v = run_stage("vanilla", None, cold_out, config_json, verbose)
    ours_stage = cold["themes"]["wall_s"]
    ours_fit = cold["themes"]["parts"].get("fit (UMAP, k-means, keywords)")
    keys = (
        "passages",
        "ours_themes",
        "vanilla_themes",
        "ours_outlier_share",
        "vanilla_outlier_share",
    )
    return {
        **{k: v[k] for k in keys},
        "vanilla_s": v["wall_s"],
        "vanilla_peak_rss_mb": v["peak_rss_mb"],
        "ours_stage_s": ours_stage,
        "ours_fit_s": ours_fit,
        "vanilla_over_ours_stage": ratio(v["wall_s"], ours_stage),
        "vanilla_over_ours_fit": ratio(v["wall_s"], ours_fit),
    }


# --- printing ----------------------------------------------------------------------


def table(rows: list[list[str]], header: list[str], right: set[int] = frozenset()) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(r):
        return "  ".join(
            str(c).rjust(w) if i in right else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(r, widths))
        ).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def stage_notes(stage: str, r: dict[str, Any]) -> str:
    parts = r.get("parts", {})
    if stage == "ingest":
        c = r["counts"]
        return f"{c['ingested']} files, {c['interviews']} interviews, {c['turns']} turns"
    if stage == "passages":
        load = parts.get("spaCy load")
        n, answers = r["passages"], r["interviewee_passages"]
        return f"{n} passages ({answers} interviewee); spaCy load {fmt_s(load)}"
    if stage == "embed":
        info = r["info"]
        load = parts.get("MiniLM model load") or parts.get("model2vec model load")
        enc = sum(v for k, v in parts.items() if " encode in " in k)
        return (
            f"{info['embedded_now']} embedded, {info['from_cache']} from cache; "
            f"model load {fmt_s(load)}, encode {fmt_s(enc)} (load is inside encode)"
        )
    if stage == "segment":
        return f"{r['segments']} turns and passages placed in sections"
    if stage == "themes":
        info = r["info"]
        return f"{info['n_themes']} themes over {info['n_passages']} passages, {info['clustering']}"
    return "python + multiprocessing + this script, nothing else"


def themes_breakdown(r: dict[str, Any]) -> list[str]:
    parts, counts = r.get("parts", {}), r.get("part_counts", {})
    lines = []
    for _, label in THEMES_PARTS:
        if label not in parts:
            continue
        enc_keys = [k for k in parts if k.endswith(f" encode in {label}")]
        enc = sum(parts[k] for k in enc_keys)
        calls = sum(counts.get(k, 0) for k in enc_keys)
        texts = sum(counts.get(k.replace(" encode in ", " texts in "), 0) for k in enc_keys)
        extra = (
            f"   of which embedding {fmt_s(enc)} ({calls} encode calls, {texts} texts)"
            if calls
            else ""
        )
        lines.append(f"    {label:<30} {fmt_s(parts[label]):>9}{extra}")
    load = parts.get("MiniLM model load")
    if load is not None:
        lines.append(f"    {'(MiniLM model load, in fit)':<30} {fmt_s(load):>9}")
    other = r["wall_s"] - sum(parts.get(label, 0) for _, label in THEMES_PARTS)
    lines.append(f"    {'reading inputs, writing tables':<30} {fmt_s(other):>9}")
    return lines


def report(res: dict[str, Any], memory_method: str) -> str:
    out: list[str] = []
    m = res["machine"]
    out.append("interview-insights benchmark")
    out.append(
        f"raw folder: {res['raw']}   config: embed.model={res['config']['embed']['model']}, "
        f"batch_size={res['config']['embed']['batch_size']}, "
        f"themes.seed={res['config']['themes']['seed']}"
    )
    out.append(
        f"machine: {m['cpu_count']} CPUs ({m['cpus_usable']} usable), {m.get('memory_gb', '?')} "
        "GB RAM, "
        f"{m['platform']}"
    )
    out.append(
        f"python {m['python']}, torch {m['torch']} ({m['torch_threads']} threads), numpy "
        f"{m['numpy']}, "
        f"sentence-transformers {m['sentence_transformers']}, model2vec {m['model2vec']}, "
        f"bertopic {m['bertopic']}, umap {m['umap']}, scikit-learn {m['sklearn']}, spaCy "
        f"{m['spacy']}"
    )
    out.append(
        f"load average (1, 5, 15 min) at start {m['load_avg_start']}, at end "
        f"{m.get('load_avg_end')} "
        "(other work on the machine slows every figure; torch suffers most)"
    )
    if m.get("busy_warning"):
        out.append(f"WARNING: {m['busy_warning']}")
    for key, render in (
        ("targets", whole_runs.render),
        ("scaling", lambda r: whole_runs.render_scaling(r, SCALING_STAGES)),
    ):
        if res.get(key):
            out.append("")
            failed = "error" in res[key]
            out.extend([f"{key} failed: {res[key]['error']}"] if failed else render(res[key]))
    if "cold_run" not in res:
        return "\n".join(out)

    cold = res["cold_run"]
    out.append("")
    out.append(
        f"1. Cold run: fresh out dir, empty cache; each stage in a fresh process. {memory_method}"
    )
    rows = []
    for stage in ("baseline", *STAGES):
        r = cold[stage]
        base = stage == "baseline"
        rows.append(
            [
                "(empty process)" if base else stage,
                "-" if base else fmt_s(r["wall_s"]),
                "-" if base else fmt_s(r["run_cpu_s"]),
                fmt_s(r["import_s"]),
                fmt_s(r["process_s"]),
                f"{r['peak_rss_mb']:.0f} MB",
                stage_notes(stage, r),
            ]
        )
    total = sum(cold[s]["wall_s"] for s in STAGES)
    total_cpu = sum(cold[s]["run_cpu_s"] for s in STAGES)
    total_proc = sum(cold[s]["process_s"] for s in STAGES)
    rows.append(["total", fmt_s(total), fmt_s(total_cpu), "", fmt_s(total_proc), "", ""])
    out.append(
        table(
            rows,
            ["stage", "run()", "CPU", "imports", "process", "peak RSS", "notes"],
            right={1, 2, 3, 4, 5},
        )
    )
    out.append(
        "  run() = wall time of the stage function alone; CPU = its user+sys CPU time (all "
        "threads);"
    )
    out.append("  process = spawn + imports + run() + exit, as the parent saw it.")
    out.append("  themes stage, by part:")
    out += themes_breakdown(cold["themes"])

    t = res.get("throughput")
    out.append("")
    if t and "error" not in t:
        out.append(
            f"2. Embedding throughput ({t['texts']} unique passage texts of the cold run, no "
            "cache, one process)"
        )
        rows = [
            [
                f"MiniLM (sentence-transformers), batch_size={t['minilm_batch_size']}",
                fmt_s(t["minilm_encode_s"]),
                f"{t['minilm_per_s']:.0f}/s",
                f"load {fmt_s(t['minilm_load_s'])}",
            ],
        ]
        if "minilm_alt_per_s" in t:
            rows.append(
                [
                    f"MiniLM, batch_size={t['minilm_alt_batch_size']} (for comparison)",
                    fmt_s(t["minilm_alt_encode_s"]),
                    f"{t['minilm_alt_per_s']:.0f}/s",
                    "",
                ]
            )
        rows.append(
            [
                "model2vec (static, distilled from MiniLM)",
                fmt_s(t["m2v_encode_s"]),
                f"{t['m2v_per_s']:.0f}/s",
                f"one-off distillation {fmt_s(t['m2v_distill_s'])}; later loads "
                f"{fmt_s(t['m2v_load_s'])}",
            ]
        )
        out.append(table(rows, ["backend", "encode", "passages/s", "model"], right={1, 2}))
        out.append(f"  model2vec / MiniLM throughput: {fmt_ratio(t['speedup_m2v_over_minilm'])}")
        if "minilm_alt_per_s" in t:
            out.append(
                f"  MiniLM batch {t['minilm_batch_size']} / batch {t['minilm_alt_batch_size']} "
                f"throughput: {fmt_ratio(ratio(t['minilm_per_s'], t['minilm_alt_per_s']))}"
            )
        breakeven = t["m2v_distill_s"] / max(1e-9, 1 / t["minilm_per_s"] - 1 / t["m2v_per_s"])
        out.append(f"  the distillation pays for itself after about {breakeven:.0f} passages")
    else:
        out.append(f"2. Embedding throughput: failed: {t and t.get('error')}")

    a = res.get("agreement")
    out.append("")
    if a is None:
        out.append("3. Backend agreement: skipped (--quick)")
    elif "error" in a:
        out.append(f"3. Backend agreement: failed: {a['error']}")
    else:
        out.append(
            f"3. Backend agreement: themes fitted on MiniLM vectors and on model2vec vectors, "
            f"{a['passages_both']} passages themed by both"
        )
        out.append(f"  NMI(MiniLM themes, model2vec themes): {a['nmi']:.3f}   (ARI {a['ari']:.3f})")
        k = a.get("k_range", {})
        out.append(
            f"  themes: MiniLM {a['themes_minilm']}, model2vec {a['themes_m2v']} "
            f"(k-means k chosen by silhouette within {k.get('k_min')}..{k.get('k_max')})"
        )
        out.append(
            f"  themes stage (fresh process each): model2vec {fmt_s(a['m2v_themes_s'])}, "
            f"{a['m2v_themes_peak_rss_mb']:.0f} MB; MiniLM {fmt_s(cold['themes']['wall_s'])}, "
            f"{cold['themes']['peak_rss_mb']:.0f} MB; model2vec / MiniLM time: "
            f"{fmt_ratio(ratio(a['m2v_themes_s'], cold['themes']['wall_s']))}"
        )
        out.append(
            f"  embed stage with model2vec, from a cache holding only the distilled model: "
            f"{fmt_s(a['m2v_embed_s'])}, {a['m2v_embed_peak_rss_mb']:.0f} MB "
            f"(MiniLM cold: {fmt_s(cold['embed']['wall_s'])}, {cold['embed']['peak_rss_mb']:.0f} "
            "MB)"
        )

    c = res.get("cache")
    out.append("")
    if c and "error" not in c:
        out.append("4. Embedding cache (embed stage, each in a fresh process, MiniLM)")
        rows = [
            ["cold: empty cache", fmt_s(c["cold_embed_s"]), str(c["cold_embedded_now"]), ""],
            [
                "warm: copy of the cold out dir, unchanged",
                fmt_s(c["warm_embed_s"]),
                str(c["warm_embedded_now"]),
                f"peak RSS {c['warm_peak_rss_mb']:.0f} MB (the model is never loaded)",
            ],
            [
                f"one interview added ({c['left_out_file']})",
                fmt_s(c["added_embed_s"]),
                str(c["added_embedded_now"]),
                f"{c['added_passages']} passages in it, {c['before_passages']} -> "
                f"{c['after_passages']} in all; "
                f"model load {fmt_s(c['added_model_load_s'])}",
            ],
        ]
        out.append(table(rows, ["run", "embed run()", "embedded_now", "notes"], right={1, 2}))
        out.append(f"  warm / cold embed: {fmt_ratio(c['warm_over_cold'])}")
        out.append(f"  one added interview / cold embed: {fmt_ratio(c['added_over_cold'])}")
    else:
        out.append(f"4. Embedding cache: failed: {c and c.get('error')}")

    v = res.get("vanilla")
    out.append("")
    if v and "error" not in v:
        out.append(
            f"5. Vanilla BERTopic() vs our themes, same {v['passages']} passages and MiniLM vectors"
        )
        rows = [
            [
                "ours (themes stage)",
                fmt_s(v["ours_stage_s"]),
                str(v["ours_themes"]),
                f"{v['ours_outlier_share']:.1%}",
            ],
            ["ours, fit_themes only", fmt_s(v["ours_fit_s"]), "", ""],
            [
                "vanilla BERTopic()",
                fmt_s(v["vanilla_s"]),
                str(v["vanilla_themes"]),
                f"{v['vanilla_outlier_share']:.1%}",
            ],
        ]
        out.append(table(rows, ["system", "wall", "themes", "outliers"], right={1, 2, 3}))
        out.append("  (each in a fresh process, both with UMAP's compiled code from numba's cache)")
        out.append(f"  vanilla / ours (themes stage): {fmt_ratio(v['vanilla_over_ours_stage'])}")
        out.append(f"  vanilla / ours (fit only): {fmt_ratio(v['vanilla_over_ours_fit'])}")
    else:
        out.append(f"5. Vanilla BERTopic: failed: {v and v.get('error')}")

    out.append("")
    out.append(f"benchmark wall time: {fmt_s(res['total_s'])}")
    return "\n".join(out)


def section(res: dict[str, Any], key: str, fn, *args):
    try:
        res[key] = fn(*args)
    except Exception as exc:  # one failed measurement must not hide the others
        res[key] = {"error": f"{type(exc).__name__}: {exc}"}
        traceback.print_exc()
        print(f"[bench] {key} failed: {exc}", file=sys.stderr)
    return res[key]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--raw",
        type=Path,
        default=REPO / "data" / "raw",
        help="folder of notes (default: data/raw)",
    )
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="skip the backend-agreement themes fit (3) and the batch_size=64 comparison",
    )
    parser.add_argument(
        "--config",
        type=Path,
        help="YAML config (default: ./insights.yaml if present, else defaults)",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="config override, as for `insights --set` (repeatable)",
    )
    parser.add_argument(
        "--leave-out",
        help="file (relative to --raw) for the added-interview figure "
        "(default: the last interview file)",
    )
    parser.add_argument(
        "--targets",
        choices=("only", "also", "no"),
        default="also",
        help="part 0, whole `insights run` commands against the plain BERTopic approach: "
        "only that part, that part and the rest (default), or not",
    )
    parser.add_argument(
        "--scaling",
        default="1,2,4,8",
        help="repeat factors of the scaling curve (default 1,2,4,8; '' to skip)",
    )
    parser.add_argument(
        "--scaling-raw",
        type=Path,
        help="folder the scaling corpus is made from (default: --raw)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary folders and print where they are"
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="show the pipeline's log and library warnings"
    )
    args = parser.parse_args(argv)

    quiet_logging(args.verbose)
    from pipeline.core.config import load_config

    started = now()
    raw = args.raw.expanduser().resolve()
    if not raw.is_dir():
        parser.error(f"raw folder not found: {raw}")
    config = load_config(args.config, args.overrides)
    # Figures 1, 2, 4 and 5 are about the default backend; 2 and 3 add model2vec themselves.
    config.embed.backend = "sentence-transformers"
    config_json = config.to_json()

    res: dict[str, Any] = {"raw": str(raw), "config": json.loads(config_json), "quick": args.quick}
    res["machine"] = machine_facts()
    busy = res["machine"]["load_avg_start"][0]
    if busy > 0.5 * res["machine"]["cpus_usable"]:
        res["machine"]["busy_warning"] = (
            f"load average {busy} on {res['machine']['cpus_usable']} CPUs at the start: other "
            "work is running, "
            "figures will be slower and noisier than on an idle machine"
        )
        print(f"[bench] warning: {res['machine']['busy_warning']}", file=sys.stderr, flush=True)
    print(
        f"[bench] {raw}: {res['machine']['cpus_usable']} CPUs, torch "
        f"{res['machine']['torch_threads']} threads, "
        f"load average {res['machine']['load_avg_start']}",
        file=sys.stderr,
        flush=True,
    )

    tmp = Path(tempfile.mkdtemp(prefix="insights-bench-"))
    # `insights` settings as command-line flags, for the whole-command runs of part 0.
    flags = [a for o in args.overrides for a in ("--set", o)]
    flags += ["--config", str(args.config)] if args.config else []
    try:
        if args.targets != "no":
            section(
                res, "targets", whole_runs.whole_runs, raw, tmp / "targets", flags, args.leave_out
            )
            factors = tuple(int(f) for f in args.scaling.split(",") if f.strip())
            if factors:
                section(
                    res,
                    "scaling",
                    whole_runs.scaling,
                    (args.scaling_raw or raw).expanduser().resolve(),
                    tmp / "scaling",
                    factors,
                    SCALING_STAGES,
                    flags,
                )
        if args.targets == "only":
            return finish(res, args, started)
        cold_out = tmp / "out-cold"
        print("[bench] 1/5 cold run, one fresh process per stage ...", file=sys.stderr, flush=True)
        res["cold_run"] = cold_run(raw, cold_out, config_json, args.verbose)

        print(
            "[bench] 2/5 throughput (includes the model2vec distillation) ...",
            file=sys.stderr,
            flush=True,
        )
        embedders: dict[str, Any] = {}

        def _throughput():
            figures, made = throughput(cold_out, tmp / "model2vec-store", config, not args.quick)
            embedders.update(made)
            return figures

        section(res, "throughput", _throughput)
        if "m2v" in embedders and not args.quick:
            print("[bench] 3/5 themes on model2vec vectors ...", file=sys.stderr, flush=True)
            section(
                res,
                "agreement",
                backend_agreement,
                cold_out,
                tmp / "out-model2vec",
                config_json,
                embedders["m2v"],
                args.verbose,
            )
        else:
            res["agreement"] = (
                None if args.quick else {"error": "no model2vec embedder (throughput failed)"}
            )

        st = embedders.get("minilm")
        if st is None:
            from pipeline.embed import SentenceTransformerEmbedder

            st = SentenceTransformerEmbedder(config.embed.model, config.embed.batch_size)
        print(
            "[bench] 4/5 cache: warm re-run and one added interview ...",
            file=sys.stderr,
            flush=True,
        )
        section(
            res,
            "cache",
            cache_figures,
            raw,
            tmp,
            cold_out,
            res["cold_run"],
            config_json,
            st,
            args.verbose,
            args.leave_out,
        )
        print("[bench] 5/5 vanilla BERTopic() ...", file=sys.stderr, flush=True)
        section(
            res, "vanilla", vanilla_vs_ours, cold_out, res["cold_run"], config_json, args.verbose
        )
    finally:
        if args.keep:
            print(f"[bench] temporary folders kept in {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    return finish(res, args, started)


def finish(res: dict[str, Any], args: argparse.Namespace, started: float) -> int:
    """Print the figures (and write --json); 1 if a measurement failed."""
    res["machine"]["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
    res["total_s"] = now() - started
    how = res.get("cold_run", {}).get("embed", {}).get("rss_method", "VmHWM")
    memory_method = (
        f"Peak RSS = that stage's own process's peak resident memory, read from {how} at its end "
        "(interpreter and imports included; tracemalloc would miss torch's allocations)."
    )
    res["memory_method"] = memory_method
    if args.json:  # first: a figure the printout cannot show is still kept
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(res, indent=2, default=str) + "\n", encoding="utf-8")
        print(f"wrote {args.json}", file=sys.stderr)
    print(report(res, memory_method))
    failed = [
        k
        for k in ("targets", "scaling", "throughput", "agreement", "cache", "vanilla")
        if isinstance(res.get(k), dict) and "error" in res[k]
    ]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
