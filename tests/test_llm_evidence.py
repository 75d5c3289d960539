"""The LLM analyzer asks for the local analyzer's discipline (whole requirements, verbatim
evidence, a defined "partial") and stores no quote that is not in the resume: answers come from
the local OpenAI-compatible test server (tests/support/fake_llm.py), called directly, without the
API and the queue (tests/test_analyses.py covers those)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from services.analysis.llm import (SYSTEM_PROMPT, UNQUOTED_NOTE, LLMAnalyzer, LLMSettings, check_evidence,
                                   quoted_in)
from services.analysis.result import AnalysisResult, RequirementCheck
from tests.support.fake_llm import FakeLLM
from tests.test_local_analyzer import ML_CV, ML_POSTING


@pytest.fixture(scope="module")
def fake_llm():
    server = FakeLLM().start()
    yield server
    server.stop()


@pytest.fixture
def analyzer(fake_llm) -> LLMAnalyzer:
    fake_llm.script.control({"latency": 0, "faults": [], "answers": [], "error_rate": 0})
    settings = LLMSettings(base_url=fake_llm.base_url, api_key="test", model="fake-model", timeout=5.0,
                           max_concurrency=2, max_output_tokens=4000, invalid_output_retries=1,
                           price_input_per_mtok=Decimal(0), price_output_per_mtok=Decimal(0))
    return LLMAnalyzer(settings)


def requirement(text: str, verdict: str, evidence: str | None) -> dict:
    return {"requirement": text, "verdict": verdict, "evidence": evidence}


def test_the_prompt_asks_for_whole_requirements_verbatim_evidence_and_defines_partial() -> None:
    prompt = " ".join(SYSTEM_PROMPT.split())
    assert "WHOLE as the listing words it, never a fragment" in prompt
    assert '"we are seeking X to join our team" line, benefits' in prompt
    assert '"partial": related but not shown' in prompt
    assert "copied character for character from the resume (never a heading, a date line" in prompt
    assert "volunteer work is not employment" in prompt


def test_invented_evidence_is_removed_and_its_met_becomes_partial(analyzer, fake_llm) -> None:
    invented = "Led Kubernetes migrations for 40 clusters at Google."
    genuine = "Designed SQL pipelines feeding model training; deployed services with Docker and Kubernetes."
    fake_llm.script.control({"answers": [{"merge": {"requirements": [
        requirement("Experience with Kubernetes and Docker", "met", invented),
        # Whitespace, line breaks and case may differ from the resume; the words may not.
        requirement("Strong SQL skills", "met", "designed SQL pipelines  feeding\nmodel training"),
        requirement("Hands-on experience with PyTorch or TensorFlow", "met", "Built and deployed ML models … PyTorch"),
        requirement("Experience with Tableau", "partial", "Built Tableau dashboards for sales."),
        requirement("3+ years of experience building machine learning models in Python", "met", genuine[:40]),
    ]}}]})
    result = analyzer.analyze(ML_CV, "Machine Learning Engineer", ML_POSTING).result
    checks = {item.requirement: item for item in result.requirements}
    assert checks["Experience with Kubernetes and Docker"] == RequirementCheck(
        "Experience with Kubernetes and Docker", "partial", None)
    assert checks["Strong SQL skills"].verdict == "met"
    assert checks["Strong SQL skills"].evidence == "designed SQL pipelines  feeding\nmodel training"
    assert checks["Hands-on experience with PyTorch or TensorFlow"].verdict == "met"
    assert checks["Experience with Tableau"] == RequirementCheck("Experience with Tableau", "partial", None)
    assert checks["3+ years of experience building machine learning models in Python"].verdict == "met"
    assert UNQUOTED_NOTE.format(n=2) in result.gaps
    AnalysisResult.from_dict(result.to_dict())  # still inside the one schema


def test_an_answer_quoting_only_the_resume_is_stored_as_it_came(analyzer) -> None:
    output = analyzer.analyze(ML_CV, "Machine Learning Engineer", ML_POSTING)
    assert not any("not found in the resume" in gap for gap in output.result.gaps)
    assert all(item.evidence is None or quoted_in(item.evidence, ML_CV) for item in output.result.requirements)


@pytest.mark.parametrize("evidence,found", [
    ("Built and deployed ML models in Python and PyTorch for fraud detection.", True),
    ("built and deployed ml models in python and pytorch", True),
    ("Built and deployed ML models in Python\n  and PyTorch", True),
    ("Built and deployed ML models in Go", False),
    ("...", False),
])
def test_quoted_in(evidence: str, found: bool) -> None:
    assert quoted_in(evidence, ML_CV) is found


def test_a_full_gaps_list_still_loses_the_quote() -> None:
    result = AnalysisResult(
        score=50, verdict="partial_match", summary="s", matched_skills=(),
        missing_skills=(), requirements=(RequirementCheck("Python", "met", "Wrote Rust daily."),),
        strengths=(), gaps=tuple(f"gap {n}" for n in range(10)), suggestions=(),
    )
    checked = check_evidence(result, "Wrote Python daily.")
    assert checked.requirements == (RequirementCheck("Python", "partial", None),)
    assert len(checked.gaps) == 10


def test_a_pdf_line_hyphenated_across_lines_is_found_as_one_word() -> None:
    assert quoted_in("Developing product strategies", "Leading teams. Devel-\noping product strategies")


def test_every_quote_of_the_local_analyzer_on_the_labelled_set_is_found() -> None:
    from bench.analysis_quality import document_text, load_pairs, realdata_dir
    from services.analysis.local import analyze

    pairs = [pair for pair in load_pairs() if realdata_dir() is not None or "realdata:" not in pair.resume + pair.listing]
    for pair in pairs:
        resume = document_text(pair.resume) or ""
        for item in analyze(resume, document_text(pair.listing) or "").requirements:
            assert item.evidence is None or quoted_in(item.evidence, resume), (pair.id, item.evidence)
