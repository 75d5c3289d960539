"""The local analyzer's requirement table against a strict recruiter's labels
(tests/data/analysis_labels/, measured by bench/analysis_quality.py; figures in ANALYSIS.md).

Each floor is what the analyzer reached when it was set, less 0.02 for ratios (one verdict of
~150 is 0.007): a change that makes the verdicts, the evidence, the extracted requirements or
the scores worse fails here. Raise a floor when the analyzer improves; never lower one to let a
change through.
"""
from __future__ import annotations

import pytest

from bench.analysis_quality import SUBSETS, evaluate, realdata_dir

pytestmark = pytest.mark.skipif(realdata_dir() is None, reason="shared/realdata (resumes and listings) not found")

# measure -> (floor or ceiling, "min" | "max"), overall and by subset
FLOORS = {
    "all": {"verdict_agreement": (0.73, "min"), "partial_recall": (0.59, "min"), "evidence_support": (0.88, "min"),
            "met_where_missing": (0.02, "max"), "non_requirements": (0.02, "max"), "spearman": (0.84, "min"),
            "recall": (0.96, "min")},
    "software": {"verdict_agreement": (0.83, "min"), "evidence_support": (0.81, "min"), "spearman": (0.78, "min"),
                 "recall": (0.85, "min"), "non_requirements": (0.02, "max")},
    "other": {"verdict_agreement": (0.70, "min"), "evidence_support": (0.88, "min"), "spearman": (0.88, "min"),
              "recall": (0.98, "min"), "non_requirements": (0.02, "max")},
    "spanish": {"verdict_agreement": (0.72, "min"), "evidence_support": (0.93, "min"), "spearman": (0.80, "min"),
                "recall": (0.98, "min"), "non_requirements": (0.02, "max")},
}


@pytest.fixture(scope="module")
def measures() -> dict[str, dict[str, float]]:
    tallies, reports = evaluate()
    assert sum(tally.labels for name, tally in tallies.items() if name in SUBSETS) >= 150
    return {name: tally.measures() for name, tally in tallies.items()}


@pytest.mark.parametrize("subset,measure", [(subset, measure) for subset, floors in FLOORS.items() for measure in floors])
def test_requirement_table_quality_does_not_regress(measures, subset: str, measure: str) -> None:
    bound, kind = FLOORS[subset][measure]
    value = measures[subset][measure]
    if kind == "min":
        assert value >= bound, f"{subset} {measure} fell to {value:.3f} (floor {bound})"
    else:
        assert value <= bound, f"{subset} {measure} rose to {value:.3f} (ceiling {bound})"


def test_every_analysis_of_the_labelled_set_is_deterministic() -> None:
    first = [report.result for report in evaluate()[1]]
    second = [report.result for report in evaluate()[1]]
    assert first == second


def test_a_resume_in_another_layout_gets_the_same_verdicts_and_score() -> None:
    """A two-column render of a resume is read column by column: the requirement table and the
    score are those of its single-column render (same content)."""
    reports = {report.pair.id: report for report in evaluate()[1]}
    twins = [(report, reports[report.pair.same_content_as]) for report in reports.values() if report.pair.same_content_as]
    assert twins
    for twin, original in twins:
        assert [(item.requirement, item.verdict) for item in twin.result.requirements] == [
            (item.requirement, item.verdict) for item in original.result.requirements]
        assert abs(twin.result.score - original.result.score) <= 3, (twin.result.score, original.result.score)
