"""What an analyzer hands back: the result and where it came from."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from services.analysis.result import AnalysisResult


@dataclass(frozen=True)
class AnalyzerOutput:
    result: AnalysisResult
    analyzer: str
    analyzer_version: str
    model: str | None
    prompt_version: str | None
    tokens_in: int
    tokens_out: int
    latency_ms: int
    cost_usd: Decimal
