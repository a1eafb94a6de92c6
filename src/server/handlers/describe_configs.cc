// DescribeConfigs (key 32): the configs of topics (effective values: overrides over broker
// defaults), of this broker (every broker config, dynamic over static over default) and of the
// cluster-wide default broker resource (only the dynamic defaults, as Kafka answers). Synonyms
// (v1+) follow Kafka's order: dynamic per-broker, dynamic default, static, default, each over the
// config's synonym names (log.retention.ms, .minutes, .hours).
#include <fmt/format.h>

#include "server/config_admin.h"
#include "server/handlers/handlers.h"
#include "storage/log_config.h"

namespace sluice::server {
namespace {

using E = protocol::error_code;
using resp_t = protocol::describe_configs_response;
using entry_t = resp_t::describe_configs_resource_result;
using synonym_t = resp_t::describe_configs_synonym;

// The broker names that are synonyms of `name` (name first), as Kafka's brokerConfigSynonyms.
std::vector<std::string> broker_synonym_names(const std::string& name) {
  for (const auto& t : storage::topic_config_names()) {
    for (size_t i = 0; i < t.broker_names.size(); ++i) {
      if (t.broker_names[i] != name) continue;
      std::vector<std::string> out;
      for (size_t j = 0; j < t.broker_names.size(); ++j)
        if (find_broker_config(std::string(t.broker_names[j]))) out.emplace_back(t.broker_names[j]);
      return out;
    }
  }
  return {name};
}

struct broker_levels {
  std::map<std::string, std::string> dynamic_broker;   // per-broker dynamic (metadata image)
  std::map<std::string, std::string> dynamic_default;  // cluster-wide dynamic defaults
  std::map<std::string, std::string> static_explicit;  // server.properties / --set
  std::map<std::string, std::string> defaults;         // built-in defaults (non-null)
};

broker_levels make_levels(broker_services& broker, const cluster::metadata_image& img) {
  broker_levels l;
  l.dynamic_broker = img.broker_dynamic_configs;
  auto st = static_broker_config(broker);
  for (const auto& d : broker_config_definitions()) {
    if (!st.is_default(d.name)) {
      if (auto v = st.get(d.name)) l.static_explicit[d.name] = *v;
    }
    if (d.default_value) l.defaults[d.name] = *d.default_value;
  }
  return l;
}

// Kafka's configSynonyms: level by level, name by name; then drop what precedes `first`.
std::vector<synonym_t> synonyms_of(const broker_levels& l, const std::vector<std::string>& names,
                                   const std::string& first, bool sensitive) {
  std::vector<synonym_t> all;
  auto add = [&](const std::map<std::string, std::string>& m, config_source src) {
    for (const auto& n : names) {
      auto it = m.find(n);
      if (it == m.end()) continue;
      synonym_t s;
      s.name = n;
      s.value = sensitive ? std::nullopt : std::optional<std::string>(it->second);
      s.source = static_cast<int8_t>(src);
      all.push_back(std::move(s));
    }
  };
  add(l.dynamic_broker, config_source::dynamic_broker_config);
  add(l.dynamic_default, config_source::dynamic_default_broker_config);
  add(l.static_explicit, config_source::static_broker_config);
  add(l.defaults, config_source::default_config);
  auto it = std::find_if(all.begin(), all.end(), [&](const synonym_t& s) { return s.name == first; });
  return {it, all.end()};
}

bool wanted(const std::optional<std::vector<std::string>>& keys, const std::string& name) {
  if (!keys || keys->empty()) return true;  // null (v1+) or empty: every config
  return std::find(keys->begin(), keys->end(), name) != keys->end();
}

void finish_entry(entry_t& e, const std::vector<synonym_t>& synonyms, bool include_synonyms, int16_t version) {
  e.config_source = synonyms.empty() ? static_cast<int8_t>(config_source::default_config) : synonyms.front().source;
  e.is_default = e.config_source == static_cast<int8_t>(config_source::default_config);
  if (include_synonyms && version >= 1) e.synonyms = synonyms;
}

void describe_topic(broker_services& broker, const cluster::metadata_image& img, const cluster::topic_metadata& t,
                    const protocol::describe_configs_request& req,
                    const protocol::describe_configs_request::describe_configs_resource& res, int16_t version,
                    resp_t::describe_configs_result& out) {
  auto levels = make_levels(broker, img);
  auto effective = storage::describe_log_config(broker.partitions.effective_config(t));
  for (const auto& n : storage::topic_config_names()) {
    std::string name(n.topic_name);
    if (!wanted(res.configuration_keys, name)) continue;
    entry_t e;
    e.name = name;
    auto eff = effective.find(name);
    e.value = eff == effective.end() ? std::nullopt : std::optional<std::string>(eff->second);
    e.read_only = false;
    e.is_sensitive = false;
    std::vector<synonym_t> synonyms;
    if (auto o = t.configs.find(name); o != t.configs.end()) {
      synonym_t s;
      s.name = name;
      s.value = o->second;
      s.source = static_cast<int8_t>(config_source::dynamic_topic_config);
      synonyms.push_back(std::move(s));
    }
    std::vector<std::string> bnames;
    for (auto b : n.broker_names)
      if (find_broker_config(std::string(b))) bnames.emplace_back(b);
    if (!bnames.empty()) {
      auto bs = synonyms_of(levels, bnames, bnames.front(), false);
      synonyms.insert(synonyms.end(), bs.begin(), bs.end());
    }
    finish_entry(e, synonyms, req.include_synonyms, version);
    e.config_type = static_cast<int8_t>(topic_config_type(name));
    if (req.include_documentation) e.documentation = topic_config_doc(name);
    else e.documentation = std::nullopt;
    out.configs.push_back(std::move(e));
  }
}

void describe_broker(broker_services& broker, const cluster::metadata_image& img, bool cluster_default,
                     const protocol::describe_configs_request& req,
                     const protocol::describe_configs_request::describe_configs_resource& res, int16_t version,
                     resp_t::describe_configs_result& out) {
  auto levels = make_levels(broker, img);
  for (const auto& d : broker_config_definitions()) {
    if (!wanted(res.configuration_keys, d.name)) continue;
    bool sensitive = d.type == config_type::password;
    entry_t e;
    e.name = d.name;
    std::vector<synonym_t> synonyms;
    if (cluster_default) {
      // Kafka answers the default resource with the dynamic defaults that are set, only.
      auto it = levels.dynamic_default.find(d.name);
      if (it == levels.dynamic_default.end()) continue;
      e.value = sensitive ? std::nullopt : std::optional<std::string>(it->second);
      synonyms = synonyms_of(levels, broker_synonym_names(d.name), d.name, sensitive);
      synonyms.erase(synonyms.begin(), std::find_if(synonyms.begin(), synonyms.end(), [](const synonym_t& s) {
                       return s.source == static_cast<int8_t>(config_source::dynamic_default_broker_config);
                     }));
    } else {
      std::optional<std::string> v;
      for (const auto* m : {&levels.dynamic_broker, &levels.dynamic_default, &levels.static_explicit, &levels.defaults}) {
        if (auto it = m->find(d.name); it != m->end()) {
          v = it->second;
          break;
        }
      }
      e.value = sensitive ? std::nullopt : v;
      synonyms = synonyms_of(levels, broker_synonym_names(d.name), d.name, sensitive);
    }
    e.read_only = !d.dynamic;
    e.is_sensitive = sensitive;
    finish_entry(e, synonyms, req.include_synonyms, version);
    e.config_type = static_cast<int8_t>(broker_config_kafka_type(d));
    if (req.include_documentation) e.documentation = d.doc;
    else e.documentation = std::nullopt;
    out.configs.push_back(std::move(e));
  }
}

}  // namespace

asio::awaitable<void> handle(request_context& ctx, protocol::describe_configs_request& req,
                             protocol::describe_configs_response& resp) {
  auto& broker = ctx.broker;
  const int16_t version = ctx.version();
  auto img = broker.controller.image();
  for (const auto& res : req.resources) {
    resp_t::describe_configs_result out;
    out.resource_type = res.resource_type;
    out.resource_name = res.resource_name;
    out.error_message = std::nullopt;
    auto fail = [&](E e, std::string message) {
      out.error_code = code(e);
      out.error_message = std::move(message);
      out.configs.clear();
    };
    switch (static_cast<resource_type>(res.resource_type)) {
      case resource_type::topic: {
        if (!model::is_valid_topic_name(res.resource_name)) {
          fail(E::invalid_topic_exception, fmt::format("Topic name '{}' is illegal", res.resource_name));
          break;
        }
        const auto* t = img->find(res.resource_name);
        if (!t) {
          fail(E::unknown_topic_or_partition, fmt::format("The topic '{}' does not exist.", res.resource_name));
          break;
        }
        describe_topic(broker, *img, *t, req, res, version, out);
        break;
      }
      case resource_type::broker: {
        broker_resource br;
        if (auto why = parse_broker_resource(broker, res.resource_name, &br)) {
          fail(E::invalid_request, *why);
          break;
        }
        describe_broker(broker, *img, br.cluster_default, req, res, version, out);
        break;
      }
      case resource_type::broker_logger: {
        // Log levels are not exposed as configs yet: this broker answers with no loggers.
        broker_resource br;
        if (auto why = parse_broker_resource(broker, res.resource_name, &br)) {
          fail(E::invalid_request, *why);
          break;
        }
        if (br.cluster_default) fail(E::invalid_request, "Broker id must not be empty");
        break;
      }
      default:
        fail(E::invalid_request, fmt::format("Unsupported resource type: {}", res.resource_type));
        break;
    }
    resp.results.push_back(std::move(out));
  }
  co_return;
}

}  // namespace sluice::server
