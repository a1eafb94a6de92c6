#pragma once
// Shared by the config admin handlers (DescribeConfigs, AlterConfigs, IncrementalAlterConfigs):
// Kafka's resource and config-source codes, the broker's static configuration (what the process
// started with, before any dynamic change) and the application of dynamic broker configs.
//
// Dynamic broker configs live in the metadata image (controller.set_broker_dynamic_configs, so
// they survive restarts); the config_holder is kept equal to static + dynamic by rebuilding it
// from the static snapshot after every change (so deleting a dynamic key falls back to the
// static value, not to the built-in default).
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "server/request_context.h"

namespace sluice::server {

// ConfigResource.Type
enum class resource_type : int8_t { unknown = 0, any = 1, topic = 2, group = 3, broker = 4, broker_logger = 8 };

// DescribeConfigsResponse.ConfigSource
enum class config_source : int8_t {
  unknown = 0,
  dynamic_topic_config = 1,
  dynamic_broker_config = 2,
  dynamic_default_broker_config = 3,
  static_broker_config = 4,
  default_config = 5,
  dynamic_broker_logger_config = 6,
};

// DescribeConfigsResponse.ConfigType (v3+)
enum class kafka_config_type : int8_t {
  unknown = 0, boolean = 1, string = 2, int_ = 3, short_ = 4, long_ = 5, double_ = 6, list = 7, class_ = 8, password = 9
};

// The configuration this broker process started with (server.properties + --set), captured the
// first time a config handler runs; dynamic changes are layered on top of it.
broker_config static_broker_config(broker_services& broker);

// A broker resource name: "" = the cluster-wide default, else this broker's id. Returns an error
// message (INVALID_REQUEST) for a non-integer or another broker's id.
struct broker_resource {
  bool cluster_default = false;
};
std::optional<std::string> parse_broker_resource(const broker_services& broker, const std::string& name,
                                                 broker_resource* out);

// Validates a complete set of dynamic broker configs; returns {error code, message} on failure.
struct config_problem {
  protocol::error_code code;
  std::string message;
};
std::optional<config_problem> validate_broker_dynamic_configs(broker_services& broker,
                                                             const std::map<std::string, std::string>& configs);

// Persists the new dynamic set through the controller, rebuilds the config_holder and publishes
// metadata to every shard.
asio::awaitable<std::optional<config_problem>> apply_broker_dynamic_configs(
    broker_services& broker, const std::map<std::string, std::string>& configs);

// Kafka's type of a topic config (for DescribeConfigs v3+ and list-only APPEND/SUBTRACT).
kafka_config_type topic_config_type(const std::string& name);
kafka_config_type broker_config_kafka_type(const config_definition& def);
// One-line documentation of a topic config.
std::string topic_config_doc(const std::string& name);

// Comma-separated list helpers with Kafka's APPEND (union, keeps order) and SUBTRACT semantics.
std::string list_append(const std::string& current, const std::string& add);
std::string list_subtract(const std::string& current, const std::string& remove);

}  // namespace sluice::server
