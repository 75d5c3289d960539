"""A TCP proxy to a real server that can go silent on command: what a client sees of a broker
node cut off from its peers (it accepted the connection, then answers nothing), without a
network namespace. Loopback only."""
from __future__ import annotations

import select
import socket
import threading


class FreezableProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.frozen = threading.Event()
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = [self._listener]

    def start(self) -> "FreezableProxy":
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def freeze(self) -> None:
        """From now on nothing passes either way; connections stay open."""
        self.frozen.set()

    def stop(self) -> None:
        self._stop.set()
        for sock in self._sockets:
            try:
                sock.close()
            except OSError:
                pass

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _address = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self._sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        peers = {client: upstream, upstream: client}
        while not self._stop.is_set():
            if self.frozen.is_set():
                self._stop.wait(0.1)  # read nothing, send nothing: silence, not a reset
                continue
            try:
                readable, _, _ = select.select(list(peers), [], [], 0.1)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    peers[sock].sendall(data)
            except OSError:
                return
