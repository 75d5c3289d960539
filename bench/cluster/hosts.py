"""Simulated hosts on one machine: a Linux network namespace per host, each with a veth pair on a
bridge in the root namespace, on addresses this module assigns itself (10.213.0.0/24 by default:
the bridge is .1, hosts .11 upwards). Root only; needs iproute2 and nftables
(scripts/ensure_cluster_tools.sh).

    with Hosts(["b1", "b2", "api"]) as hosts:    # creates bridge, namespaces, veths
        hosts.address("b1")                        # "10.213.0.11"
        subprocess.Popen(hosts.prefix("b1") + ["some", "server"])
        hosts.cut("api")                           # drops every packet in and out of its interface
        hosts.cut("b1", peers=["b2", "b3"])        # drops only b1 <-> b2/b3 (a partition)
        hosts.heal("api")
    # on exit: processes left in the namespaces killed, namespaces, veths and bridge deleted

A cut is an nftables table inside the host's namespace that drops silently (no RST, no ICMP):
peers see a host that stopped answering, as when a cable is pulled, until TCP or a heartbeat
gives up. `tc netem` (delay, loss) is not available on this kernel. Loopback inside a
namespace is never cut, so a host's own tools (rabbitmqctl) still reach its own processes.

Everything carries a name prefix (default ``atc``), so a crashed run's leftovers are found and
removed by ``cleanup(prefix)`` (run at the start of every Hosts too)."""
from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import time

CUT_TABLE = "applytrack_cut"


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if check and result.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {result.stderr.strip()}")
    return result


def can_create_namespaces() -> str | None:
    """None if this machine can run the scenario, else why not (for a test's skip reason)."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    for tool in ("ip", "nft"):
        if subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True).returncode != 0:
            return f"{tool} is not installed (bash scripts/ensure_cluster_tools.sh)"
    name = f"atcprobe{os.getpid()}"
    probe = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"cannot create a network namespace: {probe.stderr.strip()}"
    subprocess.run(["ip", "netns", "delete", name], capture_output=True)
    return None


def namespace_pids(namespace: str) -> list[int]:
    out = subprocess.run(["ip", "netns", "pids", namespace], capture_output=True, text=True).stdout
    return [int(pid) for pid in out.split()]


def kill_namespace_processes(namespace: str, timeout: float = 10) -> None:
    """SIGTERM, then SIGKILL, every process still inside ``namespace`` (only ours live there)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = namespace_pids(namespace)
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + timeout
        while namespace_pids(namespace) and time.monotonic() < deadline:
            time.sleep(0.2)
        if not namespace_pids(namespace):
            return


def cleanup(prefix: str = "atc") -> list[str]:
    """Remove every namespace and link whose name starts with ``prefix-`` (a crashed run's
    leftovers), killing what still runs inside; returns what it removed."""
    removed = []
    for line in _ip("netns", "list", check=False).stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        if name.startswith(f"{prefix}-"):
            kill_namespace_processes(name)
            _ip("netns", "delete", name, check=False)
            removed.append(f"netns {name}")
    for line in _ip("-o", "link", "show", check=False).stdout.splitlines():
        parts = line.split(":")
        if len(parts) > 1:
            name = parts[1].strip().split("@")[0]
            if name.startswith(f"{prefix}-"):
                _ip("link", "delete", name, check=False)
                removed.append(f"link {name}")
    return removed


class Hosts:
    """A bridge and one namespace ("host") per name, created together and removed together."""

    def __init__(self, names: list[str], *, subnet: str = "10.213.0", prefix: str = "atc", first: int = 11) -> None:
        if len(set(names)) != len(names):
            raise ValueError("host names must differ")
        self.names = list(names)
        self.subnet = subnet
        self.prefix = prefix
        self.bridge = f"{prefix}-br"
        self.gateway = f"{subnet}.1"  # the root namespace's address on the bridge
        self._addresses = {name: f"{subnet}.{first + i}" for i, name in enumerate(names)}
        self._cut: set[str] = set()
        self._lock = None

    def namespace(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    def address(self, name: str) -> str:
        return self._addresses[name]

    def prefix_argv(self, name: str) -> list[str]:
        """Prepend to an argv to run it on host ``name`` (ip netns exec execs: the pid is the program's)."""
        return ["ip", "netns", "exec", self.namespace(name)]

    def run(self, name: str, *argv: str, check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess:
        result = subprocess.run([*self.prefix_argv(name), *argv], capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} on {name}: {result.stderr.strip()}")
        return result

    # --- lifecycle ----------------------------------------------------------------------------------

    def create(self) -> "Hosts":
        # One run per prefix at a time: the leftover cleanup below would tear down a live run's hosts.
        self._lock = open(f"/run/lock/applytrack-hosts-{self.prefix}.lock", "w")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            self._lock = None
            raise RuntimeError(f"another run is using the simulated hosts {self.prefix}-*: wait for it to finish")
        cleanup(self.prefix)
        try:
            _ip("link", "add", self.bridge, "type", "bridge")
            _ip("addr", "add", f"{self.gateway}/24", "dev", self.bridge)
            _ip("link", "set", self.bridge, "up")
            for index, name in enumerate(self.names):
                namespace, outside, inside = self.namespace(name), f"{self.prefix}-v{index}", f"{self.prefix}-p{index}"
                _ip("netns", "add", namespace)
                _ip("link", "add", outside, "type", "veth", "peer", "name", inside)
                _ip("link", "set", inside, "netns", namespace)
                _ip("link", "set", outside, "master", self.bridge)
                _ip("link", "set", outside, "up")
                self.run(name, "ip", "link", "set", inside, "name", "eth0")
                self.run(name, "ip", "addr", "add", f"{self.address(name)}/24", "dev", "eth0")
                self.run(name, "ip", "link", "set", "eth0", "up")
                self.run(name, "ip", "link", "set", "lo", "up")
            if _has_ping():  # every host reaches the root namespace over the bridge
                for name in self.names:
                    self.run(name, "ping", "-c1", "-W2", self.gateway, timeout=10)
        except Exception:
            self.destroy()
            raise
        return self

    def destroy(self) -> None:
        """Kill what still runs in the namespaces, delete them, the root-side veths and the bridge
        (nothing if this object never created them: another run may own them)."""
        if self._lock is None:
            return
        for name in self.names:
            namespace = self.namespace(name)
            if namespace in _ip("netns", "list", check=False).stdout:
                kill_namespace_processes(namespace)
                _ip("netns", "delete", namespace, check=False)
        for index in range(len(self.names)):
            _ip("link", "delete", f"{self.prefix}-v{index}", check=False)
        _ip("link", "delete", self.bridge, check=False)
        cleanup(self.prefix)
        self._lock.close()  # releases the flock
        self._lock = None

    def __enter__(self) -> "Hosts":
        return self.create()

    def __exit__(self, *exc) -> None:
        self.destroy()

    # --- faults ---------------------------------------------------------------------------------------

    def cut(self, name: str, peers: list[str] | None = None) -> None:
        """Silently drop host ``name``'s traffic: all of it, or only to and from ``peers``
        (host names, or addresses such as the bridge's)."""
        if peers is None:
            match_in, match_out = 'iifname "eth0"', 'oifname "eth0"'
        else:
            addresses = ", ".join(self._addresses.get(peer, peer) for peer in peers)
            match_in = f'iifname "eth0" ip saddr {{ {addresses} }}'
            match_out = f'oifname "eth0" ip daddr {{ {addresses} }}'
        self.heal(name)
        rules = (f"table inet {CUT_TABLE} {{\n"
                 f"  chain input {{ type filter hook input priority -300; policy accept; {match_in} drop; }}\n"
                 f"  chain output {{ type filter hook output priority -300; policy accept; {match_out} drop; }}\n"
                 f"}}\n")
        result = subprocess.run([*self.prefix_argv(name), "nft", "-f", "-"], input=rules, capture_output=True,
                                text=True, timeout=30)
        if result.returncode != 0:
            raise RuntimeError(f"nft on {name}: {result.stderr.strip()}")
        self._cut.add(name)

    def heal(self, name: str) -> None:
        self.run(name, "nft", "delete", "table", "inet", CUT_TABLE, check=False)
        self._cut.discard(name)

    def heal_all(self) -> None:
        for name in self.names:
            self.heal(name)


def _has_ping() -> bool:
    return subprocess.run(["sh", "-c", "command -v ping"], capture_output=True).returncode == 0
