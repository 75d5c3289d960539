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


# --- docker-compose.cluster.yml: three RabbitMQ nodes over the same stack ---------------------------

CLUSTER_FILE = ROOT / "docker-compose.cluster.yml"
CLUSTER_CONF = ROOT / "ops" / "rabbitmq" / "cluster.conf"
RABBIT_NODES = ("rabbitmq", "rabbitmq-2", "rabbitmq-3")
# Services built from this repository that talk to the broker.
BROKER_CLIENTS = {"api", "relay", "extraction-worker", "analysis-worker", "bulk-worker", "beat", "flower", "migrate"}


@pytest.fixture(scope="module")
def cluster_services() -> dict:
    return yaml.safe_load(CLUSTER_FILE.read_text())["services"]


def _merged(services: dict, cluster_services: dict) -> dict:
    """What Compose runs with both files: the override's keys over the base's, maps merged."""
    merged = {name: dict(service) for name, service in services.items()}
    for name, override in cluster_services.items():
        service = merged.setdefault(name, {})
        for key, value in override.items():
            if isinstance(value, dict) and isinstance(service.get(key), dict):
                service[key] = {**service[key], **value}
            else:
                service[key] = value
    return merged


def test_compose_validates_the_cluster_variant(compose, tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in SECRETS} | DUMMY_SECRETS
    env["RABBITMQ_ERLANG_COOKIE"] = "c" * 32
    (tmp_path / "empty.env").write_text("")
    result = subprocess.run([*compose, "-f", str(COMPOSE_FILE), "-f", str(CLUSTER_FILE), "--env-file",
                             str(tmp_path / "empty.env"), "config", "-q"], env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr


def test_cluster_nodes_share_a_required_cookie_and_are_named_by_hostname(cluster_services):
    for name in RABBIT_NODES:
        node = cluster_services[name]
        assert node["hostname"] == name  # the node is rabbit@<hostname>, as cluster.conf lists it
        assert node["environment"]["ERLANG_COOKIE"].startswith("${RABBITMQ_ERLANG_COOKIE:?")
        assert ".erlang.cookie" in node["entrypoint"][-1] and "exec docker-entrypoint.sh" in node["entrypoint"][-1]
        assert "./ops/rabbitmq/cluster.conf:/etc/rabbitmq/conf.d/20-cluster.conf:ro" in node["volumes"]
        assert node["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL")
    data_volumes = [next(v for v in cluster_services[name]["volumes"] if v.endswith(":/var/lib/rabbitmq"))
                    for name in RABBIT_NODES]
    assert len(set(data_volumes)) == 3, "each node needs a data volume of its own"


def test_cluster_nodes_boot_one_after_the_other(cluster_services):
    # Nodes booting at the same instant can fail with incompatible_feature_flags (QUEUE.md).
    assert "depends_on" not in cluster_services["rabbitmq"]
    assert cluster_services["rabbitmq-2"]["depends_on"] == {"rabbitmq": {"condition": "service_healthy"}}
    assert cluster_services["rabbitmq-3"]["depends_on"] == {"rabbitmq-2": {"condition": "service_healthy"}}


def test_cluster_conf_forms_the_cluster_of_these_nodes():
    settings = dict(line.split(" = ", 1) for line in CLUSTER_CONF.read_text().splitlines()
                    if line.strip() and not line.startswith("#"))
    assert settings["cluster_formation.peer_discovery_backend"] == "classic_config"
    peers = {value for key, value in settings.items() if key.startswith("cluster_formation.classic_config.nodes.")}
    assert peers == {f"rabbit@{name}" for name in RABBIT_NODES}
    assert int(settings["net_ticktime"]) <= 15  # a dead node must not block publishing for a minute


def test_every_broker_client_lists_the_three_nodes(services, cluster_services):
    merged = _merged(services, cluster_services)
    for name in BROKER_CLIENTS:
        urls = merged[name]["environment"]["BROKER_URL"].split(";")
        hosts = [re.match(r"amqp://[^@]+@([^:/]+):5672/applytrack$", url)[1] for url in urls]
        assert hosts == list(RABBIT_NODES), name
    assert merged["flower"]["environment"]["RABBITMQ_MANAGEMENT_URL"].startswith("http://rabbitmq:15672/")
    # The single node's services are still what the rest of the stack waits on.
    assert merged["relay"]["depends_on"]["rabbitmq"]["condition"] == "service_healthy"


def test_cluster_variant_adds_only_broker_nodes(services, cluster_services):
    assert set(cluster_services) - set(services) == set(RABBIT_NODES) - {"rabbitmq"}
    used = set(VARIABLE.findall(CLUSTER_FILE.read_text()))
    assert used <= SECRETS | {"RABBITMQ_ERLANG_COOKIE", "ERLANG_COOKIE"}
