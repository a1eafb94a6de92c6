"""`sluice bench produce|consume|e2e` against a real broker (small runs), and the harness's
spread rule (bench/harness.py)."""

import importlib.util
import os

import pytest

from cli import fails, ok, ok_json
from conftest import REPO


def check_latency(doc):
    lat = doc["latency_ms"]
    assert 0 < lat["p50"] <= lat["p95"] <= lat["p99"] <= lat["p99_9"] <= lat["max"]
    assert lat["mean"] <= lat["max"]


@pytest.mark.sluice_only
def test_bench_produce_consume_e2e(broker, topic_name):
    doc = ok_json("bench", "produce", "--topic", topic_name, "--size", "100", "--count", "20000", "--acks", "all",
                  "--partitions", "3", "--json", "-q", "-b", broker.bootstrap)
    assert doc["workload"] == "produce" and doc["records"] == 20000 and doc["errors"] == 0
    assert doc["partitions"] == 3 and doc["record_bytes"] == 100 and doc["acks"] == "all"
    assert doc["records_per_s"] == pytest.approx(20000 / doc["elapsed_s"], rel=1e-6)
    assert doc["mb_per_s"] == pytest.approx(doc["records_per_s"] * 100 / 1e6, rel=1e-6)
    check_latency(doc)
    # Every record is in the log.
    d = ok_json("topic", "describe", topic_name, "--json", "-b", broker.bootstrap)[0]
    assert sum(p["high_watermark"] for p in d["partitions"]) == 20000

    doc = ok_json("bench", "consume", "--topic", topic_name, "--size", "100", "--count", "20000", "-C", "2",
                  "--json", "-q", "-b", broker.bootstrap)
    assert doc["workload"] == "consume" and doc["records"] == 20000 and doc["records_per_s"] > 0
    assert "latency_ms" not in doc

    doc = ok_json("bench", "e2e", "--topic", topic_name, "--size", "64", "--rate", "1000", "--count", "1000",
                  "--json", "-q", "-b", broker.bootstrap)
    assert doc["workload"] == "e2e" and doc["records"] == 1000 and doc["errors"] == 0
    assert 0.5 < doc["elapsed_s"] < 30  # paced at 1000/s
    check_latency(doc)

    # Text report and progress line.
    r = ok("bench", "produce", "--topic", topic_name, "--size", "1024", "--count", "2000", "-b", broker.bootstrap)
    assert "produce: 2000 records of 1024 bytes" in r
    assert "latency ms: p50" in r


@pytest.mark.sluice_only
def test_bench_errors(broker, topic_name):
    err = fails("bench", "e2e", "--topic", topic_name, "-b", broker.bootstrap, code=2)
    assert "--rate is required" in err
    err = fails("bench", "produce", "--size", "0", "-b", broker.bootstrap, code=2)
    assert "--size" in err
    broker.create_topic(topic_name, 1)
    err = fails("bench", "consume", "--topic", topic_name, "--count", "10", "--timeout", "1500", "-q",
                "-b", broker.bootstrap)
    assert "no record for 1500 ms after 0 of 10" in err
    err = fails("bench", "produce", "--topic", topic_name, "--count", "10", "-r", "-5", "-b", broker.bootstrap, code=2)


def test_harness_spread_rule():
    spec = importlib.util.spec_from_file_location("harness", os.path.join(REPO, "bench", "harness.py"))
    harness = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(harness)
    steady = harness.Figure([100.0, 110.0, 95.0], "MB/s")
    assert steady.median == 100.0 and steady.stable and steady.show() == "100"
    noisy = harness.Figure([100.0, 130.0, 95.0], "MB/s")
    assert noisy.spread == pytest.approx(0.35) and not noisy.stable
    assert noisy.show() == "100 (unstable ±35%)"
    calls = iter([{"v": 100}, {"v": 140}, {"v": 90}, {"v": 100}, {"v": 101}, {"v": 99}])
    runs = harness.measure(lambda: next(calls), 3, "v")
    assert [r["v"] for r in runs] == [100, 101, 99]  # the noisy first set was measured again
