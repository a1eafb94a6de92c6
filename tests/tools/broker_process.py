"""Broker processes for tests: a Sluice broker (or librdkafka's mock cluster) run as a child
process on a free loopback port with its own data directory. Shared by tests/integration and
tests/cluster. Every process started here is killed at interpreter exit at the latest.
"""

import atexit
import os
import select
import signal
import socket
import subprocess
import time

import pytest

READY_TIMEOUT_S = 30
STOP_TIMEOUT_S = 15

_live_processes = set()


def kill_all_live():
    for proc in list(_live_processes):
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
        _live_processes.discard(proc)


atexit.register(kill_all_live)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path, limit=4000) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - limit))
            return f.read().decode(errors="replace")
    except OSError as e:
        return f"<no log: {e}>"


class BrokerProcess:
    """A Sluice broker (or the mock cluster) running in the foreground as a child process."""

    is_mock = False

    def __init__(self, binary, settings, workdir):
        self.binary = binary
        self.settings = dict(settings)
        self.workdir = workdir
        self.data_dir = os.path.join(workdir, "data")
        os.makedirs(self.data_dir, exist_ok=True)
        self.port = free_port()
        self.host = "127.0.0.1"
        self.proc = None
        self.starts = 0
        self._expected_exit = False
        self._start()

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def log_path(self) -> str:
        return os.path.join(self.workdir, f"broker-{self.starts}.log")

    def log_tail(self, limit=4000) -> str:
        return _tail(self.log_path, limit)

    def command(self):
        cmd = [self.binary, "broker",
               "--set", f"listeners=PLAINTEXT://127.0.0.1:{self.port}",
               "--set", f"log.dirs={self.data_dir}"]
        for k, v in self.settings.items():
            cmd += ["--set", f"{k}={v}"]
        return cmd

    def _start(self):
        self.starts += 1
        log = open(self.log_path, "wb")
        try:
            self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        finally:
            log.close()
        _live_processes.add(self.proc)
        self._expected_exit = False
        self._wait_ready()

    def _wait_ready(self):
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                raise RuntimeError(f"broker exited with {rc} during start-up; command "
                                   f"{' '.join(self.command())}; log:\n{self.log_tail()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        self._hard_kill()
        raise RuntimeError(f"broker did not accept connections on {self.bootstrap} within "
                           f"{READY_TIMEOUT_S}s; log:\n{self.log_tail()}")

    def _hard_kill(self):
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        _live_processes.discard(self.proc)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def rss_kib(self) -> int:
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def kill(self, sig=signal.SIGKILL, timeout=STOP_TIMEOUT_S):
        """Sends `sig` and waits for the process to exit; returns its exit code."""
        self._expected_exit = True
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._hard_kill()
                raise AssertionError(f"broker did not exit within {timeout}s of signal {sig}; "
                                     f"log:\n{self.log_tail()}")
        _live_processes.discard(self.proc)
        return self.proc.returncode

    def stop(self):
        """Clean shutdown (SIGTERM); returns the exit code."""
        return self.kill(signal.SIGTERM)

    def restart(self):
        """Stops the broker if it still runs (SIGTERM), then starts it on the same port and dir."""
        if self.proc.poll() is None:
            self.stop()
        self._start()

    def check_not_crashed(self):
        if not self._expected_exit and self.proc.poll() is not None:
            raise AssertionError(f"broker died during the test (exit code {self.proc.returncode}); "
                                 f"log:\n{self.log_tail()}")

    def close(self):
        """Teardown: clean stop, with SIGKILL as the fallback. Reports a crash or a hung stop."""
        problem = None
        if not self._expected_exit and self.proc.poll() is not None:
            problem = (f"broker died during the test (exit code {self.proc.returncode}); "
                       f"log:\n{self.log_tail()}")
        elif self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(STOP_TIMEOUT_S)
                if rc != 0 and not self.is_mock:
                    problem = f"broker exited with {rc} after SIGTERM; log:\n{self.log_tail()}"
            except subprocess.TimeoutExpired:
                problem = f"broker still running {STOP_TIMEOUT_S}s after SIGTERM; killed"
        self._hard_kill()
        return problem

    # -- topic helpers ----------------------------------------------------------------------

    def create_topic(self, name, partitions, config=None, timeout=30):
        """Creates a topic with confluent-kafka-python's AdminClient and waits for its leaders."""
        from confluent_kafka.admin import AdminClient, NewTopic
        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        fut = admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1,
                                            config=config or {})], operation_timeout=timeout)
        fut[name].result(timeout)
        self.wait_for_topic(name, partitions, timeout)

    def wait_for_topic(self, name, partitions, timeout=30):
        """Waits until Metadata lists the topic with every partition led."""
        from kafkawire import KafkaConnection
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            with KafkaConnection(self.host, self.port) as c:
                last = c.metadata([name]).get(name)
            if last and last[0] == 0 and len(last[1]) == partitions and all(
                    leader >= 0 for leader in last[1].values()):
                return
            time.sleep(0.1)
        raise AssertionError(f"topic {name} not ready with {partitions} partitions: {last}")


class MockCluster(BrokerProcess):
    """librdkafka's mock cluster (tests/tools/mock_cluster): in-memory, no admin APIs."""

    is_mock = True

    def __init__(self, binary, settings, workdir):
        self._stdout_buf = b""
        super().__init__(binary, settings, workdir)

    def command(self):
        return [self.binary]

    def _start(self):
        self.starts += 1
        log = open(self.log_path, "wb")
        try:
            self.proc = subprocess.Popen(self.command(), stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=log,
                                         start_new_session=True)
        finally:
            log.close()
        _live_processes.add(self.proc)
        self._expected_exit = False
        line = self._read_line(READY_TIMEOUT_S)
        if not line.startswith("bootstrap="):
            self._hard_kill()
            raise RuntimeError(f"mock_cluster said {line!r}; log:\n{self.log_tail()}")
        self.host, port = line.split("=", 1)[1].split(",")[0].rsplit(":", 1)
        self.port = int(port)

    def _read_line(self, timeout) -> str:
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._stdout_buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise RuntimeError(f"mock_cluster: no answer; log:\n{self.log_tail()}")
            chunk = os.read(fd, 4096)
            if not chunk:
                raise RuntimeError(f"mock_cluster exited; log:\n{self.log_tail()}")
            self._stdout_buf += chunk
        line, self._stdout_buf = self._stdout_buf.split(b"\n", 1)
        return line.decode()

    def restart(self):
        pytest.skip("the mock cluster keeps data in memory: restart is Sluice-only")

    def create_topic(self, name, partitions, config=None, timeout=30):
        self.proc.stdin.write(f"create {name} {partitions}\n".encode())
        self.proc.stdin.flush()
        answer = self._read_line(timeout)
        assert answer == "ok", f"mock_cluster create {name}: {answer}"


