"""The listing: sections from headings, boilerplate and pitches dropped, the title, and the units
that state requirements (``requirement_units``).
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from services.analysis.local.layout import listing_heading, logical_lines
from services.analysis.local.text import (
    Unit,
    clean_line,
    make_unit,
    split_sentences,
    title_word_set,
    word_shingles,
    word_tokens,
)
from services.analysis.result import MAX_REQUIREMENTS
from services.analysis.skills import normalize_text, tokenize


# Section weights: how much a skill or term in that part of the listing matters.
_SECTION_WEIGHTS = {"req": 1.0, "resp": 0.8, "other": 0.7, "about": 0.5, "nice": 0.45, "boiler": 0.0}


# Inline markers that change a single unit's weight.
_NICE_MARK_RE = re.compile(
    r"\bpreferred\b|\bis a plus\b|\ba plus\b|nice to have|good to have|\bbonus\b|\bdeseable\b|\brecomendable\b"
    r"|\bappreciated\b|not required|\boptional\b|\bvalorable\b|\bideally\b"
)


_REQUIRED_MARK_RE = re.compile(r"\(required\)|\bmust\b|\bessential\b|\bindispensable\b|\bexcluyente\b|\bobligatorio\b")


# Lines that never describe the job, wherever they are.
_BOILERPLATE_RE = re.compile(
    r"https?:|www\.|\.com\b|@|\bsalary\b|\bsalario\b|\bsueldo\b|\u20b9|\bper hour\b|\u20ac"
    # A pay range ("$80K - $95K"), not an amount a requirement names ("$1M+ quota", "$50K budgets").
    r"|\$\s?\d[\d,.]*\s*k?\s*(?:-|\u2013|to)\s*\$\s?\d"
    r"|equal opportunit|without regard to|regardless of (?:race|gender|age|religion)|sexual orientation"
    r"|national origin|protected veteran|\bbenefits? package\b|competitive salary|health insurance|seguro medico"
    r"|paid time off|\b401k\b|how to apply|apply now|invite you to apply|encourage you to apply|click here"
    r"|patrocinado|sponsored|publicidad|read next story|close ad|registrate|registrarse|inscribete|postule aqui"
    r"|\bpostular\b|\bpostulacion\b|job types?:|work remotely|temporarily|contract length"
    r"|application deadline|\blottery\b|green card|\bvisa de\b|descuento|full-time|part-time"
    r"|remuneraci|cookies?\b|privacy policy|sign in|log in"
)


# A unit states a requirement if it names a skill or uses one of these words.
_REQUIREMENT_CUE_RE = re.compile(
    r"\bexperien\w*|\byears?\b|\byrs\b|\bdegree\b|\bbachelor\w*|\bmaster\w*|\bph\.?d\b|\bdiploma\b|\bcertif\w*"
    r"|\bknowledge\b|\babilit\w*|\bable to\b|\bproficien\w*|\bfamiliar\w*\s+(?:with|in)\b|\bunderstanding\b|\bskill\w*"
    r"|\bexpertise\b|\bexpert\b|\bbackground\b|\bfluen\w*|\bmust\b|\brequired\b|\btrack record\b|\bhands-on\b"
    r"|\bcommand of\b|\bcomfortable with\b|\bgrasp\b|\bdemonstrated\b|\bproven\b|\bqualif\w*|\bgraduate\w*"
    r"|\bexperiencia\b|\bconocimiento\w*|\bmanejo\b|\bdominio\b|\bhabilidad\w*|\bcapacidad\b|\btitulo\b"
    r"|\bestudiante\w*|\bformacion\b|\bfamiliaridad\b|\bnivel\b|\bavanzado\b|\bintermedio\b|\begresad\w*"
    r"|\bbachiller\b|\blicenciad\w*|\banos\b(?!\s+de\s+(?:historia|trayectoria|vida))|\blicen[cs]\w*|\bportfolio\b"
    r"|\bavailab\w*|\bdisponibilidad\b"
    r"|\bgrado\b|\borientacion\b|\btrack record\b|\bcertified\b"
)


_YEARS_RE = re.compile(
    r"(?<![\w.])(\d{1,2})\s*(?:\+|plus)?\s*(?:(?:-|to|a)\s*\d{1,2}\s*\+?\s*)?(?:years?|yrs?|anos?)\b"
)


_UP_TO_RE = re.compile(r"(?:up to|hasta)\s*$")


def required_years(normalized: str) -> int | None:
    """Minimum years of experience a unit asks for ("4+ years", "2-4 years", "minimum 1 year")."""
    for match in _YEARS_RE.finditer(normalized):
        if _UP_TO_RE.search(normalized[: match.start()]):
            continue  # "up to 3 years" is a ceiling, not a requirement
        years = int(match.group(1))
        if 0 < years <= 30:
            return years
    return None


@dataclass(frozen=True)
class Listing:
    """A parsed job listing."""

    units: tuple[Unit, ...]  # non-boilerplate units in order
    title: str
    title_terms: frozenset[str]
    title_words: frozenset[str]
    title_skills: tuple[str, ...]
    shingles: frozenset[tuple[str, ...]]
    sentences: frozenset[tuple[str, ...]]  # token tuples of every listing sentence, boilerplate included


def parse_listing(text: str, job_title: str) -> Listing:
    lines = logical_lines(text)
    units: list[Unit] = []
    sentences: set[tuple[str, ...]] = set()
    section = "other"
    for line in lines:
        sentences.update(word_tokens(tokenize(normalize_text(sentence))) for sentence in split_sentences(line))
        if _TITLE_PREFIX_RE.match(line):
            continue  # "Position Title: ..." names the job; it asks for nothing
        header = listing_heading(line)
        if header is not None:
            section, rest = header
            if not rest:
                continue
            line = rest
        for sentence in split_sentences(line, _LISTING_CLAUSE_WORDS):
            unit_section = _unit_section(sentence, section)
            if unit_section == "boiler":
                continue
            unit = make_unit(sentence, unit_section, _SECTION_WEIGHTS[unit_section])
            if unit.terms or unit.skills:
                units.append(unit)
    title = clean_line(job_title) or _guess_title(lines)
    title_unit = make_unit(title) if title else None
    if title_unit is not None:
        # The title (often repeated in page headers) is scored as the title, not as requirements.
        units = [unit for unit in units
                 if not _restates_title(unit, title_unit) or _REQUIREMENT_CUE_RE.search(unit.normalized)]
    all_tokens = tokenize(normalize_text(text))
    return Listing(
        units=tuple(units),
        title=title,
        title_terms=title_unit.terms if title_unit else frozenset(),
        title_words=title_word_set(title_unit.tokens) if title_unit else frozenset(),
        title_skills=title_unit.skills if title_unit else (),
        shingles=word_shingles(all_tokens),
        sentences=frozenset(sentences),
    )


_LISTING_CLAUSE_WORDS = 5


def _restates_title(unit: Unit, title: Unit) -> bool:
    """A unit that is (part of) the title, or the title with a few words around it."""
    if not title.tokens:
        return False
    unit_key, title_key = " ".join(unit.tokens), " ".join(title.tokens)
    if title_key in unit_key:
        return len(unit.tokens) <= 2 * len(title.tokens) + 4
    return len(unit.tokens) >= 0.5 * len(title.tokens) and unit_key in title_key


def _unit_section(sentence: str, section: str) -> str:
    """The section a unit belongs to, after its own markers ("(Preferred)", ads, salary...)."""
    normalized = normalize_text(sentence)
    if section == "boiler" or _BOILERPLATE_RE.search(normalized):
        return "boiler"
    if _NICE_MARK_RE.search(normalized):
        return "nice"
    if _REQUIRED_MARK_RE.search(normalized):
        return "req"
    return section


_TITLE_PREFIX_RE = re.compile(
    r"^(?:job description|job title|position title|position|title|puesto de trabajo|puesto|cargo|role)\s*:\s*",
    re.IGNORECASE,
)


ROLE_WORD_RE = re.compile(
    r"\b(?:engineer|developer|programmer|manager|scientist|analyst|designer|teacher|lead|director|specialist"
    r"|consultant|architect|administrator|coordinator|officer|facilitator|intern|accountant|writer|editor"
    r"|marketer|recruiter|assistant|associate|executive|representative|technician|instructor|tutor|professor"
    r"|practicante|desarrollador|ingeniero|analista|gerente|jefe|coordinador|asistente|docente|profesor"
    r"|product owner|head of|nurse|receptionist|supervisor|cashier|chef|bartender|housekeeper"
    r"|concierge|clerk|bookkeeper|controller|auditor|paralegal|pharmacist|therapist|physician|caregiver|salesperson"
    r"|account executive|recepcionista|enfermer[oa]|contable|auditor|camarer[oa]|cocinero|cajer[oa]|vendedor[a]?"
    r"|dependiente|auxiliar|administrativ[oa]|disenador[a]?)s?\b",
    re.IGNORECASE,
)


_SEEKING_RE = re.compile(
    r"(?:seeking|looking for|hiring|buscando)\s+(?:an?|un|una)\s+((?:[\w/+#.-]+\s+){0,5}?"
    r"(?:engineer|developer|manager|scientist|analyst|designer|teacher|director|specialist|consultant"
    r"|architect|administrator|coordinator|facilitator|desarrollador|ingeniero|analista))\b",
    re.IGNORECASE,
)


def _guess_title(lines: Sequence[str]) -> str:
    """The job title: a short first line naming a role, else "seeking a <role>" in the opening."""
    for line in lines[:2]:
        candidate = _TITLE_PREFIX_RE.sub("", line).strip()
        head, _, tail = candidate.partition(":")
        if tail.strip() and ROLE_WORD_RE.search(tail) and not ROLE_WORD_RE.search(head):
            candidate = tail.strip()  # "BBVA BANCO CONTINENTAL: Convocatoria para Practicante ..."
        words = candidate.split()
        if 1 <= len(words) <= 10 and not candidate.endswith(".") and ROLE_WORD_RE.search(candidate):
            return candidate
    match = _SEEKING_RE.search(" ".join(lines[:3])[:600])
    return match.group(1).strip() if match else ""


_NOT_REQUIRED_RE = re.compile(r"not required|not necessary|no (?:es )?(?:requerido|necesario|excluyente)")


# Sentences that sell the job or the company instead of asking for anything.
_PITCH_RE = re.compile(
    r"\b(?:we are|we're|were|we're)\s+(?:currently\s+)?(?:seeking|looking|hiring|searching)\b|^join (?:our|the|us)\b"
    r"|\bto join (?:our|the|us)\b|\bestamos buscando\b|^buscamos\b|\bpara (?:unirse|incorporarse|formar parte)\b"
    r"|\btendras la oportunidad\b|\byou will have the opportunity\b|\bour mission\b|\bnuestra mision\b|\bon a mission\b"
    r"|\bwe believe\b|\bcreemos\b|^ofrecemos\b|^we offer\b|\bcome build\b|^why \w+\b|\bwe are looking to\b"
    r"|\bbring into our fold\b|\bbelieves\b"
)


def requirement_units(listing: Listing) -> list[Unit]:
    """Listing units that state a requirement, at most ``MAX_REQUIREMENTS``, in listing order.

    When there are more, requirement sections win over responsibilities, description and
    nice-to-have; units without skills or requirement words are used only as a fallback.
    """
    candidates: list[tuple[float, int, Unit]] = []
    fallback: list[tuple[float, int, Unit]] = []
    seen: set[str] = set()
    has_sections = any(unit.section != "other" for unit in listing.units)
    for index, unit in enumerate(listing.units):
        key = " ".join(unit.tokens)
        cue = bool(_REQUIREMENT_CUE_RE.search(unit.normalized))
        if (
            key in seen
            or len(unit.terms) < (1 if cue else 2) and not unit.skills
            or _NOT_REQUIRED_RE.search(unit.normalized)
            or _PITCH_RE.search(unit.normalized)
            # The opening and "About" paragraphs describe the company and the job; only what
            # they explicitly ask for ("3+ years of ...") is a requirement, not every skill named.
            or has_sections and unit.section in ("other", "about") and not cue
        ):
            continue
        seen.add(key)
        if unit.skills or cue:
            priority = unit.weight + (0.2 if cue else 0.0) + (0.1 if unit.skills else 0.0)
            candidates.append((priority, index, unit))
        elif len(unit.terms) >= 4:
            fallback.append((unit.weight, index, unit))
    chosen = candidates if candidates else fallback
    chosen = sorted(chosen, key=lambda item: (-item[0], item[1]))[:MAX_REQUIREMENTS]
    return [unit for _, _, unit in sorted(chosen, key=lambda item: item[1])]
