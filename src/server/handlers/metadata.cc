// Metadata (key 3): brokers, controller, cluster id and topic/partition leadership; creates
// unknown topics when both the request and auto.create.topics.enable allow it.
#include "base/logging.h"
#include "server/handlers/handlers.h"
#include "server/topic_creation.h"

namespace sluice::server {

namespace {
using resp_t = protocol::metadata_response;

// offline_replicas: replicas on brokers that are not registered (alive), as Kafka's ZK-mode
// metadata cache reports them.
resp_t::metadata_response_topic describe_topic(const cluster::topic_metadata& t, const cluster::metadata_image& img) {
  resp_t::metadata_response_topic out;
  out.name = t.name;
  out.is_internal = t.internal;
  for (const auto& p : t.partitions) {
    resp_t::metadata_response_partition mp;
    mp.partition_index = p.partition;
    mp.leader_id = p.leader;
    mp.leader_epoch = p.leader_epoch;
    mp.replica_nodes = p.replicas;
    mp.isr_nodes = p.isr;
    for (int32_t r : p.replicas)
      if (!img.is_live(r)) mp.offline_replicas.push_back(r);
    mp.error_code = code(p.leader >= 0 ? protocol::error_code::none : protocol::error_code::leader_not_available);
    out.partitions.push_back(std::move(mp));
  }
  return out;
}
}  // namespace

asio::awaitable<void> handle(request_context& ctx, protocol::metadata_request& req, protocol::metadata_response& resp) {
  auto& broker = ctx.broker;
  auto img = broker.partitions.image();
  // v0: an empty list means all topics; v1+: null means all, empty means none.
  bool all_topics = !req.topics.has_value() || (ctx.version() == 0 && req.topics->empty());
  if (all_topics) {
    for (const auto& [name, t] : img->topics) resp.topics.push_back(describe_topic(t, *img));
  } else {
    bool allow_create = req.allow_auto_topic_creation && broker.settings.auto_create_topics;
    for (const auto& rt : *req.topics) {
      const auto* t = img->find(rt.name);
      if (!t && allow_create && model::is_valid_topic_name(rt.name)) {
        auto created = co_await create_topic_with_defaults(broker, rt.name);
        img = broker.partitions.image();
        t = img->find(rt.name);
        if (!t && !created) {
          resp_t::metadata_response_topic out;
          out.name = rt.name;
          out.error_code = code(protocol::error_code::leader_not_available);
          resp.topics.push_back(std::move(out));
          continue;
        }
      }
      if (!t) {
        resp_t::metadata_response_topic out;
        out.name = rt.name;
        out.error_code = code(model::is_valid_topic_name(rt.name) ? protocol::error_code::unknown_topic_or_partition
                                                                  : protocol::error_code::invalid_topic_exception);
        resp.topics.push_back(std::move(out));
        continue;
      }
      resp.topics.push_back(describe_topic(*t, *img));
    }
  }
  for (const auto& b : img->brokers) {
    resp_t::metadata_response_broker mb;
    mb.node_id = b.id;
    mb.host = b.host;
    mb.port = b.port;
    mb.rack = b.rack;
    resp.brokers.push_back(std::move(mb));
  }
  resp.cluster_id = img->cluster_id;
  resp.controller_id = img->controller_id;
  co_return;
}

}  // namespace sluice::server
