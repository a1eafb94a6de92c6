#pragma once
// An immutable snapshot of cluster metadata. A single broker's controller publishes a new image
// on every change; in a cluster every broker's metadata_watcher builds it from the store; each shard keeps its own shared_ptr to the latest one, so readers never lock.
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sluice::cluster {

using topic_uuid = std::array<uint8_t, 16>;

struct broker_endpoint {
  int32_t id = 0;
  std::string host;
  int32_t port = 0;
  std::optional<std::string> rack;
};

struct partition_metadata {
  int32_t partition = 0;
  std::vector<int32_t> replicas;
  std::vector<int32_t> isr;
  int32_t leader = -1;
  int32_t leader_epoch = 0;
  // Version of the partition's state node in the store: what an ISR compare-and-set must expect
  // (partition_state.h). -1 while the node does not exist yet (leader is then -1 too).
  int32_t partition_epoch = 0;
};

struct topic_metadata {
  std::string name;
  topic_uuid id{};
  bool internal = false;
  std::vector<partition_metadata> partitions;
  std::map<std::string, std::string> configs;  // explicit overrides only

  // Partition `p`, or nullptr when out of range.
  const partition_metadata* find_partition(int32_t p) const {
    return p >= 0 && p < static_cast<int32_t>(partitions.size()) ? &partitions[static_cast<size_t>(p)] : nullptr;
  }
};

struct metadata_image {
  std::string cluster_id;
  int32_t self_id = -1;  // the broker.id of the broker holding this image
  int32_t controller_id = -1;
  std::vector<broker_endpoint> brokers;
  // Brokers in controlled shutdown (their /sluice/controlled_shutdown/<id> node exists; cluster
  // mode only): the controller moves leadership off them.
  std::vector<int32_t> shutting_down;
  std::map<std::string, topic_metadata> topics;
  std::map<std::string, std::string> broker_dynamic_configs;
  int64_t version = 0;  // bumped by every published change

  // The registered endpoint of broker `broker_id`, or nullptr when it is not registered (down).
  const broker_endpoint* find_broker(int32_t broker_id) const {
    for (const auto& b : brokers)
      if (b.id == broker_id) return &b;
    return nullptr;
  }
  bool is_live(int32_t broker_id) const { return find_broker(broker_id) != nullptr; }
  const topic_metadata* find(const std::string& topic) const {
    auto it = topics.find(topic);
    return it == topics.end() ? nullptr : &it->second;
  }
  // Partition `p` of `topic`, or nullptr when the topic or the partition does not exist.
  const partition_metadata* find_partition(const std::string& topic, int32_t p) const {
    const auto* t = find(topic);
    return t ? t->find_partition(p) : nullptr;
  }
};

using image_ptr = std::shared_ptr<const metadata_image>;

}  // namespace sluice::cluster
