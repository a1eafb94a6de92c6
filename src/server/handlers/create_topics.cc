// CreateTopics (key 19): validates and creates topics through the controller; answers once every
// shard hosts the new partitions. validate_only checks everything and changes nothing.
#include "server/handlers/handlers.h"
#include "server/topic_creation.h"
#include "storage/log_config.h"

namespace sluice::server {

asio::awaitable<void> handle(request_context& ctx, protocol::create_topics_request& req,
                             protocol::create_topics_response& resp) {
  auto& broker = ctx.broker;
  const int16_t version = ctx.version();
  std::map<std::string, int> seen;
  for (const auto& t : req.topics) seen[t.name]++;
  bool created_any = false;
  for (const auto& t : req.topics) {
    protocol::create_topics_response::creatable_topic_result r;
    r.name = t.name;
    if (seen[t.name] > 1) {
      r.error_code = code(protocol::error_code::invalid_request);
      r.error_message = "Duplicate topic in request.";
      resp.topics.push_back(std::move(r));
      continue;
    }
    cluster::create_topic_request creq;
    creq.name = t.name;
    creq.partitions = t.num_partitions;
    creq.replication_factor = t.replication_factor;
    if (!t.assignments.empty()) {
      std::vector<std::vector<int32_t>> a(t.assignments.size());
      bool bad = false;
      for (const auto& as : t.assignments) {
        if (as.partition_index < 0 || as.partition_index >= static_cast<int32_t>(a.size()) ||
            !a[static_cast<size_t>(as.partition_index)].empty()) {
          bad = true;
          break;
        }
        a[static_cast<size_t>(as.partition_index)] = as.broker_ids;
      }
      if (bad) {
        r.error_code = code(protocol::error_code::invalid_replica_assignment);
        r.error_message = "Partitions of the replica assignment must be 0..N-1, each once.";
        resp.topics.push_back(std::move(r));
        continue;
      }
      creq.assignments = std::move(a);
    }
    for (const auto& c : t.configs) {
      if (!c.value) continue;  // null value: use the default
      creq.configs[c.name] = *c.value;
    }
    std::string message;
    auto created = broker.controller.create_topic(creq, req.validate_only, &message);
    if (!created) {
      r.error_code = code(to_kafka_error(created.error()));
      r.error_message = message;
      resp.topics.push_back(std::move(r));
      continue;
    }
    created_any = created_any || !req.validate_only;
    r.topic_id = created->id;
    r.num_partitions = static_cast<int32_t>(created->partitions.size());
    r.replication_factor = static_cast<int16_t>(created->partitions.empty() ? 0 : created->partitions[0].replicas.size());
    if (version >= 5) {
      auto cfg = broker.partitions.effective_config(*created);
      std::vector<protocol::create_topics_response::creatable_topic_configs> configs;
      for (const auto& [name, value] : storage::describe_log_config(cfg)) {
        protocol::create_topics_response::creatable_topic_configs c;
        c.name = name;
        c.value = value;
        c.config_source = created->configs.contains(name) ? 1 /* TOPIC_CONFIG */ : 5 /* DEFAULT_CONFIG */;
        configs.push_back(std::move(c));
      }
      r.configs = std::move(configs);
    }
    r.error_message = std::nullopt;
    resp.topics.push_back(std::move(r));
  }
  if (created_any) co_await propagate_metadata(broker);
  co_return;
}

}  // namespace sluice::server
