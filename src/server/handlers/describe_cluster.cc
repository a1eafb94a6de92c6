// DescribeCluster (key 60): cluster id, controller id and the brokers of the metadata image.
// v1 endpoint_type: this is a broker endpoint (1); CONTROLLER (2) is MISMATCHED_ENDPOINT_TYPE and
// anything else UNSUPPORTED_ENDPOINT_TYPE, as Kafka answers.
#include <fmt/format.h>

#include "server/handlers/handlers.h"

namespace sluice::server {

asio::awaitable<void> handle(request_context& ctx, protocol::describe_cluster_request& req,
                             protocol::describe_cluster_response& resp) {
  using E = protocol::error_code;
  constexpr int8_t broker_endpoint = 1, controller_endpoint = 2;
  resp.endpoint_type = broker_endpoint;
  if (req.endpoint_type != broker_endpoint) {
    const bool known = req.endpoint_type == controller_endpoint;
    if (ctx.version() == 0) resp.error_code = code(E::invalid_request);
    else resp.error_code = code(known ? E::mismatched_endpoint_type : E::unsupported_endpoint_type);
    resp.error_message = known ? "The request was sent to an endpoint of type BROKER, but we wanted an endpoint of "
                                 "type CONTROLLER"
                               : fmt::format("Unsupported endpoint type {}", req.endpoint_type);
    co_return;
  }
  auto img = ctx.broker.partitions.image();
  resp.cluster_id = img->cluster_id;
  resp.controller_id = img->controller_id;
  for (const auto& b : img->brokers) {
    protocol::describe_cluster_response::describe_cluster_broker db;
    db.broker_id = b.id;
    db.host = b.host;
    db.port = b.port;
    db.rack = b.rack;
    resp.brokers.push_back(std::move(db));
  }
  if (req.include_cluster_authorized_operations) {
    // No authorizer: every operation on the cluster resource is allowed. Bits are AclOperation
    // codes: ALTER(7), CREATE(5), CLUSTER_ACTION(9), DESCRIBE_CONFIGS(10), ALTER_CONFIGS(11),
    // IDEMPOTENT_WRITE(12), DESCRIBE(8).
    int32_t ops = 0;
    for (int bit : {5, 7, 8, 9, 10, 11, 12}) ops |= 1 << bit;
    resp.cluster_authorized_operations = ops;
  }
  co_return;
}

}  // namespace sluice::server
