#include "server/broker_config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <sstream>

#include <fmt/format.h>

namespace sluice::server {
namespace {

using T = config_type;
constexpr int64_t i32max = INT32_MAX;
constexpr int64_t lmax = INT64_MAX;

std::vector<config_definition> make_definitions() {
  const std::string lmax_s = std::to_string(lmax);
  std::vector<config_definition> d = {
      // Identity and networking
      {"broker.id", T::int32, "0", "Id of this broker; unique in a cluster (Kafka: -1 = generate; see docs/configuration.md)", -1, i32max},
      {"listeners", T::list, "PLAINTEXT://:9092", "Comma-separated listener URIs, NAME://host:port"},
      {"advertised.listeners", T::list, std::nullopt, "Listeners published to clients in Metadata; defaults to listeners"},
      {"listener.security.protocol.map", T::list, "PLAINTEXT:PLAINTEXT", "Listener name to security protocol"},
      {"socket.request.max.bytes", T::int32, "104857600", "Largest request the broker accepts; bigger frames close the connection", 1, i32max},
      {"socket.send.buffer.bytes", T::int32, "102400", "SO_SNDBUF for client sockets; -1 = OS default", -1, i32max},
      {"socket.receive.buffer.bytes", T::int32, "102400", "SO_RCVBUF for client sockets; -1 = OS default", -1, i32max},
      {"socket.listen.backlog.size", T::int32, "50", "listen(2) backlog", 1, i32max},
      {"connections.max.idle.ms", T::int64, "600000", "Idle connections are closed after this long", -1, lmax},
      {"queued.max.requests", T::int32, "500", "In-flight requests per connection before the broker stops reading from it", 1, i32max},
      {"num.network.threads", T::int32, "3", "Accepted for compatibility; Sluice runs one event loop per shard (sluice.shards)", 1, i32max, {}, false, false},
      {"num.io.threads", T::int32, "8", "Accepted for compatibility; Sluice runs one event loop per shard (sluice.shards)", 1, i32max, {}, false, false},
      {"num.recovery.threads.per.data.dir", T::int32, "1", "Accepted for compatibility; recovery runs on the startup thread", 1, i32max, {}, false, false},
      {"sluice.shards", T::int32, "0", "Event-loop threads (shards); 0 = one per CPU core", 0, 256},
      // Topics
      {"num.partitions", T::int32, "1", "Default partition count of auto-created topics", 1, i32max},
      {"default.replication.factor", T::int32, "1", "Default replication factor of auto-created topics", 1, 32767},
      {"auto.create.topics.enable", T::boolean, "true", "Create a topic on Metadata or Produce for an unknown name"},
      {"delete.topic.enable", T::boolean, "true", "Allow DeleteTopics"},
      {"message.max.bytes", T::int32, "1048588", "Largest record batch the broker accepts (topic: max.message.bytes)", 0, i32max, {}, true},
      {"compression.type", T::string, "producer", "Final compression of topic data; producer keeps what the producer sent", 0, 0,
       {"uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"}, true},
      {"log.message.timestamp.type", T::string, "CreateTime", "CreateTime or LogAppendTime", 0, 0, {"CreateTime", "LogAppendTime"}, true},
      {"min.insync.replicas", T::int32, "1", "Minimum ISR size for acks=all", 1, i32max, {}, true},
      {"unclean.leader.election.enable", T::boolean, "false", "Allow out-of-sync replicas to become leader", 0, 0, {}, true},
      {"offsets.topic.num.partitions", T::int32, "50", "Partitions of __consumer_offsets", 1, i32max},
      {"offsets.topic.replication.factor", T::int32, "3", "Replication factor of __consumer_offsets (capped by cluster size)", 1, 32767},
      {"offsets.topic.segment.bytes", T::int32, "104857600", "segment.bytes of __consumer_offsets", 1, i32max},
      {"offsets.retention.minutes", T::int32, "10080", "Committed offsets of empty groups expire after this long", 1, i32max},
      {"producer.id.expiration.ms", T::int32, "86400000", "Forget an idempotent producer this long after its last batch timestamp", 1, i32max},
      {"producer.id.expiration.check.interval.ms", T::int32, "600000", "How often expired producer ids are removed", 1, i32max},
      {"transaction.state.log.num.partitions", T::int32, "50", "Partitions of __transaction_state", 1, i32max},
      {"transaction.state.log.replication.factor", T::int32, "3", "Replication factor of __transaction_state", 1, 32767},
      {"transaction.state.log.min.isr", T::int32, "2", "min.insync.replicas of __transaction_state", 1, i32max},
      {"transaction.state.log.segment.bytes", T::int32, "104857600", "segment.bytes of __transaction_state", 1, i32max},
      {"transaction.max.timeout.ms", T::int32, "900000", "Largest transaction.timeout.ms a transactional producer may ask for", 1, i32max},
      {"transactional.id.expiration.ms", T::int32, "604800000", "A transactional id with no open transaction is forgotten after this long without updates", 1, i32max},
      {"transaction.abort.timed.out.transaction.cleanup.interval.ms", T::int32, "10000", "How often transactions open longer than their timeout are aborted", 1, i32max},
      {"transaction.partition.verification.enable", T::boolean, "true", "Check with the transaction coordinator that a partition was added to the transaction before the first transactional batch of a producer is appended (KIP-890)"},
      {"transaction.remove.expired.transaction.cleanup.interval.ms", T::int32, "3600000", "How often expired transactional ids are removed", 1, i32max},
      {"group.initial.rebalance.delay.ms", T::int32, "3000", "Delay of the first rebalance of an empty group", 0, i32max},
      {"group.min.session.timeout.ms", T::int32, "6000", "Smallest session timeout a member may ask for", 0, i32max},
      {"group.max.session.timeout.ms", T::int32, "1800000", "Largest session timeout a member may ask for", 0, i32max},
      {"group.max.size", T::int32, "2147483647", "Most members a consumer group may have", 1, i32max},
      {"offsets.retention.check.interval.ms", T::int64, "600000", "How often expired committed offsets are removed", 1, lmax},
      {"offset.metadata.max.bytes", T::int32, "4096", "Largest metadata string of an offset commit", 0, i32max},
      {"offsets.commit.timeout.ms", T::int32, "5000", "How long an offset commit or group metadata write waits for replication to the ISR", 1, i32max},
      {"replica.lag.time.max.ms", T::int64, "30000", "A follower behind this long leaves the ISR", 1, lmax},
      {"replica.fetch.wait.max.ms", T::int32, "500", "Longest a follower's fetch waits at the leader for new data", 0, i32max},
      {"replica.fetch.min.bytes", T::int32, "1", "Bytes a follower's fetch waits for at the leader", 1, i32max},
      {"replica.fetch.max.bytes", T::int32, "1048576", "Bytes a follower fetches per partition per request (one larger batch still goes)", 0, i32max},
      {"replica.fetch.response.max.bytes", T::int32, "10485760", "Bytes a follower fetches per request (one larger batch still goes)", 0, i32max},
      {"replica.fetch.backoff.ms", T::int32, "1000", "A follower's pause after a fetch error before retrying", 0, i32max},
      {"replica.socket.timeout.ms", T::int32, "30000", "A follower's socket timeout towards the leader, on top of replica.fetch.wait.max.ms", 1, i32max},
      {"zookeeper.connect", T::string, std::nullopt, "ZooKeeper connection string; unset = embedded single-broker store"},
      {"zookeeper.connection.timeout.ms", T::int32, std::nullopt, "ZooKeeper connection timeout", 0, i32max},
      {"zookeeper.session.timeout.ms", T::int32, "18000", "ZooKeeper session timeout", 1, i32max},
      // Controller (cluster mode; cluster/controller_duties.h)
      {"auto.leader.rebalance.enable", T::boolean, "true", "Move leadership back to the preferred replica when it is in sync"},
      {"leader.imbalance.check.interval.seconds", T::int64, "300", "How often the controller checks leader imbalance", 1, lmax},
      {"leader.imbalance.per.broker.percentage", T::int32, "10", "Share of a broker's preferred partitions led elsewhere that triggers a rebalance", 0, 100},
      {"controlled.shutdown.enable", T::boolean, "true", "On SIGTERM, move leadership off this broker before stopping"},
      // Log
      {"log.dirs", T::list, std::nullopt, "Data directories; defaults to log.dir"},
      {"log.dir", T::string, "/tmp/kafka-logs", "Data directory used when log.dirs is unset"},
      {"log.segment.bytes", T::int32, "1073741824", "Roll a segment at this size", 14, i32max, {}, true},
      {"log.roll.ms", T::int64, std::nullopt, "Roll a segment when its first record is this old (overrides log.roll.hours)", 1, lmax, {}, true},
      {"log.roll.hours", T::int32, "168", "Roll a segment when its first record is this old", 1, i32max},
      {"log.roll.jitter.ms", T::int64, std::nullopt, "Random jitter subtracted from the roll time", 0, lmax, {}, true},
      {"log.roll.jitter.hours", T::int32, "0", "Random jitter subtracted from the roll time", 0, i32max},
      {"log.retention.ms", T::int64, std::nullopt, "Delete segments older than this; -1 = forever (overrides minutes/hours)", -1, lmax, {}, true},
      {"log.retention.minutes", T::int32, std::nullopt, "Retention in minutes (overrides hours)", -1, i32max},
      {"log.retention.hours", T::int32, "168", "Retention in hours", -1, i32max},
      {"log.retention.bytes", T::int64, "-1", "Delete old segments beyond this partition size; -1 = no limit", -1, lmax, {}, true},
      {"log.retention.check.interval.ms", T::int64, "300000", "How often retention runs", 1, lmax},
      {"log.index.size.max.bytes", T::int32, "10485760", "Largest offset index; a full index rolls the segment", 4, i32max, {}, true},
      {"log.index.interval.bytes", T::int32, "4096", "Bytes between offset index entries", 0, i32max, {}, true},
      {"log.segment.delete.delay.ms", T::int64, "60000", "Delay before a deleted segment's files are removed", 0, lmax, {}, true},
      {"log.flush.interval.messages", T::int64, lmax_s, "fsync after this many messages (off by default)", 1, lmax, {}, true},
      {"log.flush.interval.ms", T::int64, std::nullopt, "fsync when data is this old (off by default)", 0, lmax, {}, true},
      {"log.flush.scheduler.interval.ms", T::int64, lmax_s, "How often the flush scheduler checks log.flush.interval.ms", 0, lmax},
      {"log.flush.offset.checkpoint.interval.ms", T::int32, "60000", "How often the recovery point checkpoint is written", 0, i32max},
      {"log.flush.start.offset.checkpoint.interval.ms", T::int32, "60000", "How often the log start offset checkpoint is written", 0, i32max},
      {"log.cleanup.policy", T::list, "delete", "delete and/or compact", 0, 0, {}, true},
      {"log.preallocate", T::boolean, "false", "Preallocate segment files", 0, 0, {}, true},
  };
  return d;
}

}  // namespace

const std::vector<config_definition>& broker_config_definitions() {
  static const std::vector<config_definition> defs = make_definitions();
  return defs;
}

const config_definition* find_broker_config(const std::string& name) {
  for (const auto& d : broker_config_definitions())
    if (d.name == name) return &d;
  return nullptr;
}

namespace {
std::string trim(std::string s) {
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

std::optional<int64_t> parse_int(const std::string& v) {
  int64_t out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || p != v.data() + v.size() || v.empty()) return std::nullopt;
  return out;
}

std::vector<std::string> split_list(const std::string& v) {
  std::vector<std::string> out;
  std::stringstream ss(v);
  std::string item;
  while (std::getline(ss, item, ',')) {
    item = trim(item);
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

class config_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "config"; }
  std::string message(int c) const override {
    switch (static_cast<config_errc>(c)) {
      case config_errc::unknown_key: return "unknown configuration key";
      case config_errc::invalid_value: return "invalid configuration value";
      case config_errc::not_dynamic: return "configuration key cannot be changed at runtime";
    }
    return "unknown";
  }
};
}  // namespace

const std::error_category& config_category() {
  static config_category_impl c;
  return c;
}

std::optional<std::string> validate_config_value(const config_definition& def, const std::string& value) {
  switch (def.type) {
    case T::boolean:
      if (value != "true" && value != "false") return fmt::format("expected true or false, got '{}'", value);
      return std::nullopt;
    case T::int32:
    case T::int64: {
      auto v = parse_int(value);
      if (!v) return fmt::format("expected an integer, got '{}'", value);
      if (*v < def.min || *v > def.max) return fmt::format("{} is outside [{}, {}]", *v, def.min, def.max);
      return std::nullopt;
    }
    case T::string:
    case T::password:
      if (!def.allowed.empty() && std::find(def.allowed.begin(), def.allowed.end(), value) == def.allowed.end())
        return fmt::format("'{}' is not one of [{}]", value, fmt::join(def.allowed, ", "));
      return std::nullopt;
    case T::list:
      return std::nullopt;
  }
  return std::nullopt;
}

std::optional<std::vector<std::pair<std::string, std::string>>> broker_config::parse_properties(
    const std::string& text, std::string* error) {
  std::vector<std::pair<std::string, std::string>> out;
  std::stringstream in(text);
  std::string line, logical;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    std::string t = trim(line);
    if (logical.empty() && (t.empty() || t[0] == '#' || t[0] == '!')) continue;
    if (!t.empty() && t.back() == '\\') {
      logical += t.substr(0, t.size() - 1);
      continue;
    }
    logical += t;
    auto pos = logical.find_first_of("=:");
    if (pos == std::string::npos) {
      if (error) *error = fmt::format("line {}: expected key=value, got '{}'", line_no, logical);
      return std::nullopt;
    }
    out.emplace_back(trim(logical.substr(0, pos)), trim(logical.substr(pos + 1)));
    logical.clear();
  }
  return out;
}

result<broker_config> broker_config::from_settings(const std::vector<std::pair<std::string, std::string>>& settings,
                                                   std::string* error) {
  broker_config c;
  for (const auto& [k, v] : settings) {
    const auto* def = find_broker_config(k);
    if (!def) {
      if (error) *error = fmt::format("unknown configuration key '{}'", k);
      return config_errc::unknown_key;
    }
    if (auto why = validate_config_value(*def, v)) {
      if (error) *error = fmt::format("invalid value for '{}': {}", k, *why);
      return config_errc::invalid_value;
    }
    c._values[k] = v;
    c._explicit[k] = true;
  }
  for (const auto& l : c.get_list("listeners")) {
    auto p = l.find("://");
    auto colon = l.rfind(':');
    if (p == std::string::npos || colon == std::string::npos || colon < p + 3 ||
        !parse_int(l.substr(colon + 1)) || *parse_int(l.substr(colon + 1)) < 0 ||
        *parse_int(l.substr(colon + 1)) > 65535) {
      if (error) *error = fmt::format("invalid value for 'listeners': '{}' is not NAME://host:port", l);
      return config_errc::invalid_value;
    }
  }
  return c;
}

bool broker_config::has(const std::string& name) const { return get(name).has_value(); }

std::optional<std::string> broker_config::get(const std::string& name) const {
  if (auto it = _values.find(name); it != _values.end()) return it->second;
  const auto* def = find_broker_config(name);
  SLUICE_ASSERT(def, "no such config definition: {}", name);
  return def->default_value;
}

std::string broker_config::get_string(const std::string& name) const { return get(name).value_or(""); }

int64_t broker_config::get_int(const std::string& name) const {
  auto v = get(name);
  SLUICE_ASSERT(v.has_value(), "config {} has no value", name);
  auto i = parse_int(*v);
  SLUICE_ASSERT(i.has_value(), "config {} is not an integer: {}", name, *v);
  return *i;
}

bool broker_config::get_bool(const std::string& name) const { return get_string(name) == "true"; }

std::vector<std::string> broker_config::get_list(const std::string& name) const {
  auto v = get(name);
  return v ? split_list(*v) : std::vector<std::string>{};
}

result<void> broker_config::set_dynamic(const std::string& name, const std::optional<std::string>& value,
                                        std::string* error) {
  const auto* def = find_broker_config(name);
  if (!def) {
    if (error) *error = fmt::format("unknown configuration key '{}'", name);
    return config_errc::unknown_key;
  }
  if (!def->dynamic) {
    if (error) *error = fmt::format("'{}' cannot be changed without a restart", name);
    return config_errc::not_dynamic;
  }
  if (!value) {
    _values.erase(name);
    _explicit.erase(name);
    return ok();
  }
  if (auto why = validate_config_value(*def, *value)) {
    if (error) *error = fmt::format("invalid value for '{}': {}", name, *why);
    return config_errc::invalid_value;
  }
  _values[name] = *value;
  _explicit[name] = true;
  return ok();
}

std::vector<std::string> broker_config::log_dirs() const {
  auto dirs = get_list("log.dirs");
  if (dirs.empty()) dirs.push_back(get_string("log.dir"));
  return dirs;
}

int64_t broker_config::log_retention_ms() const {
  if (get("log.retention.ms")) return get_int("log.retention.ms");
  if (get("log.retention.minutes")) {
    int64_t m = get_int("log.retention.minutes");
    return m < 0 ? -1 : m * 60'000;
  }
  int64_t h = get_int("log.retention.hours");
  return h < 0 ? -1 : h * 3'600'000;
}

int64_t broker_config::log_roll_ms() const {
  if (get("log.roll.ms")) return get_int("log.roll.ms");
  return get_int("log.roll.hours") * 3'600'000;
}

int64_t broker_config::log_roll_jitter_ms() const {
  if (get("log.roll.jitter.ms")) return get_int("log.roll.jitter.ms");
  return get_int("log.roll.jitter.hours") * 3'600'000;
}

}  // namespace sluice::server
