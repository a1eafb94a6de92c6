#pragma once
// Shared by the client-side commands (topic, produce, consume, group, cluster, bench): the
// connection options every command takes (-b, --timeout, -X), librdkafka handles owned by
// unique_ptr, and one way to report an error (a message naming the problem, exit code 1).
#include <librdkafka/rdkafka.h>

#include <CLI/CLI.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::cli {

// Exit codes of the client commands: 0 success, 1 the operation failed (the message says why),
// 2 bad usage (argument parsing, also CLI11's own errors; see broker/main.cc).
inline constexpr int exit_failure = 1;
inline constexpr int exit_usage = 2;

struct client_options {
  std::string brokers = "127.0.0.1:9092";
  int32_t timeout_ms = 10000;              // bounds every wait for a broker answer
  std::vector<std::string> properties;     // -X key=value librdkafka properties, applied last
  bool verbose = false;                    // librdkafka's own log lines on stderr
};

// Adds -b/--brokers, --timeout, -X and -v to a leaf command.
void add_client_options(CLI::App* cmd, client_options& opts);

// Prints "sluice <command>: <message>" on stderr and sets the exit code (default 1).
void report_error(std::string_view command, std::string_view message, int code = exit_failure);

struct rk_deleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using rk_ptr = std::unique_ptr<rd_kafka_t, rk_deleter>;

struct queue_deleter {
  void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
};
using queue_ptr = std::unique_ptr<rd_kafka_queue_t, queue_deleter>;

struct event_deleter {
  void operator()(rd_kafka_event_t* e) const { rd_kafka_event_destroy(e); }
};
using event_ptr = std::unique_ptr<rd_kafka_event_t, event_deleter>;

struct metadata_deleter {
  void operator()(const rd_kafka_metadata_t* m) const { rd_kafka_metadata_destroy(m); }
};
using metadata_ptr = std::unique_ptr<const rd_kafka_metadata_t, metadata_deleter>;

using property_list = std::vector<std::pair<std::string, std::string>>;

// A configuration from `opts` plus `extra` (the command's own settings; -X overrides both).
// Returns nullptr and sets `error` on an unknown or invalid property. Ownership passes to the
// caller (or to rd_kafka_new on success).
rd_kafka_conf_t* make_conf(const client_options& opts, const property_list& extra, std::string& error);

// A client handle of `type` built from make_conf(); nullptr and `error` on failure.
rk_ptr make_client(rd_kafka_type_t type, const client_options& opts, const property_list& extra,
                   std::string& error);
rk_ptr make_client(rd_kafka_type_t type, rd_kafka_conf_t* conf, std::string& error);

// Metadata of all topics (never auto-creates). On failure `error` names the brokers and the
// timeout ("cannot reach 127.0.0.1:1 within 10000 ms: ...").
metadata_ptr fetch_metadata(rd_kafka_t* rk, const client_options& opts, std::string& error);
const rd_kafka_metadata_topic_t* find_topic(const rd_kafka_metadata_t* md, std::string_view name);

// Waits for the result event of one admin call on `queue`. nullptr and `error` on a timeout or a
// request-level error (for example "broker unreachable").
event_ptr wait_admin_result(rd_kafka_queue_t* queue, const client_options& opts, std::string& error);

// Options for an admin call: request and operation timeouts from opts.
struct admin_options_deleter {
  void operator()(rd_kafka_AdminOptions_t* o) const { rd_kafka_AdminOptions_destroy(o); }
};
using admin_options_ptr = std::unique_ptr<rd_kafka_AdminOptions_t, admin_options_deleter>;
admin_options_ptr make_admin_options(rd_kafka_t* rk, rd_kafka_admin_op_t op, const client_options& opts);

// "UNKNOWN_TOPIC_OR_PART (Broker: Unknown topic or partition)"; a broker message when present.
std::string describe_error(rd_kafka_resp_err_t err, const char* message = nullptr);

// Reads chosen partitions from chosen offsets without a consumer group, through librdkafka's
// simple consumer API (what kcat -C does): no group.id, so no FindCoordinator, no
// __consumer_offsets and nothing committed. `rk` is a consumer handle that outlives the reader;
// one thread uses the reader.
//
// Consumers made for a partition_reader use fetch.wait.max.ms = partition_reader_fetch_wait_ms
// (librdkafka's 500 ms default would make `consume -e` and `bench consume` slow to notice the
// end of a partition).
inline constexpr int partition_reader_fetch_wait_ms = 100;
class partition_reader {
 public:
  partition_reader(rd_kafka_t* rk, const std::string& topic);
  // Stops every partition.
  ~partition_reader();
  partition_reader(const partition_reader&) = delete;
  partition_reader& operator=(const partition_reader&) = delete;
  // offset: an absolute offset or RD_KAFKA_OFFSET_BEGINNING / RD_KAFKA_OFFSET_END.
  rd_kafka_resp_err_t start(int32_t partition, int64_t offset);
  // The next message or event (nullptr after timeout_ms); the caller destroys it.
  rd_kafka_message_t* poll(int timeout_ms);

 private:
  rd_kafka_topic_t* _rkt;
  rd_kafka_queue_t* _queue;
  std::vector<int32_t> _started;
};

// Checks that the first broker in `md` advertises every API key in `keys` (ApiVersions).
// false and `error` naming the missing APIs, or the probe's failure, otherwise. Used before
// calls whose failure librdkafka 2.0.2 handles badly (DescribeConsumerGroups on a broker without
// the API leaves rd_kafka_destroy deadlocked; a group consumer retries forever).
bool require_apis(const rd_kafka_metadata_t* md, const client_options& opts, const std::vector<int16_t>& keys,
                  std::string& error);

// A handle on the cluster for the commands that query it as a whole (group, transactions): a
// client, the metadata it fetched and a queue for admin results.
struct session {
  rk_ptr rk;
  metadata_ptr md;
  queue_ptr queue;
};
// Connects to the bootstrap brokers, fetches metadata and checks the first broker advertises
// `needed_apis` (require_apis). On failure reports the problem under `command` and returns nullptr.
std::unique_ptr<session> open_session(std::string_view command, const client_options& opts,
                                      const std::vector<int16_t>& needed_apis);

// Splits "key=value"; false when there is no '=' or the key is empty.
bool split_key_value(std::string_view text, std::string& key, std::string& value);

}  // namespace sluice::cli
