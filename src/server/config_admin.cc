#include "server/config_admin.h"

#include <charconv>
#include <unordered_map>

#include <fmt/format.h>

#include "base/logging.h"
#include "server/topic_creation.h"

namespace sluice::server {
namespace {

std::vector<std::string> split_list(const std::string& v) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= v.size()) {
    size_t comma = v.find(',', start);
    std::string item = v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    auto b = item.find_first_not_of(" \t");
    auto e = item.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string join(const std::vector<std::string>& v) { return fmt::format("{}", fmt::join(v, ",")); }

struct topic_config_info {
  kafka_config_type type;
  const char* doc;
};

const std::unordered_map<std::string, topic_config_info>& topic_config_info_table() {
  using K = kafka_config_type;
  static const std::unordered_map<std::string, topic_config_info> t = {
      {"segment.bytes", {K::int_, "Segment file size for the log; a new segment is rolled when it is exceeded."}},
      {"segment.ms", {K::long_, "Roll a new segment after this time even if the current one is not full."}},
      {"segment.jitter.ms", {K::long_, "Maximum random jitter subtracted from segment.ms to avoid thundering rolls."}},
      {"segment.index.bytes", {K::int_, "Size of the offset index; a full index rolls the segment."}},
      {"index.interval.bytes", {K::int_, "How often (in bytes) an entry is added to the offset index."}},
      {"retention.ms", {K::long_, "Maximum time a log segment is retained before it is deleted; -1 = no time limit."}},
      {"retention.bytes", {K::long_, "Maximum size a partition can grow to before old segments are deleted; -1 = no limit."}},
      {"flush.messages", {K::long_, "Force an fsync after this many messages (off by default: the OS writes back)."}},
      {"flush.ms", {K::long_, "Force an fsync when data is this old (off by default: the OS writes back)."}},
      {"file.delete.delay.ms", {K::long_, "Time to wait before deleting a file from the filesystem."}},
      {"max.message.bytes", {K::int_, "Largest record batch size allowed by Kafka (after compression if compression is enabled)."}},
      {"message.timestamp.type", {K::string, "Whether the timestamp in the message is CreateTime or LogAppendTime."}},
      {"cleanup.policy", {K::list, "A list of 'delete' (discard old segments) and/or 'compact' (keep the latest value per key)."}},
      {"preallocate", {K::boolean, "True to preallocate the file on disk when creating a new log segment."}},
      {"min.insync.replicas", {K::int_, "Minimum number of in-sync replicas that must acknowledge a write with acks=all."}},
      {"compression.type", {K::string, "Final compression type of the topic's data: uncompressed, zstd, lz4, snappy, gzip or producer."}},
      {"compression.gzip.level", {K::int_, "Compression level when compression.type is gzip."}},
      {"compression.lz4.level", {K::int_, "Compression level when compression.type is lz4."}},
      {"compression.zstd.level", {K::int_, "Compression level when compression.type is zstd."}},
      {"delete.retention.ms", {K::long_, "How long delete tombstones are retained for compacted topics."}},
      {"min.compaction.lag.ms", {K::long_, "Minimum time a message remains uncompacted in the log."}},
      {"max.compaction.lag.ms", {K::long_, "Maximum time a message remains ineligible for compaction."}},
      {"min.cleanable.dirty.ratio", {K::double_, "Dirty-to-total ratio above which the log cleaner compacts the log."}},
      {"message.timestamp.difference.max.ms", {K::long_, "Deprecated: maximum difference between a message's timestamp and the broker's clock."}},
      {"message.timestamp.before.max.ms", {K::long_, "Maximum allowed time a message timestamp may be behind the broker's clock."}},
      {"message.timestamp.after.max.ms", {K::long_, "Maximum allowed time a message timestamp may be ahead of the broker's clock."}},
      {"unclean.leader.election.enable", {K::boolean, "Allow replicas not in the ISR to be elected leader as a last resort (may lose data)."}},
      {"message.downconversion.enable", {K::boolean, "Whether down-conversion of message formats is enabled to satisfy consume requests."}},
      {"message.format.version", {K::string, "Deprecated: the message format version (ignored for v2 record batches)."}},
      {"local.retention.ms", {K::long_, "Tiered storage: local retention time; -2 = use retention.ms."}},
      {"local.retention.bytes", {K::long_, "Tiered storage: local retention size; -2 = use retention.bytes."}},
      {"remote.storage.enable", {K::boolean, "Tiered storage: whether remote storage is enabled for the topic."}},
      {"leader.replication.throttled.replicas", {K::list, "Replicas whose log replication is throttled on the leader side."}},
      {"follower.replication.throttled.replicas", {K::list, "Replicas whose log replication is throttled on the follower side."}},
  };
  return t;
}

}  // namespace

broker_config static_broker_config(broker_services& broker) { return broker.static_config; }

std::optional<std::string> parse_broker_resource(const broker_services& broker, const std::string& name,
                                                 broker_resource* out) {
  if (name.empty()) {
    out->cluster_default = true;
    return std::nullopt;
  }
  int32_t id = 0;
  auto [p, ec] = std::from_chars(name.data(), name.data() + name.size(), id);
  if (ec != std::errc() || p != name.data() + name.size())
    return fmt::format("Broker id must be an integer, but it is: {}", name);
  if (id != broker.settings.broker_id)
    return fmt::format("Unexpected broker id, expected {} or empty string, but received {}", broker.settings.broker_id,
                       name);
  out->cluster_default = false;
  return std::nullopt;
}

std::optional<config_problem> validate_broker_dynamic_configs(broker_services& broker,
                                                             const std::map<std::string, std::string>& configs) {
  std::vector<std::string> not_dynamic;
  for (const auto& [k, v] : configs) {
    const auto* def = find_broker_config(k);
    if (def && !def->dynamic) not_dynamic.push_back(k);
  }
  if (!not_dynamic.empty())
    return config_problem{protocol::error_code::invalid_request,
                          fmt::format("Cannot update these configs dynamically: {}", fmt::join(not_dynamic, ", "))};
  broker_config c = static_broker_config(broker);
  for (const auto& [k, v] : configs) {
    std::string why;
    if (!c.set_dynamic(k, v, &why)) return config_problem{protocol::error_code::invalid_config, why};
  }
  return std::nullopt;
}

asio::awaitable<std::optional<config_problem>> apply_broker_dynamic_configs(
    broker_services& broker, const std::map<std::string, std::string>& configs) {
  if (auto p = validate_broker_dynamic_configs(broker, configs)) co_return p;
  if (auto r = broker.controller.set_broker_dynamic_configs(configs); !r)
    co_return config_problem{to_kafka_error(r.error()), "cannot store the broker configs: " + r.error().message()};
  broker_config rebuilt = static_broker_config(broker);
  for (const auto& [k, v] : configs) {
    std::string why;
    (void)rebuilt.set_dynamic(k, v, &why);  // validated above
  }
  broker.config.update([&](broker_config& c) { c = rebuilt; });
  log::get("server")->info("dynamic broker configs now: {}", configs.empty() ? std::string("(none)") : [&] {
    std::vector<std::string> kv;
    for (const auto& [k, v] : configs) kv.push_back(k + "=" + v);
    return join(kv);
  }());
  co_await propagate_metadata(broker);
  co_return std::nullopt;
}

kafka_config_type topic_config_type(const std::string& name) {
  const auto& t = topic_config_info_table();
  auto it = t.find(name);
  return it == t.end() ? kafka_config_type::string : it->second.type;
}

std::string topic_config_doc(const std::string& name) {
  const auto& t = topic_config_info_table();
  auto it = t.find(name);
  return it == t.end() ? std::string() : std::string(it->second.doc);
}

kafka_config_type broker_config_kafka_type(const config_definition& def) {
  switch (def.type) {
    case config_type::boolean: return kafka_config_type::boolean;
    case config_type::int32: return kafka_config_type::int_;
    case config_type::int64: return kafka_config_type::long_;
    case config_type::string: return kafka_config_type::string;
    case config_type::list: return kafka_config_type::list;
    case config_type::password: return kafka_config_type::password;
  }
  return kafka_config_type::unknown;
}

std::string list_append(const std::string& current, const std::string& add) {
  auto out = split_list(current);
  for (auto& item : split_list(add))
    if (std::find(out.begin(), out.end(), item) == out.end()) out.push_back(item);
  return join(out);
}

std::string list_subtract(const std::string& current, const std::string& remove) {
  auto out = split_list(current);
  auto rm = split_list(remove);
  std::erase_if(out, [&](const std::string& s) { return std::find(rm.begin(), rm.end(), s) != rm.end(); });
  return join(out);
}

}  // namespace sluice::server
