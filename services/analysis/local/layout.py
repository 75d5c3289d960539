"""Layout: hard-wrapped lines joined back into logical lines, and headings recognised (a
listing's "Requirements:" opens a section; a heading never continues the line before it).
"""
from __future__ import annotations

import re
from collections.abc import Sequence

from services.analysis.local.text import ABBREVIATIONS, BULLET_RE, clean_line
from services.analysis.skills import normalize_text


_JOIN_AFTER = frozenset(
    "and or of the a an to with in for on by as at from y de en con para como la el los las del al e o".split()
)


_URL_RE = re.compile(r"\b(?:https?://|www\.)\S+|\S+@\S+\.\w+")


def _wrap_width(lines: Sequence[str]) -> int:
    """The width at which the text was hard-wrapped, or 0 if it was not.

    Hard-wrapped text (PDF extraction, e-mails) has many lines of nearly the same, maximal
    length, and a good share of them go on mid-sentence in a lower-case line. A list of short
    bullets has neither.
    """
    present = [line for line in lines if line]
    if len(present) < 4:
        return 0
    lengths = sorted(len(line) for line in present)
    width = lengths[int(0.9 * (len(lengths) - 1))]
    if not 40 <= width <= 140:
        return 0
    near = lowered = 0
    for line, following in zip(present, present[1:]):
        if len(line) >= 0.8 * width:
            near += 1
            lowered += following[0].islower()
    return width if near >= 3 and near >= 0.2 * len(present) and lowered >= 0.25 * near else 0


# Resume headings never continue the line before them, however long that line is.
_RESUME_HEADINGS = frozenset(
    """
    summary profile objective experience education skills projects awards certifications certificates
    languages interests publications references contact volunteer achievements honors coursework research
    employment history strengths activities leadership links training courses
    """.split()
)


def logical_lines(text: str) -> list[str]:
    """Lines with hard wraps undone: a line continues the previous one when the previous one
    ends mid-phrase (comma, connector word, hyphenated word), the new one starts in lower case,
    or the text is hard-wrapped and the previous line reached the wrap width. URLs and e-mail
    addresses are removed (they are never evidence and glue unrelated lines together)."""
    raw_lines = text.splitlines()
    cleaned = [clean_line(_URL_RE.sub(" ", raw)) for raw in raw_lines]
    width = _wrap_width(cleaned)
    lines: list[str] = []
    last_physical = ""
    for raw, line in zip(raw_lines, cleaned):
        if not line:
            if not raw.strip() and lines and lines[-1]:
                lines.append("")  # a truly blank line ends a paragraph; a URL-only line does not
            continue
        if lines and lines[-1] and _continues(lines[-1], last_physical, line, width):
            previous = lines[-1]
            if previous.endswith("-") and line[0].islower():
                lines[-1] = previous[:-1] + line  # "Devel-" + "oping"
            else:
                lines[-1] = previous + " " + line
        else:
            lines.append(line)
        last_physical = line
    return [line for line in lines if line]


def _continues(previous: str, last_physical: str, line: str, width: int) -> bool:
    """Whether ``line`` continues the logical line ``previous`` (whose last piece is ``last_physical``)."""
    if BULLET_RE.match(line) and not line[0].isalnum():
        return False
    header = listing_heading(previous)
    if header is not None and not header[1]:
        return False  # "Skills required -" ends with a dash but is a finished heading
    if previous[-1] in ".!?" and previous.rsplit(" ", 1)[-1].rstrip(".!?").lower() not in ABBREVIATIONS:
        return False  # a finished sentence; "e.g." at a line end is not one
    if line[0].islower():
        return True
    if previous[-1] in ",(/&-":
        return True
    if previous.rsplit(" ", 1)[-1].lower() in _JOIN_AFTER:
        return True
    # In hard-wrapped text a line that reached the wrap width without closing punctuation goes
    # on in the next one ("...execution of our" / "B2B SaaS analytics suite."), unless that is
    # a heading.
    wrapped = bool(width) and len(last_physical) >= 0.8 * width
    if not wrapped or previous[-1] in ".:;!?":
        return False
    words = normalize_text(line).replace("&", " ").split()
    if len(words) <= 3 and all(word in _RESUME_HEADINGS or word in ("and", "of") for word in words):
        return False
    return listing_heading(line) is None


_SECTION_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        ("req", r"debes postular a este rol|sobre todo si dominas"),
        (
            "boiler",
            r"benefit|beneficio|perks|what we offer|que ofrecemos|salary|salario|remunera|compensation|sueldo"
            r"|about us|about the company|sobre nosotros|quienes somos|who we are|how to apply|como aplicar"
            r"|como postular|\bapply\b|condiciones del contrato|recomendaciones|job types?\b|work remotely"
            r"|contract length|working days|lugar de|equal opportunit|\beeo\b|inscribete|deadline"
            r"|company profile|location|ubicacion|department|departamento|working with|horario|publicidad"
            r"|monetary|disponibilidad",
        ),
        (
            "nice",
            r"preferred|nice[ -]to[ -]have|bonus|good to have|pluses|desirable|deseable|valorable|se valorara"
            r"|additional skills|\bplus\b",
        ),
        (
            "req",
            r"requirement|requisito|requerimiento|qualification|qulification|prerequisite|must[ -]haves?"
            r"|what youll bring|what you will bring|what you need|looking for|who you are|about you"
            r"|you have|your profile|profile|perfil|skill|experience|education|formacion|language|idioma"
            r"|competencias|conocimientos|lo que buscamos",
        ),
        (
            "resp",
            r"responsibilit|responsabilidad|duties|funciones|what youll do|what you will do|what you get to do"
            r"|the role|your role|day[ -]to[ -]day|tareas|actividades|mision del puesto",
        ),
        ("about", r"about|summary|description|descripcion|overview|position|puesto|the job|acerca"),
    )
)


_HEADER_WORD_LIMIT = 8
_LIST_LABEL_RE = re.compile(r"\(?[a-z0-9]\)\s")
_INLINE_HEADER_WORD_LIMIT = 5
_BARE_HEADER_WORD_LIMIT = 5


# A heading without a colon must be nothing but a heading phrase: "Requirements", "Job Summary",
# "Responsibilities and Duties", "About the job". "Experience with Tableau" is a requirement.
_BARE_HEADER_RE = re.compile(
    r"(?:(?:minimum|basic|preferred|required|key|desired|necessary|additional|technical|job|candidate|your|the"
    r"|our|main|general|roles?(?: and| &)?)\s+){0,2}"
    r"(?:requirements?|qualifications?|responsibilit(?:y|ies)(?: areas?)?|duties|benefits|perks|prerequisites"
    r"|skills|experience|education|profile|summary|description|overview|about\b.*|what you.*|nice to have"
    r"|bonus(?: points)?|requisitos|requerimientos|funciones|responsabilidades|beneficios|perfil|condiciones\b.*"
    r"|como postular|como aplicar|recomendaciones\b.*|languages?|idiomas?|descripcion\b.*|sobre nosotros)"
    r"(?:\s+(?:and|&|y)\s+\w+)?(?:\s*-\s*\w+)?(?:\s+(?:required|needed))?"
)


def listing_heading(line: str) -> tuple[str, str] | None:
    """If ``line`` is a section heading, return (section, rest of line after the heading)."""
    normalized = normalize_text(BULLET_RE.sub("", line, count=1)).replace("'", "").strip()
    if _LIST_LABEL_RE.match(normalized):
        return None  # "(A) Skills, abilities and attitudes:" is an item of the current section
    words = normalized.split()
    if not words:
        return None
    head, rest = normalized, ""
    if ":" in normalized:
        head, _, rest = normalized.partition(":")
        if rest.strip() and len(head.split()) > _INLINE_HEADER_WORD_LIMIT:
            return None
        if not rest.strip() and len(words) > _HEADER_WORD_LIMIT:
            return None
    elif normalized.endswith(("?", " -", "\u2013")):
        if len(words) > _HEADER_WORD_LIMIT:
            return None
    elif (
        len(words) > _BARE_HEADER_WORD_LIMIT
        or BULLET_RE.match(line) and not line[0].isalnum()
        or not _BARE_HEADER_RE.fullmatch(normalized.rstrip(" .!"))
    ):
        return None
    head = head.strip(" -?\u00bf")
    for section, pattern in _SECTION_PATTERNS:
        if pattern.search(head):
            offset = line.find(":")
            original_rest = line[offset + 1 :].strip() if rest.strip() and offset >= 0 else ""
            return section, original_rest
    return None
