"""The broker as a list of nodes: a RabbitMQ cluster (or one node) reached through whichever
node answers.

``BROKER_URL`` holds one AMQP URL per node, ``;``-separated (kombu's failover list, which
Celery's workers, beat and Flower follow by themselves). Quorum queues are replicated on the
nodes, so any node serves any queue. ``RABBITMQ_MANAGEMENT_URL`` is a list in the same way;
unset, each node's management API is taken to listen on port 15672 of the node's host.

Every caller that opens its own connection (the outbox relay, the DLQ tools, readiness) or asks
the management API (metrics, the queue listing) goes through here: it starts from the node that
answered last in this process, and tries the others before giving up.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Iterator
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import requests

MANAGEMENT_PORT = 15672
MANAGEMENT_TIMEOUT = 3.0


def split_urls(value: str) -> list[str]:
    """``amqp://a;amqp://b`` → ``['amqp://a', 'amqp://b']`` (blank entries ignored)."""
    return [url.strip() for url in value.split(";") if url.strip()]


def node_name(url: str) -> str:
    """``host:port`` of an AMQP or HTTP URL, for logs, metrics and health answers."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)


class _Rotation:
    """The order in which to try a list of nodes: the one that answered last comes first, so a
    dead node costs a refused (or timed-out) attempt once, not on every connection."""

    def __init__(self) -> None:
        self._preferred: dict[tuple[str, ...], str] = {}
        self._lock = threading.Lock()

    def order(self, urls: list[str]) -> list[str]:
        with self._lock:
            preferred = self._preferred.get(tuple(urls))
        if preferred in urls:
            at = urls.index(preferred)
            return urls[at:] + urls[:at]
        return list(urls)

    def answered(self, urls: list[str], url: str) -> None:
        with self._lock:
            self._preferred[tuple(urls)] = url

    def failed(self, urls: list[str], url: str) -> None:
        """``url`` let its caller down (a dropped connection, a publish never confirmed): the
        next attempt starts at the node after it."""
        if url in urls:
            self.answered(urls, urls[(urls.index(url) + 1) % len(urls)])


_amqp_rotation = _Rotation()
_management_rotation = _Rotation()


def failover_url(broker_url: str) -> str:
    """``broker_url`` with the node that answered last first: kombu tries the list in this order."""
    return ";".join(_amqp_rotation.order(split_urls(broker_url)))


def _node_url(urls: list[str], connection) -> str | None:
    reached = node_name(connection.as_uri())
    return next((url for url in urls if node_name(url) == reached), None)


def connected(broker_url: str, connection) -> None:
    """Remember the node ``connection`` reached (after a failover), for the next connection."""
    urls = split_urls(broker_url)
    url = _node_url(urls, connection)
    if url is not None:
        _amqp_rotation.answered(urls, url)


def let_down(broker_url: str, connection) -> None:
    """The node ``connection`` is on failed its caller: the next connection tries another first
    (a node cut off from its peers keeps accepting connections until it notices, ~net_ticktime)."""
    urls = split_urls(broker_url)
    url = _node_url(urls, connection)
    if url is not None:
        _amqp_rotation.failed(urls, url)


def connect_attempts(connection) -> int:
    """kombu's ``max_retries`` for one attempt at every node of ``connection``'s failover list."""
    return max(1, len(connection.alt) - 1) if connection.alt else 1


@contextmanager
def connection_to_any_node(celery, *, timeout: float | None, rounds: int = 1, interval: float = 0.2,
                           io_timeout: float | None = None, **options) -> Iterator:
    """A connection (Celery's settings) to the first node that answers, starting with the one
    that answered last; each node is tried ``rounds`` times, ``interval`` apart between rounds.
    Raises kombu's OperationalError when none answers within ``timeout`` seconds.

    ``io_timeout``: every later read or write on the socket (a reply, a publisher confirm) gives
    up after that many seconds with TimeoutError. A node cut off from its peers accepts
    connections and then answers nothing until it notices (~net_ticktime): without it, a
    request waiting on such a node hangs; with it, the caller answers 503."""
    if io_timeout is not None:
        options["transport_options"] = {**options.get("transport_options", {}),
                                        "read_timeout": io_timeout, "write_timeout": io_timeout}
    url = celery.conf.broker_url
    connection = celery.connection_for_write(url=failover_url(url), **options)
    try:
        attempts = connect_attempts(connection) * rounds + (rounds - 1)
        connection.ensure_connection(max_retries=attempts, interval_start=interval, interval_step=interval,
                                     interval_max=max(interval, 1.0), timeout=timeout)
        connected(url, connection)
        yield connection
    finally:
        connection.release()


@dataclass(frozen=True)
class Management:
    """One node's management API, with the vhost and login that BROKER_URL uses."""

    api: str
    vhost: str
    auth: tuple[str, str]

    def url(self, path: str) -> str:
        return f"{self.api}{path.replace('{vhost}', quote(self.vhost, safe=''))}"


def management_endpoints(config) -> list[Management]:
    urls = split_urls(config["BROKER_URL"])
    first = urlsplit(urls[0])
    vhost = first.path[1:] or "/"
    auth = (first.username or "guest", first.password or "guest")
    apis = split_urls(config.get("RABBITMQ_MANAGEMENT_URL") or "") or [
        f"http://{urlsplit(url).hostname or '127.0.0.1'}:{MANAGEMENT_PORT}/api" for url in urls
    ]
    return [Management(api.rstrip("/"), vhost, auth) for api in dict.fromkeys(apis)]


def management_request(config, method: str, path: str, **kwargs) -> tuple[Management, requests.Response]:
    """``method path`` (``{vhost}`` is filled in) on the first node whose management API
    answers; raises the last node's error when none does."""
    endpoints = management_endpoints(config)
    by_api = {endpoint.api: endpoint for endpoint in endpoints}
    error: Exception | None = None
    timeout = kwargs.pop("timeout", MANAGEMENT_TIMEOUT)
    apis = list(by_api)
    for api in _management_rotation.order(apis):
        endpoint = by_api[api]
        try:
            response = requests.request(method, endpoint.url(path), auth=endpoint.auth,
                                        timeout=timeout, **kwargs)
            response.raise_for_status()
        except requests.RequestException as exc:
            error = exc
            continue
        _management_rotation.answered(apis, api)
        return endpoint, response
    assert error is not None
    raise error


def reachable_nodes(config, timeout: float) -> dict[str, dict]:
    """Each node's AMQP port: can a connection be opened, and how long it took (at once, in
    parallel, so one silent node costs ``timeout`` and not the sum)."""
    from kombu import Connection

    def probe(url: str) -> dict:
        started = time.perf_counter()
        try:
            with Connection(url, connect_timeout=timeout, heartbeat=0) as connection:
                connection.ensure_connection(max_retries=0, timeout=timeout)
        except Exception as exc:
            return {"ok": False, "error": f"{type(exc).__name__}: {str(exc)[:200]}"}
        return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 1)}

    urls = split_urls(config["BROKER_URL"])
    with ThreadPoolExecutor(max_workers=len(urls)) as pool:
        return dict(zip((node_name(url) for url in urls), pool.map(probe, urls)))
