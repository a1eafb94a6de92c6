"""Fixtures for the client integration tests: a real broker process per test.

Environment:
  SLUICE_BIN          path of the sluice binary (set by scripts/run-tests). Tests skip if missing.
  SLUICE_BUILD_DIR    build directory (used to find tests/tools/mock_cluster).
  SLUICE_TEST_TARGET  "sluice" (default) or "mock": run against librdkafka's mock cluster
                      (tests/tools/mock_cluster) to validate the test clients themselves.
                      Tests that need broker-specific behaviour are marked `sluice_only`.
  SLUICE_MOCK_BIN     explicit path of mock_cluster (optional).

Each test that takes `broker` gets a fresh broker on a free loopback port with its own data
directory; `@pytest.mark.broker_config({"key": "value"})` passes extra `--set` settings.
The process is always killed and the directory removed at the end, also on failure.
"""

import os
import shutil
import sys
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "tools"))

TARGET = os.environ.get("SLUICE_TEST_TARGET", "sluice")
if TARGET == "mock":
    import kafkawire
    kafkawire.MOCK_QUIRKS = True
from broker_process import BrokerProcess, MockCluster, free_port, kill_all_live  # noqa: E402,F401


def pytest_configure(config):
    config.addinivalue_line("markers", "broker_config(settings): extra broker --set key=value settings")
    config.addinivalue_line("markers", "sluice_only: needs Sluice-specific behaviour (skipped on the mock)")


def pytest_sessionfinish(session, exitstatus):
    kill_all_live()


def pytest_runtest_setup(item):
    if TARGET == "mock" and item.get_closest_marker("sluice_only"):
        pytest.skip("needs a real Sluice broker (SLUICE_TEST_TARGET=mock)")


def _mock_binary():
    explicit = os.environ.get("SLUICE_MOCK_BIN")
    if explicit:
        return explicit
    candidates = []
    if os.environ.get("SLUICE_BUILD_DIR"):
        candidates.append(os.path.join(os.environ["SLUICE_BUILD_DIR"], "tests/tools/mock_cluster"))
    candidates += [os.path.join(REPO, d, "tests/tools/mock_cluster") for d in ("build", "build-it")]
    for c in candidates:
        if os.access(c, os.X_OK):
            return c
    return None


def _serve(process_class, binary, settings, prefix):
    """Runs a broker process in its own directory for one test; always stops it and removes
    the directory, and fails the test if the process ended badly."""
    workdir = tempfile.mkdtemp(prefix=prefix)
    try:
        proc = process_class(binary, settings, workdir)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    try:
        yield proc
    finally:
        problem = proc.close()
        shutil.rmtree(workdir, ignore_errors=True)
        if problem:
            pytest.fail(problem, pytrace=False)


@pytest.fixture
def broker(request):
    marker = request.node.get_closest_marker("broker_config")
    settings = dict(marker.args[0]) if marker and marker.args else {}
    if TARGET == "mock":
        binary = _mock_binary()
        if not binary:
            pytest.skip("SLUICE_TEST_TARGET=mock but tests/tools/mock_cluster is not built")
        yield from _serve(MockCluster, binary, settings, "sluice-itest-")
    else:
        binary = os.environ.get("SLUICE_BIN")
        if not binary or not os.access(binary, os.X_OK):
            pytest.skip(f"SLUICE_BIN is not an executable broker binary ({binary!r}); "
                        f"run through scripts/run-tests or set SLUICE_BIN")
        yield from _serve(BrokerProcess, binary, settings, "sluice-itest-")


@pytest.fixture
def mock_cluster():
    """librdkafka's mock cluster, for tests about a broker that lacks an API Sluice has."""
    binary = _mock_binary()
    if not binary:
        pytest.fail("tests/tools/mock_cluster is not built (set SLUICE_BUILD_DIR)", pytrace=False)
    yield from _serve(MockCluster, binary, {}, "sluice-mock-")


@pytest.fixture
def topic_name(request):
    """A topic name unique to the test."""
    base = "".join(c if c.isalnum() else "-" for c in request.node.name)[:80].strip("-")
    return f"{base}-{os.getpid()}-{int(time.time() * 1000) % 100000}"
