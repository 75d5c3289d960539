"""The workload's simulated user meets a server closing an idle kept-alive connection just as a
request goes out on it, the race a keep-alive timeout leaves open (gunicorn closes after 2 s; the
workload's operator idles 1-4 s). A browser sends such an idempotent request again on a new
connection; so must the simulated user, or the checker reports a server fault that is not one."""
from __future__ import annotations

import socket
import struct
import threading

import pytest

from bench.workload.client import ApiClient
from bench.workload.history import History

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]"


class ClosesKeptAliveConnections:
    """Answers the first request on each connection and keeps it open; resets the connection
    when a second request arrives on it, before answering (the server's keep-alive ran out)."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.requests_answered = 0
        self.connections_reset = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._converse, args=(connection,), daemon=True).start()

    def _converse(self, connection: socket.socket) -> None:
        with connection:
            if not _read_request(connection):
                return
            connection.sendall(ANSWER)
            self.requests_answered += 1
            if _read_request(connection):
                # SO_LINGER 0: close with a reset, as a server does closing a socket with unread input.
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connections_reset += 1

    def close(self) -> None:
        self.listener.close()


def _read_request(connection: socket.socket) -> bool:
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = connection.recv(65536)
        if not chunk:
            return False
        received += chunk
    return True


@pytest.fixture
def server():
    server = ClosesKeptAliveConnections()
    yield server
    server.close()


def test_a_get_whose_kept_alive_connection_is_reset_is_sent_again_and_answered(server):
    history = History(seed=0)
    client = ApiClient(server.url, "operator", history)

    first = client.request("GET", "/api/dlq", returns="dead_job")
    second = client.request("GET", "/api/dlq", returns="dead_job")

    assert first.status_code == 200 and second.status_code == 200
    assert server.connections_reset == 1
    assert [(event.status, event.error, event.resent) for event in history.events] == [
        (200, None, False), (200, None, True)]


def test_a_post_whose_kept_alive_connection_is_reset_is_not_sent_again(server):
    """Sending a POST twice could do its work twice: it is recorded as a connection error, with the cause."""
    history = History(seed=0)
    client = ApiClient(server.url, "operator", history)

    client.request("GET", "/api/dlq", returns="dead_job")
    assert client.request("POST", "/api/dlq/requeue", returns="dlq_outcome", json={}) is None

    event = history.events[-1]
    assert (event.status, event.error, event.resent) == (None, "connection", False)
    assert "Reset" in event.error_detail or "Disconnected" in event.error_detail, event.error_detail
    assert server.requests_answered == 1


def test_a_refused_connection_is_not_sent_again():
    """A server that is down is the server's fault to answer for: one attempt, recorded."""
    with socket.create_server(("127.0.0.1", 0)) as placeholder:
        port = placeholder.getsockname()[1]
    history = History(seed=0)
    assert ApiClient(f"http://127.0.0.1:{port}", "operator", history).request("GET", "/api/dlq") is None
    assert (history.events[0].error, history.events[0].resent) == ("connection", False)
