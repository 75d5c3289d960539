"""Scoring: keyword coverage, title fit and the 0..100 blend.
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from services.analysis.local.listing import Listing
from services.analysis.local.matching import VERDICT_VALUE, Assessment, SkillReport, skill_credit
from services.analysis.local.resume import Resume
from services.analysis.local.text import SENIORITY_WORDS, term_weight


# Component weights; they are renormalised over the components a listing allows.
_W_SKILLS = 0.40
_W_REQUIREMENTS = 0.25
_W_KEYWORDS = 0.20
_W_TITLE = 0.15


# Keyword coverage of a well-fitting resume is ~0.4-0.6 of the listing's weighted terms; this
# maps that range onto the top of the scale instead of capping such resumes at ~50.
_KEYWORD_SCALE = 0.55


def keyword_coverage(listing: Listing, resume: Resume) -> float:
    """Weighted share of the listing's content terms that the resume uses.

    A term weighs its section weight (the highest where it appears), a little more when the
    listing repeats it, and a quarter when it is job-ad filler. Resume repetition is ignored.
    """
    weights: dict[str, float] = {}
    frequency: Counter[str] = Counter()
    for unit in listing.units:
        for term in unit.terms:
            frequency[term] += 1
            weights[term] = max(weights.get(term, 0.0), unit.weight)
    for term in listing.title_terms:
        weights[term] = max(weights.get(term, 0.0), 1.0) * 1.5
    values = {
        term: weight * term_weight(term) * (1.0 + 0.3 * math.log(frequency[term])) if frequency[term] else weight
        for term, weight in weights.items()
    }
    # fsum is exact, so the result does not depend on the (hash-seeded) order of the terms.
    total = math.fsum(values.values())
    covered = math.fsum(value for term, value in values.items() if term in resume.terms)
    return covered / total if total else 0.0


def fit_to_title(listing: Listing, resume: Resume) -> float:
    """How well the resume presents the candidate in the listed role, 0..1.

    60%: share of the title's words found in the resume's own role lines (headline, job titles);
    40%: share of the title's skills the resume covers, or, when the title names no skill, of its
    words anywhere in the resume. Words are compared unstemmed ("developer" is not "developed")
    and seniority words ("senior", "lead") count little.
    """
    if not listing.title_words:
        return 0.0
    weights = {word: (0.3 if word in SENIORITY_WORDS else 1.0) for word in listing.title_words}
    total = math.fsum(weights.values())
    in_roles = math.fsum(weight for word, weight in weights.items() if word in resume.role_words) / total
    if listing.title_skills:
        rest = math.fsum(skill_credit(skill, resume) for skill in listing.title_skills) / len(listing.title_skills)
    else:
        rest = math.fsum(weight for word, weight in weights.items() if word in resume.words) / total
    return 0.6 * in_roles + 0.4 * rest


def combine(skills: SkillReport, assessments: Sequence[Assessment], keywords: float, title: float,
             listing: Listing) -> int:
    """The 0..100 score: a weighted mean of the components the listing allows (no skills in the
    vocabulary, no requirement sentences or no title drop out and the rest are renormalised)."""
    parts: list[tuple[float, float]] = []
    if skills.order:
        parts.append((_W_SKILLS, skills.coverage))
    if assessments:
        total = math.fsum(item.unit.weight for item in assessments)
        value = math.fsum(item.unit.weight * VERDICT_VALUE[item.verdict] for item in assessments)
        parts.append((_W_REQUIREMENTS, value / total if total else 0.0))
    parts.append((_W_KEYWORDS, min(1.0, keywords / _KEYWORD_SCALE)))
    if listing.title_words:
        parts.append((_W_TITLE, title))
    weight = math.fsum(w for w, _ in parts)
    blend = math.fsum(w * v for w, v in parts) / weight if weight else 0.0
    return _calibrate(blend)


def _calibrate(blend: float) -> int:
    """Map the 0..1 blend onto 0..100, linearly.

    Calibration lives in the components instead (section weights, skill credits, _KEYWORD_SCALE,
    the title fit), tuned on real resumes and listings so that a resume written for the role
    lands around 55-85 and one written for an unrelated role below about 25.
    """
    return max(0, min(100, int(round(100 * blend))))
