"""A local three-node RabbitMQ cluster for development and tests, started from Debian's RabbitMQ
3.10 binaries next to (never instead of) the machine's own broker.

    python -m scripts.rabbitmq_cluster start   # prints the BROKER_URL and RABBITMQ_MANAGEMENT_URL lists
    python -m scripts.rabbitmq_cluster status
    python -m scripts.rabbitmq_cluster stop    # stops only the nodes this script started

Everything lives under one directory (default var/rabbitmq-cluster): each node's data, logs,
config and pid, the cluster's own Erlang cookie (in the directory used as HOME), and the pid of
its own epmd on its own port. Nodes have their own names (applytrack-1@localhost ...) and AMQP,
management and distribution ports, `net_ticktime` 10 (a lost node is declared down in ~10 s,
not 60: publishing to a queue it led waits that long), quorum queues on all three nodes, the
management plugin, and a vhost ``applytrack`` where guest may do everything.

Pitfalls it avoids (../shared/QUEUE.md): the /usr/sbin wrappers switch to the shared node's
cookie, so it calls /usr/lib/rabbitmq/bin/* with its own HOME; /etc/rabbitmq's env and config
files apply unless RABBITMQ_CONF_ENV_FILE/RABBITMQ_CONFIG_FILE point elsewhere; epmd binds every
interface unless told an address; nodes that boot at the same instant fail with
``incompatible_feature_flags``, so each starts once the one before it is running.

As a library (tests, bench/cluster): ``RabbitCluster(directory, nodes=[Node(...), ...])`` with
each node optionally bound to an address inside a network namespace (bench/cluster/hosts.py).
"""
from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RABBIT_BIN = Path("/usr/lib/rabbitmq/bin")
DEFAULT_DIR = ROOT / "var" / "rabbitmq-cluster"
VHOST = "applytrack"
NET_TICKTIME = 10
START_GAP = 4.0  # seconds between two nodes' boots: at the same instant they fail to form


@dataclass(frozen=True)
class Node:
    """One node: its name, where it listens, and (optionally) the network namespace it runs in."""

    name: str  # e.g. applytrack-1@localhost, or applytrack-1@10.213.0.11 (long names) in a namespace
    amqp_port: int
    management_port: int
    dist_port: int
    address: str = "127.0.0.1"
    netns: str | None = None

    @property
    def short(self) -> str:
        return self.name.split("@", 1)[0]

    @property
    def longnames(self) -> bool:
        return "." in self.name.split("@", 1)[1]

    def amqp_url(self, vhost: str = VHOST, user: str = "guest", password: str = "guest") -> str:
        return f"amqp://{user}:{password}@{self.address}:{self.amqp_port}/{vhost}"

    @property
    def management_url(self) -> str:
        return f"http://{self.address}:{self.management_port}/api"

    def run_prefix(self) -> list[str]:
        return ["ip", "netns", "exec", self.netns] if self.netns else []


def local_nodes(count: int = 3, *, prefix: str = "applytrack", amqp_port: int = 5691, management_port: int = 15691,
                dist_port: int = 25691) -> list[Node]:
    """``count`` nodes on 127.0.0.1 with consecutive ports (5691-5693, 15691-15693, 25691-25693)."""
    return [Node(f"{prefix}-{i + 1}@localhost", amqp_port + i, management_port + i, dist_port + i)
            for i in range(count)]


def _alive(pid: int, marker: str) -> bool:
    """Whether ``pid`` is running and its command line mentions ``marker`` (our directory): a
    recorded pid reused by another program is never ours to kill."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        environ = Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")
    except OSError:
        return False
    return marker in cmdline or marker in environ


class RabbitCluster:
    """Start, inspect, fault and stop a cluster of RabbitMQ nodes that only this object owns."""

    def __init__(self, directory: Path = DEFAULT_DIR, nodes: list[Node] | None = None, *, epmd_port: int = 4391,
                 vhost: str = VHOST, management: bool = True, quorum_cluster_size: int = 3,
                 out=lambda line: None) -> None:
        self.dir = Path(directory).resolve()
        self.nodes = nodes or local_nodes()
        self.epmd_port = epmd_port
        self.vhost = vhost
        self.management = management
        self.quorum_cluster_size = quorum_cluster_size
        self.out = out
        self.home = self.dir / "home"
        self.processes: dict[str, subprocess.Popen] = {}

    # --- addresses ------------------------------------------------------------------------------

    @property
    def broker_url(self) -> str:
        """BROKER_URL for the app: every node, ``;``-separated (kombu's failover list)."""
        return ";".join(node.amqp_url(self.vhost) for node in self.nodes)

    @property
    def management_url(self) -> str:
        return ";".join(node.management_url for node in self.nodes)

    def node(self, which: int | str) -> Node:
        if isinstance(which, int):
            return self.nodes[which]
        return next(node for node in self.nodes if node.name == which or node.short == which)

    # --- files and environment ------------------------------------------------------------------

    def _node_dir(self, node: Node) -> Path:
        return self.dir / node.short

    def _pid_file(self, name: str) -> Path:
        return self.dir / f"{name}.pid"

    def _env(self, node: Node | None = None) -> dict:
        env = {
            "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
            "HOME": str(self.home),  # where the cluster's own .erlang.cookie is
            "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
            "ERL_EPMD_PORT": str(self.epmd_port),
            "RABBITMQ_CONF_ENV_FILE": str(self.dir / "rabbitmq-env.conf"),  # not /etc/rabbitmq's
            # Tells this cluster's processes apart from anything else in /proc (see _alive).
            "APPLYTRACK_RABBITMQ_CLUSTER": str(self.dir),
        }
        if node is not None:
            directory = self._node_dir(node)
            env.update(
                RABBITMQ_NODENAME=node.name, RABBITMQ_USE_LONGNAME="true" if node.longnames else "false",
                RABBITMQ_DIST_PORT=str(node.dist_port),
                RABBITMQ_MNESIA_BASE=str(directory / "mnesia"), RABBITMQ_LOG_BASE=str(directory / "log"),
                RABBITMQ_CONFIG_FILE=str(directory / "rabbitmq.conf"),
                RABBITMQ_ADVANCED_CONFIG_FILE=str(directory / "advanced.config"),
                RABBITMQ_ENABLED_PLUGINS_FILE=str(self.dir / "enabled_plugins"),
                RABBITMQ_PID_FILE=str(directory / "pid"),
            )
        return env

    def _write_files(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        cookie = self.home / ".erlang.cookie"
        if not cookie.exists():
            cookie.write_text(secrets.token_hex(20))
            cookie.chmod(0o400)
        (self.dir / "rabbitmq-env.conf").write_text("# this cluster's own: /etc/rabbitmq/rabbitmq-env.conf is not read\n")
        (self.dir / "enabled_plugins").write_text("[rabbitmq_management].\n" if self.management else "[].\n")
        peers = "\n".join(f"cluster_formation.classic_config.nodes.{i + 1} = {node.name}"
                          for i, node in enumerate(self.nodes))
        for node in self.nodes:
            directory = self._node_dir(node)
            for sub in ("mnesia", "log"):
                (directory / sub).mkdir(parents=True, exist_ok=True)
            lines = [
                f"listeners.tcp.1 = {node.address}:{node.amqp_port}",
                "cluster_formation.peer_discovery_backend = classic_config", peers,
                f"net_ticktime = {NET_TICKTIME}",
                "disk_free_limit.absolute = 50MB",
                # A node that comes back after a partition rejoins; quorum queues stay consistent
                # through Raft either way (classic queues are not used by the app).
                "cluster_partition_handling = pause_minority",
            ]
            if self.management:
                lines += [f"management.tcp.ip = {node.address}", f"management.tcp.port = {node.management_port}"]
            if node.address not in ("127.0.0.1", "localhost"):
                lines.append("loopback_users = none")  # guest from other (simulated) hosts: development only
            (directory / "rabbitmq.conf").write_text("\n".join(lines) + "\n")
            interface = ",".join(node.address.split(".")) if node.address != "localhost" else "127,0,0,1"
            (directory / "advanced.config").write_text(
                f"[{{kernel, [{{inet_dist_use_interface, {{{interface}}}}}]}},\n"
                f" {{rabbit, [{{quorum_cluster_size, {self.quorum_cluster_size}}}]}}].\n")

    # --- processes ------------------------------------------------------------------------------

    def _spawn(self, name: str, argv: list[str], env: dict, log: Path) -> subprocess.Popen:
        with open(log, "ab") as handle:
            process = subprocess.Popen(argv, env=env, cwd=self.dir, stdout=handle, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True)
        self._pid_file(name).write_text(str(process.pid))
        self.processes[name] = process
        return process

    def _start_epmd(self, netns: str | None, addresses: str) -> None:
        """Our own epmd on our own port (in each namespace used), before any node needs one."""
        name = f"epmd-{netns or 'local'}"
        if self._running(name):
            return
        prefix = ["ip", "netns", "exec", netns] if netns else []
        env = {**self._env(), "ERL_EPMD_ADDRESS": addresses}
        self._spawn(name, [*prefix, shutil.which("epmd") or "epmd", "-port", str(self.epmd_port)], env,
                    self.dir / f"{name}.log")

    def _running(self, name: str) -> bool:
        pid_file = self._pid_file(name)
        if not pid_file.exists():
            return False
        return _alive(int(pid_file.read_text()), str(self.dir))

    def ctl(self, node: Node | int | str, *args: str, check: bool = True, timeout: float = 60,
            tool: str = "rabbitmqctl") -> subprocess.CompletedProcess:
        """rabbitmqctl (or rabbitmq-queues, -diagnostics) against ``node``, from inside its
        namespace: it answers there even while its host is cut off from the others."""
        node = node if isinstance(node, Node) else self.node(node)
        argv = [*node.run_prefix(), str(RABBIT_BIN / tool), "-q", "-n", node.name]
        if node.longnames:
            argv.append("--longnames")
        result = subprocess.run([*argv, *args], env=self._env(node), capture_output=True, text=True,
                                timeout=timeout, cwd=self.dir)
        if check and result.returncode != 0:
            raise RuntimeError(f"{tool} {' '.join(args)} on {node.name} exited {result.returncode}: "
                               f"{result.stdout[-500:]} {result.stderr[-500:]}")
        return result

    def start_node(self, node: Node | int | str, timeout: float = 120) -> None:
        node = node if isinstance(node, Node) else self.node(node)
        if self.node_running(node):
            return
        pid_file = self._node_dir(node) / "pid"
        pid_file.unlink(missing_ok=True)
        process = self._spawn(node.short, [*node.run_prefix(), str(RABBIT_BIN / "rabbitmq-server")],
                              self._env(node), self._node_dir(node) / "server.out")
        deadline = time.monotonic() + timeout
        while True:  # `rabbitmqctl wait` can exit before the node registers with epmd: retry it
            if process.poll() is not None:
                raise RuntimeError(f"RabbitMQ node {node.name} exited at start; see {self._node_dir(node) / 'log'}")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RuntimeError(f"RabbitMQ node {node.name} did not start within {timeout:.0f} s")
            waited = self.ctl(node, "wait", str(pid_file), "--timeout", str(int(max(5, min(remaining, 30)))),
                              check=False, timeout=remaining + 10)
            if waited.returncode == 0:
                return
            time.sleep(0.5)

    def node_running(self, node: Node | int | str) -> bool:
        node = node if isinstance(node, Node) else self.node(node)
        pid_file = self._pid_file(node.short)
        return pid_file.exists() and _alive(int(pid_file.read_text()), str(self.dir))

    def stop_node(self, node: Node | int | str, timeout: float = 60) -> None:
        """A clean stop (rabbitmqctl stop), then SIGKILL if it has not gone within ``timeout``."""
        node = node if isinstance(node, Node) else self.node(node)
        if not self.node_running(node):
            return
        self.ctl(node, "stop", check=False, timeout=timeout)
        self._wait_gone(node.short, timeout)

    def kill_node(self, node: Node | int | str) -> None:
        """SIGKILL the node's whole process group: like its host losing power."""
        node = node if isinstance(node, Node) else self.node(node)
        self._kill(node.short, signal.SIGKILL)
        self._wait_gone(node.short, 10)

    def _kill(self, name: str, sig: int) -> None:
        pid_file = self._pid_file(name)
        if not pid_file.exists():
            return
        pid = int(pid_file.read_text())
        if _alive(pid, str(self.dir)):
            try:
                os.killpg(pid, sig)
            except ProcessLookupError:
                pass

    def _wait_gone(self, name: str, timeout: float) -> None:
        process = self.processes.get(name)
        deadline = time.monotonic() + timeout
        while True:
            if process is not None:
                if process.poll() is not None:
                    break
            elif not (self._pid_file(name).exists()
                      and _alive(int(self._pid_file(name).read_text()), str(self.dir))):
                break
            if time.monotonic() > deadline:
                self._kill(name, signal.SIGKILL)
                if process is not None:
                    process.wait(10)
                break
            time.sleep(0.2)

    # --- the cluster ----------------------------------------------------------------------------

    def start(self, timeout: float = 180) -> "RabbitCluster":
        """Every node, one after the other (START_GAP apart at least), joined into one cluster,
        and the vhost. Raises if a node of the same name already answers (not ours to touch)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        self._write_files()
        for namespace in dict.fromkeys(node.netns for node in self.nodes):
            addresses = ",".join(dict.fromkeys(["127.0.0.1", *(n.address for n in self.nodes if n.netns == namespace)]))
            self._start_epmd(namespace, addresses)
        for node in self.nodes:
            if not self.node_running(node) and self.ctl(node, "ping", check=False, timeout=30).returncode == 0:
                raise RuntimeError(f"a RabbitMQ node {node.name} that this directory did not start is running")
        started = time.monotonic()
        last_boot = 0.0
        for node in self.nodes:
            gap = last_boot + START_GAP - time.monotonic()
            if gap > 0:
                time.sleep(gap)
            last_boot = time.monotonic()
            self.out(f"rabbitmq-cluster: starting {node.name} (amqp {node.address}:{node.amqp_port})")
            self.start_node(node, timeout=max(30.0, timeout - (time.monotonic() - started)))
        self.wait_formed(timeout=max(30.0, timeout - (time.monotonic() - started)))
        first = self.nodes[0]
        self.ctl(first, "add_vhost", self.vhost, check=False)
        self.ctl(first, "set_permissions", "-p", self.vhost, "guest", ".*", ".*", ".*")
        self.out(f"rabbitmq-cluster: {len(self.nodes)} nodes running in {time.monotonic() - started:.0f} s")
        return self

    def running_nodes(self, via: Node | int | str | None = None) -> set[str]:
        """The nodes ``via`` (default: any that answers) sees running, from cluster_status."""
        candidates = [via] if via is not None else self.nodes
        for candidate in candidates:
            result = self.ctl(candidate, "cluster_status", "--formatter", "json", check=False, timeout=30)
            if result.returncode == 0:
                import json

                return set(json.loads(result.stdout).get("running_nodes", []))
        return set()

    def wait_formed(self, timeout: float = 120, via: Node | int | str | None = None) -> None:
        deadline = time.monotonic() + timeout
        wanted = {node.name for node in self.nodes}
        while self.running_nodes(via) != wanted:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the cluster did not form: running {sorted(self.running_nodes(via))}")
            time.sleep(1)

    def stop(self, *, clean: bool = True) -> None:
        """Stop every node this directory started (cleanly, SIGKILL on a timeout; at once if not
        ``clean``: a throwaway cluster's data need not be saved) and its epmds."""
        for node in reversed(self.nodes):
            try:
                if clean:
                    self.stop_node(node, timeout=30)
                else:
                    self.kill_node(node)
            except Exception as exc:  # keep stopping the others
                print(f"rabbitmq-cluster: could not stop {node.name} cleanly ({exc}); killing it", file=sys.stderr)
                self._kill(node.short, signal.SIGKILL)
        for pid_file in self.dir.glob("*.pid"):
            name = pid_file.stem
            self._kill(name, signal.SIGKILL if not name.startswith("epmd") else signal.SIGTERM)
            self._wait_gone(name, 5)
            pid_file.unlink(missing_ok=True)

    def destroy(self, *, clean: bool = True) -> None:
        try:
            self.stop(clean=clean)
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def status(self) -> dict[str, bool]:
        return {node.name: self.node_running(node) for node in self.nodes}

    def queue_leaders(self, via: Node | int | str | None = None) -> dict[str, str]:
        """{queue: the node leading it} for the quorum queues of the vhost."""
        candidates = [via] if via is not None else self.nodes
        for candidate in candidates:
            result = self.ctl(candidate, "list_queues", "-p", self.vhost, "name", "leader", check=False, timeout=30)
            if result.returncode == 0:
                return {parts[0]: parts[1] for parts in (line.split() for line in result.stdout.splitlines())
                        if len(parts) == 2 and "@" in parts[1]}
        return {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("start", "stop", "status", "destroy"))
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="data, logs, cookie and pids (%(default)s)")
    parser.add_argument("--amqp-port", type=int, default=5691, help="first node's; the others follow")
    parser.add_argument("--management-port", type=int, default=15691)
    parser.add_argument("--dist-port", type=int, default=25691)
    parser.add_argument("--epmd-port", type=int, default=4391)
    parser.add_argument("--nodes", type=int, default=3)
    args = parser.parse_args(argv)
    if os.geteuid() == 0 and not os.environ.get("HOME"):
        os.environ["HOME"] = "/root"
    cluster = RabbitCluster(args.dir, local_nodes(args.nodes, amqp_port=args.amqp_port,
                                                  management_port=args.management_port, dist_port=args.dist_port),
                            epmd_port=args.epmd_port, out=lambda line: print(line, flush=True))
    if args.command == "start":
        cluster.start()
        print(f"BROKER_URL='{cluster.broker_url}'")
        print(f"RABBITMQ_MANAGEMENT_URL='{cluster.management_url}'")
    elif args.command == "status":
        states = cluster.status()
        for name, running in states.items():
            print(f"{name}: {'running' if running else 'stopped'}")
        if any(states.values()):
            print(f"cluster sees running: {', '.join(sorted(cluster.running_nodes()))}")
            print(f"BROKER_URL='{cluster.broker_url}'")
        return 0 if all(states.values()) else 3
    elif args.command == "stop":
        cluster.stop()
        print("rabbitmq-cluster: stopped")
    else:
        cluster.destroy()
        print(f"rabbitmq-cluster: stopped, {args.dir} removed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
