"""The operations shipped in ops/: Prometheus rules that promtool accepts and whose unit tests
pass, and rules and a dashboard that ask only for metrics the code exports and queues
celeryconfig declares — so renaming a metric or a queue breaks here, not on an operator's
screen. Needs no services."""
from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PROMETHEUS = ROOT / "ops" / "prometheus"
RULE_FILES = [PROMETHEUS / "rules.yml", PROMETHEUS / "alerts.yml"]
DASHBOARD = ROOT / "ops" / "grafana" / "applytrack.json"
# prometheus_client's metric classes: what each adds to the name it is given.
SUFFIXES = {
    "Counter": ("_total",), "CounterMetricFamily": ("_total",),
    "Gauge": ("",), "GaugeMetricFamily": ("",),
    "Histogram": ("_bucket", "_count", "_sum"), "HistogramMetricFamily": ("_bucket", "_count", "_sum"),
    "Summary": ("_count", "_sum"), "SummaryMetricFamily": ("_count", "_sum"),
}
METRIC = re.compile(r"\bapplytrack(?:_|:)[a-z0-9_:]+")

needs_promtool = pytest.mark.skipif(shutil.which("promtool") is None,
                                    reason="promtool (Debian's prometheus package) is needed: "
                                           "scripts/ensure_test_tools.sh installs it")


def exported_metrics() -> set[str]:
    """Every series name the app and workers export, read from the prometheus_client calls."""
    names = set()
    for package in ("api", "services", "tasks", "models"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)):
                    continue
                kind = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
                if kind in SUFFIXES and str(node.args[0].value).startswith("applytrack_"):
                    base = node.args[0].value.removesuffix("_total") if kind.startswith("Counter") else node.args[0].value
                    names.update(base + suffix for suffix in SUFFIXES[kind])
    return names


def rules() -> list[dict]:
    return [rule for path in RULE_FILES for group in yaml.safe_load(path.read_text())["groups"]
            for rule in group["rules"]]


def recorded() -> set[str]:
    return {rule["record"] for rule in rules() if "record" in rule}


def dashboard_expressions() -> list[str]:
    board = json.loads(DASHBOARD.read_text())
    expressions = [target["expr"] for panel in board["panels"] for target in panel.get("targets", [])]
    for variable in board["templating"]["list"]:
        if variable["type"] == "query":
            expressions.append(variable["definition"])
    return expressions


@needs_promtool
def test_promtool_accepts_the_rules():
    result = subprocess.run(["promtool", "check", "rules", *map(str, RULE_FILES)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_the_alerts_unit_tests_pass():
    result = subprocess.run(["promtool", "test", "rules", "alerts_test.yml"], cwd=PROMETHEUS, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_metric_names_are_found_in_the_code():
    # The reader below must see what the code defines, or the checks after it prove nothing.
    assert {"applytrack_http_request_duration_seconds_bucket", "applytrack_llm_cost_usd_total",
            "applytrack_queue_messages_dlx", "applytrack_queue_acks_total", "applytrack_job_rescues_total",
            "applytrack_outbox_oldest_unpublished_age_seconds", "applytrack_jobs_running_past_limit",
            } <= exported_metrics()


def test_rules_and_dashboard_use_only_exported_metrics():
    known = exported_metrics() | recorded()
    for where, expressions in (("rules", [rule["expr"] for rule in rules()]), ("dashboard", dashboard_expressions())):
        used = {name for expression in expressions for name in METRIC.findall(expression)}
        assert used, where
        assert used <= known, f"{where} uses metrics nothing exports: {sorted(used - known)}"


def test_every_alert_has_a_severity_summary_and_a_runbook_step():
    runbook = (ROOT / "ops" / "RUNBOOK.md").read_text()
    anchors = {re.sub(r"[^a-z0-9 -]", "", line[3:].strip().lower()).replace(" ", "-")
               for line in runbook.splitlines() if line.startswith("## ")}
    alerts = [rule for rule in rules() if "alert" in rule]
    assert len(alerts) >= 12
    for alert in alerts:
        assert alert["labels"]["severity"] in ("page", "ticket"), alert["alert"]
        assert alert["annotations"]["summary"] and "Runbook:" in alert["annotations"]["description"], alert["alert"]
        assert alert["annotations"]["runbook"].removeprefix("ops/RUNBOOK.md#") in anchors, alert["alert"]


def test_queue_names_in_rules_and_dashboard_are_the_apps():
    from services.metrics import app_queues

    text = "\n".join([rule["expr"] for rule in rules()] + dashboard_expressions())
    matchers = set(re.findall(r'queue\s*(=~|!~|=|!=)\s*"([^"]+)"', text)) - {("=~", "$queue")}
    assert matchers
    for operator, value in matchers:
        matching = [queue for queue in app_queues() if (re.fullmatch(value, queue) if "~" in operator
                                                          else value == queue)]
        # A single pattern picks the dead-letter queue or one work queue; nothing else is named.
        assert len(matching) == 1, (operator, value, app_queues())


def test_the_dashboard_takes_its_prometheus_as_a_variable():
    board = json.loads(DASHBOARD.read_text())
    assert 36 <= board["schemaVersion"] <= 41
    assert any(v["type"] == "datasource" and v["query"] == "prometheus" for v in board["templating"]["list"])
    for panel in board["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
