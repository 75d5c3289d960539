"""The built-in local resume analyzer: deterministic, offline, standard library only.

``analyze(resume_text, job_description, job_title=...)`` scores how well a resume fits a job
listing and explains why, as an ``AnalysisResult``. Same input, same output, byte for byte:
nothing depends on time, randomness, hash order or the environment.

Method, in short:
1. Both texts are split into units (sentences / bullets; wrapped lines re-joined), normalised
   (NFKC, case, accents, dashes) and tokenised; content words are stemmed with a small suffix
   stripper (``stem``) after mapping common Spanish job words to English.
2. Listing sections are recognised from their headings ("Requirements", "Nice to have",
   "Responsabilidades", "Beneficios"...). Benefits, EEO text, application instructions and web
   page debris (ads, menus) are boilerplate and ignored.
3. Skills of the vocabulary (``skills.py``) found in the listing are weighted by where they
   appear (requirements > responsibilities > description > nice-to-have); the resume covers a
   skill if it names it or a more specific one (PostgreSQL covers SQL).
4. Each requirement-like unit of the listing (skills, "experience", "years", "degree",
   "knowledge of"...) is judged met / partial / missing from its skills, its stemmed keywords
   and any "N+ years" it asks for, with the best matching resume sentence as evidence.
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
"""
from __future__ import annotations

import math
import re
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

from services.analysis.result import (
    MAX_EVIDENCE_CHARS,
    MAX_NOTE_CHARS,
    MAX_REQUIREMENT_CHARS,
    MAX_REQUIREMENTS,
    MAX_SKILLS,
    MAX_SUMMARY_CHARS,
    AnalysisResult,
    RequirementCheck,
    verdict_for_score,
)
from services.analysis.skills import (
    display_name,
    find_skills,
    implied_skills,
    is_soft_skill,
    normalize_text,
    related_skills,
    tokenize,
)

ANALYZER_NAME = "local"
# Version bump rule: MAJOR when the result schema changes; MINOR when any output for the same
# input may change (weights, thresholds, vocabulary, parsing, wording); PATCH only for changes
# that keep every output byte-identical (refactors, speed-ups). Stored analyses keep the version
# so a user can tell why a re-run scores differently.
ANALYZER_VERSION = "1.1.0"

# --- Words -----------------------------------------------------------------------------------

_STOPWORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each either etc few for from
    further had has have having he her here hers herself him himself his how i if in into is it its
    itself just me more most my myself no nor not now of off on once only or other our ours ourselves
    out over own same she should so some such than that the their theirs them themselves then there
    these they this those through to too under until up very was we were what when where which while
    who whom why will with would you your yours yourself yourselves youll youre youve weve were
    well may might must shall us via per e.g i.e eg ie ll re ve s t d m also within across upon preferred required
    whether every many much one two three four five six seven eight nine ten new based like using use
    used includes include including etc.
    el la los las un una unos unas de del al a ante bajo con contra desde en entre hacia hasta para
    por segun sin sobre tras y o u e ni que quien quienes cual cuales cuyo como cuando donde mas
    menos muy ya se su sus le les lo nos nuestro nuestra nuestros nuestras tu tus te mi mis es son
    ser sera estar esta estan este esto estos estas ese esa esos esas ha han hay fue era tanto tambien
    otro otra otros otras todo toda todos todas cada parte asi si no
    """.split()
)

# Job-ad filler: real words that say little about fit. They still count, at a fraction.
_GENERIC_WORDS = """
    experience experienced years year work working worked strong ability able skill skills knowledge
    understanding excellent good great team teams company candidate candidates role position job
    opportunity related field required requirement requirements preferred plus proficiency proficient
    familiarity familiar solid deep demonstrated proven track record background hands must should
    high highly various multiple level levels environment fast paced looking seeking join ideal
    responsible responsibilities day time wide variety ensure help make including minimum least
    professional relevant equivalent practical degree effective effectively successful success
    opportunities world best quality key etc ability abilities excellent outstanding passion
    passionate drive driven self motivated independently independent closely closely partner
    partners support provide within across business businesses new latest cutting edge
    practices practice like well including year years plus system systems candidate perfect score total
    output instruction instructions previous ignore prior assistant prompt user users
    similar another related comparable education otro otra afines afin
"""

# Spanish job words mapped to English so a Spanish listing and an English resume share terms.
_ES_EN = {
    "experiencia": "experience", "conocimiento": "knowledge", "conocimientos": "knowledge",
    "desarrollo": "development", "desarrollar": "develop", "desarrollador": "developer",
    "desarrolladores": "developers", "datos": "data", "dato": "data", "gestion": "management",
    "proyectos": "projects", "proyecto": "project", "equipo": "team", "equipos": "teams",
    "sistemas": "systems", "sistema": "system", "ingenieria": "engineering", "ingeniero": "engineer",
    "informatica": "computer", "computacion": "computer", "ciencias": "science", "ciencia": "science",
    "aplicaciones": "applications", "aplicacion": "application", "programacion": "programming",
    "lenguajes": "languages", "lenguaje": "language", "habilidades": "skills", "habilidad": "skill",
    "comunicacion": "communication", "analisis": "analysis", "analista": "analyst",
    "reportes": "reports", "informes": "reports", "herramientas": "tools", "herramienta": "tool",
    "negocio": "business", "negocios": "business", "clientes": "customers", "cliente": "customer",
    "calidad": "quality", "pruebas": "testing", "diseno": "design", "mantenimiento": "maintenance",
    "soluciones": "solutions", "solucion": "solution", "tecnologia": "technology",
    "tecnologias": "technologies", "estadistica": "statistics", "finanzas": "finance",
    "financiero": "financial", "financiera": "financial", "riesgos": "risks", "riesgo": "risk",
    "procesos": "processes", "proceso": "process", "mejora": "improvement", "mejoras": "improvements",
    "automatizacion": "automation", "visualizacion": "visualization", "requisitos": "requirements",
    "trabajo": "work", "estudiante": "student", "estudiantes": "students", "titulo": "degree",
    "licenciatura": "bachelor", "bachiller": "bachelor", "maestria": "master", "anos": "years",
    "ano": "year", "avanzado": "advanced", "intermedio": "intermediate", "usuario": "user",
    "usuarios": "users", "producto": "product", "productos": "products", "ventas": "sales",
    "movil": "mobile", "moviles": "mobile", "seguridad": "security", "rendimiento": "performance",
    "arquitectura": "architecture", "servicios": "services", "servicio": "service",
    "plataforma": "platform", "nube": "cloud", "modelo": "model", "modelos": "models",
    "aprendizaje": "learning", "ensenanza": "teaching", "docente": "teacher", "profesor": "teacher",
    "clases": "classes", "alumnos": "students", "logistica": "logistics", "inventario": "inventory",
    "facturacion": "billing", "contabilidad": "accounting", "liderazgo": "leadership",
    "reuniones": "meetings", "flujos": "workflows", "tableros": "dashboards", "control": "control",
    "bancario": "banking", "banca": "banking", "metodologias": "methodologies",
    "agiles": "agile", "relacionales": "relational", "frameworks": "frameworks",
    "implementacion": "implementation", "integracion": "integration", "codigo": "code",
    "trabajar": "work", "efectiva": "effective", "efectivo": "effective", "independiente": "independent",
    "independientemente": "independently", "colaborar": "collaborate", "mantener": "maintain",
    "disenar": "design", "implementar": "implement", "apoyo": "support", "apoyar": "support",
    "funciones": "functions", "objetivos": "objectives", "resultados": "results",
    # Hospitality, accounting, nursing and general listing words.
    "hotelera": "hotel", "hotelero": "hotel", "hoteles": "hotels", "turismo": "tourism", "turisticos": "tourism",
    "turistico": "tourism", "alojamientos": "accommodation", "huespedes": "guests", "huesped": "guest",
    "quejas": "complaints", "queja": "complaint", "reservas": "reservations", "recepcionista": "receptionist",
    "recepcion": "reception", "turnos": "shifts", "turno": "shift", "grupos": "groups", "eventos": "events",
    "contable": "accountant", "contables": "accounting", "conciliaciones": "reconciliations",
    "conciliacion": "reconciliation", "impuestos": "taxes", "auditoria": "audit", "auditores": "auditors",
    "cierre": "close", "mensual": "monthly", "anual": "annual", "ingles": "english", "idioma": "language",
    "idiomas": "languages", "nativo": "native", "bilingue": "bilingual", "economia": "economics",
    "administracion": "administration", "empresas": "business", "empresa": "company", "programas": "software",
    "grado": "bachelor", "formacion": "education", "orientacion": "orientation", "capacidad": "ability",
    "puesto": "position", "enfermera": "nurse", "enfermero": "nurse", "enfermeria": "nursing",
    "pacientes": "patients", "paciente": "patient", "facturas": "invoices", "presupuestos": "budgets",
    "presupuesto": "budget", "campanas": "campaigns", "redes": "networks", "sociales": "social",
    "diseno grafico": "graphic design", "negociacion": "negotiation", "cuota": "quota",
}

# Whole-word synonyms folded before stemming (degrees are written many ways).
_TOKEN_SYNONYMS = {
    "bfa": "bachelor", "b.f.a": "bachelor", "bba": "bachelor", "bsn": "bachelor", "b.com": "bachelor",
    "bs": "bachelor", "b.s": "bachelor", "bsc": "bachelor", "b.sc": "bachelor", "ba": "bachelor",
    "b.a": "bachelor", "b.e": "bachelor", "b.tech": "bachelor", "btech": "bachelor", "bachelors": "bachelor",
    "msc": "master", "m.s": "master", "m.sc": "master", "masters": "master", "meng": "master",
    "m.e": "master", "m.tech": "master", "mca": "master", "phd": "doctorate", "ph.d": "doctorate",
    "doctoral": "doctorate", "cs": "computer", "ml": "machine", "ai": "intelligence",
    # Who is served: a hotel's guests and an agency's clients are its customers.
    "guest": "customer", "guests": "customer", "client": "customer", "clients": "customer",
    "clientes": "customer", "cliente": "customer",
}

# Stem families the suffix rules cannot join (analysis/analyst/analyze, statistics/statistical...).
_FAMILIES = (
    ("analy", "analy"), ("anali", "analy"), ("statist", "statist"), ("estadist", "statist"),
    ("optimi", "optim"), ("visuali", "visual"), ("communic", "commun"), ("comunic", "commun"),
    ("engineer", "engin"), ("ingenier", "engin"), ("technolog", "technolog"), ("tecnolog", "technolog"),
    ("mathemat", "math"), ("matemat", "math"), ("architect", "architect"), ("arquitect", "architect"),
    ("strateg", "strateg"), ("estrateg", "strateg"), ("scien", "scien"), ("financ", "financ"),
    ("finanz", "financ"), ("collaborat", "collabor"), ("colabor", "collabor"), ("logist", "logist"),
    ("algorithm", "algorithm"), ("algoritm", "algorithm"), ("program", "program"), ("programa", "program"),
)

_MIN_STEM = 3
_STEMMERS = {"en": snowballstemmer.stemmer("english"), "es": snowballstemmer.stemmer("spanish")}
# Snowball stemmer objects keep state between calls: one thread at a time (the analysis worker
# runs analyses in threads); the cache makes the lock rare.
_STEMMER_LOCK = threading.Lock()


@lru_cache(maxsize=1 << 16)
def stem(word: str, language: str = "en") -> str:
    """The Snowball stem of ``word`` in ``language`` ("en" or "es"): "managed", "management",
    "manager" -> "manag"; "gestionar", "gestión" -> "gestion".

    Words with digits or symbols ("c++", "node.js", "python3") are returned unchanged. A few
    families that Snowball keeps apart are joined first, across both languages
    (analysis/analyst/analytics/análisis, statistics/estadística...).
    """
    if len(word) <= _MIN_STEM or not word.isalpha():
        return word
    for prefix, family in _FAMILIES:
        if word.startswith(prefix):
            return family
    with _STEMMER_LOCK:
        return _STEMMERS.get(language, _STEMMERS["en"]).stemWord(word)


def _content_terms(tokens: Iterable[str], language: str = "en") -> frozenset[str]:
    """Stems of the content words among ``tokens`` (no stopwords, numbers, symbols or 1-letter
    words). Spanish words with an English equivalent are stemmed as that English word, so a
    Spanish listing and an English resume share terms; other words in the text's ``language``."""
    terms: set[str] = set()
    for token in tokens:
        mapped = _ES_EN.get(_TOKEN_SYNONYMS.get(token, token), _TOKEN_SYNONYMS.get(token, token))
        if len(mapped) < 2 or mapped in _STOPWORDS or not any(ch.isalpha() for ch in mapped):
            continue
        terms.add(stem(mapped, "en" if mapped != token else language))
    return frozenset(terms)


_GENERIC_TERMS = frozenset(stem(word) for word in _GENERIC_WORDS.split())
# 1 and 1/4 are exact binary fractions, so sums of term weights are exact and do not depend on
# set iteration order (which varies with hash randomisation): results stay byte-identical.
_GENERIC_WEIGHT = 0.25


def _term_weight(term: str) -> float:
    return _GENERIC_WEIGHT if term in _GENERIC_TERMS else 1.0


# --- Units: sentences and bullets ----------------------------------------------------------------

_BULLET_RE = re.compile(r"^(?:[\u2022\u25cf\u25aa\u25e6\u00b7\u25a0\u25a1\u2023\u2043\u27a2\u25ba\u2713\u2714*>\-]+|o(?=\s+[A-Z]))\s*")
_INLINE_BULLET_RE = re.compile(r"\s+[\u2022\u25cf\u25aa\u25e6\u00b7\u25a0\u2023]\s+")
_SENTENCE_END_RE = re.compile(r"([.!?])\s+(?=[\"'(\u00bf\u00a1A-Z0-9])")
_ABBREVIATIONS = frozenset(
    "e.g i.e etc vs approx dr mr mrs ms prof st no inc ltd sr jr co corp dept fig ph.d b.s m.s b.a u.s".split()
)
_JOIN_AFTER = frozenset(
    "and or of the a an to with in for on by as at from y de en con para como la el los las del al e o".split()
)
_WS_RE = re.compile(r"\s+")


_URL_RE = re.compile(r"\b(?:https?://|www\.)\S+|\S+@\S+\.\w+")


def _clean_line(line: str) -> str:
    return _WS_RE.sub(" ", line.replace("\u00ad", "")).strip()


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


def _logical_lines(text: str) -> list[str]:
    """Lines with hard wraps undone: a line continues the previous one when the previous one
    ends mid-phrase (comma, connector word, hyphenated word), the new one starts in lower case,
    or the text is hard-wrapped and the previous line reached the wrap width. URLs and e-mail
    addresses are removed (they are never evidence and glue unrelated lines together)."""
    raw_lines = text.splitlines()
    cleaned = [_clean_line(_URL_RE.sub(" ", raw)) for raw in raw_lines]
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
    if _BULLET_RE.match(line) and not line[0].isalnum():
        return False
    header = _header(previous)
    if header is not None and not header[1]:
        return False  # "Skills required -" ends with a dash but is a finished heading
    if previous[-1] in ".!?" and previous.rsplit(" ", 1)[-1].rstrip(".!?").lower() not in _ABBREVIATIONS:
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
    return _header(line) is None


def _split_sentences(line: str, min_clause_words: int = 0) -> list[str]:
    """Bullets, ';'-separated clauses and sentences of one logical line.

    With ``min_clause_words``, a chunk is cut at ';' only when every clause has that many
    words: "4+ years of Python; deep knowledge of asyncio" is two requirements, "Fluency in
    English; Spanish is a plus" is one.
    """
    line = _BULLET_RE.sub("", line, count=1)
    pieces: list[str] = []
    for chunk in _INLINE_BULLET_RE.split(line):
        clauses = chunk.split(";")
        if any(len(clause.split()) < min_clause_words for clause in clauses):
            clauses = [chunk]
        for clause in clauses:
            pieces.extend(_sentences(clause))
    return [piece for piece in (_clean_line(_BULLET_RE.sub("", p, count=1)) for p in pieces) if piece]


def _sentences(text: str) -> list[str]:
    parts: list[str] = []
    start = 0
    for match in _SENTENCE_END_RE.finditer(text):
        end = match.end(1)
        previous_word = text[start:end].rsplit(" ", 1)[-1].rstrip(".!?").lower()
        if match.group(1) == "." and (previous_word in _ABBREVIATIONS or len(previous_word) == 1):
            continue
        parts.append(text[start:end])
        start = match.end()
    parts.append(text[start:])
    return parts


def _shorten(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, with an ellipsis if cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:-")
    return (cut or text[: limit - 1]) + "\u2026"


@dataclass(frozen=True)
class _Unit:
    """One sentence or bullet, pre-processed once."""

    text: str
    normalized: str
    tokens: tuple[str, ...]
    terms: frozenset[str]
    skills: tuple[str, ...]
    implied: frozenset[str]  # skills plus everything they imply
    skill_terms: frozenset[str]  # terms that are part of a skill mention
    free_tokens: tuple[str, ...]  # tokens outside skill mentions
    section: str = "other"
    weight: float = 1.0


def _make_unit(text: str, section: str = "other", weight: float = 1.0) -> _Unit:
    normalized = normalize_text(text)
    tokens = tuple(tokenize(normalized))
    hits = find_skills(tokens)
    skills = tuple(dict.fromkeys(hit.skill for hit in hits))
    in_skill = {position for hit in hits for position in range(hit.start, hit.end)}
    language = "es" if _language(tokens) == "es" else "en"
    skill_terms = _content_terms((tokens[position] for position in sorted(in_skill)), language)
    free = tuple(token for position, token in enumerate(tokens) if position not in in_skill)
    return _Unit(
        text, normalized, tokens, _content_terms(tokens, language), skills, implied_skills(skills), skill_terms, free,
        section, weight,
    )


# --- Listing structure ---------------------------------------------------------------------------

# Section weights: how much a skill or term in that part of the listing matters.
_SECTION_WEIGHTS = {"req": 1.0, "resp": 0.8, "other": 0.7, "about": 0.5, "nice": 0.45, "boiler": 0.0}

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

# Inline markers that change a single unit's weight.
_NICE_MARK_RE = re.compile(
    r"\bpreferred\b|\bis a plus\b|\ba plus\b|nice to have|good to have|\bbonus\b|\bdeseable\b|\brecomendable\b"
    r"|\bappreciated\b|not required|\boptional\b|\bvalorable\b|\bideally\b"
)
_REQUIRED_MARK_RE = re.compile(r"\(required\)|\bmust\b|\bessential\b|\bindispensable\b|\bexcluyente\b|\bobligatorio\b")

# Lines that never describe the job, wherever they are.
_BOILERPLATE_RE = re.compile(
    r"https?:|www\.|\.com\b|@|\bsalary\b|\bsalario\b|\bsueldo\b|\u20b9|\$\s?\d[\d,.]*\s*k?\s*(?:-|\u2013|to)\s*\$\s?\d|\bper hour\b|\u20ac"
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
    r"|\bbachiller\b|\blicenciad\w*|\banos\b(?!\s+de\s+(?:historia|trayectoria|vida))|\blicen[cs]\w*|\bportfolio\b|\bavailab\w*|\bdisponibilidad\b"
    r"|\bgrado\b|\borientacion\b|\btrack record\b|\bcertified\b"
)

_YEARS_RE = re.compile(
    r"(?<![\w.])(\d{1,2})\s*(?:\+|plus)?\s*(?:(?:-|to|a)\s*\d{1,2}\s*\+?\s*)?(?:years?|yrs?|anos?)\b"
)
_UP_TO_RE = re.compile(r"(?:up to|hasta)\s*$")


def _required_years(normalized: str) -> int | None:
    """Minimum years of experience a unit asks for ("4+ years", "2-4 years", "minimum 1 year")."""
    for match in _YEARS_RE.finditer(normalized):
        if _UP_TO_RE.search(normalized[: match.start()]):
            continue  # "up to 3 years" is a ceiling, not a requirement
        years = int(match.group(1))
        if 0 < years <= 30:
            return years
    return None


def _header(line: str) -> tuple[str, str] | None:
    """If ``line`` is a section heading, return (section, rest of line after the heading)."""
    normalized = normalize_text(_BULLET_RE.sub("", line, count=1)).replace("'", "").strip()
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
        or _BULLET_RE.match(line) and not line[0].isalnum()
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


@dataclass(frozen=True)
class _Listing:
    """A parsed job listing."""

    units: tuple[_Unit, ...]  # non-boilerplate units in order
    title: str
    title_terms: frozenset[str]
    title_words: frozenset[str]
    title_skills: tuple[str, ...]
    shingles: frozenset[tuple[str, ...]]
    sentences: frozenset[tuple[str, ...]]  # token tuples of every listing sentence, boilerplate included


def _parse_listing(text: str, job_title: str) -> _Listing:
    lines = _logical_lines(text)
    units: list[_Unit] = []
    sentences: set[tuple[str, ...]] = set()
    section = "other"
    for line in lines:
        sentences.update(_words(tokenize(normalize_text(sentence))) for sentence in _split_sentences(line))
        if _TITLE_PREFIX_RE.match(line):
            continue  # "Position Title: ..." names the job; it asks for nothing
        header = _header(line)
        if header is not None:
            section, rest = header
            if not rest:
                continue
            line = rest
        for sentence in _split_sentences(line, _LISTING_CLAUSE_WORDS):
            unit_section = _unit_section(sentence, section)
            if unit_section == "boiler":
                continue
            unit = _make_unit(sentence, unit_section, _SECTION_WEIGHTS[unit_section])
            if unit.terms or unit.skills:
                units.append(unit)
    title = _clean_line(job_title) or _guess_title(lines)
    title_unit = _make_unit(title) if title else None
    if title_unit is not None:
        # The title (often repeated in page headers) is scored as the title, not as requirements.
        units = [unit for unit in units
                 if not _restates_title(unit, title_unit) or _REQUIREMENT_CUE_RE.search(unit.normalized)]
    all_tokens = tokenize(normalize_text(text))
    return _Listing(
        units=tuple(units),
        title=title,
        title_terms=title_unit.terms if title_unit else frozenset(),
        title_words=_title_word_set(title_unit.tokens) if title_unit else frozenset(),
        title_skills=title_unit.skills if title_unit else (),
        shingles=_shingles(all_tokens),
        sentences=frozenset(sentences),
    )


_LISTING_CLAUSE_WORDS = 5


def _restates_title(unit: _Unit, title: _Unit) -> bool:
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
_ROLE_WORD_RE = re.compile(
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
        if tail.strip() and _ROLE_WORD_RE.search(tail) and not _ROLE_WORD_RE.search(head):
            candidate = tail.strip()  # "BBVA BANCO CONTINENTAL: Convocatoria para Practicante ..."
        words = candidate.split()
        if 1 <= len(words) <= 10 and not candidate.endswith(".") and _ROLE_WORD_RE.search(candidate):
            return candidate
    match = _SEEKING_RE.search(" ".join(lines[:3])[:600])
    return match.group(1).strip() if match else ""


_EN_MARKERS = frozenset("the and of to in with for is are you we our will be this that".split())
_ES_MARKERS = frozenset("el la los las de del en con para y que es son un una por nuestro como".split())


def _language(tokens: Sequence[str]) -> str:
    """'en' or 'es' by function-word counts ('' when there is no text)."""
    english = sum(1 for token in tokens if token in _EN_MARKERS)
    spanish = sum(1 for token in tokens if token in _ES_MARKERS)
    if english == spanish == 0:
        return ""
    return "es" if spanish > english else "en"


_SHINGLE = 4


def _words(tokens: Iterable[str]) -> tuple[str, ...]:
    return tuple(token for token in tokens if token not in ("/", "&"))


def _shingles(tokens: Sequence[str]) -> frozenset[tuple[str, ...]]:
    words = _words(tokens)
    return frozenset(words[i : i + _SHINGLE] for i in range(len(words) - _SHINGLE + 1))


# --- Resume ----------------------------------------------------------------------------------------

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
class _Resume:
    """A parsed resume, as seen against one listing (copies and stuffing depend on the listing)."""

    units: tuple[_Unit, ...]  # usable units (not copied, not stuffed)
    terms: frozenset[str]
    words: frozenset[str]  # see _title_word_set
    role_words: frozenset[str]  # words of the resume's headline and job-title lines
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


def _shows(unit: _Unit) -> bool:
    """Whether a resume unit shows what it names: a line of work, education or a credential,
    not the summary, a skills list, volunteer work or a bare list of names anywhere."""
    return unit.section not in _CLAIMED_SECTIONS and len(_words(unit.free_tokens)) >= 2


@lru_cache(maxsize=4096)
def _resume_heading(line: str) -> str | None:
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


def _parse_resume(text: str, listing: _Listing) -> _Resume:
    candidates: list[_Unit] = []
    stuffed = addressed = 0
    lines = _logical_lines(text)
    # Before the first heading come the name, headline and contact lines; a resume without
    # headings has no such parts to tell apart.
    section = "header" if any(_resume_heading(line) for line in lines) else "other"
    for line in lines:
        heading = _resume_heading(line)
        if heading is not None:
            section = heading
        for sentence in _split_sentences(line):
            unit_section = "skills" if _INLINE_SKILLS_RE.match(normalize_text(sentence)) else section
            unit = _make_unit(sentence, unit_section)
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
    language = _language(all_tokens)
    if language == "en" and len(all_tokens) >= 30:
        named.add("english")
    elif language == "es" and len(all_tokens) >= 30:
        named.add("spanish")
    years, evidence = _resume_years([unit for unit in units if unit.section not in ("volunteer", "education")])
    listed_only, list_credit = _list_credit(units, named, listing)
    return _Resume(
        units=tuple(units),
        terms=frozenset().union(*(unit.terms for unit in units)),
        words=_title_word_set(all_tokens),
        role_words=_title_word_set(token for unit in _role_units(units) for token in unit.tokens),
        skills=implied_skills(named),
        shown_skills=implied_skills(skill for unit in units if _shows(unit) for skill in unit.skills),
        partial_skills=related_skills(named),
        listed_only=listed_only - {"english", "spanish"},
        list_credit=list_credit,
        years=years,
        years_evidence=evidence,
        copied=copied,
        stuffed=stuffed,
        addressed=addressed,
    )


_ROLE_LINE_TOKENS = 14


def _role_units(units: Sequence[_Unit]) -> list[_Unit]:
    """Title-like units naming a role ("Machine Learning Engineer", "2018 - 2021 Data Scientist, Uber"):
    short and not a sentence, so "Led a team of developers." does not make one a developer."""
    return [
        unit
        for unit in units
        if len(unit.tokens) <= _ROLE_LINE_TOKENS
        and not unit.text.rstrip().endswith(".")
        and _ROLE_WORD_RE.search(unit.normalized)
    ]


# Words that make a unit a statement about work ("Deployed the model using Flask") rather than
# a bare claim ("Skills: Flask, Docker"). Regular past tenses and -ing forms are caught by shape.
_WORK_VERBS = frozenset(
    """
    built led ran wrote made won taught drove grew shipped own owned lead build develop design manage run
    teach create implement deploy write use work worked mentor train launch deliver migrate maintain
    construi desarrolle implemente disene lidere gestione cree trabaje
    """.split()
)


def _describes_work(unit: _Unit) -> bool:
    """True for a sentence about doing something, false for a list of skills or a heading."""
    words = _words(unit.tokens)
    free = _words(unit.free_tokens)
    if len(words) < 5:
        return False
    # Only words outside skill names can be the verb: "Machine Learning" is not doing anything.
    verb = any(word in _WORK_VERBS or (len(word) > 4 and word.endswith(("ed", "ing"))) for word in free)
    return verb and len(free) > 0.3 * len(words)


_LIST_CREDIT_MIN = 0.3
_LIST_CREDIT_MAX = 0.8


def _list_credit(units: Sequence[_Unit], named: Iterable[str], listing: _Listing) -> tuple[frozenset[str], float]:
    """Skills named only in bare lists, and the credit such a skill earns.

    A bare list is cheap to write and easy to stuff with the listing's own keywords, so its
    skills earn 0.8 only when the rest of the resume corroborates it: when at least half of the
    listing skills the resume covers also appear in sentences about work. With no corroboration
    they earn 0.3 (a pasted or hidden keyword list lifts a score far less than real experience).
    """
    # Sentences about work and job-title lines ("Data Scientist, Uber") both show a skill in use.
    roles = {id(unit) for unit in _role_units(units)}
    in_context = implied_skills(
        skill for unit in units if id(unit) in roles or _describes_work(unit) for skill in unit.skills
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


def _mirror_runs(units: Sequence[_Unit], wanted: frozenset[str]) -> frozenset[int]:
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


def _is_stuffed(unit: _Unit) -> bool:
    """A long unit dominated by one repeated word is keyword stuffing, not a sentence."""
    words = [token for token in unit.tokens if token not in ("/", "&")]
    if len(words) < _STUFF_MIN_TOKENS:
        return False
    top = Counter(words).most_common(1)[0][1]
    return top / len(words) >= _STUFF_TOP_SHARE or len(set(words)) / len(words) < 0.35


def _is_copied(unit: _Unit, listing: _Listing, *, strict: bool) -> bool:
    """Near-verbatim copy of listing text: a whole listing sentence of 3+ words, or a unit of 8+
    words at least half of whose word 4-grams occur in the listing.

    Unless ``strict``, a short line naming a role is never a copy: the candidate may well hold
    the listed title ("Machine Learning Engineer"). ``strict`` (the listing was pasted in) also
    treats any line equal to a listing line as a copy, however short ("CSS (Required)").
    """
    words = _words(unit.tokens)
    is_title = not strict and len(words) < 6 and _ROLE_WORD_RE.search(unit.normalized) is not None
    minimum = 1 if strict else _COPY_EXACT_MIN_TOKENS
    if len(words) >= minimum and not is_title and words in listing.sentences:
        return True
    if len(words) < _COPY_MIN_TOKENS or not listing.shingles:
        return False
    grams = [words[i : i + _SHINGLE] for i in range(len(words) - _SHINGLE + 1)]
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


def _resume_years(units: Sequence[_Unit]) -> tuple[int, str | None]:
    """Years of experience: the larger of a stated "N years of experience" and the span of
    non-education date ranges. "Present" is the latest year the resume mentions, so the
    result does not depend on today's date."""
    stated, stated_text = 0, None
    for unit in units:
        for match in _STATED_YEARS_RE.finditer(unit.normalized):
            value = int(match.group(1))
            if value <= 50 and value > stated:
                stated, stated_text = value, unit.text
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


# --- Skills ------------------------------------------------------------------------------------------

_SOFT_FACTOR = 0.5
_TITLE_SKILL_WEIGHT = 1.2


@dataclass(frozen=True)
class _SkillReport:
    order: tuple[str, ...]  # listing skills in order of first appearance
    weights: dict[str, float]
    required: frozenset[str]  # asked for in requirement-ish sections, not already met by an alternative
    first_mention: dict[str, str]  # skill -> the unit text that first asks for it (preferring requirements)
    matched: tuple[str, ...]
    missing: tuple[str, ...]
    coverage: float  # weighted share of the listing's skill demands the resume meets (see _skill_coverage)


def _skill_report(listing: _Listing, resume: _Resume) -> _SkillReport:
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
    return _SkillReport(
        order=order,
        weights=final,
        required=frozenset(required - optional),
        first_mention={**quoted, **quoted_req},
        matched=matched,
        missing=missing,
        coverage=_skill_coverage(listing, resume),
    )


def _skill_coverage(listing: _Listing, resume: _Resume) -> float:
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


# --- Requirements ------------------------------------------------------------------------------------

_MET = 0.6
_PARTIAL = 0.3
_VERDICT_VALUE = {"met": 1.0, "partial": 0.5, "missing": 0.0}
_ALTERNATIVES_RE = re.compile(
    r"\bor\b|\bsuch as\b|\be\.?g\b|\betc\b|\blike\b|\bincluding\b|\bcomo\b|\bo\b|\bie\b|\bentre otr"
)
_NOT_REQUIRED_RE = re.compile(r"not required|not necessary|no (?:es )?(?:requerido|necesario|excluyente)")


# Sentences that sell the job or the company instead of asking for anything.
_PITCH_RE = re.compile(
    r"\b(?:we are|we're|were|we're)\s+(?:currently\s+)?(?:seeking|looking|hiring|searching)\b|^join (?:our|the|us)\b"
    r"|\bto join (?:our|the|us)\b|\bestamos buscando\b|^buscamos\b|\bpara (?:unirse|incorporarse|formar parte)\b"
    r"|\btendras la oportunidad\b|\byou will have the opportunity\b|\bour mission\b|\bnuestra mision\b|\bon a mission\b"
    r"|\bwe believe\b|\bcreemos\b|^ofrecemos\b|^we offer\b|\bcome build\b|^why \w+\b|\bwe are looking to\b"
    r"|\bbring into our fold\b|\bbelieves\b"
)


def _has_alternatives(unit: _Unit) -> bool:
    """"X, Y or Z" / "such as X, Y" / "(X, Y)": the listing gives examples, not a checklist."""
    return bool(_ALTERNATIVES_RE.search(unit.normalized))


@dataclass(frozen=True)
class _Assessment:
    unit: _Unit
    verdict: str
    evidence: str | None
    years: int | None


def _requirement_units(listing: _Listing) -> list[_Unit]:
    """Listing units that state a requirement, at most ``MAX_REQUIREMENTS``, in listing order.

    When there are more, requirement sections win over responsibilities, description and
    nice-to-have; units without skills or requirement words are used only as a fallback.
    """
    candidates: list[tuple[float, int, _Unit]] = []
    fallback: list[tuple[float, int, _Unit]] = []
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


def _weighted_share(wanted: frozenset[str], have: frozenset[str]) -> float:
    """Share of ``wanted`` terms (filler words weighted 1/4) present in ``have``."""
    total = sum(_term_weight(term) for term in wanted)
    if not total:
        return 0.0
    return sum(_term_weight(term) for term in wanted if term in have) / total


_RELATED_CREDIT = 0.5


def _credit(skill: str, resume: _Resume) -> float:
    """How far the resume shows a skill: 1 if used in context (or a more specific one is),
    0.4-0.8 if only named in a bare list (see _list_credit), 0.5 if a broader skill makes it
    likely, else 0."""
    if skill in resume.skills:
        if skill in resume.listed_only:
            return resume.list_credit
        return 1.0
    return _RELATED_CREDIT if skill in resume.partial_skills else 0.0


def _skill_share(skills: Sequence[str], resume: _Resume, alternatives: bool, credit=None) -> float:
    """Share of a demand's skills the resume covers; for "X, Y or Z" lists half of them suffice.
    ``credit(skill)`` defaults to ``_credit``."""
    credit = credit or (lambda skill: _credit(skill, resume))
    weights = {skill: (_SOFT_FACTOR if is_soft_skill(skill) else 1.0) for skill in skills}
    total = math.fsum(weights.values())
    have = math.fsum(weights[skill] * credit(skill) for skill in skills)
    if alternatives and len(skills) >= 2:
        total = max(total / 2.0, min(weights.values()))
    return min(1.0, have / total) if total else 0.0


def _assess(unit: _Unit, resume: _Resume) -> _Assessment:
    """Verdict and evidence for one requirement unit.

    coverage = 0.6 * skill share + 0.4 * keyword share when the unit names skills, else the
    keyword share alone; keyword share = 0.75 * best single resume sentence + 0.25 * whole
    resume (stemmed, filler words discounted). A stated "N+ years" caps the verdict by the
    resume's years. met >= 0.6 > partial >= 0.3 > missing.

    ``met`` needs what the requirement asks for to be shown, in work, education or a
    credential: when only the summary, a skills list or volunteer work reaches ``met``, or a
    requirement naming several skills (not as alternatives) misses one, it is ``partial``
    (related, not shown). Language and "familiarity with" requirements are exempt: a languages
    line or a skills list is what shows them. Evidence is a resume sentence, never a heading,
    a date line, a contact or name line, or a job-title line.
    """
    years = _required_years(unit.normalized)
    # Skill words are judged by the skill share; counting them again as keywords would let a
    # bare list of skill names satisfy requirements twice.
    topic_terms = unit.terms - unit.skill_terms if unit.skills else unit.terms
    if years is not None:
        topic_terms = frozenset(term for term in topic_terms if term not in _YEAR_TERMS)
    # An education line shows a degree, not experience or communication skills.
    schooling = years is None and bool(_EDUCATION_REQUIREMENT_RE.search(unit.normalized))
    usable = [candidate for candidate in resume.units if schooling or candidate.section != "education"]
    # Job-title lines show the role ("Recepcionista \u2014 Hotel Sol") but are never quoted.
    shown_units = [candidate for candidate in usable if _shows(candidate)]
    coverage, best_text, best_score = _coverage(unit, topic_terms, years, usable, resume, resume.terms,
                                                lambda skill: _credit(skill, resume))
    verdict = "met" if coverage >= _MET else "partial" if coverage >= _PARTIAL else "missing"
    short_of_years = years is not None and resume.years < 0.6 * years
    if verdict == "missing" and not short_of_years and any(
        _credit(skill, resume) > 0 for skill in unit.skills if not is_soft_skill(skill)
    ):
        verdict = "partial"  # some of what it names is there: related, not shown
    if verdict == "met" and not _EXEMPT_FROM_SHOWING_RE.search(unit.normalized):
        shown_terms = frozenset().union(*(candidate.terms for candidate in shown_units))
        shown_coverage, shown_text, shown_score = _coverage(
            unit, topic_terms, years, shown_units, resume, shown_terms, lambda skill: _shown_credit(skill, resume))
        if shown_coverage < _MET or _misses_a_skill(unit, resume):
            verdict = "partial"
        elif shown_text is not None and shown_score > 0:
            best_text = shown_text
    if years is not None and best_score == 0.0 and verdict != "missing":
        best_text = resume.years_evidence
    evidence = None if verdict == "missing" or best_text is None else _shorten(best_text, MAX_EVIDENCE_CHARS)
    return _Assessment(unit, verdict, evidence, years)


def _coverage(unit: _Unit, topic_terms: frozenset[str], years: int | None, units: Sequence[_Unit], resume: _Resume,
              all_terms: frozenset[str], credit) -> tuple[float, str | None, float]:
    """(coverage, best sentence, its score) of one requirement over some resume units."""
    weights = {term: _term_weight(term) for term in topic_terms}
    total = sum(weights.values())
    best_text, best_score, best_keyword = None, 0.0, 0.0
    for candidate in units:
        shared = weights.keys() & candidate.terms
        keyword = sum(weights[term] for term in shared) / total if shared else 0.0  # shared implies total > 0
        # A quote must name something the requirement asks for: a skill, or a word that is not
        # job-ad filler ("experience" alone proves nothing).
        names = any(weights[term] == 1.0 for term in shared)
        score = keyword if names else 0.0
        if unit.skills:
            shown = sum(1 for skill in unit.skills if skill in candidate.implied) / len(unit.skills)
            score = 0.6 * shown + 0.4 * score
            names = names or shown > 0
        best_keyword = max(best_keyword, keyword)
        if names and score > best_score and _quotable(candidate):
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
        years_value = 1.0 if resume.years >= years else 0.5 if resume.years >= 0.6 * years else 0.0
        # "3 years (Preferred)" is about years only; "5 years of Java" is about both.
        coverage = min(years_value, coverage) if substantive or unit.skills else years_value
    return coverage, best_text, best_score


_EXEMPT_FROM_SHOWING_RE = re.compile(
    r"\b(?:english|spanish|french|german|ingles|espanol|frances|aleman|idiomas?|languages?|bilingual|bilingue"
    r"|fluen\w*|familiar\w*|familiaridad)\b"
)


def _shown_credit(skill: str, resume: _Resume) -> float:
    """A skill's credit counting only work, education and credentials: claimed elsewhere, half."""
    if skill in resume.shown_skills:
        return 1.0
    return _RELATED_CREDIT if skill in resume.skills or skill in resume.partial_skills else 0.0


def _misses_a_skill(unit: _Unit, resume: _Resume) -> bool:
    """A requirement naming several skills as a checklist, one of which the resume lacks."""
    hard = [skill for skill in unit.skills if not is_soft_skill(skill)]
    return len(hard) >= 2 and not _has_alternatives(unit) and any(_credit(skill, resume) == 0 for skill in hard)


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
    if len(words) < 3 or _resume_heading(text) is not None:
        return False
    undated = _DATE_WORD_RE.sub(" ", normalized)
    return len(re.findall(r"[a-z]{2,}", undated)) >= 3


_ES_FIRST_PERSON_RE = re.compile(r"^[a-z]{3,}(?:o|e|\u00e9|\u00f3)$")


def _job_line(unit: _Unit) -> bool:
    """A job's title/company/date line in a work section ("Recepcionista \u2014 Hotel Sol, Valencia"):
    short, no sentence, no verb."""
    if unit.text.rstrip().endswith(".") or len(unit.tokens) > 16 or _describes_work(unit):
        return False
    first = unit.normalized.split()[0] if unit.normalized.split() else ""
    return not _ES_FIRST_PERSON_RE.match(first)  # "Realizo check-in ...", "Apoy\u00e9 en ..."


_EDUCATION_REQUIREMENT_RE = re.compile(
    r"\b(?:degree|bachelor\w*|master\w*|ph\.?d|doctor\w*|diploma|graduat\w*|grado|titulo|formacion|licenciatur\w*"
    r"|estudiante\w*|egresad\w*|education|bsn|bfa|mba|associate|university|universidad|college|bachiller)\b"
)


def _quotable(unit: _Unit) -> bool:
    """A resume unit that may be quoted: see _quotable_text; the name/contact header and
    job-title lines ("Data Scientist, Uber, 2018 - 2021") are not evidence either."""
    if unit.section == "header" or not _quotable_text(unit.text):
        return False
    if unit.section == "work" and _job_line(unit):
        return False
    return not (len(unit.tokens) <= _ROLE_LINE_TOKENS and not unit.text.rstrip().endswith(".")
                and _ROLE_WORD_RE.search(unit.normalized) and len(_words(unit.free_tokens)) <= 8)


_YEAR_TERMS = frozenset({stem("years"), stem("year"), stem("experience"), "yrs"})


# --- Score -------------------------------------------------------------------------------------------

# Component weights; they are renormalised over the components a listing allows.
_W_SKILLS = 0.40
_W_REQUIREMENTS = 0.25
_W_KEYWORDS = 0.20
_W_TITLE = 0.15
# Keyword coverage of a well-fitting resume is ~0.4-0.6 of the listing's weighted terms; this
# maps that range onto the top of the scale instead of capping such resumes at ~50.
_KEYWORD_SCALE = 0.55


def _keyword_coverage(listing: _Listing, resume: _Resume) -> float:
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
        term: weight * _term_weight(term) * (1.0 + 0.3 * math.log(frequency[term])) if frequency[term] else weight
        for term, weight in weights.items()
    }
    # fsum is exact, so the result does not depend on the (hash-seeded) order of the terms.
    total = math.fsum(values.values())
    covered = math.fsum(value for term, value in values.items() if term in resume.terms)
    return covered / total if total else 0.0


def _title_fit(listing: _Listing, resume: _Resume) -> float:
    """How well the resume presents the candidate in the listed role, 0..1.

    60%: share of the title's words found in the resume's own role lines (headline, job titles);
    40%: share of the title's skills the resume covers, or, when the title names no skill, of its
    words anywhere in the resume. Words are compared unstemmed ("developer" is not "developed")
    and seniority words ("senior", "lead") count little.
    """
    if not listing.title_words:
        return 0.0
    weights = {word: (0.3 if word in _SENIORITY_WORDS else 1.0) for word in listing.title_words}
    total = math.fsum(weights.values())
    in_roles = math.fsum(weight for word, weight in weights.items() if word in resume.role_words) / total
    if listing.title_skills:
        rest = math.fsum(_credit(skill, resume) for skill in listing.title_skills) / len(listing.title_skills)
    else:
        rest = math.fsum(weight for word, weight in weights.items() if word in resume.words) / total
    return 0.6 * in_roles + 0.4 * rest


_SENIORITY_WORDS = frozenset(
    "senior sr junior jr lead principal staff head chief ii iii iv intern trainee practicante associate mid cum".split()
)


def _title_word_set(tokens: Iterable[str]) -> frozenset[str]:
    """Content words, unstemmed but plural-insensitive and Spanish-to-English mapped.

    Unstemmed on purpose: the title "Developer" should not be matched by "developed".
    """
    words: set[str] = set()
    for token in tokens:
        token = _ES_EN.get(token, token)
        if len(token) < 2 or token in _STOPWORDS or not token.isalpha():
            continue
        if len(token) > 3 and token.endswith("s") and not token.endswith("ss"):
            token = token[:-1]
        words.add(token)
    return frozenset(words)


def _combine(skills: _SkillReport, assessments: Sequence[_Assessment], keywords: float, title: float,
             listing: _Listing) -> int:
    """The 0..100 score: a weighted mean of the components the listing allows (no skills in the
    vocabulary, no requirement sentences or no title drop out and the rest are renormalised)."""
    parts: list[tuple[float, float]] = []
    if skills.order:
        parts.append((_W_SKILLS, skills.coverage))
    if assessments:
        total = math.fsum(item.unit.weight for item in assessments)
        value = math.fsum(item.unit.weight * _VERDICT_VALUE[item.verdict] for item in assessments)
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


# --- Result text ---------------------------------------------------------------------------------------

_QUOTE_CHARS = 110
_LIST_SKILLS = 8


def _quote(text: str) -> str:
    return "'" + _shorten(text, _QUOTE_CHARS) + "'"


def _names(skills: Sequence[str], limit: int = _LIST_SKILLS) -> str:
    shown = [display_name(skill) for skill in skills[:limit]]
    more = len(skills) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _fit(text: str) -> str:
    return _shorten(text, MAX_NOTE_CHARS)


def _summary(score: int, listing: _Listing, skills: _SkillReport, assessments: Sequence[_Assessment],
             resume: _Resume) -> str:
    """One to three sentences: verdict and score, what is covered, the main required gaps."""
    label = {"strong_match": "Strong match", "good_match": "Good match", "partial_match": "Partial match",
             "weak_match": "Weak match"}[verdict_for_score(score)]
    role = f" for {_shorten(listing.title, 80)}" if listing.title else ""
    if not resume.units:
        return _shorten(f"{label} ({score}/100){role}: the resume has no usable text to compare with the listing.",
                        MAX_SUMMARY_CHARS)
    if not listing.units and not listing.title:
        return _shorten(f"{label} ({score}/100): the listing has no readable description to compare the resume with.",
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
    return _shorten(" ".join(part for part in (first, second, third) if part), MAX_SUMMARY_CHARS)


def _strengths(skills: _SkillReport, assessments: Sequence[_Assessment], resume: _Resume,
               listing: _Listing, title_fit: float) -> list[str]:
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
        notes.append(_fit(f"The resume presents the candidate in the listing's role ({_shorten(listing.title, 80)})."))
    return notes[:6]


def _gaps(skills: _SkillReport, assessments: Sequence[_Assessment], resume: _Resume) -> list[str]:
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


def _suggestions(skills: _SkillReport, assessments: Sequence[_Assessment], resume: _Resume) -> list[str]:
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


# --- Entry point --------------------------------------------------------------------------------------


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
    listing = _parse_listing((job_description or "")[:MAX_INPUT_CHARS], (job_title or "")[:300])
    resume = _parse_resume((resume_text or "")[:MAX_INPUT_CHARS], listing)
    skills = _skill_report(listing, resume)
    assessments = [_assess(unit, resume) for unit in _requirement_units(listing)]
    if not resume.units:
        assessments = [_Assessment(item.unit, "missing", None, item.years) for item in assessments]
    keywords = _keyword_coverage(listing, resume)
    title = _title_fit(listing, resume)
    score = _combine(skills, assessments, keywords, title, listing) if resume.units else 0
    return AnalysisResult(
        score=score,
        verdict=verdict_for_score(score),
        summary=_summary(score, listing, skills, assessments, resume),
        matched_skills=skills.matched[:MAX_SKILLS],
        missing_skills=skills.missing[:MAX_SKILLS],
        requirements=tuple(
            RequirementCheck(
                requirement=_shorten(item.unit.text, MAX_REQUIREMENT_CHARS),
                verdict=item.verdict,
                evidence=item.evidence,
            )
            for item in assessments
        ),
        strengths=tuple(dict.fromkeys(_strengths(skills, assessments, resume, listing, title))),
        gaps=tuple(dict.fromkeys(_gaps(skills, assessments, resume))),
        suggestions=tuple(dict.fromkeys(_suggestions(skills, assessments, resume))),
    )
