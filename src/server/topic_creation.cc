#include "server/topic_creation.h"

#include "base/logging.h"

namespace sluice::server {

asio::awaitable<void> propagate_metadata(broker_services& broker) {
  co_await broker.partitions.apply(broker.controller.image());
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
