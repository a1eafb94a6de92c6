#include "storage/log_config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <functional>
#include <optional>

#include <fmt/format.h>

#include "storage/errc.h"

namespace sluice::storage {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::optional<int64_t> parse_long(std::string_view s) {
  s = trim(s);
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::optional<bool> parse_bool(std::string_view s) {
  std::string l(trim(s));
  std::transform(l.begin(), l.end(), l.begin(), [](unsigned char c) { return std::tolower(c); });
  if (l == "true") return true;
  if (l == "false") return false;
  return std::nullopt;
}

std::vector<std::string> parse_list(std::string_view s) {
  std::vector<std::string> out;
  s = trim(s);
  while (!s.empty()) {
    size_t comma = s.find(',');
    auto item = trim(s.substr(0, comma));
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

// A setter returns an empty string on success or the reason for rejecting the value.
// `scale` converts broker units (minutes, hours) to the topic config's unit.
using setter = std::function<std::string(log_config&, std::string_view, int64_t scale)>;
using getter = std::function<std::string(const log_config&)>;

struct broker_name {
  std::string_view name;
  int64_t scale;
};

struct config_def {
  std::string_view name;
  setter set;
  getter get;
  std::vector<broker_name> broker;
};

template <typename T>
config_def integral(std::string_view name, T log_config::*field, int64_t min, int64_t max,
                    std::vector<broker_name> broker) {
  return {name,
          [field, min, max](log_config& c, std::string_view v, int64_t scale) -> std::string {
            auto x = parse_long(v);
            if (!x) return "not a number";
            int64_t scaled = *x;
            if (scale != 1 && __builtin_mul_overflow(*x, scale, &scaled)) return "value too large";
            if (scaled < min) return fmt::format("must be at least {}", min);
            if (scaled > max) return fmt::format("must be at most {}", max);
            c.*field = static_cast<T>(scaled);
            return {};
          },
          [field](const log_config& c) { return std::to_string(c.*field); }, std::move(broker)};
}

config_def boolean(std::string_view name, bool log_config::*field, std::vector<broker_name> broker) {
  return {name,
          [field](log_config& c, std::string_view v, int64_t) -> std::string {
            auto x = parse_bool(v);
            if (!x) return "must be true or false";
            c.*field = *x;
            return {};
          },
          [field](const log_config& c) { return std::string(c.*field ? "true" : "false"); }, std::move(broker)};
}

config_def string_in(std::string_view name, std::string log_config::*field, std::vector<std::string_view> allowed,
                     std::vector<broker_name> broker) {
  return {name,
          [field, allowed](log_config& c, std::string_view v, int64_t) -> std::string {
            auto t = trim(v);
            if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), t) == allowed.end())
              return fmt::format("must be one of {}", fmt::join(allowed, ", "));
            c.*field = std::string(t);
            return {};
          },
          [field](const log_config& c) { return c.*field; }, std::move(broker)};
}

const std::vector<config_def>& defs() {
  static const std::vector<config_def> d = [] {
    constexpr int64_t int_max = std::numeric_limits<int32_t>::max();
    std::vector<config_def> v;
    // Kafka's minimum segment size is the legacy v0 record overhead (14 bytes).
    v.push_back(integral("segment.bytes", &log_config::segment_bytes, 14, int_max, {{"log.segment.bytes", 1}}));
    v.push_back(integral("segment.ms", &log_config::segment_ms, 1, long_max,
                         {{"log.roll.ms", 1}, {"log.roll.hours", 3'600'000}}));
    v.push_back(integral("segment.jitter.ms", &log_config::segment_jitter_ms, 0, long_max,
                         {{"log.roll.jitter.ms", 1}, {"log.roll.jitter.hours", 3'600'000}}));
    v.push_back(integral("segment.index.bytes", &log_config::segment_index_bytes, 4, int_max,
                         {{"log.index.size.max.bytes", 1}}));
    v.push_back(integral("index.interval.bytes", &log_config::index_interval_bytes, 0, int_max,
                         {{"log.index.interval.bytes", 1}}));
    v.push_back(integral("retention.ms", &log_config::retention_ms, -1, long_max,
                         {{"log.retention.ms", 1}, {"log.retention.minutes", 60'000}, {"log.retention.hours", 3'600'000}}));
    v.push_back(integral("retention.bytes", &log_config::retention_bytes, std::numeric_limits<int64_t>::min(), long_max,
                         {{"log.retention.bytes", 1}}));
    v.push_back(integral("flush.messages", &log_config::flush_messages, 1, long_max,
                         {{"log.flush.interval.messages", 1}}));
    v.push_back(integral("flush.ms", &log_config::flush_ms, 0, long_max,
                         {{"log.flush.interval.ms", 1}, {"log.flush.scheduler.interval.ms", 1}}));
    v.push_back(integral("file.delete.delay.ms", &log_config::file_delete_delay_ms, 0, long_max,
                         {{"log.segment.delete.delay.ms", 1}}));
    v.push_back(integral("max.message.bytes", &log_config::max_message_bytes, 0, int_max, {{"message.max.bytes", 1}}));
    v.push_back({"message.timestamp.type",
                 [](log_config& c, std::string_view s, int64_t) -> std::string {
                   auto t = trim(s);
                   if (t == "CreateTime") c.message_timestamp_type = timestamp_type::create_time;
                   else if (t == "LogAppendTime") c.message_timestamp_type = timestamp_type::log_append_time;
                   else return "must be CreateTime or LogAppendTime";
                   return {};
                 },
                 [](const log_config& c) {
                   return std::string(c.message_timestamp_type == timestamp_type::create_time ? "CreateTime"
                                                                                             : "LogAppendTime");
                 },
                 {{"log.message.timestamp.type", 1}}});
    v.push_back({"cleanup.policy",
                 [](log_config& c, std::string_view s, int64_t) -> std::string {
                   bool del = false, compact = false;
                   for (auto& item : parse_list(s)) {
                     if (item == "delete") del = true;
                     else if (item == "compact") compact = true;
                     else return fmt::format("unknown policy '{}' (expected delete and/or compact)", item);
                   }
                   c.cleanup_policy_delete = del;
                   c.cleanup_policy_compact = compact;
                   return {};
                 },
                 [](const log_config& c) {
                   std::vector<std::string> p;
                   if (c.cleanup_policy_compact) p.emplace_back("compact");
                   if (c.cleanup_policy_delete) p.emplace_back("delete");
                   return fmt::format("{}", fmt::join(p, ","));
                 },
                 {{"log.cleanup.policy", 1}}});
    v.push_back(boolean("preallocate", &log_config::preallocate, {{"log.preallocate", 1}}));
    v.push_back(integral("min.insync.replicas", &log_config::min_insync_replicas, 1, int_max,
                         {{"min.insync.replicas", 1}}));
    v.push_back(string_in("compression.type", &log_config::compression_type,
                          {"uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"}, {{"compression.type", 1}}));
    v.push_back({"compression.gzip.level",
                 [](log_config& c, std::string_view s, int64_t) -> std::string {
                   auto x = parse_long(s);
                   if (!x || !(*x == -1 || (*x >= 1 && *x <= 9))) return "must be -1 or in [1, 9]";
                   c.compression_gzip_level = static_cast<int32_t>(*x);
                   return {};
                 },
                 [](const log_config& c) { return std::to_string(c.compression_gzip_level); },
                 {{"compression.gzip.level", 1}}});
    v.push_back(integral("compression.lz4.level", &log_config::compression_lz4_level, 1, 17,
                         {{"compression.lz4.level", 1}}));
    v.push_back(integral("compression.zstd.level", &log_config::compression_zstd_level, -131072, 22,
                         {{"compression.zstd.level", 1}}));
    v.push_back(integral("delete.retention.ms", &log_config::delete_retention_ms, 0, long_max,
                         {{"log.cleaner.delete.retention.ms", 1}}));
    v.push_back(integral("min.compaction.lag.ms", &log_config::min_compaction_lag_ms, 0, long_max,
                         {{"log.cleaner.min.compaction.lag.ms", 1}}));
    v.push_back(integral("max.compaction.lag.ms", &log_config::max_compaction_lag_ms, 1, long_max,
                         {{"log.cleaner.max.compaction.lag.ms", 1}}));
    v.push_back({"min.cleanable.dirty.ratio",
                 [](log_config& c, std::string_view s, int64_t) -> std::string {
                   std::string t(trim(s));
                   char* end = nullptr;
                   double x = std::strtod(t.c_str(), &end);
                   if (t.empty() || end != t.c_str() + t.size()) return "not a number";
                   if (!(x >= 0.0 && x <= 1.0)) return "must be in [0, 1]";
                   c.min_cleanable_dirty_ratio = x;
                   return {};
                 },
                 [](const log_config& c) { return fmt::format("{}", c.min_cleanable_dirty_ratio); },
                 {{"log.cleaner.min.cleanable.ratio", 1}}});
    v.push_back(integral("message.timestamp.difference.max.ms", &log_config::message_timestamp_difference_max_ms, 0,
                         long_max, {{"log.message.timestamp.difference.max.ms", 1}}));
    v.push_back(integral("message.timestamp.before.max.ms", &log_config::message_timestamp_before_max_ms, 0, long_max,
                         {{"log.message.timestamp.before.max.ms", 1}}));
    v.push_back(integral("message.timestamp.after.max.ms", &log_config::message_timestamp_after_max_ms, 0, long_max,
                         {{"log.message.timestamp.after.max.ms", 1}}));
    v.push_back(boolean("unclean.leader.election.enable", &log_config::unclean_leader_election_enable,
                        {{"unclean.leader.election.enable", 1}}));
    v.push_back(boolean("message.downconversion.enable", &log_config::message_downconversion_enable,
                        {{"log.message.downconversion.enable", 1}}));
    v.push_back(string_in("message.format.version", &log_config::message_format_version, {},
                          {{"log.message.format.version", 1}}));
    v.push_back(integral("local.retention.ms", &log_config::local_retention_ms, -2, long_max,
                         {{"log.local.retention.ms", 1}}));
    v.push_back(integral("local.retention.bytes", &log_config::local_retention_bytes, -2, long_max,
                         {{"log.local.retention.bytes", 1}}));
    v.push_back(boolean("remote.storage.enable", &log_config::remote_storage_enable, {}));
    v.push_back(string_in("leader.replication.throttled.replicas", &log_config::leader_replication_throttled_replicas,
                          {}, {}));
    v.push_back(string_in("follower.replication.throttled.replicas",
                          &log_config::follower_replication_throttled_replicas, {}, {}));
    return v;
  }();
  return d;
}

const config_def* find_def(std::string_view name) {
  for (auto& d : defs())
    if (d.name == name) return &d;
  return nullptr;
}

}  // namespace

result<log_config> apply_topic_overrides(const log_config& base, const std::map<std::string, std::string>& overrides,
                                         config_error* err) {
  log_config c = base;
  for (auto& [k, v] : overrides) {
    const config_def* d = find_def(k);
    if (!d) {
      if (err) *err = {k, "unknown topic config"};
      return errc::unknown_config;
    }
    if (std::string why = d->set(c, v, 1); !why.empty()) {
      if (err) *err = {k, fmt::format("{}: {} (got '{}')", k, why, v)};
      return errc::invalid_config;
    }
  }
  return c;
}

result<log_config> log_config_from_broker_properties(const std::map<std::string, std::string>& props,
                                                     config_error* err) {
  log_config c;
  for (auto& d : defs()) {
    for (auto& b : d.broker) {  // first present name wins (most precise unit first)
      auto it = props.find(std::string(b.name));
      if (it == props.end()) continue;
      if (std::string why = d.set(c, it->second, b.scale); !why.empty()) {
        if (err) *err = {std::string(b.name), fmt::format("{}: {} (got '{}')", b.name, why, it->second)};
        return errc::invalid_config;
      }
      break;
    }
  }
  return c;
}

std::map<std::string, std::string> describe_log_config(const log_config& c) {
  std::map<std::string, std::string> out;
  for (auto& d : defs()) out.emplace(std::string(d.name), d.get(c));
  return out;
}

const std::vector<topic_config_name>& topic_config_names() {
  static const std::vector<topic_config_name> names = [] {
    std::vector<topic_config_name> v;
    for (auto& d : defs()) {
      topic_config_name n{d.name, {}};
      for (auto& b : d.broker) n.broker_names.push_back(b.name);
      v.push_back(std::move(n));
    }
    return v;
  }();
  return names;
}

bool is_topic_config(std::string_view name) { return find_def(name) != nullptr; }

}  // namespace sluice::storage
