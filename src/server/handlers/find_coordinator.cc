// FindCoordinator (key 10): which broker coordinates a consumer group (key type 0) or a
// transactional id (key type 1): the leader of the key's partition of __consumer_offsets or
// __transaction_state (created on first use, as Kafka does). v4 batches keys.
#include "coordinator/placement.h"
#include "server/group_coordinator.h"
#include "server/txn_coordinator.h"
#include "server/handlers/handlers.h"
#include "server/topic_creation.h"

namespace sluice::server {

namespace {
using E = protocol::error_code;
using coord = protocol::find_coordinator_response::coordinator;

asio::awaitable<coord> locate(broker_services& broker, const std::string& key, int8_t key_type) {
  coord c;
  c.key = key;
  c.node_id = -1;
  c.port = -1;
  if (key_type != 0 && key_type != 1) {
    c.error_code = code(E::invalid_request);
    c.error_message = "Unknown coordinator key type " + std::to_string(key_type) + ".";
    co_return c;
  }
  if (key.empty()) {
    c.error_code = code(E::invalid_request);
    c.error_message = key_type == 0 ? "Group id must not be empty." : "Transactional id must not be empty.";
    co_return c;
  }
  const char* topic = key_type == 0 ? coordinator::consumer_offsets_topic : coordinator::transaction_state_topic;
  auto img = broker.partitions.image();
  const auto* t = img->find(topic);
  if (!t) {
    // A named std::string: a temporary converted from `topic` and passed to the coroutine would
    // be destroyed twice (GCC 12 coroutine bug), corrupting the heap.
    const std::string topic_name = topic;
    co_await ensure_internal_topic(broker, topic_name);
    img = broker.partitions.image();
    t = img->find(topic);
    // A new internal topic: its (empty) partitions load before we point clients at them.
    if (t && key_type == 0 && broker.groups) co_await broker.groups->load_all();
    if (t && key_type == 1 && broker.txns) co_await broker.txns->load_all();
  }
  if (!t || t->partitions.empty()) {
    c.error_code = code(E::coordinator_not_available);
    c.error_message = "The coordinator is not available.";
    co_return c;
  }
  const auto& p = t->partitions[static_cast<size_t>(coordinator::coordinator_partition(key, static_cast<int32_t>(t->partitions.size())))];
  const cluster::broker_endpoint* leader = img->find_broker(p.leader);
  if (!leader) {
    c.error_code = code(E::coordinator_not_available);
    c.error_message = "The coordinator is not available.";
    co_return c;
  }
  c.node_id = leader->id;
  c.host = leader->host;
  c.port = leader->port;
  c.error_message = std::nullopt;
  co_return c;
}
}  // namespace

asio::awaitable<void> handle(request_context& ctx, protocol::find_coordinator_request& req,
                             protocol::find_coordinator_response& resp) {
  auto& broker = ctx.broker;
  if (ctx.version() >= 4) {
    for (const auto& key : req.coordinator_keys) resp.coordinators.push_back(co_await locate(broker, key, req.key_type));
    co_return;
  }
  // v0 has no key type: always a group.
  auto c = co_await locate(broker, req.key, ctx.version() == 0 ? 0 : req.key_type);
  resp.error_code = c.error_code;
  resp.error_message = c.error_message;
  resp.node_id = c.node_id;
  resp.host = c.host;
  resp.port = c.port;
  co_return;
}

}  // namespace sluice::server
