"""A Kafka-frame-aware TCP proxy: the base of capture_proxy.py and fault_proxy.py.

Each accepted client connection gets its own upstream connection. Request frames (client to
broker) and response frames (broker to client) are read whole (int32 size + payload) and passed
to hooks that decide what happens to them; responses are matched to their request by
correlation id, so a hook knows the API key and version it answers.

Clients learn broker addresses from Metadata, so for a client to keep talking through the proxy
the broker must advertise the proxy's address
(`--set advertised.listeners=PLAINTEXT://127.0.0.1:<proxy port>`).

Frames claiming a negative size or more than MAX_FRAME bytes switch that connection to plain
byte forwarding (the proxy must not be the one that rejects them).
"""

import socket
import struct
import threading

MAX_FRAME = 256 * 1024 * 1024

FORWARD = "forward"
DROP = "drop"
RESET = "reset"

API_NAMES = {
    0: "Produce", 1: "Fetch", 2: "ListOffsets", 3: "Metadata", 4: "LeaderAndIsr",
    5: "StopReplica", 6: "UpdateMetadata", 7: "ControlledShutdown", 8: "OffsetCommit",
    9: "OffsetFetch", 10: "FindCoordinator", 11: "JoinGroup", 12: "Heartbeat", 13: "LeaveGroup",
    14: "SyncGroup", 15: "DescribeGroups", 16: "ListGroups", 17: "SaslHandshake",
    18: "ApiVersions", 19: "CreateTopics", 20: "DeleteTopics", 21: "DeleteRecords",
    22: "InitProducerId", 23: "OffsetForLeaderEpoch", 24: "AddPartitionsToTxn",
    25: "AddOffsetsToTxn", 26: "EndTxn", 27: "WriteTxnMarkers", 28: "TxnOffsetCommit",
    29: "DescribeAcls", 30: "CreateAcls", 31: "DeleteAcls", 32: "DescribeConfigs",
    33: "AlterConfigs", 34: "AlterReplicaLogDirs", 35: "DescribeLogDirs", 36: "SaslAuthenticate",
    37: "CreatePartitions", 38: "CreateDelegationToken", 39: "RenewDelegationToken",
    40: "ExpireDelegationToken", 41: "DescribeDelegationToken", 42: "DeleteGroups",
    43: "ElectLeaders", 44: "IncrementalAlterConfigs", 45: "AlterPartitionReassignments",
    46: "ListPartitionReassignments", 47: "OffsetDelete", 48: "DescribeClientQuotas",
    49: "AlterClientQuotas", 50: "DescribeUserScramCredentials",
    51: "AlterUserScramCredentials", 60: "DescribeCluster", 61: "DescribeProducers",
    65: "DescribeTransactions", 66: "ListTransactions", 68: "ConsumerGroupHeartbeat",
}


def api_name(key: int) -> str:
    return API_NAMES.get(key, f"Api{key}")


class RequestInfo:
    __slots__ = ("api_key", "api_version", "correlation_id", "client_id", "tag")

    def __init__(self, api_key, api_version, correlation_id, client_id):
        self.api_key = api_key
        self.api_version = api_version
        self.correlation_id = correlation_id
        self.client_id = client_id
        self.tag = None  # free for hooks (e.g. the capture sequence number)


def parse_request_header(frame: bytes) -> RequestInfo:
    """frame: request payload without the size prefix (header v1/v2 start the same way)."""
    api_key, api_version, corr = struct.unpack_from(">hhi", frame)
    client_id = None
    if len(frame) >= 10:
        (n,) = struct.unpack_from(">h", frame, 8)
        if 0 <= n <= len(frame) - 10:
            client_id = frame[10:10 + n].decode(errors="replace")
    return RequestInfo(api_key, api_version, corr, client_id)


def _recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(min(n - len(buf), 1 << 20))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def _reset(sock):
    """Closes with an RST rather than a FIN.

    SHUT_RD wakes a thread blocked in recv() on this socket without sending a FIN; the kernel
    sends the RST (linger 0) when that thread's recv() returns and drops the last reference.
    """
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RD)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


class _Connection:
    def __init__(self, proxy, index, client, upstream):
        self.proxy = proxy
        self.index = index
        self.client = client
        self.upstream = upstream
        self.inflight = {}  # correlation id -> RequestInfo
        self.lock = threading.Lock()
        self.closed = False

    def run(self):
        t = threading.Thread(target=self._pump, args=(self.upstream, self.client, False), daemon=True)
        t.start()
        self._pump(self.client, self.upstream, True)
        t.join()

    def close(self, reset=False):
        with self.lock:
            if self.closed:
                return
            self.closed = True
        for s in (self.client, self.upstream):
            if reset:
                _reset(s)
            else:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def _raw_forward(self, src, dst, first: bytes):
        dst.sendall(first)
        while True:
            chunk = src.recv(1 << 16)
            if not chunk:
                return
            dst.sendall(chunk)

    def _pump(self, src, dst, is_request):
        try:
            while True:
                head = _recv_exact(src, 4)
                if head is None:
                    break
                (size,) = struct.unpack(">i", head)
                if size < 0 or size > MAX_FRAME:
                    self._raw_forward(src, dst, head)
                    break
                payload = _recv_exact(src, size)
                if payload is None:
                    break  # peer closed mid-frame
                if is_request:
                    info = parse_request_header(payload) if size >= 8 else None
                    if info is not None:
                        with self.lock:
                            self.inflight[info.correlation_id] = info
                    action = self.proxy.on_request(self, info, payload)
                else:
                    corr = struct.unpack_from(">i", payload)[0] if size >= 4 else None
                    with self.lock:
                        info = self.inflight.pop(corr, None)
                    action = self.proxy.on_response(self, info, payload)
                if action == DROP:
                    continue
                if action == RESET:
                    self.close(reset=True)
                    return
                dst.sendall(head + payload)
        except OSError:
            pass
        finally:
            self.close()


class FrameProxy:
    """Accepts on `listen`, connects each client to `upstream`. Subclasses override the hooks."""

    def __init__(self, upstream, listen=("127.0.0.1", 0)):
        self.upstream = (upstream[0], int(upstream[1]))
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind((listen[0], int(listen[1])))
        self._server.listen(128)
        self.address = self._server.getsockname()
        self._stopping = False
        self._threads = []
        self._connections = []
        self._count_lock = threading.Lock()
        self.connections_accepted = 0

    @property
    def bootstrap(self) -> str:
        return f"{self.address[0]}:{self.address[1]}"

    # Hooks: return FORWARD, DROP or RESET. `info` is None for frames too short to parse.
    def on_request(self, conn, info, frame):
        return FORWARD

    def on_response(self, conn, info, frame):
        return FORWARD

    def start(self):
        t = threading.Thread(target=self._accept_loop, daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def _accept_loop(self):
        while not self._stopping:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            try:
                up = socket.create_connection(self.upstream, timeout=10)
                up.settimeout(None)
            except OSError:
                _reset(client)
                continue
            for s in (client, up):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._count_lock:
                index = self.connections_accepted
                self.connections_accepted += 1
            conn = _Connection(self, index, client, up)
            self._connections.append(conn)
            t = threading.Thread(target=conn.run, daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self):
        self._stopping = True
        try:
            self._server.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._server.close()
        for c in list(self._connections):
            c.close()
        for t in self._threads:
            t.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def parse_hostport(s: str):
    host, port = s.rsplit(":", 1)
    return host, int(port)


def serve_until_signal(proxy):
    """CLI helper: prints the listening address, serves until SIGTERM/SIGINT."""
    import signal
    import sys
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    proxy.start()
    print(f"listening={proxy.bootstrap}", flush=True)
    sys.stdout.flush()
    stop.wait()
    proxy.stop()
