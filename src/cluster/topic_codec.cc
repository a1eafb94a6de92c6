#include "cluster/topic_codec.h"

#include <algorithm>
#include <random>

#include <nlohmann/json.hpp>

namespace sluice::cluster {

using json = nlohmann::json;

std::string topic_node_path(const std::string& t) { return "/brokers/topics/" + t; }
std::string topic_config_path(const std::string& t) { return "/config/topics/" + t; }

std::string topic_node_json(const topic_metadata& t) {
  json parts = json::object();
  for (const auto& p : t.partitions) parts[std::to_string(p.partition)] = p.replicas;
  json j = {{"version", 3}, {"topic_id", base64url(t.id)}, {"partitions", parts}};
  if (t.internal) j["internal"] = true;
  return j.dump();
}

std::optional<topic_metadata> parse_topic_node(const std::string& name, const std::string& text) {
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("partitions") || !j["partitions"].is_object())
    return std::nullopt;
  topic_metadata t;
  t.name = name;
  if (j.contains("topic_id") && j["topic_id"].is_string())
    t.id = from_base64url(j["topic_id"].get<std::string>()).value_or(topic_uuid{});
  if (j.contains("internal") && j["internal"].is_boolean()) t.internal = j["internal"].get<bool>();
  for (auto& [p, replicas] : j["partitions"].items()) {
    partition_metadata pm;
    try {
      pm.partition = std::stoi(p);
    } catch (...) {
      return std::nullopt;
    }
    if (!replicas.is_array()) return std::nullopt;
    for (const auto& r : replicas) {
      if (!r.is_number_integer()) return std::nullopt;
      pm.replicas.push_back(r.get<int32_t>());
    }
    t.partitions.push_back(std::move(pm));
  }
  std::sort(t.partitions.begin(), t.partitions.end(), [](auto& a, auto& b) { return a.partition < b.partition; });
  for (size_t i = 0; i < t.partitions.size(); ++i)
    if (t.partitions[i].partition != static_cast<int32_t>(i)) return std::nullopt;  // gaps
  return t;
}

std::string config_node_json(const std::map<std::string, std::string>& configs) {
  return json{{"version", 1}, {"config", configs}}.dump();
}

std::map<std::string, std::string> parse_config_node(const std::string& text) {
  std::map<std::string, std::string> out;
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("config") || !j["config"].is_object()) return out;
  for (auto& [k, v] : j["config"].items())
    if (v.is_string()) out[k] = v.get<std::string>();
  return out;
}

topic_uuid random_uuid() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  topic_uuid u;
  for (auto& b : u) b = static_cast<uint8_t>(rng());
  u[6] = (u[6] & 0x0f) | 0x40;  // version 4
  u[8] = (u[8] & 0x3f) | 0x80;  // variant
  return u;
}

// Kafka encodes UUIDs (cluster id, topic id) as URL-safe base64 without padding: 22 chars.
std::string base64url(const topic_uuid& u) {
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (uint8_t b : u) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      out.push_back(alphabet[(acc >> (bits - 6)) & 0x3f]);
      bits -= 6;
    }
  }
  if (bits > 0) out.push_back(alphabet[(acc << (6 - bits)) & 0x3f]);
  return out;
}

std::optional<topic_uuid> from_base64url(const std::string& s) {
  topic_uuid u{};
  uint32_t acc = 0;
  int bits = 0;
  size_t i = 0;
  for (char c : s) {
    int v = c >= 'A' && c <= 'Z'   ? c - 'A'
            : c >= 'a' && c <= 'z' ? c - 'a' + 26
            : c >= '0' && c <= '9' ? c - '0' + 52
            : c == '-'             ? 62
            : c == '_'             ? 63
                                   : -1;
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      if (i >= u.size()) return std::nullopt;
      u[i++] = static_cast<uint8_t>(acc >> (bits - 8));
      bits -= 8;
    }
  }
  if (i != u.size()) return std::nullopt;
  return u;
}

}  // namespace sluice::cluster
