"""The whole system spread over simulated hosts (bench/cluster/hosts.py):

    b1, b2, b3   one RabbitMQ node each (scripts/rabbitmq_cluster.py), quorum queues on all three
    api          gunicorn, the outbox relay, beat
    w1, w2       an extraction worker (prefork) and an analysis worker (threads) each; w2 also the
                 bulk-lane + maintenance worker
    (root)       a throwaway PostgreSQL listening on the bridge address, the test LLM, the load

Every process gets BROKER_URL = the three nodes, ``;``-separated (kombu's failover list), and
the same STORAGE_DIR (namespaces share the file system; with STORAGE_BACKEND=database the
workers need only the database and the broker)."""
from __future__ import annotations

import shutil
from pathlib import Path


from bench import chaos
from bench.cluster.hosts import Hosts
from bench.workload.system import Backend
from scripts.rabbitmq_cluster import Node, RabbitCluster
from tests.support import stack

BROKER_HOSTS = ("b1", "b2", "b3")
API_HOST = "api"
WORKER_HOSTS = ("w1", "w2")
HOST_NAMES = (*BROKER_HOSTS, API_HOST, *WORKER_HOSTS)
AMQP_PORT, MANAGEMENT_PORT, DIST_PORT, EPMD_PORT = 5672, 15672, 25672, 4369  # per namespace: no clash
API_PORT = 5000


class BridgePostgres(chaos.DisposablePostgres):
    """bench.chaos's throwaway PostgreSQL, also listening on the bridge so every host reaches it."""

    @staticmethod
    def binaries() -> Path:
        return sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))[-1].parent

    def __init__(self, base: Path, port: int, address: str, subnet: str) -> None:
        super().__init__(base, port)
        self.address = address
        self.subnet = subnet
        self.url = f"postgresql+psycopg2://postgres@{address}:{port}/postgres"

    def create(self) -> "BridgePostgres":
        self.dir.mkdir(parents=True)
        shutil.chown(self.dir, "postgres", "postgres")
        self._as_postgres(str(self.bin / "initdb"), "-D", str(self.data), "--auth=trust", "-U", "postgres",
                          "-E", "UTF8", "--no-sync")
        with open(self.data / "pg_hba.conf", "a") as hba:
            hba.write(f"host all all {self.subnet}.0/24 trust\n")
        self.start()
        return self

    def start(self) -> None:
        # The kernel's default keep-alive: a cut-off worker's session survives the cut, as it would
        # in production, so its late writes arrive after the reconnect (the fencing token's case).
        options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1,{self.address} -c fsync=off "
                   f"-c max_connections=300")
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options,
                          "-l", str(self.dir / "server.log"), "-w", "-t", "60", "start")


def broker_nodes(hosts: Hosts) -> list[Node]:
    return [Node(f"applytrack-{name}@{hosts.address(name)}", AMQP_PORT, MANAGEMENT_PORT, DIST_PORT,
                 address=hosts.address(name), netns=hosts.namespace(name)) for name in BROKER_HOSTS]


class ClusterBackend(Backend):
    """bench.workload's Backend on the cluster: the database on the bridge PostgreSQL, the vhost
    on the three nodes (rabbitmqctl through whichever node answers)."""

    def __init__(self, postgres: BridgePostgres, cluster: RabbitCluster) -> None:
        self.postgres = postgres
        self.cluster = cluster
        self.database = "applytrack_cluster"
        self.vhost = cluster.vhost
        self.amqp_port = AMQP_PORT

    @property
    def server_url(self) -> str:
        return self.postgres.url

    @property
    def broker_url(self) -> str:
        return self.cluster.broker_url

    def rabbitmqctl(self, *args: str, check: bool = True) -> str:
        errors = []
        for node in self.cluster.nodes:
            if not self.cluster.node_running(node):
                continue
            result = self.cluster.ctl(node, *args, check=False, timeout=30)
            if result.returncode == 0:
                return result.stdout
            errors.append(f"{node.name}: {result.stderr.strip()[-200:]}")
        if check:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)} failed on every node: {errors}")
        return ""


def _on_host(process: stack.ManagedProcess, hosts: Hosts, host: str) -> stack.ManagedProcess:
    process.argv = [*hosts.prefix_argv(host), *process.argv]
    return process


class Deployment(chaos.System):
    """The app's processes on their hosts, started like `make run` starts them (bench.chaos.System's
    commands, and its start, wait and stop), each in its host's namespace."""

    def __init__(self, hosts: Hosts, env: dict, log_dir: Path, *, analysis_concurrency: int = 8) -> None:
        self.hosts = hosts
        self.env = env
        self.base_url = f"http://{hosts.address(API_HOST)}:{API_PORT}"
        api_env = {**env, "LOG_LEVEL": "WARNING"}
        self.api = _on_host(stack.ManagedProcess(
            "api", [str(chaos.BIN / "gunicorn"), "--bind", f"{hosts.address(API_HOST)}:{API_PORT}", "--workers", "2",
                    "--threads", "8", "--graceful-timeout", "5", "--preload", "wsgi:app"],
            api_env, log_dir, ready_marker="Booting worker"), hosts, API_HOST)
        self.relay = _on_host(stack.relay(env, log_dir), hosts, API_HOST)
        self.beat = _on_host(stack.ManagedProcess("beat", [str(chaos.BIN / "flask"), "--app", "wsgi", "beat"], env,
                                                  log_dir, ready_marker="scheduler lock"), hosts, API_HOST)
        self.workers: dict[str, list[stack.ManagedProcess]] = {}
        for host in WORKER_HOSTS:
            self.workers[host] = [
                _on_host(stack.worker(env, log_dir, queues="applytrack.extraction", concurrency=2,
                                      name=f"{host}-extraction"), hosts, host),
                _on_host(stack.worker(env, log_dir, queues="applytrack.analysis", pool="threads",
                                      concurrency=analysis_concurrency, name=f"{host}-analysis"), hosts, host),
            ]
        self.workers[WORKER_HOSTS[-1]].append(_on_host(stack.worker(
            env, log_dir, queues="applytrack.analysis_bulk,applytrack.maintenance", pool="threads", concurrency=4,
            name=f"{WORKER_HOSTS[-1]}-bulk", nice=10), hosts, WORKER_HOSTS[-1]))

    @property
    def processes(self) -> list[stack.ManagedProcess]:
        return [self.api, self.relay, self.beat, *(p for procs in self.workers.values() for p in procs)]

    def ensure_running(self) -> list[str]:
        """Restart whatever died; returns the names of those restarted."""
        restarted = [process.name for process in self.processes if not process.alive]
        super().ensure_running()
        return restarted
