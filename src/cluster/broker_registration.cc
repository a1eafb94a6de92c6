#include "cluster/broker_registration.h"

#include <chrono>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace sluice::cluster {

std::string broker_registration_path(int32_t id) { return "/brokers/ids/" + std::to_string(id); }

std::string registration_json(const broker_endpoint& self) {
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch());
  nlohmann::json j = {{"listener_security_protocol_map", {{"PLAINTEXT", "PLAINTEXT"}}},
                      {"endpoints", {fmt::format("PLAINTEXT://{}:{}", self.host, self.port)}},
                      {"jmx_port", -1},
                      {"host", self.host},
                      {"port", self.port},
                      {"timestamp", std::to_string(now_ms.count())},
                      {"version", 5}};
  if (self.rack) j["rack"] = *self.rack;
  return j.dump();
}

std::optional<broker_endpoint> parse_registration(int32_t id, const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  broker_endpoint e;
  e.id = id;
  if (j.contains("rack") && j["rack"].is_string()) e.rack = j["rack"].get<std::string>();
  if (j.contains("endpoints") && j["endpoints"].is_array()) {
    for (const auto& ep : j["endpoints"]) {
      if (!ep.is_string()) continue;
      auto s = ep.get<std::string>();
      auto sep = s.find("://");
      auto colon = s.rfind(':');
      if (sep == std::string::npos || colon == std::string::npos || colon < sep + 3) continue;
      if (s.substr(0, sep) != "PLAINTEXT") continue;
      e.host = s.substr(sep + 3, colon - sep - 3);
      if (e.host.size() >= 2 && e.host.front() == '[') e.host = e.host.substr(1, e.host.size() - 2);
      try {
        e.port = std::stoi(s.substr(colon + 1));
      } catch (...) {
        continue;
      }
      return e;
    }
  }
  if (j.contains("host") && j["host"].is_string() && j.contains("port") && j["port"].is_number_integer()) {
    e.host = j["host"].get<std::string>();
    e.port = j["port"].get<int32_t>();
    return e;
  }
  return std::nullopt;
}

result<void> register_broker(metadata_store& store, const broker_endpoint& self, int64_t wait_ms, std::string* error) {
  const auto path = broker_registration_path(self.id);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  while (true) {
    auto r = store.create(path, registration_json(self), true, true);
    if (r) return ok();
    if (r.error() != make_error_code(store_errc::node_exists)) {
      if (error) *error = fmt::format("cannot register broker {} at {}: {}", self.id, path, r.error().message());
      return r.error();
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      std::string holder = "unknown endpoint";
      if (auto n = store.get(path))
        if (auto e = parse_registration(self.id, n->data)) holder = fmt::format("{}:{}", e->host, e->port);
      if (error)
        *error = fmt::format("broker.id {} is already registered by a live broker ({}); each broker needs its own broker.id",
                             self.id, holder);
      return store_errc::node_exists;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace sluice::cluster
