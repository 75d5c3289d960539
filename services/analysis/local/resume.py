"""The resume: sections from headings (summary, skills, work, education, volunteer...), what is
ignored (copies of the listing, stuffing, text addressed to the screener), years of experience,
and which lines may be quoted as evidence.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from services.analysis.local.layout import logical_lines
from services.analysis.local.listing import ROLE_WORD_RE, Listing
from services.analysis.local.text import (
    SHINGLE,
    Unit,
    language_of,
    make_unit,
    split_sentences,
    stem,
    title_word_set,
    word_tokens,
)
from services.analysis.skills import implied_skills, normalize_text, related_skills


_COPY_MIN_TOKENS = 8
_COPY_THRESHOLD = 0.5
_COPY_EXACT_MIN_TOKENS = 3


# Text addressed to whoever (or whatever) screens the resume, rather than describing the
# candidate: prompt injections, fake verdicts, hidden notes. Such units are not evidence of
# anything, so they are ignored like copied text; they never raise or lower a score.
_EVALUATOR_TEXT_RE = re.compile(
    # Each alternative is written to miss ordinary resume sentences ("responded with empathy",
    # "built an AI model to rank candidates", "scored 95/100 on the exam").
    r"\b(?:ignore|disregard|forget)\b.{0,40}\b(?:instructions?|prompts?|rules|guidelines|above|previous|prior"
    r"|job description|listing)\b"
    r"|^\W*(?:system|assistant)\s*:|#+\s*(?:instruction|system|prompt)|\[/?inst\]|<\|?im_(?:start|end)|<!--"
    r"|\byou are (?:an?|the) (?:ats|ai|assistant|language model|llm|recruit\w*|screen\w*|evaluator|hiring)"
    r"|\b(?:score|rate|rank|grade|evaluate|classify|assess)\s+(?:this|the|my)\s+(?:candidate|resume|cv|applicant)\b"
    r"|\b(?:100|10)\s*/\s*(?:100|10)\b|\bscore (?:of )?100\b|\bstrong_match\b|\"(?:score|verdict)\"\s*:"
    r"|\bnote to (?:the )?(?:ai|llm|ats|screener|reviewer|model|system)|\b(?:ai|llm|gpt|chatgpt|ats) (?:reviewer|screener"
    r"|evaluator)s?\b|\b(?:mark|consider|treat) (?:all|every|each) requirements?\b|\brespond only\b"
    r"|\brespond with (?:only|a score|the score|100)\b|\boutput (?:only|the score|a score)"
    r"|\bperfect (?:candidate|fit|match)\b|\b(?:this|the) (?:candidate|applicant) (?:is|meets|should be)\b.{0,30}"
    r"\b(?:perfect|ideal|best|top|hired|selected|shortlisted|rated|scored|all)\b"
    r"|\bhire (?:this|him|her|them) (?:candidate|applicant|immediately|now)"
    r"|\b(?:in|into|to) your (?:summary|answer|output|response|json|analysis|instructions)\b|\brepeat the word\b"
)


_STUFF_MIN_TOKENS = 12
_STUFF_TOP_SHARE = 0.3


@dataclass(frozen=True)
class Resume:
    """A parsed resume, as seen against one listing (copies and stuffing depend on the listing)."""

    units: tuple[Unit, ...]  # usable units (not copied, not stuffed)
    terms: frozenset[str]
    words: frozenset[str]  # see title_word_set
    role_words: frozenset[str]  # words of the resume's headline and job-title lines
    role_terms: frozenset[str]  # the same, stemmed: the person's profession, as requirements' terms are
    skills: frozenset[str]  # named skills plus what they imply
    shown_skills: frozenset[str]  # those named in work, education or credentials (not only claimed)
    partial_skills: frozenset[str]  # made likely by the skills above; half credit
    listed_only: frozenset[str]  # named only in bare skill lists; reduced credit
    list_credit: float  # the credit of such a skill, see _list_credit
    years: int
    years_evidence: str | None
    copied: int
    stuffed: int
    addressed: int  # units addressed to the screener (prompt injection), ignored
    language: str  # "en" or "es" by function words, "" when there is no text
    stated_years: int  # the largest "N years of experience" the resume states, 0 if none
    stated_years_text: str | None  # the sentence stating it
    roles: tuple[Role, ...]  # dated jobs of the work sections


# Resume headings and the part of the resume they open. What a summary or a skills list claims
# is not what work, education or a credential shows; volunteer work is not employment.
_RESUME_SECTION_WORDS = (
    ("volunteer", "volunteer volunteering voluntariado involvement activities campus"),
    ("summary", "summary profile objective about perfil resumen"),
    ("skills", "skills skill technical informatica languages idiomas competencias tools herramientas computer"),
    ("credentials", "certifications certification certificates licenses license licences awards honors certificaciones"),
    ("education", "education formacion academic coursework"),
    ("work", "experience employment work history experiencia profesional laboral projects proyectos career"),
)


_RESUME_HEADING_FILLER = frozenset("and & / on of y professional".split())
_CLAIMED_SECTIONS = frozenset({"header", "summary", "skills", "volunteer"})
_INLINE_SKILLS_RE = re.compile(r"^(?:technical |computer |soft )?(?:skills?|languages?|idiomas?|tools|computer)\s*:")


def shows(unit: Unit) -> bool:
    """Whether a resume unit shows what it names: a line of work, education or a credential,
    not the summary, a skills list, volunteer work or a bare list of names anywhere."""
    return unit.section not in _CLAIMED_SECTIONS and len(word_tokens(unit.free_tokens)) >= 2


@lru_cache(maxsize=4096)
def resume_heading(line: str) -> str | None:
    """The section a resume heading line opens ("WORK EXPERIENCE" -> "work"), or None."""
    words = [word for word in re.split(r"[\s&/,]+", normalize_text(line).strip(" :")) if word]
    if not 1 <= len(words) <= 4 or not any(word not in _RESUME_HEADING_FILLER for word in words):
        return None
    known = {word for _, vocabulary in _RESUME_SECTION_WORDS for word in vocabulary.split()}
    if not all(word in known or word in _RESUME_HEADING_FILLER for word in words):
        return None
    for section, vocabulary in _RESUME_SECTION_WORDS:
        if any(word in vocabulary.split() for word in words):
            return section
    return None


def parse_resume(text: str, listing: Listing) -> Resume:
    candidates: list[Unit] = []
    stuffed = addressed = 0
    lines = logical_lines(text)
    # Before the first heading come the name, headline and contact lines; a resume without
    # headings has no such parts to tell apart.
    section = "header" if any(resume_heading(line) for line in lines) else "other"
    for line in lines:
        heading = resume_heading(line)
        if heading is not None:
            section = heading
        for sentence in split_sentences(line):
            unit_section = "skills" if _INLINE_SKILLS_RE.match(normalize_text(sentence)) else section
            unit = make_unit(sentence, unit_section)
            if not unit.tokens:
                continue
            if _EVALUATOR_TEXT_RE.search(unit.normalized):
                addressed += 1
            elif _is_stuffed(unit):
                stuffed += 1
            else:
                candidates.append(unit)
    copies = [_is_copied(unit, listing, strict=False) for unit in candidates]
    # When the listing was pasted in, its title line and short lines are part of the paste too.
    mostly_copied = sum(copies) >= 5 or (sum(copies) >= 3 and sum(copies) >= 0.3 * len(candidates))
    if mostly_copied:
        copies = [_is_copied(unit, listing, strict=True) for unit in candidates]
    units = [unit for unit, copy in zip(candidates, copies) if not copy]
    copied = sum(copies)
    wanted = frozenset(listing.title_skills).union(*(unit.skills for unit in listing.units))
    mirrors = _mirror_runs(units, wanted)
    stuffed += len(mirrors)
    units = [unit for index, unit in enumerate(units) if index not in mirrors]
    named = {skill for unit in units for skill in unit.skills}
    all_tokens = [token for unit in units for token in unit.tokens]
    # Writing the resume in a language demonstrates it.
    language = language_of(all_tokens)
    if language == "en" and len(all_tokens) >= 30:
        named.add("english")
    elif language == "es" and len(all_tokens) >= 30:
        named.add("spanish")
    employment = [unit for unit in units if unit.section not in ("volunteer", "education")]
    years, evidence = resume_years(employment)
    stated, stated_text = _stated_years(employment)
    listed_only, list_credit = _list_credit(units, named, listing)
    role_words = title_word_set(token for unit in _role_units(units) for token in unit.tokens)
    return Resume(
        units=tuple(units),
        terms=frozenset().union(*(unit.terms for unit in units)),
        words=title_word_set(all_tokens),
        role_words=role_words,
        role_terms=frozenset(stem(word) for word in role_words),
        skills=implied_skills(named),
        shown_skills=implied_skills(skill for unit in units if shows(unit) for skill in unit.skills),
        partial_skills=related_skills(named),
        listed_only=listed_only - {"english", "spanish"},
        list_credit=list_credit,
        years=years,
        years_evidence=evidence,
        copied=copied,
        stuffed=stuffed,
        addressed=addressed,
        language=language,
        stated_years=stated,
        stated_years_text=stated_text,
        roles=work_roles(units),
    )


_ROLE_LINE_TOKENS = 14


def _role_units(units: Sequence[Unit]) -> list[Unit]:
    """Title-like units naming a role ("Machine Learning Engineer", "2018 - 2021 Data Scientist, Uber"):
    short and not a sentence, so "Led a team of developers." does not make one a developer."""
    return [
        unit
        for unit in units
        if len(unit.tokens) <= _ROLE_LINE_TOKENS
        and not unit.text.rstrip().endswith(".")
        and ROLE_WORD_RE.search(unit.normalized)
    ]


# Words that make a unit a statement about work ("Deployed the model using Flask") rather than
# a bare claim ("Skills: Flask, Docker"). Regular past tenses and -ing forms are caught by shape.
_WORK_VERBS = frozenset(
    """
    built led ran wrote made won taught drove grew shipped own owned lead build develop design manage run
    teach create implement deploy write use work worked mentor train launch deliver migrate maintain
    collaborated collaborate negotiated negotiate presented mentored coached
    construi desarrolle implemente disene lidere gestione cree trabaje
    """.split()
)


def _describes_work(unit: Unit) -> bool:
    """True for a sentence about doing something, false for a list of skills or a heading."""
    words = word_tokens(unit.tokens)
    free = word_tokens(unit.free_tokens)
    if len(words) < 5:
        return False
    # Only words outside skill names can be the verb by their ending: "Machine Learning" is not
    # doing anything. A known verb is one anywhere: "Collaborated" also names teamwork.
    verb = any(word in _WORK_VERBS for word in words) or any(
        len(word) > 4 and word.endswith(("ed", "ing")) for word in free)
    return verb and len(free) > 0.3 * len(words)


_LIST_CREDIT_MIN = 0.3
_LIST_CREDIT_MAX = 0.8


def _list_credit(units: Sequence[Unit], named: Iterable[str], listing: Listing) -> tuple[frozenset[str], float]:
    """Skills named only in bare lists, and the credit such a skill earns.

    A bare list is cheap to write and easy to stuff with the listing's own keywords, so its
    skills earn 0.8 only when the rest of the resume corroborates it: when at least half of the
    listing skills the resume covers also appear in sentences about work. With no corroboration
    they earn 0.3 (a pasted or hidden keyword list lifts a score far less than real experience).
    """
    # Sentences about work and job-title lines ("Data Scientist, Uber") both show a skill in use;
    # a degree or a certificate shows its field ("Bachelor of Science in Accounting").
    roles = {id(unit) for unit in _role_units(units)}
    in_context = implied_skills(
        skill for unit in units
        if id(unit) in roles or _describes_work(unit) or unit.section in ("education", "credentials") and shows(unit)
        for skill in unit.skills
    )
    listed_only = frozenset(skill for skill in named if skill not in in_context)
    wanted = set(listing.title_skills).union(*(unit.skills for unit in listing.units))
    covered = wanted & implied_skills(named)
    if len(covered) < 3:
        return listed_only, _LIST_CREDIT_MAX
    corroborated = len(covered & in_context) / len(covered)
    credit = _LIST_CREDIT_MIN + (_LIST_CREDIT_MAX - _LIST_CREDIT_MIN) * min(1.0, corroborated / 0.5)
    return listed_only, credit


_MIRROR_MIN_SKILLS = 8


def _mirror_runs(units: Sequence[Unit], wanted: frozenset[str]) -> frozenset[int]:
    """Indices of list-like lines that together reproduce the listing's skill list.

    A run of consecutive lines naming skills without describing work (a skills section, or a
    hidden keyword block split into short lines) mirrors the listing when it names 8+ skills,
    80%+ of them from the listing, covering 60%+ of the listing's skills. Real skill sections
    mix in the candidate's own tools; a mirror of the listing is keyword stuffing.
    """
    runs: list[list[int]] = [[]]
    for index, unit in enumerate(units):
        if unit.skills and not _describes_work(unit):
            runs[-1].append(index)
        elif runs[-1]:
            runs.append([])
    dropped: set[int] = set()
    if not wanted:
        return frozenset()
    for run in runs:
        # Every contiguous stretch: a keyword block appended to a genuine skills section is
        # caught even though the whole section is not a mirror.
        for start in range(len(run)):
            named: set[str] = set()
            for end in range(start, len(run)):
                named.update(units[run[end]].skills)
                from_listing = len(named & wanted)
                if (
                    len(named) >= _MIRROR_MIN_SKILLS
                    and from_listing >= 0.8 * len(named)
                    and from_listing >= 0.6 * len(wanted)
                ):
                    dropped.update(run[start : end + 1])
    return frozenset(dropped)


def _is_stuffed(unit: Unit) -> bool:
    """A long unit dominated by one repeated word is keyword stuffing, not a sentence."""
    words = [token for token in unit.tokens if token not in ("/", "&")]
    if len(words) < _STUFF_MIN_TOKENS:
        return False
    top = Counter(words).most_common(1)[0][1]
    return top / len(words) >= _STUFF_TOP_SHARE or len(set(words)) / len(words) < 0.35


def _is_copied(unit: Unit, listing: Listing, *, strict: bool) -> bool:
    """Near-verbatim copy of listing text: a whole listing sentence of 3+ words, or a unit of 8+
    words at least half of whose word 4-grams occur in the listing.

    Unless ``strict``, a short line naming a role is never a copy: the candidate may well hold
    the listed title ("Machine Learning Engineer"). ``strict`` (the listing was pasted in) also
    treats any line equal to a listing line as a copy, however short ("CSS (Required)").
    """
    words = word_tokens(unit.tokens)
    is_title = not strict and len(words) < 6 and ROLE_WORD_RE.search(unit.normalized) is not None
    minimum = 1 if strict else _COPY_EXACT_MIN_TOKENS
    if len(words) >= minimum and not is_title and words in listing.sentences:
        return True
    if len(words) < _COPY_MIN_TOKENS or not listing.shingles:
        return False
    grams = [words[i : i + SHINGLE] for i in range(len(words) - SHINGLE + 1)]
    shared = sum(1 for gram in grams if gram in listing.shingles)
    return shared / len(grams) >= _COPY_THRESHOLD


_STATED_YEARS_RE = re.compile(
    r"(\d{1,2})\s*\+?\s*(?:years?|yrs?|anos)\b(?:\s+of)?(?:\s+[a-z-]+){0,4}?\s+(?:experience|expertise|experiencia)"
)


_YEAR_RANGE_RE = re.compile(
    r"\b((?:19|20)\d{2})\s*-\s*(?:(?:[a-z]{3,9}\.?\s+|\d{1,2}/)?((?:19|20)\d{2})\b"
    r"|(present|current|now|today|actual|actualidad|presente|hoy|la fecha)\b|(?=[a-z]))"
)


_ANY_YEAR_RE = re.compile(r"(?<!\d)((?:19[5-9]|20\d)\d)(?!\d)")
_EDUCATION_RE = re.compile(
    r"universit|college|school|bachelor|master|degree|\bgpa\b|dean|graduat|\bb\.?s\b|\bm\.?s\b|ph\.?d|diploma"
    r"|\bmba\b|education|coursework|universidad|colegio|licenciatura|maestria"
)


@dataclass(frozen=True)
class Role:
    """A dated job: its years, and the terms and skills (with what they imply) of its title,
    company and bullets."""

    start: int
    end: int
    terms: frozenset[str]
    skills: frozenset[str]


def work_roles(units: Sequence[Unit]) -> tuple[Role, ...]:
    """The jobs of the work sections. A job is a group of header lines (title, company, dates:
    lines that say no sentence) holding a date range, with the lines after it up to the next
    group; "Present" is the latest year the resume mentions."""
    latest = max((int(y) for unit in units for y in _ANY_YEAR_RE.findall(unit.normalized)), default=0)
    blocks: list[tuple[list[Unit], list[Unit]]] = []  # (header lines, body lines)
    for unit in units:
        if unit.section != "work":
            continue
        header = _job_line(unit) or bool(_YEAR_RANGE_RE.search(unit.normalized))
        if header and (not blocks or blocks[-1][1]):
            blocks.append(([unit], []))
        elif header:
            blocks[-1][0].append(unit)
        elif blocks:
            blocks[-1][1].append(unit)
    roles = []
    for header, body in blocks:
        spans = [(int(m.group(1)), int(m.group(2)) if m.group(2) else latest)
                 for line in header for m in _YEAR_RANGE_RE.finditer(line.normalized)]
        spans = [(start, end) for start, end in spans if end >= start]
        if spans:
            lines = (*header, *body)
            roles.append(Role(min(start for start, _ in spans), max(end for _, end in spans),
                              frozenset().union(*(line.terms for line in lines)),
                              frozenset().union(*(line.implied for line in lines))))
    return tuple(roles)


def years_in(subject: frozenset[str], skills: frozenset[str], resume: Resume) -> tuple[int, str | None] | None:
    """Years of experience in a subject (stemmed terms, skills): the years covered by the jobs
    that mention it (PyTorch work is Python work), or a stated "N years of experience" sentence
    that mentions it, whichever is larger; None when the resume has no dated jobs to tell
    (then only the total is known)."""
    if not resume.roles:
        return None
    covered: set[int] = set()
    for role in resume.roles:
        if _shares_a_term(role.terms, subject) or role.skills & skills:
            # A job that began in the last year the resume names ("March 2022 - Present" in a
            # resume whose latest year is 2022) still counts that year.
            covered.update(range(role.start, max(role.end, role.start + 1)))
    stated_text = resume.stated_years_text
    stated = resume.stated_years if stated_text and subject & make_unit(stated_text).terms else 0
    if stated >= len(covered):
        return stated, stated_text
    return len(covered), None


def _shares_a_term(terms: frozenset[str], subject: frozenset[str]) -> bool:
    """Whether a job's terms include a subject term, or one of its family that Snowball keeps
    apart ("supervisory" -> supervisori, "supervise" -> supervis): one a prefix of the other, six
    letters at least."""
    if terms & subject:
        return True
    return any(len(short) >= 6 and long.startswith(short)
               for term in terms for wanted in subject
               for short, long in ((term, wanted), (wanted, term)) if short != long and short.isalpha())


def _stated_years(units: Sequence[Unit]) -> tuple[int, str | None]:
    stated, stated_text = 0, None
    for unit in units:
        for match in _STATED_YEARS_RE.finditer(unit.normalized):
            value = int(match.group(1))
            if value <= 50 and value > stated:
                stated, stated_text = value, unit.text
    return stated, stated_text


def resume_years(units: Sequence[Unit]) -> tuple[int, str | None]:
    """Years of experience: the larger of a stated "N years of experience" and the span of
    non-education date ranges. "Present" is the latest year the resume mentions, so the
    result does not depend on today's date."""
    stated, stated_text = _stated_years(units)
    years_seen = [int(y) for unit in units for y in _ANY_YEAR_RE.findall(unit.normalized)]
    latest = max(years_seen, default=0)
    earliest_start, start_text = None, None
    latest_end = 0
    for unit in units:
        if _EDUCATION_RE.search(unit.normalized):
            continue
        for match in _YEAR_RANGE_RE.finditer(unit.normalized):
            start = int(match.group(1))
            end = int(match.group(2)) if match.group(2) else latest
            if end < start:
                continue
            if earliest_start is None or start < earliest_start:
                earliest_start, start_text = start, unit.text
            latest_end = max(latest_end, end)
    span = latest_end - earliest_start if earliest_start is not None else 0
    if stated >= span:
        return stated, stated_text
    # A date line ("2018 - 2021 Data Scientist, Uber") is not quoted as evidence of years.
    return span, stated_text if stated_text is not None else (start_text if _quotable_text(start_text) else None)


_DATE_WORD_RE = re.compile(
    r"\b(?:(?:19|20)\d{2}|\d{1,2}|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*|present|current|now"
    r"|today|summer|fall|spring|winter|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre"
    r"|noviembre|diciembre|actualidad|presente|verano|20xx)\b"
)


_CONTACT_RE = re.compile(r"@|\+?\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}|\+\d{2}\s?\d{3}")


@lru_cache(maxsize=4096)
def _quotable_text(text: str | None) -> bool:
    """Whether a resume line can be quoted as evidence: a sentence, not a heading, a date line
    ("June 2018 - Present") or a contact line."""
    if not text or _CONTACT_RE.search(text):
        return False
    normalized = normalize_text(text)
    words = normalized.split()
    if len(words) < 3 or resume_heading(text) is not None:
        return False
    undated = _DATE_WORD_RE.sub(" ", normalized)
    return len(re.findall(r"[a-z]{2,}", undated)) >= 3


_ES_FIRST_PERSON_RE = re.compile(r"^[a-z]{3,}(?:o|e|\u00e9|\u00f3)$")


def _job_line(unit: Unit) -> bool:
    """A job's title/company/date line in a work section ("Recepcionista \u2014 Hotel Sol, Valencia"):
    short, no sentence, no verb, and shaped like a title: mostly capitalised words, a year, or a
    role's name. A bullet in the present tense ("Plan and send weekly email campaigns in
    Klaviyo") is work, not a title."""
    if unit.text.rstrip().endswith(".") or len(unit.tokens) > 16 or _describes_work(unit):
        return False
    first = unit.normalized.split()[0] if unit.normalized.split() else ""
    if _ES_FIRST_PERSON_RE.match(first):  # "Realizo check-in ...", "Apoy\u00e9 en ..."
        return False
    words = re.findall(r"[^\W\d_][\w'&.-]*", unit.text)
    capitalised = sum(1 for word in words if word[0].isupper())
    return (capitalised >= 0.5 * len(words) or bool(_ANY_YEAR_RE.search(unit.normalized))
            or bool(ROLE_WORD_RE.search(unit.normalized)))


def quotable(unit: Unit) -> bool:
    """A resume unit that may be quoted: see _quotable_text; the name/contact header and
    job-title lines ("Data Scientist, Uber, 2018 - 2021") are not evidence either."""
    if unit.section == "header" or not _quotable_text(unit.text):
        return False
    if unit.section == "work" and _job_line(unit):
        return False
    return not (len(unit.tokens) <= _ROLE_LINE_TOKENS and not unit.text.rstrip().endswith(".")
                and ROLE_WORD_RE.search(unit.normalized) and len(word_tokens(unit.free_tokens)) <= 8)
