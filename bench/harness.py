#!/usr/bin/env python3
"""`make bench`: Sluice (one broker) vs. librdkafka's mock cluster (tests/tools/mock_cluster,
in-memory, a separate process) vs. the machine's ceilings (iperf3 loopback TCP, fio sequential
write), measured in the same run with the same client (`sluice bench`, librdkafka).

Every workload runs against a freshly started broker process (so its CPU time and peak RSS
belong to that workload alone), REPEATS times. A figure whose runs spread more than
MAX_SPREAD ((max - min) / median) is re-measured once; if it still spreads too much it is
reported but marked "unstable" and kept out of the target verdicts.

Writes bench/results/<date>.md and bench/results/<date>.png; prints the table.
Usage: bench/harness.py BUILD_DIR [--quick]
"""

import datetime
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAX_SPREAD = 0.20
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class Broker:
    """A broker process (Sluice or the mock cluster) on loopback, with CPU and RSS readings."""

    def __init__(self, kind, build):
        self.kind = kind
        self.workdir = tempfile.mkdtemp(prefix=f"sluice-bench-{kind}-")
        if kind == "sluice":
            port = free_port()
            self.bootstrap = f"127.0.0.1:{port}"
            cmd = [os.path.join(build, "sluice"), "broker", "--set", f"listeners=PLAINTEXT://{self.bootstrap}",
                   "--set", f"log.dirs={self.workdir}/data"]
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=open(f"{self.workdir}/log", "wb"),
                                         stderr=subprocess.STDOUT, start_new_session=True)
            deadline = time.monotonic() + 30
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    break
                except OSError:
                    if self.proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"sluice broker did not start: {open(self.workdir + '/log').read()[-2000:]}")
                    time.sleep(0.05)
        else:
            cmd = [os.path.join(build, "tests/tools/mock_cluster")]
            self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=open(f"{self.workdir}/log", "wb"), start_new_session=True)
            line = self.proc.stdout.readline().decode().strip()
            if not line.startswith("bootstrap="):
                raise RuntimeError(f"mock_cluster said {line!r}")
            self.bootstrap = line.split("=", 1)[1].split(",")[0]

    def create_topic(self, topic, partitions):
        if self.kind == "mock":
            self.proc.stdin.write(f"create {topic} {partitions}\n".encode())
            self.proc.stdin.flush()
            answer = self.proc.stdout.readline().decode().strip()
            if answer != "ok":
                raise RuntimeError(f"mock_cluster create: {answer}")
        # Sluice: `sluice bench` creates missing topics itself (CreateTopics).

    def cpu_seconds(self):
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime

    def peak_rss_mib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)


def sluice_bench(build, mode, bootstrap, args, timeout=120):
    cmd = [os.path.join(build, "sluice"), "bench", mode, "-b", bootstrap, "--json", "-q", *map(str, args)]
    r = subprocess.run(cmd, capture_output=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr.decode()[-2000:]}")
    return json.loads(r.stdout)


def spread(values):
    med = statistics.median(values)
    return (max(values) - min(values)) / med if med else 0.0


class Figure:
    """Repeated measurements of one number; median, spread, stability."""

    def __init__(self, values, unit):
        self.values = values
        self.unit = unit
        self.median = statistics.median(values)
        self.spread = spread(values)
        self.stable = self.spread <= MAX_SPREAD

    def show(self, fmt="{:.0f}"):
        s = fmt.format(self.median)
        return s if self.stable else f"{s} (unstable ±{self.spread * 100:.0f}%)"


def measure(fn, repeats, key):
    """Runs fn() `repeats` times; once more as a whole set if the spread of `key` exceeds 20%."""
    results = [fn() for _ in range(repeats)]
    if spread([r[key] for r in results]) > MAX_SPREAD:
        log(f"    spread {spread([r[key] for r in results]) * 100:.0f}% > 20%: measuring again")
        results = [fn() for _ in range(repeats)]
    return results


def run_workload(build, kind, w, repeats, durations):
    """One workload against a fresh broker; returns a dict of Figures plus CPU and RSS."""
    broker = Broker(kind, build)
    try:
        topic = f"bench-{w['name']}"
        broker.create_topic(topic, w.get("partitions", 1))
        common = ["-t", topic, "-s", w["size"], "--partitions", w.get("partitions", 1)]
        bytes_moved = 0
        cpu0 = broker.cpu_seconds()
        if w["mode"] == "produce":
            def once():
                r = sluice_bench(build, "produce", broker.bootstrap,
                                 common + ["-a", w["acks"], "-n", 1 << 40, "-d", durations["produce"]])
                nonlocal bytes_moved
                bytes_moved += r["records"] * r["record_bytes"]
                return r
            runs = measure(once, repeats, "records_per_s")
        elif w["mode"] == "consume":
            # Preload (not measured, not counted in CPU/GB): enough records for every read.
            sluice_bench(build, "produce", broker.bootstrap,
                               common + ["-a", "1", "-n", w["records"], "-d", 60])
            cpu0 = broker.cpu_seconds()

            def once():
                r = sluice_bench(build, "consume", broker.bootstrap, common + ["--to-end", "-d", 60])
                nonlocal bytes_moved
                bytes_moved += r["records"] * r["record_bytes"]
                return r
            runs = measure(once, repeats, "records_per_s")
        else:  # e2e at a fixed rate
            def once():
                r = sluice_bench(build, "e2e", broker.bootstrap,
                                 common + ["-a", w["acks"], "-r", w["rate"], "-n", 1 << 40, "-d", durations["e2e"]])
                nonlocal bytes_moved
                bytes_moved += r["records"] * r["record_bytes"]
                return r
            runs = measure(once, repeats, "records_per_s")
        cpu = broker.cpu_seconds() - cpu0
        out = {
            "runs": runs,
            "msgs": Figure([r["records_per_s"] for r in runs], "msg/s"),
            "mbs": Figure([r["mb_per_s"] for r in runs], "MB/s"),
            "cpu_s_per_gb": cpu / (bytes_moved / 1e9) if bytes_moved else float("nan"),
            "peak_rss_mib": broker.peak_rss_mib(),
        }
        if "latency_ms" in runs[0]:
            out["p50"] = Figure([r["latency_ms"]["p50"] for r in runs], "ms")
            out["p99"] = Figure([r["latency_ms"]["p99"] for r in runs], "ms")
            out["p999"] = Figure([r["latency_ms"]["p99_9"] for r in runs], "ms")
        return out
    finally:
        broker.stop()


def guarded(fn, *args):
    """A workload that fails is reported as failed (with the reason) instead of ending the run."""
    try:
        return fn(*args)
    except (RuntimeError, subprocess.SubprocessError, OSError, ValueError) as e:
        reason = str(e).strip().splitlines()[-1][:300]
        log(f"    FAILED: {reason}")
        return {"failed": reason}


def iperf3_ceiling(seconds):
    port = free_port()
    server = subprocess.Popen(["iperf3", "-s", "-B", "127.0.0.1", "-p", str(port), "-1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        r = subprocess.run(["iperf3", "-c", "127.0.0.1", "-p", str(port), "-t", str(seconds), "-J"],
                           capture_output=True, timeout=seconds + 30)
        doc = json.loads(r.stdout)
        return doc["end"]["sum_received"]["bits_per_second"] / 8 / 1e6
    finally:
        if server.poll() is None:
            server.kill()
        server.wait()


def fio_ceiling(directory, size_mb, block):
    d = tempfile.mkdtemp(prefix="sluice-bench-fio-", dir=directory)
    try:
        r = subprocess.run(["fio", "--name=seqwrite", f"--directory={d}", "--rw=write", f"--bs={block}",
                            f"--size={size_mb}m", "--ioengine=psync", "--numjobs=1", "--end_fsync=0",
                            "--output-format=json"], capture_output=True, timeout=300)
        doc = json.loads(r.stdout)
        return doc["jobs"][0]["write"]["bw_bytes"] / 1e6
    finally:
        shutil.rmtree(d, ignore_errors=True)


def machine_note():
    load = open("/proc/loadavg").read().split()[:3]
    return f"{os.cpu_count()} CPUs, load average {' '.join(load)} at the end of the run"


def chart(path, rows):
    """Grouped bars (MB/s) per workload for Sluice and the mock; gnuplot draws the PNG."""
    data = path + ".dat"
    with open(data, "w") as f:
        for label, s, m in rows:
            f.write(f'"{label}" {s:.2f} {m:.2f}\n')
    script = f"""
set terminal pngcairo size 1000,560 font "sans,10"
set output "{path}"
set title "sluice bench: Sluice vs librdkafka mock cluster (MB/s, median)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set ylabel "MB/s"
set yrange [0:*]
set grid ytics
set xtics rotate by -20
plot "{data}" using 2:xtic(1) title "Sluice", "" using 3 title "mock cluster"
"""
    subprocess.run(["gnuplot"], input=script.encode(), check=True, timeout=60)
    os.remove(data)


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    build = os.path.abspath(build)
    quick = "--quick" in sys.argv
    repeats = 3
    durations = {"produce": 2 if quick else 4, "e2e": 2 if quick else 4}
    started = time.monotonic()
    workloads = [
        {"name": "p1k-acks1", "label": "produce 1 KiB acks=1", "mode": "produce", "size": 1024, "acks": "1"},
        {"name": "p1k-acksall", "label": "produce 1 KiB acks=all", "mode": "produce", "size": 1024, "acks": "all"},
        {"name": "p100-acks1", "label": "produce 100 B acks=1", "mode": "produce", "size": 100, "acks": "1"},
        {"name": "p100-acksall", "label": "produce 100 B acks=all", "mode": "produce", "size": 100, "acks": "all"},
        # The mock cluster keeps only the last ~5 MB of each partition (librdkafka's mock
        # partitions trim old segments), so the data set is 4,000 records of 1 KiB per partition.
        {"name": "c1k", "label": "consume 1 KiB (page cache)", "mode": "consume", "size": 1024,
         "partitions": 16 if quick else 64, "records": (16 if quick else 64) * 4000},
    ]
    results = {"sluice": {}, "mock": {}}
    for w in workloads:
        for kind in ("sluice", "mock"):
            log(f"== {kind}: {w['label']}")
            results[kind][w["name"]] = r = guarded(run_workload, build, kind, w, repeats, durations)
            if "failed" not in r:
                log(f"    {r['msgs'].show()} msg/s, {r['mbs'].show('{:.1f}')} MB/s")
    # End-to-end latency at one fixed rate for both: half of the lower of the two measured
    # 1 KiB acks=1 maxima (the same load on each broker).
    maxima = [results[k]["p1k-acks1"]["msgs"].median for k in ("sluice", "mock") if "msgs" in results[k]["p1k-acks1"]]
    rate = max(1000, int(min(maxima) / 2)) if maxima else 1000
    e2e = {"name": "e2e", "label": f"e2e 1 KiB acks=1 @ {rate} msg/s", "mode": "e2e", "size": 1024,
           "acks": "1", "rate": rate}
    for kind in ("sluice", "mock"):
        log(f"== {kind}: {e2e['label']}")
        results[kind]["e2e"] = guarded(run_workload, build, kind, e2e, repeats, durations)
    log("== ceilings: iperf3 loopback, fio sequential write")
    net = Figure([iperf3_ceiling(3 if quick else 5) for _ in range(repeats)], "MB/s")
    disk_dir = os.environ.get("SLUICE_BENCH_DIR", tempfile.gettempdir())
    disk = Figure([fio_ceiling(disk_dir, 512 if quick else 1024, "1m") for _ in range(repeats)], "MB/s")

    # ---- report ----
    lines = []
    date = datetime.datetime.now(datetime.timezone.utc)
    lines.append(f"# sluice bench results {date:%Y-%m-%d %H:%M} UTC\n")
    lines.append(f"Machine: {machine_note()}. Client, Sluice broker and mock cluster share these CPUs. "
                 f"Median of {repeats} runs; a figure whose runs spread more than {MAX_SPREAD:.0%} was measured "
                 f"again and is marked unstable if it still did. Each workload ran against a fresh broker "
                 f"process: CPU s/GB and peak RSS (VmHWM) are that broker's.\n")
    lines.append("| workload | Sluice msg/s | Sluice MB/s | mock msg/s | mock MB/s | Sluice/mock | Sluice CPU s/GB | mock CPU s/GB | Sluice peak RSS MiB | mock peak RSS MiB |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    chart_rows = []
    for w in workloads:
        s, m = results["sluice"][w["name"]], results["mock"][w["name"]]
        if "failed" in s or "failed" in m:
            lines.append(f"| {w['label']} | " + " | ".join(
                ["failed: " + r["failed"] if "failed" in r else f"{r['msgs'].show()} msg/s, {r['mbs'].show('{:.1f}')} MB/s"
                 for r in (s, m)]) + " | | | | | | | |")
            continue
        ratio = s["mbs"].median / m["mbs"].median if m["mbs"].median else float("nan")
        ratio_s = f"{ratio:.2f}" if s["mbs"].stable and m["mbs"].stable else f"{ratio:.2f} (unstable)"
        lines.append(f"| {w['label']} | {s['msgs'].show()} | {s['mbs'].show('{:.1f}')} | {m['msgs'].show()} | "
                     f"{m['mbs'].show('{:.1f}')} | {ratio_s} | {s['cpu_s_per_gb']:.2f} | {m['cpu_s_per_gb']:.2f} | "
                     f"{s['peak_rss_mib']:.0f} | {m['peak_rss_mib']:.0f} |")
        chart_rows.append((w["label"], s["mbs"].median, m["mbs"].median))
    lines.append("")
    lines.append("Latency (ms, median of runs): produce = send to acknowledgement; e2e = send to receipt by a consumer.\n")
    lines.append("| workload | Sluice p50 | Sluice p99 | Sluice p99.9 | mock p50 | mock p99 | mock p99.9 |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|")
    for name, label in [(w["name"], w["label"]) for w in workloads if w["mode"] == "produce"] + [("e2e", e2e["label"])]:
        s, m = results["sluice"][name], results["mock"][name]
        if "failed" in s or "failed" in m:
            lines.append(f"| {label} | " + " | ".join(
                f"failed: {r['failed']} | |" if "failed" in r else
                f"{r['p50'].show('{:.2f}')} | {r['p99'].show('{:.2f}')} | {r['p999'].show('{:.2f}')}" for r in (s, m)) + " |")
            continue
        lines.append(f"| {label} | {s['p50'].show('{:.2f}')} | {s['p99'].show('{:.2f}')} | {s['p999'].show('{:.2f}')} | "
                     f"{m['p50'].show('{:.2f}')} | {m['p99'].show('{:.2f}')} | {m['p999'].show('{:.2f}')} |")
    lines.append("")
    lines.append(f"Ceilings: loopback TCP (iperf3, one stream) {net.show()} MB/s; sequential buffered write "
                 f"(fio, 1 MiB blocks, psync, {disk_dir}) {disk.show()} MB/s.\n")
    failed = [f"{kind} {name}" for kind in ("sluice", "mock") for name, r in results[kind].items() if "failed" in r]
    if failed:
        lines.append(f"Failed workloads (no figure): {', '.join(failed)}.\n")
    if any("failed" in results[k][n] for k in ("sluice", "mock") for n in ("p1k-acks1", "p100-acks1")):
        print("\n".join(lines))
        raise SystemExit("bench: a target workload failed; no verdicts")
    s1k = results["sluice"]["p1k-acks1"]
    m1k = results["mock"]["p1k-acks1"]
    s100 = results["sluice"]["p100-acks1"]
    verdicts = [
        ("Sluice >= mock cluster, 1 KiB acks=1 produce", s1k["mbs"].median >= m1k["mbs"].median,
         f"{s1k['mbs'].median:.1f} vs {m1k['mbs'].median:.1f} MB/s (ratio {s1k['mbs'].median / m1k['mbs'].median:.2f})",
         s1k["mbs"].stable and m1k["mbs"].stable),
        (">= 400 MB/s, 1 KiB acks=1 produce", s1k["mbs"].median >= 400, f"{s1k['mbs'].median:.1f} MB/s "
         f"({s1k['mbs'].median / net.median:.0%} of loopback, {s1k['mbs'].median / disk.median:.0%} of disk)",
         s1k["mbs"].stable),
        (">= 1M msg/s, 100 B acks=1 produce", s100["msgs"].median >= 1e6, f"{s100['msgs'].median:.0f} msg/s",
         s100["msgs"].stable),
    ]
    lines.append("Targets (issue 6):\n")
    for what, ok, detail, stable in verdicts:
        mark = ("met" if ok else "NOT met") if stable else "not judged (unstable figure)"
        lines.append(f"- {what}: **{mark}** — {detail}")
    lines.append(f"\nHarness time: {time.monotonic() - started:.0f} s.")
    report = "\n".join(lines) + "\n"
    print(report)
    out_dir = os.path.join(REPO, "bench", "results")
    os.makedirs(out_dir, exist_ok=True)
    stem = os.path.join(out_dir, f"{date:%Y-%m-%d}")
    png = stem + ".png"
    try:
        chart(png, chart_rows)
        report += f"\n![MB/s per workload]({os.path.basename(png)})\n"
    except (OSError, subprocess.SubprocessError) as e:
        log(f"chart not drawn: {e}")
    with open(stem + ".md", "w") as f:
        f.write(report)
    raw = {kind: {name: (r if "failed" in r else
                         {"runs": r["runs"], "cpu_s_per_gb": r["cpu_s_per_gb"], "peak_rss_mib": r["peak_rss_mib"]})
                  for name, r in res.items()} for kind, res in results.items()}
    raw["ceilings"] = {"iperf3_mb_s": net.values, "fio_mb_s": disk.values}
    with open(stem + ".json", "w") as f:
        json.dump(raw, f, indent=1)
    log(f"wrote {stem}.md, {stem}.png, {stem}.json")


if __name__ == "__main__":
    main()
