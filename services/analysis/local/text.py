"""Words and units: normalisation, Snowball stemming, the Spanish-to-English word map, sentence and
bullet units, language by function words. Shared by every later stage.
"""
from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

from services.analysis.skills import find_skills, implied_skills, normalize_text, tokenize


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
    otro otra otros otras todo toda todos todas cada parte asi si no manera forma
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


def content_terms(tokens: Iterable[str], language: str = "en") -> frozenset[str]:
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


# Stemmed both ways: a Spanish unit stems the words it does not map to English ("similar") in Spanish.
_GENERIC_TERMS = frozenset(stem(word, language) for word in _GENERIC_WORDS.split() for language in ("en", "es"))


# 1 and 1/4 are exact binary fractions, so sums of term weights are exact and do not depend on
# set iteration order (which varies with hash randomisation): results stay byte-identical.
_GENERIC_WEIGHT = 0.25


def term_weight(term: str) -> float:
    return _GENERIC_WEIGHT if term in _GENERIC_TERMS else 1.0


BULLET_RE = re.compile(r"^(?:[\u2022\u25cf\u25aa\u25e6\u00b7\u25a0\u25a1\u2023\u2043\u27a2\u25ba\u2713\u2714*>\-]+|o(?=\s+[A-Z]))\s*")
_INLINE_BULLET_RE = re.compile(r"\s+[\u2022\u25cf\u25aa\u25e6\u00b7\u25a0\u2023]\s+")
_SENTENCE_END_RE = re.compile(r"([.!?])\s+(?=[\"'(\u00bf\u00a1A-Z0-9])")
ABBREVIATIONS = frozenset(
    "e.g i.e etc vs approx dr mr mrs ms prof st no inc ltd sr jr co corp dept fig ph.d b.s m.s b.a u.s".split()
)


_WS_RE = re.compile(r"\s+")


def clean_line(line: str) -> str:
    return _WS_RE.sub(" ", line.replace("\u00ad", "")).strip()


def split_sentences(line: str, min_clause_words: int = 0) -> list[str]:
    """Bullets, ';'-separated clauses and sentences of one logical line.

    With ``min_clause_words``, a chunk is cut at ';' only when every clause has that many
    words: "4+ years of Python; deep knowledge of asyncio" is two requirements, "Fluency in
    English; Spanish is a plus" is one.
    """
    line = BULLET_RE.sub("", line, count=1)
    pieces: list[str] = []
    for chunk in _INLINE_BULLET_RE.split(line):
        clauses = chunk.split(";")
        if any(len(clause.split()) < min_clause_words for clause in clauses):
            clauses = [chunk]
        for clause in clauses:
            pieces.extend(_sentences(clause))
    return [piece for piece in (clean_line(BULLET_RE.sub("", p, count=1)) for p in pieces) if piece]


def _sentences(text: str) -> list[str]:
    parts: list[str] = []
    start = 0
    for match in _SENTENCE_END_RE.finditer(text):
        end = match.end(1)
        # "(e.g." and "\u201ci.e." are abbreviations too: the brackets and quotes are not the word.
        previous_word = text[start:end].rsplit(" ", 1)[-1].rstrip(".!?").lstrip("([{\"'\u201c\u2018\u00bf\u00a1").lower()
        if match.group(1) == "." and (previous_word in ABBREVIATIONS or len(previous_word) == 1):
            continue
        parts.append(text[start:end])
        start = match.end()
    parts.append(text[start:])
    return parts


def shorten(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, with an ellipsis if cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:-")
    return (cut or text[: limit - 1]) + "\u2026"


@dataclass(frozen=True)
class Unit:
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


def make_unit(text: str, section: str = "other", weight: float = 1.0) -> Unit:
    normalized = normalize_text(text)
    tokens = tuple(tokenize(normalized))
    hits = find_skills(tokens)
    skills = tuple(dict.fromkeys(hit.skill for hit in hits))
    in_skill = {position for hit in hits for position in range(hit.start, hit.end)}
    language = "es" if language_of(tokens) == "es" else "en"
    skill_terms = content_terms((tokens[position] for position in sorted(in_skill)), language)
    free = tuple(token for position, token in enumerate(tokens) if position not in in_skill)
    return Unit(
        text, normalized, tokens, content_terms(tokens, language), skills, implied_skills(skills), skill_terms, free,
        section, weight,
    )


_EN_MARKERS = frozenset("the and of to in with for is are you we our will be this that".split())
_ES_MARKERS = frozenset("el la los las de del en con para y que es son un una por nuestro como".split())


def language_of(tokens: Sequence[str]) -> str:
    """'en' or 'es' by function-word counts ('' when there is no text)."""
    english = sum(1 for token in tokens if token in _EN_MARKERS)
    spanish = sum(1 for token in tokens if token in _ES_MARKERS)
    if english == spanish == 0:
        return ""
    return "es" if spanish > english else "en"


SHINGLE = 4


def word_tokens(tokens: Iterable[str]) -> tuple[str, ...]:
    return tuple(token for token in tokens if token not in ("/", "&"))


def word_shingles(tokens: Sequence[str]) -> frozenset[tuple[str, ...]]:
    words = word_tokens(tokens)
    return frozenset(words[i : i + SHINGLE] for i in range(len(words) - SHINGLE + 1))


SENIORITY_WORDS = frozenset(
    "senior sr junior jr lead principal staff head chief ii iii iv intern trainee practicante associate mid cum".split()
)


def title_word_set(tokens: Iterable[str]) -> frozenset[str]:
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
