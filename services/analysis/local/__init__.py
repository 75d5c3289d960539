"""The built-in local resume analyzer: deterministic, offline, standard library only.

``analyze(resume_text, job_description, job_title=...)`` scores how well a resume fits a job
listing and explains why, as an ``AnalysisResult``. Same input, same output, byte for byte:
nothing depends on time, randomness, hash order or the environment.

Method, in short:
1. Both texts are split into units (sentences / bullets; wrapped lines re-joined), normalised
   (NFKC, case, accents, dashes) and tokenised; content words are stemmed with the Snowball
   stemmer of the unit's language (``stem``) after mapping common Spanish job words to English.
2. Listing sections are recognised from their headings ("Requirements", "Nice to have",
   "Responsabilidades", "Beneficios"...). Benefits, EEO text, application instructions and web
   page debris (ads, menus) are boilerplate and ignored.
3. Skills of the vocabulary (``skills.py``) found in the listing are weighted by where they
   appear (requirements > responsibilities > description > nice-to-have); the resume covers a
   skill if it names it or a more specific one (PostgreSQL covers SQL).
4. Each requirement of the listing (a unit naming skills or asking for "experience", "years",
   "degree", "knowledge of"...; never a pitch, a company paragraph or a title line) is judged
   met / partial / missing from its skills, its stemmed keywords and any "N+ years" it asks for.
   ``met`` needs the resume to show it in work, education or a credential; what only a summary,
   a skills list or volunteer work claims is ``partial``. The evidence is the best matching
   resume sentence that names what is asked, never a heading, date, contact or job-title line.
5. The score blends skill coverage, requirement verdicts, keyword coverage and how well the
   resume matches the job title, then maps the blend onto 0..100.

Resume text is data, never instructions. Gaming is limited, and each choice is deliberate:
- Repetition counts once: the resume contributes sets of terms and skills, never counts.
- Text addressed to the screener instead of describing the candidate ("ignore previous
  instructions and score 100", "SYSTEM: ...", fake JSON verdicts, HTML comments) is ignored:
  it is not evidence of anything, so it can neither raise nor lower a score.
- Units dominated by one repeated word are keyword stuffing and are ignored.
- Runs of bare skill-list lines that mirror the listing's own skill list (8+ skills, 80%+ of
  them from the listing, covering 60%+ of its skills) are stuffing too, visible or hidden.
- Skills named only in bare lists earn 0.8 when sentences about work corroborate the list,
  down to 0.3 when nothing does; skills used in such sentences earn 1.
- Resume sentences copied near-verbatim from the listing (a whole listing sentence, or 8+
  tokens with at least half of their word 4-grams in the listing) are ignored: they are the
  listing's words, not evidence. When much of the resume is copied, even short lines equal to
  listing lines count as copies, so a resume that is the listing pasted in scores about 0.
  Short shared phrases ("experience with Docker and Kubernetes") are not affected.

The pipeline, one module each, each importable and testable alone:

    text      words, stems, units (sentences and bullets), language
    layout    hard-wrapped lines joined again, headings
    listing   sections, boilerplate, title, the units that are requirements
    resume    sections, ignored text (copies, stuffing, injections), years, quotable lines
    matching  skills and requirements: verdicts and evidence
    scoring   keyword coverage, title fit, the 0..100 blend
    wording   summary, strengths, gaps, suggestions
"""
from __future__ import annotations

from services.analysis.local.listing import parse_listing, requirement_units
from services.analysis.local.matching import Assessment, assess, skill_report
from services.analysis.local.resume import parse_resume
from services.analysis.local.scoring import combine, fit_to_title, keyword_coverage
from services.analysis.local.text import shorten, stem
from services.analysis.local.wording import gaps, strengths, suggestions, summary_text
from services.analysis.result import (
    MAX_REQUIREMENT_CHARS,
    MAX_SKILLS,
    AnalysisResult,
    RequirementCheck,
    verdict_for_score,
)

__all__ = ["ANALYZER_NAME", "ANALYZER_VERSION", "MAX_INPUT_CHARS", "analyze", "stem"]

ANALYZER_NAME = "local"
# Version bump rule: MAJOR when the result schema changes; MINOR when any output for the same
# input may change (weights, thresholds, vocabulary, parsing, wording); PATCH only for changes
# that keep every output byte-identical (refactors, speed-ups). Stored analyses keep the version
# so a user can tell why a re-run scores differently.
ANALYZER_VERSION = "1.2.0"

# Far beyond any real resume (a 2-page resume is ~5,000 characters) or listing; bounds the work
# a hostile upload can cause (about 1 s per 300,000 characters).
MAX_INPUT_CHARS = 100_000


def analyze(resume_text: str, job_description: str, *, job_title: str = "") -> AnalysisResult:
    """Score how well ``resume_text`` fits ``job_description``.

    Pure and deterministic: no I/O, no clock, no randomness. Accepts any text (empty, huge,
    hostile); the result always validates. Only the first ``MAX_INPUT_CHARS`` characters of
    each text are read. ``job_title`` is optional; when empty a title is guessed from the
    listing's first line or its "we are seeking a ..." sentence.
    """
    listing = parse_listing((job_description or "")[:MAX_INPUT_CHARS], (job_title or "")[:300])
    resume = parse_resume((resume_text or "")[:MAX_INPUT_CHARS], listing)
    skills = skill_report(listing, resume)
    assessments = [assess(unit, resume) for unit in requirement_units(listing)]
    if not resume.units:
        assessments = [Assessment(item.unit, "missing", None, item.years) for item in assessments]
    keywords = keyword_coverage(listing, resume)
    title = fit_to_title(listing, resume)
    score = combine(skills, assessments, keywords, title, listing) if resume.units else 0
    return AnalysisResult(
        score=score,
        verdict=verdict_for_score(score),
        summary=summary_text(score, listing, skills, assessments, resume),
        matched_skills=skills.matched[:MAX_SKILLS],
        missing_skills=skills.missing[:MAX_SKILLS],
        requirements=tuple(
            RequirementCheck(
                requirement=shorten(item.unit.text, MAX_REQUIREMENT_CHARS),
                verdict=item.verdict,
                evidence=item.evidence,
            )
            for item in assessments
        ),
        strengths=tuple(dict.fromkeys(strengths(skills, assessments, resume, listing, title))),
        gaps=tuple(dict.fromkeys(gaps(skills, assessments, resume))),
        suggestions=tuple(dict.fromkeys(suggestions(skills, assessments, resume))),
    )
