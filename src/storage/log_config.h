#pragma once
// Per-partition log settings with Kafka's topic-level names and defaults (TopicConfig /
// LogConfig). The broker derives topic defaults from server.properties with
// log_config_from_broker_properties(), then applies a topic's overrides with
// apply_topic_overrides(). Settings storage does not act on yet (compaction, replication,
// remote storage) are still validated and stored so DescribeConfigs can report them.
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace sluice::storage {

inline constexpr int64_t long_max = std::numeric_limits<int64_t>::max();

enum class timestamp_type { create_time, log_append_time };

struct log_config {
  int32_t segment_bytes = 1 << 30;                     // segment.bytes
  int64_t segment_ms = 604'800'000;                    // segment.ms (7 days)
  int64_t segment_jitter_ms = 0;                       // segment.jitter.ms
  int32_t segment_index_bytes = 10 * 1024 * 1024;      // segment.index.bytes
  int32_t index_interval_bytes = 4096;                 // index.interval.bytes
  int64_t retention_ms = 604'800'000;                  // retention.ms (-1 = forever)
  int64_t retention_bytes = -1;                        // retention.bytes (-1 = unlimited)
  int64_t flush_messages = long_max;                   // flush.messages (long_max = OS decides)
  int64_t flush_ms = long_max;                         // flush.ms (long_max = OS decides)
  int64_t file_delete_delay_ms = 60'000;               // file.delete.delay.ms
  int32_t max_message_bytes = 1'048'588;               // max.message.bytes
  timestamp_type message_timestamp_type = timestamp_type::create_time;  // message.timestamp.type
  bool cleanup_policy_delete = true;                   // cleanup.policy contains "delete"
  bool cleanup_policy_compact = false;                 // cleanup.policy contains "compact"
  bool preallocate = false;                            // preallocate
  int32_t min_insync_replicas = 1;                     // min.insync.replicas
  // Stored and validated; acted on by other modules or not yet.
  std::string compression_type = "producer";           // compression.type
  int32_t compression_gzip_level = -1;                 // compression.gzip.level
  int32_t compression_lz4_level = 9;                   // compression.lz4.level
  int32_t compression_zstd_level = 3;                  // compression.zstd.level
  int64_t delete_retention_ms = 86'400'000;            // delete.retention.ms
  int64_t min_compaction_lag_ms = 0;                   // min.compaction.lag.ms
  int64_t max_compaction_lag_ms = long_max;            // max.compaction.lag.ms
  double min_cleanable_dirty_ratio = 0.5;              // min.cleanable.dirty.ratio
  int64_t message_timestamp_difference_max_ms = long_max;  // message.timestamp.difference.max.ms
  int64_t message_timestamp_before_max_ms = long_max;  // message.timestamp.before.max.ms
  int64_t message_timestamp_after_max_ms = long_max;   // message.timestamp.after.max.ms
  bool unclean_leader_election_enable = false;         // unclean.leader.election.enable
  bool message_downconversion_enable = true;           // message.downconversion.enable
  std::string message_format_version = "3.0-IV1";      // message.format.version
  int64_t local_retention_ms = -2;                     // local.retention.ms
  int64_t local_retention_bytes = -2;                  // local.retention.bytes
  bool remote_storage_enable = false;                  // remote.storage.enable
  std::string leader_replication_throttled_replicas;   // leader.replication.throttled.replicas
  std::string follower_replication_throttled_replicas; // follower.replication.throttled.replicas

  bool flush_messages_enabled() const { return flush_messages != long_max; }
  bool flush_ms_enabled() const { return flush_ms != long_max; }
  bool operator==(const log_config&) const = default;
};

// Which key was rejected and why ("segment.bytes: must be at least 14").
struct config_error {
  std::string key;
  std::string reason;
};

// Returns `base` with each override applied. Fails with errc::unknown_config for a name that is
// not a topic config and errc::invalid_config for a malformed or out-of-range value; `err`
// (optional) then names the key. All-or-nothing: on error nothing is applied.
result<log_config> apply_topic_overrides(const log_config& base, const std::map<std::string, std::string>& overrides,
                                         config_error* err = nullptr);

// Topic defaults from broker properties (server.properties names such as log.segment.bytes,
// log.retention.hours). Keys that are not log settings are ignored; when several broker names
// map to one topic config the most precise wins (log.retention.ms > .minutes > .hours).
result<log_config> log_config_from_broker_properties(const std::map<std::string, std::string>& props,
                                                     config_error* err = nullptr);

// Every topic config with its current value, as DescribeConfigs reports it.
std::map<std::string, std::string> describe_log_config(const log_config& c);

struct topic_config_name {
  std::string_view topic_name;                // e.g. "retention.ms"
  std::vector<std::string_view> broker_names; // e.g. {"log.retention.ms", "log.retention.minutes", ...}
};
// All topic-level config names, with their broker-level names in precedence order.
const std::vector<topic_config_name>& topic_config_names();
bool is_topic_config(std::string_view name);

}  // namespace sluice::storage
