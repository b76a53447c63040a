"""Socket delivery: each stream is a real loopback TCP connection.

The model's rules for it are in model/src/asyncio/sockets.rs. Before main starts, one
connection per stream is opened and handed to the loop's own transport
(`loop.create_connection(sock=...)` with a recording StreamReaderProtocol), so the
bytes travel through the runtime's real read path. The peer end stays here: at each
scheduled delivery's virtual time a timer sends the bytes, shuts down writing (EOF)
or closes with SO_LINGER 0 (an RST); it never reads.

The split of the bytes between reads is the kernel's, and the model allows every
split. Their timing is not left to chance: after each send the peer waits, in real
time, until the reader's kernel socket holds what was sent (FIONREAD, the TCP state),
so the loop's next poll sees it at the same virtual time. A kernel that does not
deliver within DELIVERY_TIMEOUT_S is the adapter's failure: the run is stopped and
reported as an adapter error, never as the runtime's behaviour.
"""

import asyncio
import fcntl
import select
import socket
import struct
import termios
import time

DELIVERY_TIMEOUT_S = 5.0

# tcp_info's first byte (linux/tcp.h): the connection's state.
_TCP_ESTABLISHED = 1
_TCP_CLOSE = 7


class AdapterFault(Exception):
    """The adapter could not do what the scenario asks (not the runtime's doing).
    Raised after the run: inside a loop callback the loop would report it."""


class RecordingProtocol(asyncio.StreamReaderProtocol):
    """StreamReaderProtocol that records what the transport hands it."""

    def __init__(self, net, name, reader, loop):
        super().__init__(reader, loop=loop)
        self._net = net
        self._name = name

    def data_received(self, data):
        self._net.received[self._name] += len(data)
        super().data_received(data)
        self._net.rec(self._name, f"received data {bytes(data)!r}")

    def eof_received(self):
        keep_open = super().eof_received()
        self._net.rec(self._name, "received eof")
        return keep_open

    def connection_lost(self, exc):
        super().connection_lost(exc)
        from .interp import show_value

        self._net.rec(self._name, "connection lost" if exc is None else f"connection lost {show_value(exc)}")


def _fionread(sock):
    return struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.FIONREAD, b"\0\0\0\0"))[0]


def _tcp_state(sock):
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0]


class SocketNetwork:
    """The scenario's connections and their peers."""

    def __init__(self, interp):
        self.interp = interp
        self.clients = {}
        # A second descriptor of each reader socket, to watch what its kernel holds:
        # rloop detaches the socket object it is given, and every loop closes its own.
        self.observers = {}
        self.peers = {}
        self.sent = {}
        self.received = {}

    def rec(self, name, what):
        self.interp.rec("delivered", reader=name, what=what)

    def fds(self):
        """The reader sockets' descriptors (the selector polls these for real)."""
        return {c.fileno() for c in self.clients.values() if c.fileno() >= 0}

    def open(self, loop, streams):
        """Connect every stream, in name order, and let the loop's transport start
        reading (the set-up runs the loop at virtual time 0, before main)."""

        async def connect():
            for name in sorted(streams):
                spec = streams[name]
                listener = socket.create_server(("127.0.0.1", 0))
                client = socket.create_connection(listener.getsockname())
                peer, _ = listener.accept()
                listener.close()
                self.clients[name], self.peers[name] = client, peer
                self.observers[name] = client.dup()
                self.sent[name] = self.received[name] = 0
                reader = asyncio.StreamReader(limit=int(spec.get("limit", 65536)), loop=loop)
                protocol = RecordingProtocol(self, name, reader, loop)
                transport, _ = await loop.create_connection(lambda p=protocol: p, sock=client)
                writer = spec.get("writer") or {}
                high = int(writer.get("high_water", 65536))
                low = writer.get("low_water")
                transport.set_write_buffer_limits(high, high // 4 if low is None else int(low))
                self.interp.readers[name] = reader
                self.interp.writers[name] = asyncio.StreamWriter(transport, protocol, reader, loop)

        loop.run_until_complete(connect())

    def schedule(self, loop, streams):
        """Each stream's first delivery; each schedules the next (they stay in order
        at equal times), reader by reader in name order, as the model does."""
        for name in sorted(streams):
            deliveries = streams[name].get("deliveries") or []
            if deliveries:
                loop.call_at(float(deliveries[0]["at"]), self.peer_sends, loop, name, deliveries, 0)

    def peer_sends(self, loop, name, deliveries, i):
        d = deliveries[i]
        kind = d["kind"]
        peer, observer = self.peers[name], self.observers[name]
        if kind == "data":
            data = d["data"].encode("latin-1")
            self.rec(name, f"sent data {data!r}")
        else:
            self.rec(name, f"sent {kind}")
        try:
            if kind == "data":
                peer.sendall(data)
                self.sent[name] += len(data)
            elif kind == "eof":
                peer.shutdown(socket.SHUT_WR)
            else:
                peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                peer.close()
        except OSError:
            # The reader's socket is closed and answered with an RST: nothing arrives.
            pass
        self.settle(name, kind, observer)
        if i + 1 < len(deliveries):
            loop.call_at(float(deliveries[i + 1]["at"]), self.peer_sends, loop, name, deliveries, i + 1)

    def settle(self, name, kind, client):
        """Wait until the reader's kernel socket holds what the peer just sent."""
        # Real time: under uvloop and rloop the monotonic clock is the virtual one.
        deadline = time.time() + DELIVERY_TIMEOUT_S
        while True:
            if kind == "data":
                if _fionread(client) >= self.sent[name] - self.received[name]:
                    return
            else:
                state = _tcp_state(client)
                if (kind == "eof" and state != _TCP_ESTABLISHED) or (kind == "reset" and state == _TCP_CLOSE):
                    return
            if time.time() > deadline:
                self.interp.fault = f"loopback did not deliver {name}'s {kind} within {DELIVERY_TIMEOUT_S} s"
                asyncio.get_running_loop().stop()
                return
            select.select([], [], [], 0.001)

    def close(self):
        for s in list(self.peers.values()) + list(self.clients.values()) + list(self.observers.values()):
            try:
                s.close()
            except OSError:
                pass
        self.peers.clear()
        self.clients.clear()
        self.observers.clear()


def poll(keys, fds):
    """The ready (key, mask) pairs among `keys` whose descriptor is in `fds`, without
    waiting."""
    import selectors

    rfds = [fd for fd, k in keys.items() if fd in fds and k.events & selectors.EVENT_READ]
    wfds = [fd for fd, k in keys.items() if fd in fds and k.events & selectors.EVENT_WRITE]
    if not rfds and not wfds:
        return []
    r, w, _ = select.select(rfds, wfds, [], 0)
    ready = {}
    for fd in r:
        ready[fd] = ready.get(fd, 0) | selectors.EVENT_READ
    for fd in w:
        ready[fd] = ready.get(fd, 0) | selectors.EVENT_WRITE
    return [(keys[fd], mask) for fd, mask in ready.items()]
