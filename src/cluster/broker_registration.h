#pragma once
// Broker registration: the ephemeral node /brokers/ids/<id> in Kafka's JSON (version 5):
//   {"listener_security_protocol_map":{"PLAINTEXT":"PLAINTEXT"},"endpoints":["PLAINTEXT://h:p"],
//    "jmx_port":-1,"host":"h","port":p,"timestamp":"<ms>","version":5[,"rack":"r"]}
// It lives as long as the broker's store session; the broker re-registers after a ZooKeeper
// session was replaced (zookeeper_store's session listener).
#include <cstdint>
#include <optional>
#include <string>

#include "base/result.h"
#include "cluster/metadata_image.h"
#include "cluster/metadata_store.h"

namespace sluice::cluster {

std::string broker_registration_path(int32_t id);
std::string registration_json(const broker_endpoint& self);
// The endpoint in a registration (PLAINTEXT endpoint first, else host/port); nullopt if malformed.
std::optional<broker_endpoint> parse_registration(int32_t id, const std::string& json);

// Creates the registration. If the id is registered already, waits up to wait_ms for that node to
// vanish (a killed broker's session expires within zookeeper.session.timeout.ms); if it is still
// there, fails with node_exists and `error` names the id and the holder's endpoint. Blocking.
result<void> register_broker(metadata_store& store, const broker_endpoint& self, int64_t wait_ms, std::string* error);

}  // namespace sluice::cluster
