// `sluice consume TOPIC`: prints records by assignment (all or chosen partitions, from the
// beginning, the end, an offset or a timestamp) or as a member of a consumer group (-g).
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/record_format.h"

namespace sluice::cli {
namespace {

std::atomic<bool> g_interrupted{false};
void on_interrupt(int) { g_interrupted = true; }

struct args_t {
  client_options client;
  std::string topic;
  std::vector<int32_t> partitions;
  bool from_beginning = false;
  std::string offset;
  int64_t from_timestamp_ms = -1;
  int64_t count = -1;
  std::string group;
  std::string format = "%v\\n";
  bool exit_at_end = false;
  int64_t idle_timeout_ms = -1;
};

// Resolves the start offset argument: beginning|earliest, end|latest, a non-negative offset.
bool parse_offset(const std::string& s, int64_t& out) {
  if (s == "beginning" || s == "earliest") {
    out = RD_KAFKA_OFFSET_BEGINNING;
  } else if (s == "end" || s == "latest") {
    out = RD_KAFKA_OFFSET_END;
  } else {
    if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 18) return false;
    out = std::stoll(s);
  }
  return true;
}

struct partition_list_deleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const { rd_kafka_topic_partition_list_destroy(l); }
};
using partition_list_ptr = std::unique_ptr<rd_kafka_topic_partition_list_t, partition_list_deleter>;

void run_consume(const args_t& a) {
  const char* name = "consume";
  record_format format;
  std::string error;
  if (!format.parse(a.format, error)) return report_error(name, "--format: " + error, exit_usage);
  int64_t start = RD_KAFKA_OFFSET_END;
  int start_options = (a.from_beginning ? 1 : 0) + (a.offset.empty() ? 0 : 1) + (a.from_timestamp_ms >= 0 ? 1 : 0);
  if (start_options > 1) {
    return report_error(name, "choose one of --from-beginning, --offset and --from-timestamp", exit_usage);
  }
  if (a.from_beginning) start = RD_KAFKA_OFFSET_BEGINNING;
  if (!a.offset.empty() && !parse_offset(a.offset, start)) {
    return report_error(name, "--offset expects beginning, end or a non-negative offset, got '" + a.offset + "'",
                        exit_usage);
  }
  bool group_mode = !a.group.empty();
  if (group_mode && (!a.partitions.empty() || !a.offset.empty() || a.from_timestamp_ms >= 0)) {
    return report_error(name,
                        "-g/--group takes partitions and positions from the group; --partition, --offset and "
                        "--from-timestamp need assignment mode (no -g); use `sluice group reset-offsets` to move a group",
                        exit_usage);
  }

  property_list props{{"enable.partition.eof", a.exit_at_end ? "true" : "false"}};
  if (group_mode) {
    props.emplace_back("group.id", a.group);
    props.emplace_back("auto.offset.reset", a.from_beginning ? "earliest" : "latest");
  } else {
    props.emplace_back("enable.auto.commit", "false");
    props.emplace_back("auto.offset.reset", "earliest");
    props.emplace_back("fetch.wait.max.ms", std::to_string(partition_reader_fetch_wait_ms));
  }
  if (group_mode) {
    // A group member needs OffsetCommit 8, OffsetFetch 9, FindCoordinator 10, JoinGroup 11,
    // Heartbeat 12, LeaveGroup 13 and SyncGroup 14; without them librdkafka retries forever.
    // Checked with a plain handle: a consumer with a group.id sends FindCoordinator as soon as it
    // connects.
    rk_ptr probe = make_client(RD_KAFKA_PRODUCER, a.client, {}, error);
    if (!probe) return report_error(name, error, exit_usage);
    metadata_ptr pmd = fetch_metadata(probe.get(), a.client, error);
    if (!pmd) return report_error(name, error);
    if (!require_apis(pmd.get(), a.client, {8, 9, 10, 11, 12, 13, 14}, error)) {
      return report_error(name, "-g needs the consumer-group APIs: " + error);
    }
  }
  rk_ptr rk = make_client(RD_KAFKA_CONSUMER, a.client, props, error);
  if (!rk) return report_error(name, error, exit_usage);
  metadata_ptr md = fetch_metadata(rk.get(), a.client, error);
  if (!md) return report_error(name, error);
  const rd_kafka_metadata_topic_t* tp = find_topic(md.get(), a.topic);
  if (!tp) return report_error(name, "unknown topic '" + a.topic + "'");

  std::vector<int32_t> partitions = a.partitions;
  if (partitions.empty()) {
    for (int i = 0; i < tp->partition_cnt; ++i) partitions.push_back(tp->partitions[i].id);
  }
  for (int32_t p : partitions) {
    if (p < 0 || p >= tp->partition_cnt) {
      return report_error(name, "partition " + std::to_string(p) + " does not exist: topic '" + a.topic + "' has " +
                                    std::to_string(tp->partition_cnt) + " partition(s)");
    }
  }

  std::unique_ptr<partition_reader> reader;
  if (group_mode) {
    rd_kafka_poll_set_consumer(rk.get());
    partition_list_ptr sub(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(sub.get(), a.topic.c_str(), RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(rk.get(), sub.get());
    if (err) return report_error(name, "subscribe to '" + a.topic + "': " + describe_error(err));
  } else {
    partition_list_ptr list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
    for (int32_t p : partitions) {
      rd_kafka_topic_partition_list_add(list.get(), a.topic.c_str(), p)->offset =
          a.from_timestamp_ms >= 0 ? a.from_timestamp_ms : start;
    }
    if (a.from_timestamp_ms >= 0) {
      // ListOffsets by timestamp: the first offset whose timestamp is >= the given one; -1 when
      // every record is older (then start at the end).
      rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(rk.get(), list.get(), a.client.timeout_ms);
      if (err) return report_error(name, "offsets for timestamp " + std::to_string(a.from_timestamp_ms) + ": " + describe_error(err));
      for (int i = 0; i < list->cnt; ++i) {
        auto& e = list->elems[i];
        if (e.err) return report_error(name, "offset for timestamp in partition " + std::to_string(e.partition) + ": " + describe_error(e.err));
        if (e.offset < 0) e.offset = RD_KAFKA_OFFSET_END;
      }
    }
    reader = std::make_unique<partition_reader>(rk.get(), a.topic);
    for (int i = 0; i < list->cnt; ++i) {
      rd_kafka_resp_err_t err = reader->start(list->elems[i].partition, list->elems[i].offset);
      if (err) return report_error(name, "start reading partition " + std::to_string(list->elems[i].partition) + ": " + describe_error(err));
    }
  }

  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  std::set<int32_t> at_end;
  int64_t printed = 0;
  auto last_record = std::chrono::steady_clock::now();
  std::string out;
  bool failed = false;
  while (!g_interrupted && (a.count < 0 || printed < a.count)) {
    rd_kafka_message_t* m = reader ? reader->poll(100) : rd_kafka_consumer_poll(rk.get(), 100);
    if (!m) {
      std::fflush(stdout);
      if (a.idle_timeout_ms >= 0 &&
          std::chrono::steady_clock::now() - last_record > std::chrono::milliseconds(a.idle_timeout_ms)) {
        if (a.count >= 0) {
          report_error(name, "received " + std::to_string(printed) + " of " + std::to_string(a.count) +
                                 " record(s) before --idle-timeout-ms " + std::to_string(a.idle_timeout_ms) + " passed");
          failed = true;
        }
        break;
      }
      continue;
    }
    std::unique_ptr<rd_kafka_message_t, void (*)(rd_kafka_message_t*)> msg(m, rd_kafka_message_destroy);
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      at_end.insert(m->partition);
      size_t assigned = partitions.size();
      if (group_mode) {
        rd_kafka_topic_partition_list_t* current = nullptr;
        if (rd_kafka_assignment(rk.get(), &current) == RD_KAFKA_RESP_ERR_NO_ERROR && current) {
          assigned = static_cast<size_t>(current->cnt);
          rd_kafka_topic_partition_list_destroy(current);
        }
      }
      if (a.exit_at_end && at_end.size() >= assigned) break;
      continue;
    }
    if (m->err) {
      // Errors not tied to a record (a broker gone for a moment) are retried by librdkafka;
      // those naming the topic or partition are final.
      if (m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
          m->err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION || m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE ||
          m->err == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED || m->err == RD_KAFKA_RESP_ERR__FATAL ||
          m->err == RD_KAFKA_RESP_ERR_INVALID_GROUP_ID || m->err == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE) {
        report_error(name, describe_error(m->err, rd_kafka_message_errstr(m)));
        failed = true;
        break;
      }
      if (a.client.verbose) std::fprintf(stderr, "sluice consume: %s (retrying)\n", describe_error(m->err).c_str());
      continue;
    }
    at_end.erase(m->partition);
    last_record = std::chrono::steady_clock::now();
    out.clear();
    format.append(m, out);
    std::fwrite(out.data(), 1, out.size(), stdout);
    ++printed;
  }
  std::fflush(stdout);
  if (group_mode) rd_kafka_consumer_close(rk.get());  // commits and leaves the group
  reader.reset();
  if (!failed && g_interrupted) std::fprintf(stderr, "sluice consume: interrupted after %lld record(s)\n", static_cast<long long>(printed));
}

}  // namespace

void add_consume_command(CLI::App& app) {
  auto a = std::make_shared<args_t>();
  auto* cmd = app.add_subcommand("consume", "Print records of a topic");
  cmd->add_option("topic", a->topic, "Topic to read")->required();
  cmd->add_option("-p,--partition", a->partitions, "Read only these partitions (repeatable; default all)");
  cmd->add_flag("--from-beginning", a->from_beginning, "Start at the first record (default: only new records)");
  cmd->add_option("-o,--offset", a->offset, "Start at beginning, end, or this offset in each partition");
  cmd->add_option("--from-timestamp", a->from_timestamp_ms,
                  "Start at the first record whose timestamp (ms since the epoch) is >= this")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 53));
  cmd->add_option("-n,--count,--max-messages", a->count, "Exit after this many records")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 62));
  cmd->add_option("-g,--group", a->group, "Consume as a member of this consumer group (commits offsets)");
  cmd->add_option("-f,--format", a->format,
                  "json, or a template: %t topic, %p partition, %o offset, %T timestamp, %k key, %v value, "
                  "%h headers, %K/%V key/value length, \\n \\t \\\\")
      ->capture_default_str();
  cmd->add_flag("-e,--exit-at-end", a->exit_at_end, "Exit once every partition has been read to its end");
  cmd->add_option("--idle-timeout-ms", a->idle_timeout_ms,
                  "Exit when no record arrives for this long (non-zero exit if -n was not reached)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  add_client_options(cmd, a->client);
  cmd->callback([a] { run_consume(*a); });
}

}  // namespace sluice::cli
