// AlterConfigs (key 33): replaces the whole set of a resource's configs. TOPIC: the topic's
// overrides become exactly the request's entries (omitted keys return to their defaults).
// BROKER: this broker's dynamic configs become exactly the request's entries (dynamic keys only).
// validate_only checks everything and changes nothing.
#include <fmt/format.h>

#include "server/config_admin.h"
#include "server/handlers/handlers.h"
#include "server/topic_creation.h"
#include "storage/log_config.h"

namespace sluice::server {

asio::awaitable<void> handle(request_context& ctx, protocol::alter_configs_request& req,
                             protocol::alter_configs_response& resp) {
  using E = protocol::error_code;
  auto& broker = ctx.broker;
  bool changed_topics = false;
  for (const auto& res : req.resources) {
    protocol::alter_configs_response::alter_configs_resource_response out;
    out.resource_type = res.resource_type;
    out.resource_name = res.resource_name;
    out.error_message = std::nullopt;
    auto fail = [&](E e, std::string message) {
      out.error_code = code(e);
      out.error_message = std::move(message);
    };
    const auto type = static_cast<resource_type>(res.resource_type);
    const char* kind = type == resource_type::topic ? "topic" : "broker";

    std::map<std::string, std::string> configs;
    std::vector<std::string> nulls;
    bool duplicate = false;
    for (const auto& c : res.configs) {
      if (!c.value) nulls.push_back(c.name);
      else if (!configs.emplace(c.name, *c.value).second) duplicate = true;
    }

    if (type != resource_type::topic && type != resource_type::broker) {
      fail(E::invalid_request,
           fmt::format("AlterConfigs is only supported for topics and brokers, but resource type is {}", res.resource_type));
    } else if (duplicate) {
      fail(E::invalid_request, "Error due to duplicate config keys");
    } else if (!nulls.empty()) {
      fail(E::invalid_request, fmt::format("Null value not supported for {} configs: {}", kind, fmt::join(nulls, ",")));
    } else if (type == resource_type::topic) {
      std::string message;
      std::vector<std::string> unknown;
      for (const auto& [k, v] : configs)
        if (!storage::is_topic_config(k)) unknown.push_back(k);
      if (!unknown.empty()) {
        fail(E::invalid_config, fmt::format("Unknown topic config name: {}", fmt::join(unknown, ", ")));
      } else if (auto r = broker.controller.set_topic_configs(res.resource_name, configs, req.validate_only, &message);
                 !r) {
        fail(to_kafka_error(r.error()), message);
      } else {
        changed_topics = changed_topics || !req.validate_only;
      }
    } else {
      broker_resource br;
      if (auto why = parse_broker_resource(broker, res.resource_name, &br)) {
        fail(E::invalid_request, *why);
      } else if (br.cluster_default) {
        // The metadata store keeps per-broker dynamic configs only (see docs/configuration.md).
        fail(E::invalid_request, fmt::format("Cluster-wide default broker configs are not supported; set them on "
                                             "broker {}",
                                             broker.settings.broker_id));
      } else if (req.validate_only) {
        if (auto p = validate_broker_dynamic_configs(broker, configs)) fail(p->code, p->message);
      } else if (auto p = co_await apply_broker_dynamic_configs(broker, configs)) {
        fail(p->code, p->message);
      }
    }
    resp.responses.push_back(std::move(out));
  }
  if (changed_topics) co_await propagate_metadata(broker);
  co_return;
}

}  // namespace sluice::server
