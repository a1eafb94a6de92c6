#pragma once
// What a request handler can see: the request header, the connection, and the broker's services.
// A handler runs on the shard that owns the connection; work on partitions hops to their owner
// shard through partition_manager / shard_group::invoke_on.
#include <cstdint>
#include <mutex>
#include <string>

#include "base/clock.h"
#include "cluster/controller.h"
#include "coordinator/txn/producer_id_manager.h"
#include "net/connection.h"
#include "net/shard_group.h"
#include "protocol/error_code.h"
#include "protocol/headers.h"
#include "server/broker_config.h"
#include "server/partition_manager.h"

namespace sluice::server {

class group_coordinator;
class txn_coordinator;

// The broker config plus its dynamic updates. Control path only (mutex).
class config_holder {
 public:
  explicit config_holder(broker_config c) : _c(std::move(c)) {}
  broker_config get() const {
    std::lock_guard g(_mu);
    return _c;
  }
  template <typename F>
  auto update(F&& f) {
    std::lock_guard g(_mu);
    return f(_c);
  }

 private:
  mutable std::mutex _mu;
  broker_config _c;
};

// Broker-wide settings read on the data path, copied once at startup (immutable afterwards).
struct data_path_settings {
  int32_t broker_id = 0;
  bool auto_create_topics = true;
};

struct broker_services {
  net::shard_group& shards;
  cluster::controller& controller;
  partition_manager& partitions;
  config_holder& config;               // static settings + dynamic broker configs, current
  const broker_config& static_config;  // server.properties + --set only, as started
  const data_path_settings& settings;
  sluice::clock& clock;
  coordinator::producer_id_manager& producer_ids;  // InitProducerId
  group_coordinator* groups = nullptr;             // consumer groups (server/group_coordinator.h)
  txn_coordinator* txns = nullptr;                 // transactions (server/txn_coordinator.h)
};

struct request_context {
  const net::connection_info& connection;
  protocol::request_header header;
  broker_services& broker;
  bool no_response = false;  // set by Produce with acks=0

  int16_t version() const { return header.api_version; }
};

inline int16_t code(protocol::error_code e) { return static_cast<int16_t>(e); }

}  // namespace sluice::server
