"""Choosing an analyzer: the LLM one when an endpoint is configured, else the local one."""
from __future__ import annotations

import time
from decimal import Decimal
from typing import Callable

from services.analysis import local
from services.analysis.llm import LLMAnalyzer, LLMSettings
from services.analysis.output import AnalyzerOutput


class LocalAnalyzer:
    """The built-in analyzer: deterministic, offline, free."""

    name = local.ANALYZER_NAME
    version = local.ANALYZER_VERSION
    identity = f"{local.ANALYZER_NAME}:{local.ANALYZER_VERSION}"

    def analyze(self, resume_text: str, listing_title: str, listing_description: str) -> AnalyzerOutput:
        started = time.perf_counter()
        result = local.analyze(resume_text, listing_description, job_title=listing_title)
        return AnalyzerOutput(
            result=result, analyzer=self.name, analyzer_version=self.version, model=None, prompt_version=None,
            tokens_in=0, tokens_out=0, latency_ms=int((time.perf_counter() - started) * 1000), cost_usd=Decimal(0),
        )


def configured_analyzer_name(config) -> str:
    """``ANALYZER`` if set; with ``auto``, the LLM when an endpoint or key is configured."""
    choice = config["ANALYZER"]
    if choice == "auto":
        return "llm" if (config["LLM_API_KEY"] or config["LLM_BASE_URL"]) else "local"
    return choice


def analyzer_identity(name: str, config) -> str:
    return LLMSettings.from_config(config).identity if name == "llm" else LocalAnalyzer.identity


def get_analyzer(name: str, config, *, on_usage: Callable[[Decimal], None] | None = None):
    """The analyzer called ``name``; ``on_usage`` hears the cost of every LLM call it pays for."""
    if name == "llm":
        return LLMAnalyzer(LLMSettings.from_config(config), on_usage=on_usage)
    return LocalAnalyzer()
