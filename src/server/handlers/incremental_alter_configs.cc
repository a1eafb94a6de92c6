// IncrementalAlterConfigs (key 44): SET (0), DELETE (1), APPEND (2), SUBTRACT (3) on a topic's
// overrides or on this broker's dynamic configs; other keys keep their values. APPEND/SUBTRACT
// apply to list-type configs only (cleanup.policy, ...) and start from the current value (the
// override, else the default). validate_only checks everything and changes nothing.
#include <set>

#include <fmt/format.h>

#include "server/config_admin.h"
#include "server/handlers/handlers.h"
#include "server/topic_creation.h"
#include "storage/log_config.h"

namespace sluice::server {
namespace {

using E = protocol::error_code;
using req_t = protocol::incremental_alter_configs_request;

enum class op : int8_t { set = 0, del = 1, append = 2, subtract = 3 };

// Applies the operations to `current` (explicit values only). `is_list(name)` says whether a
// config is list-typed; `fallback(name)` is the value APPEND/SUBTRACT start from when unset.
template <typename IsList, typename Fallback>
std::optional<config_problem> apply_ops(const req_t::alter_configs_resource& res,
                                        std::map<std::string, std::string>& current, IsList is_list,
                                        Fallback fallback) {
  std::set<std::string> seen;
  for (const auto& c : res.configs) {
    if (!seen.insert(c.name).second) return config_problem{E::invalid_request, "Error due to duplicate config keys"};
  }
  for (const auto& c : res.configs) {
    switch (static_cast<op>(c.config_operation)) {
      case op::set:
        if (!c.value) return config_problem{E::invalid_request, fmt::format("Null value not supported for : {}", c.name)};
        current[c.name] = *c.value;
        break;
      case op::del:
        current.erase(c.name);
        break;
      case op::append:
      case op::subtract: {
        bool append = static_cast<op>(c.config_operation) == op::append;
        if (!is_list(c.name))
          return config_problem{E::invalid_config, fmt::format("Config value {} is not allowed for config key: {}",
                                                               append ? "append" : "subtract", c.name)};
        if (!c.value) return config_problem{E::invalid_request, fmt::format("Null value not supported for : {}", c.name)};
        auto it = current.find(c.name);
        std::string base = it != current.end() ? it->second : fallback(c.name);
        current[c.name] = append ? list_append(base, *c.value) : list_subtract(base, *c.value);
        break;
      }
      default:
        return config_problem{E::invalid_request,
                              fmt::format("Unknown alter configs operation type {} for config key: {}",
                                          c.config_operation, c.name)};
    }
  }
  return std::nullopt;
}

}  // namespace

asio::awaitable<void> handle(request_context& ctx, protocol::incremental_alter_configs_request& req,
                             protocol::incremental_alter_configs_response& resp) {
  auto& broker = ctx.broker;
  bool changed_topics = false;
  for (const auto& res : req.resources) {
    protocol::incremental_alter_configs_response::alter_configs_resource_response out;
    out.resource_type = res.resource_type;
    out.resource_name = res.resource_name;
    out.error_message = std::nullopt;
    auto fail = [&](E e, std::string message) {
      out.error_code = code(e);
      out.error_message = std::move(message);
    };
    const auto type = static_cast<resource_type>(res.resource_type);
    if (type == resource_type::topic) {
      auto img = broker.controller.image();
      const auto* t = img->find(res.resource_name);
      std::vector<std::string> unknown;
      for (const auto& c : res.configs)
        if (!storage::is_topic_config(c.name)) unknown.push_back(c.name);
      if (!t) {
        fail(E::unknown_topic_or_partition, fmt::format("The topic '{}' does not exist.", res.resource_name));
      } else if (!unknown.empty()) {
        fail(E::invalid_config, fmt::format("Unknown topic config name: {}", fmt::join(unknown, ", ")));
      } else {
        auto configs = t->configs;
        auto defaults = storage::describe_log_config(broker.partitions.topic_defaults());
        auto p = apply_ops(
            res, configs, [](const std::string& n) { return topic_config_type(n) == kafka_config_type::list; },
            [&](const std::string& n) { return defaults.contains(n) ? defaults[n] : std::string(); });
        std::string message;
        if (p) {
          fail(p->code, p->message);
        } else if (auto r = broker.controller.set_topic_configs(res.resource_name, configs, req.validate_only, &message);
                   !r) {
          fail(to_kafka_error(r.error()), message);
        } else {
          changed_topics = changed_topics || !req.validate_only;
        }
      }
    } else if (type == resource_type::broker) {
      broker_resource br;
      if (auto why = parse_broker_resource(broker, res.resource_name, &br)) {
        fail(E::invalid_request, *why);
      } else if (br.cluster_default) {
        fail(E::invalid_request, fmt::format("Cluster-wide default broker configs are not supported; set them on "
                                             "broker {}",
                                             broker.settings.broker_id));
      } else {
        auto configs = broker.controller.image()->broker_dynamic_configs;
        auto current = broker.config.get();
        auto p = apply_ops(
            res, configs,
            [](const std::string& n) {
              const auto* d = find_broker_config(n);
              return d && d->type == config_type::list;
            },
            [&](const std::string& n) { return current.get(n).value_or(""); });
        if (p) {
          fail(p->code, p->message);
        } else if (req.validate_only) {
          if (auto v = validate_broker_dynamic_configs(broker, configs)) fail(v->code, v->message);
        } else if (auto v = co_await apply_broker_dynamic_configs(broker, configs)) {
          fail(v->code, v->message);
        }
      }
    } else if (type == resource_type::broker_logger) {
      fail(E::invalid_request, "Changing broker log levels at runtime is not supported");
    } else {
      fail(E::invalid_request, fmt::format("Unsupported resource type: {}", res.resource_type));
    }
    resp.responses.push_back(std::move(out));
  }
  if (changed_topics) co_await propagate_metadata(broker);
  co_return;
}

}  // namespace sluice::server
