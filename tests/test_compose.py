"""docker-compose.yml as an operator relies on it, checked without a Docker engine: Compose itself
validates it where installed; the structure is always checked here (health checks, start-up
order, scalable workers on the right queues, commands that exist, secrets and variables)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

import celeryconfig
from api import create_app
from tests.conftest import make_test_env

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
README = ROOT / "README.md"

REQUIRED_SERVICES = {"postgres", "rabbitmq", "migrate", "api", "relay", "extraction-worker", "analysis-worker",
                     "bulk-worker", "beat", "flower"}
ONE_SHOT = {"migrate"}
WORKER_QUEUES = {"extraction-worker": "applytrack.extraction", "analysis-worker": "applytrack.analysis",
                 "bulk-worker": "applytrack.analysis_bulk,applytrack.maintenance"}
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
SECRETS = {"POSTGRES_PASSWORD", "RABBITMQ_PASSWORD", "JWT_SECRET_KEY", "FLOWER_BASIC_AUTH"}
# Read only by the postgres and rabbitmq images (their users' passwords) and by Flower.
COMPOSE_ONLY_VARIABLES = {"POSTGRES_PASSWORD", "RABBITMQ_PASSWORD", "FLOWER_BASIC_AUTH"}
DUMMY_SECRETS = {"POSTGRES_PASSWORD": "pg-dummy", "RABBITMQ_PASSWORD": "rabbit-dummy",
                 "JWT_SECRET_KEY": "j" * 40, "FLOWER_BASIC_AUTH": "operator:dummy"}
# Compose interpolates $VAR and ${VAR...}; "$$" is an escaped dollar (e.g. $$HOSTNAME in a shell).
VARIABLE = re.compile(r"(?<!\$)\$\{?([A-Za-z_][A-Za-z0-9_]*)")
BRACED = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)([^}]*)\}")
# Services that use the database start only once the schema is migrated.
DATABASE_CLIENTS = {"api", "relay", "extraction-worker", "analysis-worker", "bulk-worker", "beat"}


@pytest.fixture(scope="module")
def services() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())["services"]


# --- Compose's own validation ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def compose() -> list[str]:
    """`docker compose` (the v2 plugin) or else `docker-compose` (v1), whichever answers."""
    for argv in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(argv[0]) and subprocess.run([*argv, "version"], capture_output=True, timeout=60).returncode == 0:
            return argv
    pytest.skip("neither `docker compose` nor `docker-compose` is installed")


def compose_config(compose: list[str], tmp_path: Path, secrets: dict) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in SECRETS} | secrets
    # An empty env file, so a developer's .env beside the compose file cannot fill the gaps.
    env_file = tmp_path / "empty.env"
    env_file.write_text("")
    return subprocess.run([*compose, "-f", str(COMPOSE_FILE), "--env-file", str(env_file), "config", "-q"],
                          env=env, capture_output=True, text=True, timeout=60)


def test_compose_validates_the_file(compose, tmp_path):
    result = compose_config(compose, tmp_path, DUMMY_SECRETS)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("secret", sorted(SECRETS))
def test_compose_refuses_to_start_without_a_secret(compose, tmp_path, secret):
    result = compose_config(compose, tmp_path, {k: v for k, v in DUMMY_SECRETS.items() if k != secret})
    assert result.returncode != 0 and secret in result.stdout + result.stderr


# --- Structure ------------------------------------------------------------------------------------

def test_every_service_is_there(services):
    assert REQUIRED_SERVICES <= set(services)


def test_every_long_running_service_has_a_health_check(services):
    for name, service in services.items():
        if name in ONE_SHOT:
            assert service.get("restart") == "no", name
            continue
        healthcheck = service.get("healthcheck", {})
        test = healthcheck.get("test")
        assert test and test[0] in ("CMD", "CMD-SHELL") and not healthcheck.get("disable"), f"{name} has no health check"


def test_start_up_waits_on_conditions_that_can_be_met(services):
    for name, service in services.items():
        depends_on = service.get("depends_on", {})
        # The short list form waits only for "started"; every dependency names its condition.
        assert isinstance(depends_on, dict), f"{name}: depends_on needs conditions"
        for target, rule in depends_on.items():
            assert target in services, f"{name} depends on unknown service {target}"
            condition = rule.get("condition")
            assert condition in CONDITIONS, f"{name} → {target}: {condition!r}"
            if condition == "service_healthy":
                assert "healthcheck" in services[target], f"{name} waits for {target}, which has no health check"
            if condition == "service_completed_successfully":
                assert target in ONE_SHOT, f"{name} waits for long-running {target} to exit"
    for name in DATABASE_CLIENTS:
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully", name


def test_workers_consume_their_queue_and_scale(services):
    hard_time_limit = _extraction_hard_time_limit()
    for name, queue in WORKER_QUEUES.items():
        worker = services[name]
        command = worker["command"]
        assert command[:4] == ["celery", "-A", "tasks.worker", "worker"], name
        assert _option(command, "-Q") == queue, name
        # Scaled copies need distinct container names and must not fight over host ports.
        assert "container_name" not in worker and "ports" not in worker, name
        # The health check pings this very node (the node name is built from the container hostname).
        node = _option(command, "-n")
        assert node and node.endswith("@%h"), name
        assert f"-d {node.replace('%h', '$$HOSTNAME')} " in worker["healthcheck"]["test"][1], name
        # Docker SIGKILLs after the grace period; a warm shutdown must get to finish a task.
        assert _seconds(worker["stop_grace_period"]) > hard_time_limit, name


def test_every_work_queue_has_a_worker_service(services):
    consumed = {queue for name in WORKER_QUEUES for queue in _option(services[name]["command"], "-Q").split(",")}
    assert consumed == {queue.name for queue in celeryconfig.task_queues}
    # Nobody consumes the dead-letter queue: operators replay from it.
    assert celeryconfig.DEAD_LETTER_QUEUE.name not in consumed


def test_commands_name_modules_and_cli_commands_that_exist(services):
    flask_commands = set(create_app(make_test_env()).cli.commands)
    for name, service in services.items():
        if "build" not in service:
            continue
        command = service.get("command")
        assert command, f"{name} relies on the image's default command; name it here"
        program = command[0]
        if program == "celery":
            assert _module_exists(_option(command, "-A")), name
        elif program == "gunicorn":
            module, attribute = command[-1].split(":")
            assert re.search(rf"^{attribute}\s*=", _module_path(module).read_text(), re.M), f"{name}: {command[-1]}"
        elif program == "flask":
            assert command[1] in flask_commands, f"{name}: no `flask {command[1]}`"
        elif program == "bash":
            assert (ROOT / command[1]).is_file(), name
        else:
            pytest.fail(f"{name}: unexpected program {program}")


def test_secrets_come_only_from_the_environment(services):
    text = COMPOSE_FILE.read_text()
    for variable, modifier in BRACED.findall(text):
        if variable in SECRETS:
            # ${VAR:?message}: no default, and Compose stops with the message when it is unset.
            assert modifier.startswith(":?"), f"{variable} must be required (${{{variable}:?...}}), not defaulted"
    for name, service in services.items():
        for key, value in (service.get("environment") or {}).items():
            if re.search(r"PASSWORD|SECRET|_KEY|AUTH", key):
                assert value == "" or "${" in str(value), f"{name}: {key} is written in the file"


def test_every_variable_is_documented(services):
    documented = _readme_configuration_variables()
    assert "BROKER_URL" in documented  # the table was found
    used = set(VARIABLE.findall(COMPOSE_FILE.read_text()))
    assert used - documented - COMPOSE_ONLY_VARIABLES == set()


def test_flower_watches_the_same_broker_with_credentials(services):
    flower = services["flower"]
    assert flower["command"] == ["bash", "scripts/run_flower.sh"]
    env = flower["environment"]
    assert env["FLOWER_BASIC_AUTH"].startswith("${FLOWER_BASIC_AUTH:?")
    assert env["RABBITMQ_MANAGEMENT_URL"].startswith("http://rabbitmq:15672/")
    assert env["BROKER_URL"] == services["relay"]["environment"]["BROKER_URL"]
    # Flower 2.2 asks for every vhost's queues when the app is on the default vhost "/".
    assert not env["BROKER_URL"].endswith("/") and services["rabbitmq"]["environment"]["RABBITMQ_DEFAULT_VHOST"]
    assert flower["depends_on"]["rabbitmq"]["condition"] == "service_healthy"


# --- helpers --------------------------------------------------------------------------------------

def _option(command: list[str], flag: str) -> str | None:
    return command[command.index(flag) + 1] if flag in command else None


def _seconds(duration: str) -> float:
    match = re.fullmatch(r"(\d+)(s|m)", duration)
    assert match, duration
    return int(match[1]) * (60 if match[2] == "m" else 1)


def _module_path(module: str) -> Path:
    return ROOT / (module.replace(".", "/") + ".py")


def _module_exists(module: str | None) -> bool:
    return bool(module) and (_module_path(module).is_file() or (ROOT / module.replace(".", "/") / "__init__.py").is_file())


def _extraction_hard_time_limit() -> float:
    env = make_test_env()
    env.pop("EXTRACTION_TIME_LIMIT", None)  # the default, as the compose file runs it
    return create_app(env).extensions["celery"].conf.task_annotations["resumes.extract"]["time_limit"]


def _readme_configuration_variables() -> set[str]:
    section = README.read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]*)`", row.split("|")[1])}
