"""Matching: listing skills against the resume (``skill_report``) and each requirement's verdict
and evidence (``assess``).
"""
from __future__ import annotations

import dataclasses
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from services.analysis.local.listing import Listing, required_years
from services.analysis.local.resume import Resume, quotable, shows, years_in
from services.analysis.local.text import Unit, content_terms, language_of, shorten, stem, term_weight
from services.analysis.result import MAX_EVIDENCE_CHARS
from services.analysis.skills import is_soft_skill, normalize_text, skill_category, tokenize


_SOFT_FACTOR = 0.5
_TITLE_SKILL_WEIGHT = 1.2


@dataclass(frozen=True)
class SkillReport:
    order: tuple[str, ...]  # listing skills in order of first appearance
    weights: dict[str, float]
    required: frozenset[str]  # asked for in requirement-ish sections, not already met by an alternative
    first_mention: dict[str, str]  # skill -> the unit text that first asks for it (preferring requirements)
    matched: tuple[str, ...]
    missing: tuple[str, ...]
    coverage: float  # weighted share of the listing's skill demands the resume meets (see _skill_coverage)


def skill_report(listing: Listing, resume: Resume) -> SkillReport:
    """Listing skills with weights, split into covered and missing by the resume."""
    weights: dict[str, float] = dict.fromkeys(listing.title_skills, _TITLE_SKILL_WEIGHT)
    required: set[str] = set(listing.title_skills)
    optional: set[str] = set()  # offered as one of several options the resume already covers
    mentions: Counter[str] = Counter()
    quoted: dict[str, str] = {}
    quoted_req: dict[str, str] = {}
    for unit in listing.units:
        for skill in unit.skills:
            mentions[skill] += 1
            weights[skill] = max(weights.get(skill, 0.0), unit.weight)
            quoted.setdefault(skill, unit.text)
            if unit.section == "req":
                required.add(skill)
                quoted_req.setdefault(skill, unit.text)
        if _has_alternatives(unit) and _skill_share(unit.skills, resume, True) >= 1.0:
            optional.update(unit.skills)
    order = tuple(dict.fromkeys([*listing.title_skills, *(s for u in listing.units for s in u.skills)]))
    final: dict[str, float] = {}
    for skill in order:
        # A skill the listing keeps coming back to matters more (up to +45%).
        repeat = 1.0 + 0.15 * min(max(mentions[skill] - 1, 0), 3)
        final[skill] = weights[skill] * repeat * (_SOFT_FACTOR if is_soft_skill(skill) else 1.0)
    matched = tuple(skill for skill in order if skill in resume.skills)
    missing = tuple(skill for skill in order if skill not in resume.skills)
    return SkillReport(
        order=order,
        weights=final,
        required=frozenset(required - optional),
        first_mention={**quoted, **quoted_req},
        matched=matched,
        missing=missing,
        coverage=_skill_coverage(listing, resume),
    )


def _skill_coverage(listing: Listing, resume: Resume) -> float:
    """Weighted share of the listing's skill demands the resume meets, one demand per unit.

    Counting per unit (not per skill) lets "Amplitude, Mixpanel, or Looker" be one demand met by
    any two of three, weighs a skill the listing keeps asking for more, and weighs each demand
    by its section.
    """
    # The same set of skills asked for again counts once, at its most important place.
    demands: dict[frozenset[str], tuple[float, float]] = {}
    if listing.title_skills:
        key = frozenset(listing.title_skills)
        demands[key] = (_TITLE_SKILL_WEIGHT, _skill_share(listing.title_skills, resume, False))
    for unit in listing.units:
        if not unit.skills:
            continue
        hard = sum(1 for skill in unit.skills if not is_soft_skill(skill))
        breadth = 1.0 + 0.25 * min(max(hard - 1, 0), 4)
        weight = unit.weight * breadth * (1.0 if hard else _SOFT_FACTOR)
        key = frozenset(unit.skills)
        if key not in demands or demands[key][0] < weight:
            demands[key] = (weight, _skill_share(unit.skills, resume, _has_alternatives(unit)))
    total = math.fsum(weight for weight, _ in demands.values())
    return math.fsum(weight * share for weight, share in demands.values()) / total if total else 0.0


_MET = 0.6
_PARTIAL = 0.3
VERDICT_VALUE = {"met": 1.0, "partial": 0.5, "missing": 0.0}
_ALTERNATIVES_RE = re.compile(
    r"\bor\b|\bsuch as\b|\be\.?g\b|\betc\b|\blike\b|\bincluding\b|\bcomo\b|\bo\b|\bie\b|\bentre otr"
)


def _has_alternatives(unit: Unit) -> bool:
    """"X, Y or Z" / "such as X, Y" / "(X, Y)": the listing gives examples, not a checklist."""
    return bool(_ALTERNATIVES_RE.search(unit.normalized))


@dataclass(frozen=True)
class Assessment:
    unit: Unit
    verdict: str
    evidence: str | None
    years: int | None


def _weighted_share(wanted: frozenset[str], have: frozenset[str]) -> float:
    """Share of ``wanted`` terms (filler words weighted 1/4) present in ``have``."""
    total = sum(term_weight(term) for term in wanted)
    if not total:
        return 0.0
    return sum(term_weight(term) for term in wanted if term in have) / total


_RELATED_CREDIT = 0.5


def skill_credit(skill: str, resume: Resume) -> float:
    """How far the resume shows a skill: 1 if used in context (or a more specific one is),
    0.4-0.8 if only named in a bare list (see _list_credit), 0.5 if a broader skill makes it
    likely, else 0."""
    if skill in resume.skills:
        if skill in resume.listed_only:
            return resume.list_credit
        return 1.0
    return _RELATED_CREDIT if skill in resume.partial_skills else 0.0


def _skill_share(skills: Sequence[str], resume: Resume, alternatives: bool, credit=None) -> float:
    """Share of a demand's skills the resume covers; for "X, Y or Z" lists half of them suffice.
    ``credit(skill)`` defaults to ``skill_credit``."""
    credit = credit or (lambda skill: skill_credit(skill, resume))
    weights = {skill: (_SOFT_FACTOR if is_soft_skill(skill) else 1.0) for skill in skills}
    total = math.fsum(weights.values())
    have = math.fsum(weights[skill] * credit(skill) for skill in skills)
    if alternatives and len(skills) >= 2:
        total = max(total / 2.0, min(weights.values()))
    return min(1.0, have / total) if total else 0.0


def assess(unit: Unit, resume: Resume) -> Assessment:
    """Verdict and evidence for one requirement unit.

    coverage = 0.6 * skill share + 0.4 * keyword share when the unit names skills, else the
    keyword share alone; keyword share = 0.75 * best single resume sentence + 0.25 * whole
    resume (stemmed, filler words discounted). A stated "N+ years" caps the verdict by the
    resume's years. met >= 0.6 > partial >= 0.3 > missing.

    ``met`` needs what the requirement asks for to be shown, in work, education or a
    credential: when only the summary, a skills list or volunteer work reaches ``met``, or a
    requirement naming several skills (not as alternatives) misses one, it is ``partial``
    (related, not shown). Language and "familiarity with" requirements are exempt: a languages
    line or a skills list is what shows them. A requirement naming only soft skills that the
    resume does not name is ``partial`` when its words are there. Evidence is a resume
    sentence, never a heading, a date line, a contact or name line, or a job-title line.
    """
    years = required_years(unit.normalized)
    if unit.skills and all(skill_category(skill) == "soft" for skill in unit.skills):
        # "Customer orientation and teamwork" is shown in other words ("resolved guest
        # complaints"), rarely by the vocabulary's name for it: its words can make it partial.
        # The words of the resume's own job titles say what the person is, not that they did
        # what is asked: "mentoring junior designers" is not shown by a designer's resume.
        unit = dataclasses.replace(unit, terms=unit.terms - resume.role_terms)
        by_name = _assess(unit, years, resume)
        by_words = _assess(dataclasses.replace(unit, skills=(), implied=frozenset(), skill_terms=frozenset()),
                           years, resume)
        if by_name.verdict == "missing" and by_words.verdict != "missing":
            return Assessment(unit, "partial", by_words.evidence, years)
        return by_name
    return _assess(unit, years, resume)


def _assess(unit: Unit, years: int | None, resume: Resume) -> Assessment:
    """Verdict and evidence of ``unit`` (see ``assess``), its skills judged as skills."""
    # Skill words are judged by the skill share; counting them again as keywords would let a
    # bare list of skill names satisfy requirements twice.
    topic_terms = unit.terms - unit.skill_terms if unit.skills else unit.terms
    if years is not None:
        topic_terms = frozenset(term for term in topic_terms if term not in _YEAR_TERMS)
    # An education line shows a degree, not experience or communication skills.
    schooling = years is None and bool(_EDUCATION_REQUIREMENT_RE.search(unit.normalized))
    usable = [candidate for candidate in resume.units if schooling or candidate.section != "education"]
    # Job-title lines show the role ("Recepcionista \u2014 Hotel Sol") but are never quoted.
    shown_units = [candidate for candidate in usable if shows(candidate)]
    coverage, best_text, best_score = _coverage(unit, topic_terms, years, usable, resume, resume.terms,
                                                lambda skill: skill_credit(skill, resume))
    verdict = "met" if coverage >= _MET else "partial" if coverage >= _PARTIAL else "missing"
    # Too few years in all is missing; enough in all but not shown in the subject, with the
    # subject's skill claimed, is related (the rule below).
    short_of_years = years is not None and resume.years < 0.6 * years
    if verdict == "missing" and not short_of_years and any(
        skill_credit(skill, resume) > 0 for skill in unit.skills if not is_soft_skill(skill)
    ):
        verdict = "partial"  # some of what it names is there: related, not shown
    shown_terms = frozenset().union(*(candidate.terms for candidate in shown_units))
    shown_coverage, shown_text, shown_score = _coverage(
        unit, topic_terms, years, shown_units, resume, shown_terms, lambda skill: _shown_credit(skill, resume))
    if verdict == "met" and not _EXEMPT_FROM_SHOWING_RE.search(unit.normalized) and (
        shown_coverage < _MET or _misses_a_skill(unit, resume)
    ):
        verdict = "partial"
    # "Lease accounting under ASC 842" is not met by accounting alone: when none of the words
    # that narrow a skill down occur anywhere in the resume, the skill is related, not shown.
    # Words in brackets illustrate ("Advanced Excel (pivot tables, lookups)"), and a language's
    # level ("fluency", "written") is what a languages line states in its own words: neither narrows.
    # (An included span, "including 1 year as supervisor", is judged by its own years below.)
    narrowing = {term for term in topic_terms - _bracketed_terms(unit) - _included_span_terms(unit)
                 if term_weight(term) == 1.0 and any(ch.isalpha() for ch in term)}
    # (Only within one language: an unmapped Spanish word never occurs in an English resume.)
    same_language = (language_of(unit.tokens) or "en") == (resume.language or "en")
    if verdict == "met" and unit.skills and narrowing and same_language and not narrowing & resume.terms \
            and not _EXEMPT_FROM_SHOWING_RE.search(unit.normalized):
        verdict = "partial"
    if verdict == "met" and _short_of_included_years(unit, resume):
        verdict = "partial"
    # Quote a line of work, education or a credential when one names what is asked about as
    # well as the best line does; the summary or a skills list only when none does.
    if shown_text is not None and shown_score >= 0.75 * best_score:
        best_text = shown_text
    if schooling:
        # A degree is shown by the education section, whatever a skills list shares with it:
        # the education line naming most of what is asked ("Computer Science" for "Ingeniería de
        # Sistemas, Informática, Estadística o afines").
        def named(candidate: Unit) -> int:
            return (sum(1 for term in topic_terms & candidate.terms if term_weight(term) == 1.0)
                    + sum(1 for skill in unit.skills if _names_skill(candidate, skill)))
        schools = [candidate for candidate in usable
                   if candidate.section in ("education", "credentials") and quotable(candidate)]
        school = max(schools, key=named, default=None)
        if school is not None and named(school) > 0:
            best_text = school.text
    if years is not None and best_score == 0.0 and verdict != "missing":
        best_text = resume.years_evidence
    evidence = None if verdict == "missing" or best_text is None else shorten(best_text, MAX_EVIDENCE_CHARS)
    return Assessment(unit, verdict, evidence, years)


def _coverage(unit: Unit, topic_terms: frozenset[str], years: int | None, units: Sequence[Unit], resume: Resume,
              all_terms: frozenset[str], credit) -> tuple[float, str | None, float]:
    """(coverage, best sentence, its score) of one requirement over some resume units."""
    weights = {term: term_weight(term) for term in topic_terms}
    total = sum(weights.values())
    best_text, best_score, best_keyword = None, 0.0, 0.0
    substantive_total = sum(1 for weight in weights.values() if weight == 1.0)
    # In choosing the quote, the resume's own profession ("sales" for an account executive) says
    # less than a specific skill asked for beside it ("MEDDIC"): it counts half.
    naming_weight = {skill: 0.5 if _skill_stems(skill) and _skill_stems(skill) <= resume.role_terms else 1.0
                     for skill in unit.skills}
    for candidate in units:
        shared = weights.keys() & candidate.terms
        keyword = sum(weights[term] for term in shared) / total if shared else 0.0  # shared implies total > 0
        # A quote must name something the requirement asks for: a skill, or a word that is not
        # job-ad filler ("experience" alone proves nothing).
        named = sum(1 for term in shared if weights[term] == 1.0)
        # (A requirement with nothing substantive beyond its skills is named only by its skills.)
        names = substantive_total > 0 and (named >= min(2, substantive_total) or named >= 0.5 * substantive_total)
        score = keyword if names else 0.0
        if unit.skills:
            # "Communication" in a skills list is a claim, not a sign of it: a soft skill is
            # named for evidence only by a line about doing something.
            shown = sum(naming_weight[skill] * _skill_naming(candidate, skill) for skill in unit.skills
                        if candidate.section != "skills" or not is_soft_skill(skill)) / len(unit.skills)
            # A line naming a skill asked for outranks any line that only shares words with the
            # requirement ("Closed $1.4M ... of quota" is not evidence of MEDDIC); one naming it
            # outright outranks one naming a skill that implies it (PyTorch work for Python).
            score = _NAMES_A_SKILL * shown + score
            names = names or shown > 0
        if years is not None and names and required_years(candidate.normalized) is not None:
            score += _STATES_YEARS  # "4 years of experience in general ledger accounting"
        best_keyword = max(best_keyword, keyword)
        if names and score > best_score and quotable(candidate):
            best_text, best_score = candidate.text, score
    keyword_share = 0.75 * best_keyword + 0.25 * _weighted_share(topic_terms, all_terms) if total else 0.0
    skill_share = _skill_share(unit.skills, resume, _has_alternatives(unit), credit) if unit.skills else 0.0
    substantive = any(weight == 1.0 for weight in weights.values())  # more than filler words
    if unit.skills and substantive:
        coverage = 0.6 * skill_share + 0.4 * keyword_share
    elif unit.skills:
        coverage = skill_share  # nothing but skills: "Python, SQL"
    else:
        coverage = keyword_share
    if years is not None:
        have = _years_of(unit, topic_terms, resume)
        years_value = 1.0 if have >= years else 0.5 if have >= 0.6 * years else 0.0
        # "3 years (Preferred)" is about years only; "5 years of Java" is about both.
        coverage = min(years_value, coverage) if substantive or unit.skills else years_value
    return coverage, best_text, best_score


# "3+ years in hotels, including at least 1 year as supervisor": a second span, in its own subject.
_INCLUDED_YEARS_RE = re.compile(
    r"\b(?:including|incluyendo|with|con|of which)\s+(?:at least|al menos|(?:un )?minimo de)?\s*(\d{1,2})\s*\+?\s*"
    r"(?:years?|yrs?|anos?)\s+(?:as|in|of|on|como|en|de)\s+(?:an?\s+|una?\s+)?([^,.;()]+)"
)


@lru_cache(maxsize=4096)
def _included_span(normalized: str) -> tuple[int, frozenset[str]] | None:
    """(years, subject terms) of a requirement's included span, or None."""
    match = _INCLUDED_YEARS_RE.search(normalized)
    if not match:
        return None
    subject = frozenset(term for term in content_terms(tokenize(match.group(2)))
                        if term_weight(term) == 1.0 and any(ch.isalpha() for ch in term))
    return int(match.group(1)), subject


def _included_span_terms(unit: Unit) -> frozenset[str]:
    span = _included_span(unit.normalized)
    return span[1] if span else frozenset()


def _short_of_included_years(unit: Unit, resume: Resume) -> bool:
    """Whether the resume's dated jobs show fewer years than a requirement's second, included span
    asks for in its subject ("including at least 2 years as an Account Executive"). A resume
    without dated jobs cannot tell, and is not marked down for it."""
    span = _included_span(unit.normalized)
    if span is None or not span[1]:
        return False
    found = years_in(span[1], frozenset(), resume)
    return found is not None and found[0] < span[0]


@lru_cache(maxsize=4096)
def _bracketed_terms_of(normalized: str) -> frozenset[str]:
    inside = " ".join(re.findall(r"\(([^()]*)\)", normalized))
    return content_terms(tokenize(inside)) if inside else frozenset()


def _bracketed_terms(unit: Unit) -> frozenset[str]:
    """The terms inside a requirement's brackets: examples or an acronym, not what it asks for."""
    return _bracketed_terms_of(unit.normalized)


def _years_of(unit: Unit, topic_terms: frozenset[str], resume: Resume) -> int:
    """The resume's years in what the requirement names ("5+ years of accounting"): see
    ``years_in``; its total years when the requirement names nothing beyond filler words or the
    resume has no dated jobs."""
    subject = frozenset(term for term in topic_terms | unit.skill_terms
                        if term_weight(term) == 1.0 and any(ch.isalpha() for ch in term))
    found = years_in(subject, frozenset(unit.skills), resume) if subject else None
    return resume.years if found is None else found[0]


# Evidence ranking: naming a skill asked for weighs more than any share of words can (at most 1).
_NAMES_A_SKILL = 2.0
_IMPLIED_NAMING = 0.5
# For "N+ years of X", a line naming X that states its years is what a recruiter looks for.
_STATES_YEARS = 1.0

_EXEMPT_FROM_SHOWING_RE = re.compile(
    r"\b(?:english|spanish|french|german|ingles|espanol|frances|aleman|idiomas?|languages?|bilingual|bilingue"
    r"|fluen\w*|familiar\w*|familiaridad)\b"
)


@lru_cache(maxsize=4096)
def _skill_stems(skill: str) -> frozenset[str]:
    return content_terms(tokenize(normalize_text(skill)))


def _names_skill(candidate: Unit, skill: str) -> bool:
    """Whether a resume line names a skill: found by the vocabulary, or all its words are there in
    some form ("managed a $60K monthly budget" names budgeting)."""
    return _skill_naming(candidate, skill) > 0


def _skill_naming(candidate: Unit, skill: str) -> float:
    """1 when a resume line names a skill outright (by the vocabulary, or all its words in some
    form: "managed a $60K monthly budget" names budgeting), 0.5 when it names only a skill that
    implies it (PyTorch implies Python), else 0."""
    stems = _skill_stems(skill)
    if skill in candidate.skills or bool(stems) and stems <= candidate.terms:
        return 1.0
    return _IMPLIED_NAMING if skill in candidate.implied else 0.0


def _shown_credit(skill: str, resume: Resume) -> float:
    """A skill's credit counting only work, education and credentials: claimed elsewhere, half."""
    if skill in resume.shown_skills:
        return 1.0
    return _RELATED_CREDIT if skill in resume.skills or skill in resume.partial_skills else 0.0


def _misses_a_skill(unit: Unit, resume: Resume) -> bool:
    """A requirement naming several skills as a checklist, one of which the resume lacks."""
    hard = [skill for skill in unit.skills if not is_soft_skill(skill)]
    return len(hard) >= 2 and not _has_alternatives(unit) and any(skill_credit(skill, resume) == 0 for skill in hard)


_EDUCATION_REQUIREMENT_RE = re.compile(
    r"\b(?:degree|bachelor\w*|master\w*|ph\.?d|doctor\w*|diploma|graduat\w*|grado|titulo|formacion|licenciatur\w*"
    r"|estudiante\w*|egresad\w*|education|bsn|bfa|mba|associate|university|universidad|college|bachiller)\b"
)


_YEAR_TERMS = frozenset({stem("years"), stem("year"), stem("experience"), "yrs"})
