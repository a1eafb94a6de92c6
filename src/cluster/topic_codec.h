#pragma once
// JSON of the topic nodes (Kafka's ZooKeeper formats, docs/format/metadata-store.md):
//   /brokers/topics/<t>  {"version":3,"topic_id":"<base64url uuid>","partitions":{"0":[1,2]}[,"internal":true]}
//   /config/topics/<t>, /config/brokers/<id>  {"version":1,"config":{"k":"v"}}
#include <map>
#include <optional>
#include <string>

#include "cluster/metadata_image.h"

namespace sluice::cluster {

std::string topic_node_path(const std::string& topic);
std::string topic_config_path(const std::string& topic);
std::string topic_node_json(const topic_metadata& t);
// Name, id, internal flag and each partition's replicas (sorted by partition); nullopt if malformed.
std::optional<topic_metadata> parse_topic_node(const std::string& name, const std::string& json);
std::string config_node_json(const std::map<std::string, std::string>& configs);
std::map<std::string, std::string> parse_config_node(const std::string& json);  // empty if malformed

std::string base64url(const topic_uuid& u);
std::optional<topic_uuid> from_base64url(const std::string& s);
topic_uuid random_uuid();

}  // namespace sluice::cluster
