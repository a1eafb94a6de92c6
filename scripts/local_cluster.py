#!/usr/bin/python3
"""A local Sluice cluster on loopback: Debian's ZooKeeper plus N brokers, in one command.

    make cluster                       # ZooKeeper on 127.0.0.1:2181, brokers 1-3 on 9092-9094
    scripts/local_cluster.py --brokers 3 --data data/cluster --build-dir build

Everything runs in the foreground until Ctrl-C (or SIGTERM), which stops the brokers with SIGTERM
(controlled shutdown) and then ZooKeeper. Data and logs stay in --data, so a second start
continues the same cluster. The multi-broker tests (tests/cluster) use the ZooKeeper class.
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import time

# Debian's zookeeper package: /etc/zookeeper/conf/environment uses this class path.
ZOOKEEPER_CLASS_PATH = "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar"


def answers_ruok(port: int) -> bool:
    """ZooKeeper's four-letter command "ruok" is answered "imok" once it serves clients."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"ruok")
            return s.recv(4) == b"imok"
    except OSError:
        return False


class ZooKeeper:
    """A standalone ZooKeeper server on 127.0.0.1:`port` with its data in `directory`.

    tick_ms bounds the session timeouts clients may ask for: 2 to 20 ticks."""

    def __init__(self, directory: str, port: int, tick_ms: int = 500, ready_timeout_s: float = 60):
        self.directory = directory
        self.port = port
        os.makedirs(os.path.join(directory, "data"), exist_ok=True)
        cfg = os.path.join(directory, "zoo.cfg")
        with open(cfg, "w") as f:
            f.write(f"tickTime={tick_ms}\n"
                    f"dataDir={os.path.join(directory, 'data')}\n"
                    f"clientPort={port}\n"
                    "clientPortAddress=127.0.0.1\n"
                    "admin.enableServer=false\n"
                    "4lw.commands.whitelist=ruok\n")
        self.log_path = os.path.join(directory, "zookeeper.log")
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                ["java", "-Xmx256m", "-cp", ZOOKEEPER_CLASS_PATH,
                 "org.apache.zookeeper.server.quorum.QuorumPeerMain", cfg],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + ready_timeout_s
        while not answers_ruok(port):
            if self.proc.poll() is not None:
                raise RuntimeError(f"ZooKeeper exited with {self.proc.returncode}; see {self.log_path}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"ZooKeeper did not answer on port {port} within {ready_timeout_s}s; "
                                   f"see {self.log_path}")
            time.sleep(0.1)

    @property
    def connect(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--brokers", type=int, default=3, help="number of brokers (default 3)")
    ap.add_argument("--first-port", type=int, default=9092, help="port of broker 1; broker N uses first+N-1")
    ap.add_argument("--zookeeper-port", type=int, default=2181)
    ap.add_argument("--data", default="data/cluster", help="data and log directory (default data/cluster)")
    ap.add_argument("--build-dir", default="build", help="where build/sluice is")
    args = ap.parse_args()
    if args.brokers < 1:
        ap.error("--brokers must be at least 1")
    binary = os.path.join(args.build_dir, "sluice")
    if not os.access(binary, os.X_OK):
        ap.error(f"{binary} is not built: run `make build` first")
    for port in [args.zookeeper_port] + [args.first_port + i for i in range(args.brokers)]:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                sys.exit(f"local_cluster: port {port} is already in use (another broker or ZooKeeper?)")

    data = os.path.abspath(args.data)
    zk = ZooKeeper(os.path.join(data, "zookeeper"), args.zookeeper_port)
    print(f"zookeeper: {zk.connect} (log {zk.log_path})", flush=True)
    brokers = []
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        for i in range(1, args.brokers + 1):
            port = args.first_port + i - 1
            broker_dir = os.path.join(data, f"broker-{i}")
            os.makedirs(broker_dir, exist_ok=True)
            log_path = os.path.join(data, f"broker-{i}.log")
            cmd = [binary, "broker", "--set", f"broker.id={i}",
                   "--set", f"listeners=PLAINTEXT://127.0.0.1:{port}",
                   "--set", f"log.dirs={broker_dir}",
                   "--set", f"zookeeper.connect={zk.connect}/sluice"]
            with open(log_path, "ab") as log:
                brokers.append(subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log,
                                                stderr=subprocess.STDOUT, start_new_session=True))
            print(f"broker {i}: 127.0.0.1:{port} (data {broker_dir}, log {log_path})", flush=True)
        bootstrap = ",".join(f"127.0.0.1:{args.first_port + i}" for i in range(args.brokers))
        print(f"bootstrap servers: {bootstrap}\nCtrl-C stops the cluster.", flush=True)
        while not stopping:
            for i, b in enumerate(brokers, 1):
                if b.poll() is not None:
                    print(f"broker {i} exited with {b.returncode}; see its log", file=sys.stderr, flush=True)
                    stopping = True
            time.sleep(0.5)
    finally:
        for b in brokers:
            if b.poll() is None:
                b.send_signal(signal.SIGTERM)
        for b in brokers:
            try:
                b.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(b.pid, signal.SIGKILL)
                b.wait()
        zk.stop()
        print("cluster stopped", flush=True)


if __name__ == "__main__":
    main()
