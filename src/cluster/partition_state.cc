#include "cluster/partition_state.h"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace sluice::cluster {
namespace {

class partition_state_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "partition_state"; }
  std::string message(int c) const override {
    switch (static_cast<partition_state_errc>(c)) {
      case partition_state_errc::stale_partition_epoch: return "stale partition epoch or leader epoch";
      case partition_state_errc::no_partition: return "no partition state node";
      case partition_state_errc::invalid_isr: return "invalid ISR";
      case partition_state_errc::malformed: return "malformed partition state";
      case partition_state_errc::store_failure: return "metadata store failure";
    }
    return "unknown";
  }
};

bool is_int32_array(const nlohmann::json& j) {
  return j.is_array() && std::all_of(j.begin(), j.end(), [](const auto& e) { return e.is_number_integer(); });
}

}  // namespace

const std::error_category& partition_state_category() {
  static partition_state_category_impl c;
  return c;
}

std::string partition_state_path(const std::string& topic, int32_t partition) {
  return fmt::format("/brokers/topics/{}/partitions/{}/state", topic, partition);
}

std::string to_json(const partition_state& s) {
  nlohmann::json j = {{"controller_epoch", s.controller_epoch},
                      {"leader", s.leader},
                      {"version", 1},
                      {"leader_epoch", s.leader_epoch},
                      {"isr", s.isr}};
  return j.dump();
}

std::optional<partition_state> parse_partition_state(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  if (!j.contains("leader") || !j["leader"].is_number_integer() || !j.contains("isr") || !is_int32_array(j["isr"]))
    return std::nullopt;
  partition_state s;
  s.leader = j["leader"].get<int32_t>();
  s.isr = j["isr"].get<std::vector<int32_t>>();
  if (j.contains("leader_epoch") && j["leader_epoch"].is_number_integer()) s.leader_epoch = j["leader_epoch"].get<int32_t>();
  if (j.contains("controller_epoch") && j["controller_epoch"].is_number_integer())
    s.controller_epoch = j["controller_epoch"].get<int32_t>();
  return s;
}

result<int32_t> update_isr(metadata_store& store, const std::string& topic, int32_t partition, int32_t leader,
                           int32_t leader_epoch, const std::vector<int32_t>& new_isr,
                           int32_t expected_partition_epoch) {
  std::vector<int32_t> sorted = new_isr;
  std::sort(sorted.begin(), sorted.end());
  if (new_isr.empty() || std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end() ||
      std::find(new_isr.begin(), new_isr.end(), leader) == new_isr.end())
    return partition_state_errc::invalid_isr;
  const std::string path = partition_state_path(topic, partition);
  auto n = store.get(path);
  if (!n) {
    return n.error() == make_error_code(store_errc::no_node) ? partition_state_errc::no_partition
                                                             : partition_state_errc::store_failure;
  }
  if (n->version != expected_partition_epoch) return partition_state_errc::stale_partition_epoch;
  auto current = parse_partition_state(n->data);
  if (!current) return partition_state_errc::malformed;
  if (current->leader != leader || current->leader_epoch != leader_epoch)
    return partition_state_errc::stale_partition_epoch;
  partition_state next = *current;
  next.isr = new_isr;
  auto v = store.set(path, to_json(next), expected_partition_epoch);
  if (!v) {
    return v.error() == make_error_code(store_errc::bad_version) || v.error() == make_error_code(store_errc::no_node)
               ? partition_state_errc::stale_partition_epoch
               : partition_state_errc::store_failure;
  }
  return *v;
}

}  // namespace sluice::cluster
