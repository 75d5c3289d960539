"""The result every resume analyzer returns, and strict validation of its JSON form.

``AnalysisResult`` is the contract between analyzers (the built-in local one, a future LLM one)
and the rest of the application. Both construction and ``from_dict`` validate, so an invalid
result cannot exist: an LLM's JSON answer is parsed with ``AnalysisResult.from_dict`` and any
deviation from the schema (missing or extra keys, wrong types, out-of-range values, a verdict
that disagrees with the score) raises ``ValueError``.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

VERDICTS: tuple[str, ...] = ("strong_match", "good_match", "partial_match", "weak_match")
REQUIREMENT_VERDICTS: tuple[str, ...] = ("met", "partial", "missing")

MAX_SUMMARY_CHARS = 600
MAX_REQUIREMENTS = 25
MAX_REQUIREMENT_CHARS = 300
MAX_EVIDENCE_CHARS = 300
MAX_SKILLS = 100
MAX_SKILL_CHARS = 100
MAX_NOTES = 10
MAX_NOTE_CHARS = 400

_RESULT_KEYS = frozenset(
    {
        "score",
        "verdict",
        "summary",
        "matched_skills",
        "missing_skills",
        "requirements",
        "strengths",
        "gaps",
        "suggestions",
    }
)
_REQUIREMENT_KEYS = frozenset({"requirement", "verdict", "evidence"})


def verdict_for_score(score: int) -> str:
    """The verdict a score implies: >=75 strong, >=55 good, >=35 partial, else weak."""
    if score >= 75:
        return "strong_match"
    if score >= 55:
        return "good_match"
    if score >= 35:
        return "partial_match"
    return "weak_match"


def _check_text(value: Any, what: str, max_chars: int) -> str:
    """Return ``value`` if it is a non-blank string of at most ``max_chars`` characters."""
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string, got {type(value).__name__}")
    if not value.strip():
        raise ValueError(f"{what} must not be blank")
    if len(value) > max_chars:
        raise ValueError(f"{what} is {len(value)} characters long, the limit is {max_chars}")
    return value


def _check_text_list(value: Any, what: str, max_items: int, max_chars: int) -> tuple[str, ...]:
    """Return ``value`` as a tuple if it is a list/tuple of valid, distinct strings."""
    # A str is a sequence too; accepting it would silently split it into characters.
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"{what} must be a list, got {type(value).__name__}")
    if len(value) > max_items:
        raise ValueError(f"{what} has {len(value)} items, the limit is {max_items}")
    items = tuple(_check_text(item, f"{what}[{index}]", max_chars) for index, item in enumerate(value))
    if len(set(items)) != len(items):
        raise ValueError(f"{what} contains duplicates")
    return items


@dataclass(frozen=True)
class RequirementCheck:
    """One requirement of the listing and how well the resume covers it.

    ``evidence`` is the resume sentence that best supports the requirement, or ``None`` when
    nothing in the resume does.
    """

    requirement: str
    verdict: str
    evidence: str | None

    def __post_init__(self) -> None:
        _check_text(self.requirement, "requirement", MAX_REQUIREMENT_CHARS)
        if not isinstance(self.verdict, str) or self.verdict not in REQUIREMENT_VERDICTS:
            raise ValueError(f"requirement verdict must be one of {REQUIREMENT_VERDICTS}, got {self.verdict!r}")
        if self.evidence is not None:
            _check_text(self.evidence, "evidence", MAX_EVIDENCE_CHARS)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON form: ``{"requirement": str, "verdict": str, "evidence": str | None}``."""
        return {"requirement": self.requirement, "verdict": self.verdict, "evidence": self.evidence}

    @classmethod
    def from_dict(cls, data: Any) -> RequirementCheck:
        """Parse the JSON form; raises ``ValueError`` on anything outside the schema."""
        if not isinstance(data, Mapping):
            raise ValueError(f"a requirement must be an object, got {type(data).__name__}")
        _check_keys(data, _REQUIREMENT_KEYS, "requirement")
        return cls(requirement=data["requirement"], verdict=data["verdict"], evidence=data["evidence"])


@dataclass(frozen=True)
class AnalysisResult:
    """How well a resume fits a job listing. Immutable; validated on construction.

    Invariants: ``score`` is an int in 0..100 and ``verdict == verdict_for_score(score)``;
    ``matched_skills`` and ``missing_skills`` are disjoint; text fields respect the length
    limits defined in this module; sequences are tuples (``to_dict`` turns them into lists).
    """

    score: int
    verdict: str
    summary: str
    matched_skills: tuple[str, ...]
    missing_skills: tuple[str, ...]
    requirements: tuple[RequirementCheck, ...]
    strengths: tuple[str, ...]
    gaps: tuple[str, ...]
    suggestions: tuple[str, ...]

    def __post_init__(self) -> None:
        # bool is an int subclass; True must not pass as a score of 1.
        if not isinstance(self.score, int) or isinstance(self.score, bool):
            raise ValueError(f"score must be an integer, got {type(self.score).__name__}")
        if not 0 <= self.score <= 100:
            raise ValueError(f"score must be within 0..100, got {self.score}")
        if not isinstance(self.verdict, str) or self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")
        expected = verdict_for_score(self.score)
        if self.verdict != expected:
            raise ValueError(f"verdict {self.verdict!r} does not fit score {self.score} (expected {expected!r})")
        _check_text(self.summary, "summary", MAX_SUMMARY_CHARS)
        # Normalise list inputs to tuples so the frozen object is deeply immutable.
        object.__setattr__(
            self, "matched_skills", _check_text_list(self.matched_skills, "matched_skills", MAX_SKILLS, MAX_SKILL_CHARS)
        )
        object.__setattr__(
            self, "missing_skills", _check_text_list(self.missing_skills, "missing_skills", MAX_SKILLS, MAX_SKILL_CHARS)
        )
        overlap = set(self.matched_skills) & set(self.missing_skills)
        if overlap:
            raise ValueError(f"skills both matched and missing: {sorted(overlap)}")
        if not isinstance(self.requirements, (list, tuple)):
            raise ValueError(f"requirements must be a list, got {type(self.requirements).__name__}")
        if len(self.requirements) > MAX_REQUIREMENTS:
            raise ValueError(f"requirements has {len(self.requirements)} items, the limit is {MAX_REQUIREMENTS}")
        for index, item in enumerate(self.requirements):
            if not isinstance(item, RequirementCheck):
                raise ValueError(f"requirements[{index}] must be a RequirementCheck, got {type(item).__name__}")
        object.__setattr__(self, "requirements", tuple(self.requirements))
        for name in ("strengths", "gaps", "suggestions"):
            object.__setattr__(self, name, _check_text_list(getattr(self, name), name, MAX_NOTES, MAX_NOTE_CHARS))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types only (dict, list, str, int, None), keys in schema order."""
        return {
            "score": self.score,
            "verdict": self.verdict,
            "summary": self.summary,
            "matched_skills": list(self.matched_skills),
            "missing_skills": list(self.missing_skills),
            "requirements": [item.to_dict() for item in self.requirements],
            "strengths": list(self.strengths),
            "gaps": list(self.gaps),
            "suggestions": list(self.suggestions),
        }

    @classmethod
    def from_dict(cls, data: Any) -> AnalysisResult:
        """Parse and validate the JSON form (e.g. an LLM's answer).

        Raises ``ValueError`` on a non-object, missing or extra keys, wrong types, out-of-range
        values or a verdict inconsistent with the score. Never coerces types.
        """
        if not isinstance(data, Mapping):
            raise ValueError(f"an analysis result must be an object, got {type(data).__name__}")
        _check_keys(data, _RESULT_KEYS, "analysis result")
        requirements = data["requirements"]
        if not isinstance(requirements, (list, tuple)):
            raise ValueError(f"requirements must be a list, got {type(requirements).__name__}")
        return cls(
            score=data["score"],
            verdict=data["verdict"],
            summary=data["summary"],
            matched_skills=data["matched_skills"],
            missing_skills=data["missing_skills"],
            requirements=tuple(RequirementCheck.from_dict(item) for item in requirements),
            strengths=data["strengths"],
            gaps=data["gaps"],
            suggestions=data["suggestions"],
        )


def _check_keys(data: Mapping[Any, Any], expected: frozenset[str], what: str) -> None:
    """Raise ``ValueError`` unless ``data`` has exactly the ``expected`` keys."""
    keys = set(data.keys())
    missing = expected - keys
    extra = keys - expected
    if missing:
        raise ValueError(f"{what} is missing keys: {sorted(missing)}")
    if extra:
        raise ValueError(f"{what} has unexpected keys: {sorted(map(str, extra))}")
