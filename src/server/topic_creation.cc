#include "server/topic_creation.h"

#include "base/logging.h"
#include "coordinator/placement.h"

namespace sluice::server {

asio::awaitable<void> propagate_metadata(broker_services& broker) {
  // A named copy: GCC 12 mishandles temporaries passed to coroutine parameters.
  cluster::image_ptr img = broker.controller.image();
  co_await broker.partitions.apply(img);
}

asio::awaitable<bool> create_topic_with_defaults(broker_services& broker, const std::string& name) {
  cluster::create_topic_request req;
  req.name = name;
  std::string message;
  // The controller takes a mutex and writes the store (fsync): off the shard's event loop
  // would be better, but topic creation is rare; the shard stalls for one metadata write.
  auto r = broker.controller.create_topic(req, false, &message);
  bool ok = r || r.error() == make_error_code(cluster::controller_errc::topic_already_exists);
  if (!ok) log::get("server")->warn("auto-creating topic {} failed: {}", name, message);
  co_await propagate_metadata(broker);
  co_return ok;
}

asio::awaitable<bool> ensure_internal_topic(broker_services& broker, const std::string& name) {
  auto cfg = broker.config.get();
  cluster::create_topic_request req;
  req.name = name;
  req.internal = true;
  const bool offsets = name == coordinator::consumer_offsets_topic;
  req.partitions = static_cast<int32_t>(
      cfg.get_int(offsets ? "offsets.topic.num.partitions" : "transaction.state.log.num.partitions"));
  // Kafka caps the replication factor of internal topics by the live brokers at creation.
  auto live = static_cast<int64_t>(broker.controller.image()->brokers.size());
  auto rf = std::min<int64_t>(
      cfg.get_int(offsets ? "offsets.topic.replication.factor" : "transaction.state.log.replication.factor"), live);
  req.replication_factor = static_cast<int16_t>(rf);
  req.configs["cleanup.policy"] = "compact";
  req.configs["compression.type"] = "producer";
  if (offsets) {
    req.configs["segment.bytes"] = std::to_string(cfg.get_int("offsets.topic.segment.bytes"));
  } else {
    req.configs["segment.bytes"] = std::to_string(cfg.get_int("transaction.state.log.segment.bytes"));
    req.configs["min.insync.replicas"] =
        std::to_string(std::min<int64_t>(cfg.get_int("transaction.state.log.min.isr"), rf));
  }
  std::string message;
  auto r = broker.controller.create_topic(req, false, &message);
  bool ok = r || r.error() == make_error_code(cluster::controller_errc::topic_already_exists);
  if (!ok) log::get("server")->error("creating internal topic {} failed: {}", name, message);
  co_await propagate_metadata(broker);
  co_return ok;
}

protocol::error_code to_kafka_error(std::error_code ec) {
  using E = protocol::error_code;
  using C = cluster::controller_errc;
  if (!ec) return E::none;
  if (ec.category() != cluster::controller_category()) return E::unknown_server_error;
  switch (static_cast<C>(ec.value())) {
    case C::topic_already_exists: return E::topic_already_exists;
    case C::unknown_topic: return E::unknown_topic_or_partition;
    case C::invalid_topic_name: return E::invalid_topic_exception;
    case C::invalid_partitions: return E::invalid_partitions;
    case C::invalid_replication_factor: return E::invalid_replication_factor;
    case C::invalid_replica_assignment: return E::invalid_replica_assignment;
    case C::invalid_config: return E::invalid_config;
    case C::store_failure: return E::unknown_server_error;
    case C::topic_deletion_disabled: return E::topic_deletion_disabled;
  }
  return E::unknown_server_error;
}

}  // namespace sluice::server
