#pragma once
// The admin side of metadata: validates and applies topic creation, deletion, partition
// additions and config changes through the metadata store.
//
// Two modes:
//  - single broker (start()): the embedded store; every replica is this broker, it leads every
//    partition and the ISR is {self}; this object writes the partition states itself and
//    publishes each new metadata_image to subscribers.
//  - cluster (start_cluster()): any broker takes admin requests and writes the topic nodes like
//    Kafka's AdminZkClient (/brokers/topics/<t>, /config/topics/<t>); the active controller
//    (controller_duties.h) creates the partition states; images come from the broker's
//    metadata_watcher, and each write returns once that broker's image shows it (bounded).
//
// Thread contract: all methods are thread-safe (one internal mutex; control path only).
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "cluster/metadata_image.h"
#include "cluster/metadata_store.h"

namespace sluice::cluster {

class metadata_watcher;

// How long an admin write in cluster mode waits for the broker's own image to show it.
inline constexpr int64_t admin_visibility_timeout_ms = 10'000;

enum class controller_errc {
  topic_already_exists = 1,
  unknown_topic = 2,
  invalid_topic_name = 3,
  invalid_partitions = 4,
  invalid_replication_factor = 5,
  invalid_replica_assignment = 6,
  invalid_config = 7,
  store_failure = 8,
  topic_deletion_disabled = 9,
};
const std::error_category& controller_category();
inline std::error_code make_error_code(controller_errc e) { return {static_cast<int>(e), controller_category()}; }

struct create_topic_request {
  std::string name;
  int32_t partitions = -1;          // -1 = num.partitions
  int16_t replication_factor = -1;  // -1 = default.replication.factor
  std::vector<std::vector<int32_t>> assignments;  // explicit replicas per partition, or empty
  std::map<std::string, std::string> configs;
  bool internal = false;
};

struct controller_defaults {
  int32_t num_partitions = 1;
  int16_t default_replication_factor = 1;
  bool delete_topic_enable = true;
};

// Validates topic config overrides (names + values); returns a message naming the key on error.
using config_validator = std::function<std::optional<std::string>(const std::map<std::string, std::string>&)>;

class controller {
 public:
  controller(metadata_store& store, int32_t broker_id, broker_endpoint self, controller_defaults defaults,
             config_validator validate_configs);

  // Loads (or initialises) cluster id and topics from the store; publishes the first image.
  result<void> start(std::string* error);
  // Cluster mode: images come from `watcher` (started, outliving this object); creates
  // /cluster/id if this is the first broker ever.
  result<void> start_cluster(metadata_watcher& watcher, std::string* error);

  image_ptr image() const;
  // Called with every new image (from the thread that made the change).
  void subscribe(std::function<void(image_ptr)> fn);

  // `message` receives a human-readable explanation on error.
  result<topic_metadata> create_topic(const create_topic_request& req, bool validate_only, std::string* message);
  result<void> delete_topic(const std::string& name, std::string* message);
  result<void> create_partitions(const std::string& name, int32_t new_total,
                                 const std::vector<std::vector<int32_t>>& assignments, bool validate_only,
                                 std::string* message);
  // Replaces the topic's overrides with `configs` (AlterConfigs semantics).
  result<void> set_topic_configs(const std::string& name, const std::map<std::string, std::string>& configs,
                                 bool validate_only, std::string* message);
  result<void> set_broker_dynamic_configs(const std::map<std::string, std::string>& configs);

 private:
  std::vector<int32_t> live_broker_ids() const;  // REQUIRES: _mu held
  image_ptr current() const;                      // REQUIRES: _mu held
  // Cluster mode: waits (bounded) until the watcher's image satisfies pred.
  bool wait_visible(const std::function<bool(const metadata_image&)>& pred) const;
  result<void> validate_assignment(const std::vector<std::vector<int32_t>>& a, std::string* message) const;
  result<void> load_topics(metadata_image& img);
  void publish(std::shared_ptr<metadata_image> next);  // REQUIRES: _mu held

  metadata_store& _store;
  metadata_watcher* _watcher = nullptr;  // cluster mode
  int32_t _broker_id;
  broker_endpoint _self;
  controller_defaults _defaults;
  config_validator _validate_configs;
  mutable std::mutex _mu;
  image_ptr _image;
  std::vector<std::function<void(image_ptr)>> _subscribers;
};

}  // namespace sluice::cluster

template <>
struct std::is_error_code_enum<sluice::cluster::controller_errc> : std::true_type {};
