"""Wording: summary, strengths, gaps and suggestions of a result.
"""
from __future__ import annotations

from collections.abc import Sequence

from services.analysis.local.listing import Listing
from services.analysis.local.matching import Assessment, SkillReport
from services.analysis.local.resume import Resume
from services.analysis.local.text import shorten
from services.analysis.result import MAX_NOTE_CHARS, MAX_SUMMARY_CHARS, verdict_for_score
from services.analysis.skills import display_name, is_soft_skill


_QUOTE_CHARS = 110
_LIST_SKILLS = 8


def _quote(text: str) -> str:
    return "'" + shorten(text, _QUOTE_CHARS) + "'"


def _names(skills: Sequence[str], limit: int = _LIST_SKILLS) -> str:
    shown = [display_name(skill) for skill in skills[:limit]]
    more = len(skills) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _fit(text: str) -> str:
    return shorten(text, MAX_NOTE_CHARS)


def summary_text(score: int, listing: Listing, skills: SkillReport, assessments: Sequence[Assessment],
             resume: Resume) -> str:
    """One to three sentences: verdict and score, what is covered, the main required gaps."""
    label = {"strong_match": "Strong match", "good_match": "Good match", "partial_match": "Partial match",
             "weak_match": "Weak match"}[verdict_for_score(score)]
    role = f" for {shorten(listing.title, 80)}" if listing.title else ""
    if not resume.units:
        return shorten(f"{label} ({score}/100){role}: the resume has no usable text to compare with the listing.",
                        MAX_SUMMARY_CHARS)
    if not listing.units and not listing.title:
        return shorten(f"{label} ({score}/100): the listing has no readable description to compare the resume with.",
                        MAX_SUMMARY_CHARS)
    met = sum(1 for item in assessments if item.verdict == "met")
    partial = sum(1 for item in assessments if item.verdict == "partial")
    first = f"{label} ({score}/100){role}."
    facts = []
    if skills.order:
        facts.append(f"shows {len(skills.matched)} of {len(skills.order)} skills the listing names")
    if assessments:
        facts.append(f"meets {met} of {len(assessments)} requirements" + (f" ({partial} more partly)" if partial else ""))
    second = ("It " + " and ".join(facts) + ".") if facts else ""
    missing_required = [skill for skill in skills.missing if skill in skills.required and not is_soft_skill(skill)]
    third = f"Main gaps: {_names(missing_required, 5)}." if missing_required else ""
    return shorten(" ".join(part for part in (first, second, third) if part), MAX_SUMMARY_CHARS)


def strengths(skills: SkillReport, assessments: Sequence[Assessment], resume: Resume,
               listing: Listing, title_fit: float) -> list[str]:
    """What already fits: covered skills, met requirements with evidence, experience, role."""
    notes: list[str] = []
    hard = [skill for skill in skills.matched if not is_soft_skill(skill)]
    if hard:
        notes.append(f"Covers {len(hard)} of the listing's technical/domain skills: {_names(hard)}.")
    soft = [skill for skill in skills.matched if is_soft_skill(skill)]
    if soft:
        notes.append(f"Also shows {_names(soft, 5)}.")
    met = [item for item in assessments if item.verdict == "met" and item.evidence]
    for item in met[:2]:
        notes.append(_fit(f"Meets {_quote(item.unit.text)} \u2014 e.g. {_quote(item.evidence or '')}."))
    asked = [item.years for item in assessments if item.years]
    if asked and resume.years >= max(asked):
        notes.append(f"About {resume.years} years of experience, against the {max(asked)}+ the listing asks for.")
    if listing.title and title_fit >= 0.99:
        notes.append(_fit(f"The resume presents the candidate in the listing's role ({shorten(listing.title, 80)})."))
    return notes[:6]


def gaps(skills: SkillReport, assessments: Sequence[Assessment], resume: Resume) -> list[str]:
    """What is missing, and which resume text was not counted (copies, stuffing, injections)."""
    notes: list[str] = []
    missing_required = [skill for skill in skills.missing if skill in skills.required]
    other_missing = [skill for skill in skills.missing if skill not in skills.required]
    if missing_required:
        notes.append(f"Required skills not found in the resume: {_names(missing_required)}.")
    if other_missing:
        notes.append(f"Other listed skills not found: {_names(other_missing)}.")
    for item in [item for item in assessments if item.verdict == "missing"][:3]:
        notes.append(_fit(f"No evidence for {_quote(item.unit.text)}."))
    asked = [item.years for item in assessments if item.years]
    if asked and resume.years < max(asked):
        have = f"about {resume.years}" if resume.years else "no clear"
        notes.append(f"The listing asks for {max(asked)}+ years; the resume shows {have} years of experience.")
    if resume.copied:
        notes.append(f"{resume.copied} resume sentence(s) repeat the listing nearly word for word and were not counted.")
    if resume.stuffed:
        notes.append(f"{resume.stuffed} resume line(s) look like repeated keywords and were not counted.")
    if resume.addressed:
        notes.append(f"{resume.addressed} resume line(s) address the screening system instead of describing the "
                     "candidate and were ignored.")
    return notes[:8]


def suggestions(skills: SkillReport, assessments: Sequence[Assessment], resume: Resume) -> list[str]:
    """Concrete edits, most valuable first: missing required skills quoting where the listing asks
    for them, unevidenced requirements, experience visibility, text that was not counted."""
    notes: list[str] = []
    ranked = sorted(
        (skill for skill in skills.missing if not is_soft_skill(skill)),
        key=lambda skill: (skill not in skills.required, -skills.weights[skill], skills.order.index(skill)),
    )
    for skill in ranked[:3]:
        source = skills.first_mention.get(skill)
        where = f" \u2014 the listing asks for it in {_quote(source)}" if source else ""
        notes.append(_fit(f"Mention {display_name(skill)} explicitly if you have used it{where}."))
    for item in [item for item in assessments if item.verdict == "missing" and not item.unit.skills][:2]:
        notes.append(_fit(f"If it applies to you, add a concrete bullet showing {_quote(item.unit.text)}."))
    asked = [item.years for item in assessments if item.years]
    if asked and resume.years < max(asked):
        notes.append("Make your total relevant experience easy to see: dates on every role, or a summary line.")
    if resume.copied:
        notes.append("Rewrite sentences copied from the listing in your own words, with what you did and its results.")
    if resume.stuffed:
        notes.append("Remove repeated keywords; repetition is not counted and reads as stuffing to recruiters.")
    if resume.addressed:
        notes.append("Remove instructions aimed at screening software; they are ignored and hurt credibility.")
    partial = [item for item in assessments if item.verdict == "partial"]
    if partial and len(notes) < 6:
        notes.append(_fit(f"Strengthen the partial match on {_quote(partial[0].unit.text)} with specifics."))
    listing_has_content = bool(skills.order or assessments)
    if resume.units and not listing_has_content:
        notes.append("Add the full job description to the listing to get a meaningful comparison.")
    elif not notes and resume.units:
        notes.append("Quantify the bullets that match this listing (scale, numbers, outcomes) to stand out further.")
    if not resume.units:
        notes.append("Upload a resume with selectable text; nothing readable was found to compare.")
    return notes[:6]
