"""How far the local analyzer's requirement table agrees with a strict recruiter's labels.

    .venv/bin/python -m bench.analysis_quality [--pairs] [--analyzer local]

The labelled set is ``tests/data/analysis_labels/`` (see its README.md): resume/listing pairs,
each with the recruiter's requirements (met / partial / missing and the resume lines that
support met or partial), the listing's duties (may be listed, are not graded) and an overall
fit score. Measures, overall and by subset (software / other professions / Spanish):

- recall: share of labelled requirements the analyzer lists (an item *lists* a label when
  each covers at least 60 % of the other's words: fragments and merged paragraphs do not);
- verdict agreement: share of listed requirements whose verdict equals the label;
- partial recall: labelled ``partial`` that the analyzer calls ``partial``;
- met where missing: listed requirements the analyzer calls ``met`` and the label ``missing``;
- evidence support: of the analyzer's met/partial verdicts with a quote, the share whose
  quote contains one of the labelled supporting lines (80 % of its words) and is a real resume
  line, not a heading, a date line or a contact line (see ``bad_evidence``); a quote for a
  requirement labelled missing never supports it;
- non-requirements: analyzer items that list neither a labelled requirement nor a duty
  (titles, company blurbs, pitches, benefits, fragments);
- Spearman rank correlation between the analyzer's scores and the labelled fit scores.
"""
from __future__ import annotations

import argparse
import math
import re
import time
import tracemalloc
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from services.analysis.result import AnalysisResult

ROOT = Path(__file__).resolve().parent.parent
LABELS = ROOT / "tests" / "data" / "analysis_labels"
SUBSETS = ("software", "other", "spanish")
ALIGN = 0.6
SNIPPET_COVER = 0.8


def realdata_dir() -> Path | None:
    for candidate in (ROOT.parent / "shared" / "realdata", Path("/work/shared/realdata")):
        if (candidate / "resumes").is_dir():
            return candidate
    return None


# --- The labelled set ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Label:
    text: str
    verdict: str
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class Pair:
    id: str
    subset: str
    resume: str
    listing: str
    fit: int
    requirements: tuple[Label, ...]
    duties: tuple[str, ...]
    # Another pair's resume in another layout (a two-column render of the same content): its
    # verdicts count, its score is not ranked a second time beside the other's.
    same_content_as: str | None = None


def load_pairs(directory: Path = LABELS) -> list[Pair]:
    pairs = []
    for path in sorted(directory.glob("pairs_*.yaml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")):
            pairs.append(Pair(
                id=item["id"], subset=item["subset"], resume=item["resume"], listing=item["listing"],
                fit=int(item["fit"]),
                requirements=tuple(Label(r["text"], r["verdict"], tuple(r.get("evidence") or ()))
                                   for r in item["requirements"]),
                duties=tuple(item.get("duties") or ()),
                same_content_as=item.get("same_content_as"),
            ))
    return pairs


@lru_cache(maxsize=None)
def document_text(reference: str) -> str | None:
    """The text a reference names: ``realdata:<path>`` (a PDF is extracted as the application
    does) or a path under the labels directory. ``None`` when shared/realdata is absent."""
    if reference.startswith("realdata:"):
        base = realdata_dir()
        if base is None:
            return None
        path = base / reference.removeprefix("realdata:")
    else:
        path = LABELS / reference
    if path.suffix == ".pdf":
        import logging

        from services.extraction import extract_text

        logging.getLogger("pdfminer").setLevel(logging.ERROR)
        return extract_text(path.read_bytes()).text
    return path.read_text(encoding="utf-8")


# --- Text comparison ---------------------------------------------------------------------------------

_WORD_RE = re.compile(r"[a-z0-9+#]+")


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.replace("\u00ad", "")).lower()
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    return _WORD_RE.findall(normalize(text))


def cover(part: Iterable[str], whole: Iterable[str]) -> float:
    part_set, whole_set = set(part), set(whole)
    return len(part_set & whole_set) / len(part_set) if part_set else 0.0


def aligned(label: str, item: str) -> float:
    """How well an analyzer item lists a labelled text: 0 unless each covers 60 % of the other."""
    a, b = words(label), words(item.rstrip("\u2026"))
    forward, backward = cover(a, b), cover(b, a)
    return (forward + backward) / 2 if forward >= ALIGN and backward >= ALIGN else 0.0


_MONTHS = ("jan feb mar apr may jun jul aug sep sept oct nov dec january february march april june july august "
           "september october november december present current now today summer fall spring winter "
           "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre "
           "actualidad presente verano").split()
_HEADINGS = frozenset(
    "summary profile objective experience education skills projects awards certifications certificates languages "
    "interests publications references contact volunteer work employment history professional technical "
    "licenses and & perfil experiencia formacion idiomas informatica profesional about".split())
_CONTACT_RE = re.compile(r"@|https?://|www\.|linkedin\.com|github\.com|\(?\+?\d[\d\s().-]{7,}\d")


def bad_evidence(text: str) -> str | None:
    """Why a quote cannot be evidence (a contact, date or heading line), or None."""
    if _CONTACT_RE.search(text):
        return "contact"
    tokens = words(text)
    rest = [t for t in tokens if t not in _MONTHS and not t.isdigit() and not re.fullmatch(r"\d+[a-z]*|x+", t)]
    if len(rest) < len(tokens) and len(rest) <= 2:
        return "date"
    if len(tokens) <= 4 and all(t in _HEADINGS for t in tokens):
        return "heading"
    return None


def supports(evidence: str, label: Label, resume: str) -> bool:
    if label.verdict == "missing" or bad_evidence(evidence):
        return False
    if " ".join(words(evidence.rstrip("\u2026"))) not in " ".join(words(resume)):
        return False  # not quoted from the resume
    quoted = words(evidence)
    return any(cover(words(snippet), quoted) >= SNIPPET_COVER for snippet in label.evidence)


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float:
    def ranks(values: Sequence[float]) -> list[float]:
        order = sorted(range(len(values)), key=lambda i: values[i])
        result = [0.0] * len(values)
        i = 0
        while i < len(order):
            j = i
            while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
                j += 1
            for k in range(i, j + 1):
                result[order[k]] = (i + j) / 2
            i = j + 1
        return result

    rx, ry = ranks(xs), ranks(ys)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    num = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    den = math.sqrt(sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry))
    return num / den if den else 0.0


# --- Measuring -----------------------------------------------------------------------------------------


@dataclass
class Tally:
    labels: int = 0
    listed: int = 0
    agree: int = 0
    partial_labels: int = 0
    partial_found: int = 0
    met_where_missing: int = 0
    quoted: int = 0
    supported: int = 0
    items: int = 0
    non_requirements: int = 0
    scores: list[tuple[int, int]] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        for name in ("labels", "listed", "agree", "partial_labels", "partial_found", "met_where_missing", "quoted",
                     "supported", "items", "non_requirements"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.scores.extend(other.scores)
        self.seconds.extend(other.seconds)

    def measures(self) -> dict[str, float]:
        def ratio(a: int, b: int) -> float:
            return a / b if b else 0.0

        return {
            "verdict_agreement": ratio(self.agree, self.listed),
            "partial_recall": ratio(self.partial_found, self.partial_labels),
            "evidence_support": ratio(self.supported, self.quoted),
            "met_where_missing": ratio(self.met_where_missing, self.listed),
            "non_requirements": ratio(self.non_requirements, self.items),
            "spearman": spearman([s for s, _ in self.scores], [f for _, f in self.scores]) if len(self.scores) > 2
            else 0.0,
            "recall": ratio(self.listed, self.labels),
        }


@dataclass
class PairReport:
    pair: Pair
    result: AnalysisResult
    tally: Tally
    rows: list[str]


def evaluate_pair(pair: Pair, analyze: Callable[[str, str], AnalysisResult]) -> PairReport | None:
    resume, listing = document_text(pair.resume), document_text(pair.listing)
    if resume is None or listing is None:
        return None
    started = time.perf_counter()
    result = analyze(resume, listing)
    tally = Tally(labels=len(pair.requirements), items=len(result.requirements))
    tally.seconds.append(time.perf_counter() - started)
    if pair.same_content_as is None:
        tally.scores.append((result.score, pair.fit))
    rows: list[str] = []
    best: dict[int, tuple[float, int]] = {}
    for index, item in enumerate(result.requirements):
        fits = [(aligned(label.text, item.requirement), n) for n, label in enumerate(pair.requirements)]
        value, n = max(fits, default=(0.0, -1))
        if value > 0:
            if n not in best or value > best[n][0]:
                best[n] = (value, index)
        elif not any(aligned(duty, item.requirement) for duty in pair.duties):
            tally.non_requirements += 1
            rows.append(f"    NOT A REQUIREMENT  {item.requirement[:100]!r} ({item.verdict})")
    for n, label in enumerate(pair.requirements):
        tally.partial_labels += label.verdict == "partial"
        if n not in best:
            rows.append(f"    NOT LISTED  [{label.verdict}] {label.text[:90]!r}")
            continue
        item = result.requirements[best[n][1]]
        tally.listed += 1
        tally.agree += item.verdict == label.verdict
        tally.partial_found += label.verdict == "partial" and item.verdict == "partial"
        tally.met_where_missing += label.verdict == "missing" and item.verdict == "met"
        judged = ""
        if item.verdict != "missing" and item.evidence and (label.evidence or label.verdict == "missing"):
            tally.quoted += 1
            ok = supports(item.evidence, label, resume)
            tally.supported += ok
            judged = "" if ok else f"  UNSUPPORTED {item.evidence[:90]!r}"
        mark = "  " if item.verdict == label.verdict else "XX"
        rows.append(f"  {mark} {label.verdict:>7} / {item.verdict:<7} {label.text[:70]!r}{judged}")
    return PairReport(pair, result, tally, rows)


def local_analyze(resume: str, listing: str) -> AnalysisResult:
    from services.analysis.local import analyze

    return analyze(resume, listing)


def evaluate(analyze: Callable[[str, str], AnalysisResult] = local_analyze,
             pairs: Sequence[Pair] | None = None) -> tuple[dict[str, Tally], list[PairReport]]:
    """Tallies per subset and overall ("all"), and the per-pair reports."""
    tallies = {name: Tally() for name in (*SUBSETS, "all")}
    reports = []
    for pair in pairs if pairs is not None else load_pairs():
        report = evaluate_pair(pair, analyze)
        if report is None:
            continue
        reports.append(report)
        tallies[pair.subset].add(report.tally)
        tallies["all"].add(report.tally)
    return tallies, reports


MEASURE_NAMES = {
    "verdict_agreement": "exact verdict agreement",
    "partial_recall": "partial recognised (recall)",
    "evidence_support": "quoted evidence supports",
    "met_where_missing": "met where label says missing",
    "non_requirements": "non-requirements listed",
    "spearman": "score Spearman",
    "recall": "requirement recall",
}


def cell(tally: Tally, measures: dict[str, float], key: str) -> str:
    """One measure as the tables print it: the ratio, and its counts where it has them."""
    extra = {"partial_recall": f" ({tally.partial_found}/{tally.partial_labels})",
             "non_requirements": f" ({tally.non_requirements}/{tally.items})",
             "met_where_missing": f" ({tally.met_where_missing}/{tally.listed})",
             "evidence_support": f" ({tally.supported}/{tally.quoted})",
             "recall": f" ({tally.listed}/{tally.labels})"}.get(key, "")
    return f"{measures[key]:.2f}{extra}"


def table(tallies: dict[str, Tally]) -> str:
    columns = ("all", *SUBSETS)
    lines = ["| measure | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    measures = {name: tallies[name].measures() for name in columns}
    for key, title in MEASURE_NAMES.items():
        cells = [cell(tallies[name], measures[name], key) for name in columns]
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    everything = tallies["all"]
    lines.append(f"\n{len(everything.seconds)} pairs, {everything.labels} labelled requirements; "
                 f"median {1000 * sorted(everything.seconds)[len(everything.seconds) // 2]:.0f} ms per analysis")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", action="store_true", help="print every pair's verdicts")
    parser.add_argument("--memory", action="store_true", help="measure peak memory of one analysis")
    args = parser.parse_args(argv)
    tallies, reports = evaluate()
    if args.pairs:
        for report in reports:
            print(f"{report.pair.id} [{report.pair.subset}] score {report.result.score} (label {report.pair.fit})")
            print("\n".join(report.rows))
    print(table(tallies))
    if args.memory and reports:
        pair = reports[0].pair
        tracemalloc.start()
        local_analyze(document_text(pair.resume) or "", document_text(pair.listing) or "")
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"peak Python memory of one analysis ({pair.id}): {peak / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
