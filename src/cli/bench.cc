// `sluice bench produce|consume|e2e`: load generators on librdkafka with a live progress line
// and a final report (msg/s, MB/s, latency percentiles from a histogram; --json for scripts).
//   produce: latency = producev() to delivery report (acks as chosen).
//   consume: reads N records from the beginning of every partition (page cache when the data
//            was just written); latency is not measured.
//   e2e:     one producer at a fixed rate and one consumer in the same process; latency = send
//            time (CLOCK_MONOTONIC ns in the first 8 bytes of the value) to receipt.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/histogram.h"
#include "cli/output.h"

namespace sluice::cli {
namespace {

using json = nlohmann::ordered_json;
using steady = std::chrono::steady_clock;

std::atomic<bool> g_stop{false};
void on_interrupt(int) { g_stop = true; }

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now().time_since_epoch()).count();
}

struct bench_args {
  client_options client;
  std::string topic = "sluice-bench";
  int32_t size = 1024;
  int64_t count = 1000000;
  double duration_s = 0;      // > 0: stop after this long (count still caps)
  std::string acks = "1";
  int32_t partitions = 1;     // used when the topic has to be created
  int32_t batch_size = 1000000;
  double linger_ms = 5;
  std::string compression = "none";
  int32_t workers = 1;        // producers or consumers
  double rate = 0;            // total records/s; 0 = as fast as possible
  bool json_out = false;
  bool quiet = false;
  bool to_end = false;        // consume: read what the partitions hold when the run starts
};

// Shared counters the workers update and the progress line reads.
struct progress {
  std::atomic<int64_t> records{0};
  std::atomic<int64_t> errors{0};
  std::atomic<int64_t> first_error_code{0};
};

struct worker_result {
  histogram latency;
};

void add_common(CLI::App* cmd, bench_args& a, bool producer_side) {
  cmd->add_option("-t,--topic", a.topic, "Topic (created with --partitions if missing)")->capture_default_str();
  cmd->add_option("-s,--size", a.size, "Record value size in bytes")->capture_default_str()->check(CLI::Range(8, 100 << 20));
  cmd->add_option("-n,--count", a.count, "Records in total")->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  cmd->add_option("-d,--duration", a.duration_s, "Stop after this many seconds (also capped by --count)")
      ->check(CLI::Range(0.0, 86400.0));
  cmd->add_option("--partitions", a.partitions, "Partitions when the topic is created")->capture_default_str()
      ->check(CLI::Range(1, 100000));
  if (producer_side) {
    cmd->add_option("-a,--acks", a.acks, "0, 1 or all")->capture_default_str()->check(CLI::IsMember({"0", "1", "all", "-1"}));
    cmd->add_option("--batch-size", a.batch_size, "Producer batch.size in bytes")->capture_default_str()
        ->check(CLI::Range(1, 100000000));
    cmd->add_option("--linger-ms", a.linger_ms, "Producer linger.ms")->capture_default_str()->check(CLI::Range(0.0, 900000.0));
    cmd->add_option("-z,--compression", a.compression, "Compression codec")->capture_default_str()
        ->check(CLI::IsMember({"none", "gzip", "snappy", "lz4", "zstd"}));
    cmd->add_option("-r,--rate", a.rate, "Target records/s in total (0 = unthrottled)")->capture_default_str()
        ->check(CLI::Range(0.0, 1e9));
  }
  cmd->add_flag("--json", a.json_out, "Print the final report as one JSON document");
  cmd->add_flag("-q,--quiet", a.quiet, "No progress line");
  add_client_options(cmd, a.client);
}

// Makes sure the topic exists (creating it if not) and returns its partition count; 0 after an
// error was reported.
int32_t ensure_topic(std::string_view command, const bench_args& a) {
  std::string error;
  rk_ptr rk = make_client(RD_KAFKA_PRODUCER, a.client, {}, error);
  if (!rk) return report_error(command, error, exit_usage), 0;
  metadata_ptr md = fetch_metadata(rk.get(), a.client, error);
  if (!md) return report_error(command, error), 0;
  if (const auto* t = find_topic(md.get(), a.topic)) return t->partition_cnt;
  char errstr[512];
  rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(a.topic.c_str(), a.partitions, -1, errstr, sizeof errstr);
  if (!nt) return report_error(command, errstr, exit_usage), 0;
  queue_ptr q(rd_kafka_queue_new(rk.get()));
  auto options = make_admin_options(rk.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS, a.client);
  rd_kafka_CreateTopics(rk.get(), &nt, 1, options.get(), q.get());
  rd_kafka_NewTopic_destroy(nt);
  auto ev = wait_admin_result(q.get(), a.client, error);
  if (!ev) return report_error(command, "create topic '" + a.topic + "': " + error), 0;
  size_t n = 0;
  auto** res = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev.get()), &n);
  if (n == 1 && rd_kafka_topic_result_error(res[0]) != RD_KAFKA_RESP_ERR_NO_ERROR &&
      rd_kafka_topic_result_error(res[0]) != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
    report_error(command, "create topic '" + a.topic + "': " +
                              describe_error(rd_kafka_topic_result_error(res[0]), rd_kafka_topic_result_error_string(res[0])));
    return 0;
  }
  // Wait until the new topic's partitions have leaders.
  auto deadline = steady::now() + std::chrono::milliseconds(a.client.timeout_ms);
  while (steady::now() < deadline) {
    md = fetch_metadata(rk.get(), a.client, error);
    if (!md) return report_error(command, error), 0;
    if (const auto* t = find_topic(md.get(), a.topic)) {
      bool led = t->partition_cnt > 0;
      for (int i = 0; i < t->partition_cnt; ++i) led = led && t->partitions[i].leader >= 0;
      if (led) return t->partition_cnt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  report_error(command, "topic '" + a.topic + "' has no leader for every partition after " +
                            std::to_string(a.client.timeout_ms) + " ms");
  return 0;
}

// The progress line, once a second on stderr, until `done`.
class progress_printer {
 public:
  progress_printer(const char* label, const progress& p, int32_t size, bool quiet) : _label(label), _p(p), _size(size) {
    if (quiet) return;
    _tty = isatty(STDERR_FILENO);
    _thread = std::thread([this] { run(); });
  }
  ~progress_printer() { stop(); }
  void stop() {
    _done = true;
    if (_thread.joinable()) _thread.join();
  }

 private:
  void run() {
    auto start = steady::now();
    int64_t last = 0;
    auto last_t = start;
    while (!_done) {
      for (int i = 0; i < 10 && !_done; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (_done) break;
      auto t = steady::now();
      int64_t r = _p.records.load();
      double dt = std::chrono::duration<double>(t - last_t).count();
      double rate = dt > 0 ? static_cast<double>(r - last) / dt : 0;
      std::fprintf(stderr, "%s[%6.1fs] %s: %lld records, %.0f rec/s, %.1f MB/s, %lld errors%s",
                   _tty ? "\r" : "", std::chrono::duration<double>(t - start).count(), _label,
                   static_cast<long long>(r), rate, rate * _size / 1e6, static_cast<long long>(_p.errors.load()),
                   _tty ? "   " : "\n");
      std::fflush(stderr);
      last = r;
      last_t = t;
    }
    if (_tty) std::fprintf(stderr, "\n");
  }
  const char* _label;
  const progress& _p;
  int32_t _size;
  bool _tty = false;
  std::atomic<bool> _done{false};
  std::thread _thread;
};

void print_report(const char* workload, const bench_args& a, int64_t records, int64_t errors, double elapsed_s,
                  const histogram* latency, int32_t partitions) {
  double rps = elapsed_s > 0 ? static_cast<double>(records) / elapsed_s : 0;
  double mbs = rps * a.size / 1e6;
  auto ms = [](int64_t ns) { return static_cast<double>(ns) / 1e6; };
  if (a.json_out) {
    json doc = {{"workload", workload}, {"topic", a.topic}, {"partitions", partitions}, {"record_bytes", a.size},
                {"records", records}, {"errors", errors}, {"elapsed_s", elapsed_s}, {"records_per_s", rps},
                {"mb_per_s", mbs}, {"acks", a.acks}, {"compression", a.compression}, {"workers", a.workers},
                {"target_rate", a.rate}, {"linger_ms", a.linger_ms}, {"batch_size", a.batch_size}};
    if (latency && latency->count() > 0) {
      doc["latency_ms"] = {{"p50", ms(latency->percentile(0.5))},   {"p95", ms(latency->percentile(0.95))},
                           {"p99", ms(latency->percentile(0.99))},  {"p99_9", ms(latency->percentile(0.999))},
                           {"max", ms(latency->max())},             {"mean", latency->mean() / 1e6}};
    }
    print_json(doc);
    return;
  }
  std::printf("%s: %lld records of %d bytes in %.2f s (%d partition(s), %d worker(s))\n", workload,
              static_cast<long long>(records), a.size, elapsed_s, partitions, a.workers);
  std::printf("throughput: %.0f records/s, %.2f MB/s\n", rps, mbs);
  if (latency && latency->count() > 0) {
    std::printf("latency ms: p50 %.3f  p95 %.3f  p99 %.3f  p99.9 %.3f  max %.3f  (mean %.3f)\n",
                ms(latency->percentile(0.5)), ms(latency->percentile(0.95)), ms(latency->percentile(0.99)),
                ms(latency->percentile(0.999)), ms(latency->max()), latency->mean() / 1e6);
  }
  if (errors) std::printf("errors: %lld\n", static_cast<long long>(errors));
}

property_list producer_props(const bench_args& a) {
  char linger[32];
  std::snprintf(linger, sizeof linger, "%g", a.linger_ms);
  return {{"acks", a.acks},
          {"linger.ms", linger},
          {"batch.size", std::to_string(a.batch_size)},
          {"compression.codec", a.compression},
          {"queue.buffering.max.messages", "1000000"},
          {"queue.buffering.max.kbytes", "1048576"},
          {"message.timeout.ms", std::to_string(std::max(a.client.timeout_ms, 30000))},
          {"partitioner", "murmur2_random"}};
}

struct producer_ctx {
  progress* p;
  histogram* latency;
};

void on_bench_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* ctx = static_cast<producer_ctx*>(opaque);
  if (m->err) {
    int64_t zero = 0;
    ctx->p->first_error_code.compare_exchange_strong(zero, m->err);
    ++ctx->p->errors;
    return;
  }
  ctx->latency->record(now_ns() - reinterpret_cast<intptr_t>(m->_private));
  ++ctx->p->records;
}

// Paces a worker to `rate` records/s (0: no pacing) by sleeping until each record's slot.
class pacer {
 public:
  explicit pacer(double rate) : _interval_ns(rate > 0 ? 1e9 / rate : 0), _start(now_ns()) {}
  void wait(int64_t i) {
    if (_interval_ns <= 0) return;
    auto due = _start + static_cast<int64_t>(static_cast<double>(i) * _interval_ns);
    int64_t ahead = due - now_ns();
    if (ahead > 50000) std::this_thread::sleep_for(std::chrono::nanoseconds(ahead));
  }

 private:
  double _interval_ns;
  int64_t _start;
};

// One producer thread: sends `count` records (or until the deadline / stop) and waits for
// their delivery reports.
void produce_worker(const bench_args& a, int64_t count, double rate, progress& p, histogram& latency,
                    int64_t deadline_ns, std::string& error) {
  producer_ctx ctx{&p, &latency};
  rd_kafka_conf_t* conf = make_conf(a.client, producer_props(a), error);
  if (!conf) return;
  rd_kafka_conf_set_dr_msg_cb(conf, on_bench_delivery);
  rd_kafka_conf_set_opaque(conf, &ctx);
  rk_ptr rk = make_client(RD_KAFKA_PRODUCER, conf, error);
  if (!rk) return;
  std::string payload(static_cast<size_t>(a.size), '\0');
  std::mt19937_64 rng(std::random_device{}());
  for (size_t i = 0; i < payload.size(); i += 8) {
    uint64_t r = rng();
    std::memcpy(payload.data() + i, &r, std::min<size_t>(8, payload.size() - i));
  }
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk.get(), a.topic.c_str(), nullptr);
  pacer pace(rate);
  for (int64_t i = 0; i < count && !g_stop; ++i) {
    if (deadline_ns && (i & 255) == 0 && now_ns() > deadline_ns) break;
    pace.wait(i);
    for (;;) {
      int rc = rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, 0, payload.data(), payload.size(), nullptr, 0,
                                reinterpret_cast<void*>(static_cast<intptr_t>(now_ns())));
      if (rc == 0) break;
      if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        error = "produce: " + describe_error(rd_kafka_last_error());
        rd_kafka_topic_destroy(rkt);
        return;
      }
      rd_kafka_poll(rk.get(), 1);
    }
    if ((i & 63) == 0) rd_kafka_poll(rk.get(), 0);
  }
  while (rd_kafka_outq_len(rk.get()) > 0 && !g_stop) rd_kafka_poll(rk.get(), 50);
  rd_kafka_topic_destroy(rkt);
}

void run_bench_produce(bench_args& a) {
  const char* name = "bench produce";
  int32_t partitions = ensure_topic(name, a);
  if (!partitions) return;
  std::signal(SIGINT, on_interrupt);
  progress p;
  std::vector<histogram> hists(static_cast<size_t>(a.workers));
  std::vector<std::string> errors(static_cast<size_t>(a.workers));
  int64_t deadline_ns = a.duration_s > 0 ? now_ns() + static_cast<int64_t>(a.duration_s * 1e9) : 0;
  auto start = steady::now();
  {
    progress_printer printer("produce", p, a.size, a.quiet);
    std::vector<std::thread> threads;
    for (int w = 0; w < a.workers; ++w) {
      int64_t share = a.count / a.workers + (w < a.count % a.workers ? 1 : 0);
      threads.emplace_back([&, w, share] {
        produce_worker(a, share, a.rate / a.workers, p, hists[static_cast<size_t>(w)], deadline_ns,
                       errors[static_cast<size_t>(w)]);
      });
    }
    for (auto& t : threads) t.join();
  }
  double elapsed = std::chrono::duration<double>(steady::now() - start).count();
  histogram all;
  for (auto& h : hists) all.merge(h);
  for (auto& e : errors) {
    if (!e.empty()) return report_error(name, e);
  }
  print_report("produce", a, p.records.load(), p.errors.load(), elapsed, &all, partitions);
  if (p.errors.load() > 0) {
    report_error(name, std::to_string(p.errors.load()) + " record(s) failed, first: " +
                           describe_error(static_cast<rd_kafka_resp_err_t>(p.first_error_code.load())));
  }
}

// Consumers read assigned partitions (partition i goes to consumer i % workers) from the
// beginning until `count` records arrived in total, the deadline passes, or --timeout ms pass
// without a record.
void run_bench_consume(bench_args& a) {
  const char* name = "bench consume";
  int32_t partitions = ensure_topic(name, a);
  if (!partitions) return;
  if (a.to_end) {
    // Everything the partitions hold now: sum of (high watermark - log start offset).
    std::string error;
    rk_ptr rk = make_client(RD_KAFKA_PRODUCER, a.client, {}, error);
    if (!rk) return report_error(name, error, exit_usage);
    a.count = 0;
    for (int32_t i = 0; i < partitions; ++i) {
      int64_t low = 0, high = 0;
      auto err = rd_kafka_query_watermark_offsets(rk.get(), a.topic.c_str(), i, &low, &high, a.client.timeout_ms);
      if (err) return report_error(name, "offsets of partition " + std::to_string(i) + ": " + describe_error(err));
      a.count += high - low;
    }
    if (a.count == 0) return report_error(name, "topic '" + a.topic + "' is empty: nothing to read");
  }
  std::signal(SIGINT, on_interrupt);
  progress p;
  std::vector<std::string> errors(static_cast<size_t>(a.workers));
  int64_t deadline_ns = a.duration_s > 0 ? now_ns() + static_cast<int64_t>(a.duration_s * 1e9) : 0;
  std::atomic<int64_t> first_record_ns{0};
  std::atomic<int64_t> last_record_ns{0};
  auto start = steady::now();
  {
    progress_printer printer("consume", p, a.size, a.quiet);
    std::vector<std::thread> threads;
    for (int w = 0; w < a.workers; ++w) {
      threads.emplace_back([&, w] {
        std::string& error = errors[static_cast<size_t>(w)];
        rk_ptr rk = make_client(RD_KAFKA_CONSUMER, a.client,
                                {{"enable.auto.commit", "false"}, {"auto.offset.reset", "earliest"},
                                 {"fetch.wait.max.ms", std::to_string(partition_reader_fetch_wait_ms)},
                                 {"fetch.max.bytes", "52428800"}, {"queued.min.messages", "1000000"}},
                                error);
        if (!rk) return;
        partition_reader reader(rk.get(), a.topic);
        bool any = false;
        for (int32_t i = w; i < partitions; i += a.workers) {
          if (auto err = reader.start(i, RD_KAFKA_OFFSET_BEGINNING)) {
            error = "start reading partition " + std::to_string(i) + ": " + describe_error(err);
            return;
          }
          any = true;
        }
        if (!any) return;
        auto idle_since = steady::now();
        while (!g_stop && p.records.load() < a.count) {
          if (deadline_ns && now_ns() > deadline_ns) break;
          rd_kafka_message_t* m = reader.poll(100);
          if (!m) {
            if (steady::now() - idle_since > std::chrono::milliseconds(a.client.timeout_ms)) {
              if (p.records.load() < a.count) {
                error = "no record for " + std::to_string(a.client.timeout_ms) + " ms after " +
                        std::to_string(p.records.load()) + " of " + std::to_string(a.count) +
                        " (does the topic hold --count records?)";
              }
              break;
            }
            continue;
          }
          if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) ++p.errors;
          } else {
            int64_t t = now_ns();
            int64_t zero = 0;
            first_record_ns.compare_exchange_strong(zero, t);
            last_record_ns = t;
            ++p.records;
            idle_since = steady::now();
          }
          rd_kafka_message_destroy(m);
        }
      });
    }
    for (auto& t : threads) t.join();
  }
  (void)start;
  for (auto& e : errors) {
    if (!e.empty()) return report_error(name, e);
  }
  // Time from the first to the last record: connection set-up and the idle wait at the end are
  // not part of the read rate.
  double elapsed = static_cast<double>(last_record_ns.load() - first_record_ns.load()) / 1e9;
  print_report("consume", a, p.records.load(), p.errors.load(), elapsed, nullptr, partitions);
}

// One producer at --rate and one consumer (all partitions, from their current ends).
void run_bench_e2e(bench_args& a) {
  const char* name = "bench e2e";
  if (a.rate <= 0) return report_error(name, "--rate is required: end-to-end latency is measured at a fixed rate", exit_usage);
  int32_t partitions = ensure_topic(name, a);
  if (!partitions) return;
  std::signal(SIGINT, on_interrupt);
  std::string error;
  rk_ptr consumer = make_client(RD_KAFKA_CONSUMER, a.client,
                                {{"enable.auto.commit", "false"}, {"fetch.wait.max.ms", std::to_string(partition_reader_fetch_wait_ms)},
                                 {"fetch.error.backoff.ms", "10"}},
                                error);
  if (!consumer) return report_error(name, error, exit_usage);
  // Start each partition at its current high watermark, queried explicitly so the first
  // records are not missed while the consumer looks up its start position.
  partition_reader reader(consumer.get(), a.topic);
  for (int32_t i = 0; i < partitions; ++i) {
    int64_t low = 0, high = 0;
    auto err = rd_kafka_query_watermark_offsets(consumer.get(), a.topic.c_str(), i, &low, &high, a.client.timeout_ms);
    if (err) return report_error(name, "offsets of partition " + std::to_string(i) + ": " + describe_error(err));
    if ((err = reader.start(i, high))) return report_error(name, "start reading partition " + std::to_string(i) + ": " + describe_error(err));
  }
  progress sent;
  progress received;
  histogram produce_latency;
  histogram e2e_latency;
  int64_t deadline_ns = a.duration_s > 0 ? now_ns() + static_cast<int64_t>(a.duration_s * 1e9) : 0;
  std::atomic<bool> producer_done{false};
  std::string producer_error;
  auto start = steady::now();
  std::thread producer([&] {
    producer_ctx ctx{&sent, &produce_latency};
    std::string& err = producer_error;
    rd_kafka_conf_t* conf = make_conf(a.client, producer_props(a), err);
    if (!conf) return producer_done.store(true);
    rd_kafka_conf_set_dr_msg_cb(conf, on_bench_delivery);
    rd_kafka_conf_set_opaque(conf, &ctx);
    rk_ptr rk = make_client(RD_KAFKA_PRODUCER, conf, err);
    if (!rk) return producer_done.store(true);
    std::string payload(static_cast<size_t>(a.size), 'x');
    pacer pace(a.rate);
    for (int64_t i = 0; i < a.count && !g_stop; ++i) {
      if (deadline_ns && now_ns() > deadline_ns) break;
      pace.wait(i);
      int64_t t = now_ns();
      std::memcpy(payload.data(), &t, sizeof t);
      auto e = rd_kafka_producev(rk.get(), RD_KAFKA_V_TOPIC(a.topic.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                 RD_KAFKA_V_VALUE(payload.data(), payload.size()),
                                 RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<intptr_t>(t))), RD_KAFKA_V_END);
      if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_poll(rk.get(), 1);
        --i;
        continue;
      }
      if (e) {
        err = "produce: " + describe_error(e);
        break;
      }
      rd_kafka_poll(rk.get(), 0);
    }
    while (rd_kafka_outq_len(rk.get()) > 0 && !g_stop) rd_kafka_poll(rk.get(), 20);
    producer_done = true;
  });
  {
    progress_printer printer("e2e", received, a.size, a.quiet);
    auto idle_since = steady::now();
    while (!g_stop) {
      if (producer_done && received.records.load() >= sent.records.load()) break;
      rd_kafka_message_t* m = reader.poll(50);
      if (!m) {
        if (producer_done && steady::now() - idle_since > std::chrono::milliseconds(a.client.timeout_ms)) break;
        continue;
      }
      if (!m->err && m->len >= sizeof(int64_t)) {
        int64_t t;
        std::memcpy(&t, m->payload, sizeof t);
        e2e_latency.record(now_ns() - t);
        ++received.records;
        idle_since = steady::now();
      } else if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        ++received.errors;
      }
      rd_kafka_message_destroy(m);
    }
  }
  producer.join();
  double elapsed = std::chrono::duration<double>(steady::now() - start).count();
  if (!producer_error.empty()) return report_error(name, producer_error);
  print_report("e2e", a, received.records.load(), sent.errors.load() + received.errors.load(), elapsed, &e2e_latency,
               partitions);
  if (received.records.load() < sent.records.load()) {
    report_error(name, "received " + std::to_string(received.records.load()) + " of " +
                           std::to_string(sent.records.load()) + " acknowledged records");
  }
}

}  // namespace

void add_bench_commands(CLI::App& app) {
  auto* bench = app.add_subcommand("bench", "Measure produce, consume and end-to-end performance");
  bench->require_subcommand(1);

  auto pa = std::make_shared<bench_args>();
  auto* produce = bench->add_subcommand("produce", "Produce as fast as possible (or at --rate); latency to ack");
  add_common(produce, *pa, true);
  produce->add_option("-P,--producers", pa->workers, "Producer clients, one thread each")->capture_default_str()
      ->check(CLI::Range(1, 64));
  produce->callback([pa] { run_bench_produce(*pa); });

  auto ca = std::make_shared<bench_args>();
  auto* consume = bench->add_subcommand("consume", "Read --count records from the beginning of the topic");
  add_common(consume, *ca, false);
  consume->add_option("-C,--consumers", ca->workers, "Consumer clients, one thread each (partitions split among them)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  consume->add_flag("-e,--to-end", ca->to_end, "Read every record the topic holds at the start (instead of --count)");
  consume->callback([ca] { run_bench_consume(*ca); });

  auto ea = std::make_shared<bench_args>();
  ea->linger_ms = 0;
  ea->count = 10000;
  auto* e2e = bench->add_subcommand("e2e", "End-to-end latency (produce to consume) at a fixed --rate");
  add_common(e2e, *ea, true);
  e2e->callback([ea] { run_bench_e2e(*ea); });
}

}  // namespace sluice::cli
