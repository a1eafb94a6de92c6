"""Fixtures for the multi-broker fault tests: one real ZooKeeper (Debian's package) for the whole
run and, per test, a cluster of Sluice broker processes on loopback under its own ZooKeeper
chroot, so tests never see each other's metadata.

Environment: SLUICE_BIN (the broker binary, set by scripts/run-tests); SLUICE_KEEP_CLUSTER_DIRS=1
keeps each test's data directories and broker logs (their path is printed) for debugging. Every process started here
is killed and every directory removed at the end, also on failure.
"""

import os
import shutil
import signal
import sys
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
sys.path.insert(0, os.path.join(REPO, "tests", "tools"))
sys.path.insert(0, os.path.join(REPO, "scripts"))

from broker_process import BrokerProcess, free_port, kill_all_live  # noqa: E402
from kafkawire import KafkaConnection  # noqa: E402
from local_cluster import ZooKeeper  # noqa: E402

# Short ZooKeeper sessions so a dead broker is noticed in seconds (ZooKeeper allows 2-20 ticks).
SESSION_TIMEOUT_MS = 4000
ZOOKEEPER_TICK_MS = 500


def pytest_configure(config):
    # Markers of the tests/integration modules whose wire helpers the cluster tests import.
    config.addinivalue_line("markers", "broker_config(settings): extra broker --set key=value settings")
    config.addinivalue_line("markers", "sluice_only: needs Sluice-specific behaviour")


def pytest_sessionfinish(session, exitstatus):
    kill_all_live()


@pytest.fixture(scope="session")
def zookeeper():
    directory = tempfile.mkdtemp(prefix="sluice-zk-")
    zk = ZooKeeper(directory, free_port(), tick_ms=ZOOKEEPER_TICK_MS)
    try:
        yield zk
    finally:
        zk.stop()
        shutil.rmtree(directory, ignore_errors=True)


class ClusterBroker(BrokerProcess):
    def __init__(self, binary, settings, workdir, broker_id):
        self.broker_id = broker_id
        super().__init__(binary, settings, workdir)

    def command(self):
        return super().command() + ["--set", f"broker.id={self.broker_id}"]

    def freeze(self):
        self.proc.send_signal(signal.SIGSTOP)

    def thaw(self):
        self.proc.send_signal(signal.SIGCONT)

    def start(self):
        """Starts a broker that was killed or stopped, on the same port and data directory."""
        assert not self.alive()
        self._start()


class Cluster:
    """N brokers with ids 1..N sharing one ZooKeeper chroot."""

    def __init__(self, binary, zk_connect, workdir, size, settings):
        self.brokers = {}
        try:
            for i in range(1, size + 1):
                d = os.path.join(workdir, f"broker-{i}")
                os.makedirs(d)
                self.brokers[i] = ClusterBroker(binary, dict(settings, **{"zookeeper.connect": zk_connect}), d, i)
            self.wait_ready(size)
        except BaseException:
            self.close()
            raise

    def wait_ready(self, size, timeout=30):
        """Every broker sees all `size` brokers registered and an elected controller (clients
        would otherwise meet a cluster still forming, e.g. CreateTopics with RF 3 on 2 brokers)."""
        for b in self.brokers.values():
            self.wait_for(f"broker {b.broker_id} to see {size} brokers and a controller",
                          lambda: (lambda md: len(md["brokers"]) == size and md["controller"] >= 0)(
                              self.metadata(via=b.broker_id)), timeout)

    @property
    def bootstrap(self) -> str:
        return ",".join(b.bootstrap for b in self.brokers.values())

    def live(self):
        return [b for b in self.brokers.values() if b.alive()]

    def metadata(self, topics=None, via=None):
        """Metadata v7 from one live (not frozen) broker; `via` picks the broker id."""
        candidates = [self.brokers[via]] if via else self.live()
        last = None
        for b in candidates:
            try:
                with KafkaConnection(b.host, b.port, timeout=3) as c:
                    return c.cluster_metadata(topics)
            except OSError as e:
                last = e
        raise AssertionError(f"no broker answered Metadata: {last}")

    def partition(self, topic, p=0, via=None):
        md = self.metadata([topic], via=via)
        err, parts = md["topics"][topic]
        assert err == 0, f"topic {topic}: error {err}"
        return parts[p]

    def wait_for(self, what, predicate, timeout=30, interval=0.1):
        """Polls predicate() until it returns a truthy value; fails naming `what` on timeout."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                last = predicate()
                if last:
                    return last
            except (OSError, AssertionError, KeyError) as e:
                last = e
            time.sleep(interval)
        raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")

    def wait_partition(self, topic, p, predicate, what, timeout=30):
        return self.wait_for(f"{topic}-{p}: {what}",
                             lambda: (lambda s: s if predicate(s) else None)(self.partition(topic, p)),
                             timeout)

    def create_topic(self, name, partitions, replication_factor, config=None, timeout=30):
        from confluent_kafka.admin import AdminClient, NewTopic
        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        fut = admin.create_topics([NewTopic(name, num_partitions=partitions,
                                            replication_factor=replication_factor, config=config or {})],
                                  operation_timeout=timeout)
        fut[name].result(timeout)
        for p in range(partitions):
            self.wait_partition(name, p, lambda s: s["leader"] >= 0 and len(s["isr"]) == replication_factor,
                                "leader elected and every replica in sync", timeout)

    def controller(self):
        return self.metadata()["controller"]

    def close(self):
        problems = []
        for b in self.brokers.values():
            if b.alive():
                b.thaw()
            problem = b.close()
            if problem:
                problems.append(f"broker {b.broker_id}: {problem}")
        return problems


@pytest.fixture
def cluster_factory(zookeeper, request):
    """cluster_factory(size=3, **settings) starts a cluster; all are stopped at the end."""
    binary = os.environ.get("SLUICE_BIN")
    if not binary or not os.access(binary, os.X_OK):
        pytest.skip(f"SLUICE_BIN is not an executable broker binary ({binary!r})")
    made = []
    workdir = tempfile.mkdtemp(prefix="sluice-cluster-")

    def make(size=3, settings=None):
        chroot = f"/{request.node.name[:60]}-{len(made)}-{int(time.time() * 1000)}"
        chroot = "".join(c if c.isalnum() or c in "/-_" else "_" for c in chroot)
        s = {"zookeeper.session.timeout.ms": str(SESSION_TIMEOUT_MS)}
        s.update(settings or {})
        d = os.path.join(workdir, f"cluster-{len(made)}")
        os.makedirs(d)
        c = Cluster(binary, zookeeper.connect + chroot, d, size, s)
        made.append(c)
        return c

    try:
        yield make
    finally:
        problems = []
        for c in made:
            problems += c.close()
        if os.environ.get("SLUICE_KEEP_CLUSTER_DIRS") == "1":
            print(f"cluster data and broker logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
        if problems:
            pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def topic_name(request):
    base = "".join(c if c.isalnum() else "-" for c in request.node.name)[:60].strip("-")
    return f"{base}-{int(time.time() * 1000) % 100000}"
