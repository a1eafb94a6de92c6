#include "cluster/controller.h"

#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/logging.h"
#include "cluster/metadata_watcher.h"
#include "cluster/replica_placement.h"
#include "cluster/topic_codec.h"
#include "model/topic_partition.h"

namespace sluice::cluster {
namespace {

using json = nlohmann::json;

class controller_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "controller"; }
  std::string message(int c) const override {
    switch (static_cast<controller_errc>(c)) {
      case controller_errc::topic_already_exists: return "topic already exists";
      case controller_errc::unknown_topic: return "unknown topic";
      case controller_errc::invalid_topic_name: return "invalid topic name";
      case controller_errc::invalid_partitions: return "invalid partition count";
      case controller_errc::invalid_replication_factor: return "invalid replication factor";
      case controller_errc::invalid_replica_assignment: return "invalid replica assignment";
      case controller_errc::invalid_config: return "invalid topic config";
      case controller_errc::store_failure: return "metadata store failure";
      case controller_errc::topic_deletion_disabled: return "topic deletion is disabled";
    }
    return "unknown";
  }
};

std::string topic_path(const std::string& t) { return "/brokers/topics/" + t; }
std::string config_path(const std::string& t) { return "/config/topics/" + t; }
std::string state_path(const std::string& t, int32_t p) { return fmt::format("/brokers/topics/{}/partitions/{}/state", t, p); }

json partitions_json(const std::vector<partition_metadata>& parts) {
  json j = json::object();
  for (const auto& p : parts) j[std::to_string(p.partition)] = p.replicas;
  return j;
}

}  // namespace

const std::error_category& controller_category() {
  static controller_category_impl c;
  return c;
}

controller::controller(metadata_store& store, int32_t broker_id, broker_endpoint self, controller_defaults defaults,
                       config_validator validate_configs)
    : _store(store),
      _broker_id(broker_id),
      _self(std::move(self)),
      _defaults(defaults),
      _validate_configs(std::move(validate_configs)) {}

result<void> controller::start(std::string* error) {
  auto img = std::make_shared<metadata_image>();
  auto id = _store.get("/cluster/id");
  if (id) {
    auto j = json::parse(id->data, nullptr, false);
    if (j.is_discarded() || !j.contains("id") || !j["id"].is_string()) {
      if (error) *error = "metadata store: /cluster/id is malformed";
      return controller_errc::store_failure;
    }
    img->cluster_id = j["id"].get<std::string>();
  } else {
    img->cluster_id = base64url(random_uuid());
    if (!_store.create("/cluster/id", json{{"version", "1"}, {"id", img->cluster_id}}.dump())) {
      if (error) *error = "metadata store: cannot write /cluster/id";
      return controller_errc::store_failure;
    }
  }
  // The embedded store is single-broker: this broker registers itself and is the controller.
  json reg = {{"host", _self.host}, {"port", _self.port}, {"version", 5}};
  (void)_store.remove("/brokers/ids/" + std::to_string(_broker_id));
  (void)_store.create("/brokers/ids/" + std::to_string(_broker_id), reg.dump(), true);
  (void)_store.remove("/controller");
  (void)_store.create("/controller", json{{"version", 1}, {"brokerid", _broker_id}}.dump(), true);
  img->controller_id = _broker_id;
  img->self_id = _broker_id;
  img->brokers.push_back(_self);
  if (auto r = load_topics(*img); !r) {
    if (error) *error = "metadata store: cannot load topics: " + r.error().message();
    return r;
  }
  std::lock_guard g(_mu);
  publish(img);
  return ok();
}

result<void> controller::load_topics(metadata_image& img) {
  if (auto b = _store.get("/config/brokers/" + std::to_string(_broker_id))) {
    auto bj = json::parse(b->data, nullptr, false);
    if (!bj.is_discarded() && bj.contains("config"))
      img.broker_dynamic_configs = bj["config"].get<std::map<std::string, std::string>>();
  }
  auto names = _store.children("/brokers/topics");
  if (!names) return names.error() == make_error_code(store_errc::no_node) ? ok() : result<void>(names.error());
  for (const auto& name : *names) {
    auto n = _store.get(topic_path(name));
    if (!n) return n.error();
    auto j = json::parse(n->data, nullptr, false);
    if (j.is_discarded() || !j.contains("partitions") || !j["partitions"].is_object()) return controller_errc::store_failure;
    topic_metadata t;
    t.name = name;
    if (j.contains("topic_id") && j["topic_id"].is_string())
      t.id = from_base64url(j["topic_id"].get<std::string>()).value_or(topic_uuid{});
    t.internal = j.value("internal", false);
    for (auto& [p, replicas] : j["partitions"].items()) {
      partition_metadata pm;
      pm.partition = std::stoi(p);
      pm.replicas = replicas.get<std::vector<int32_t>>();
      pm.leader = pm.replicas.empty() ? -1 : pm.replicas.front();
      pm.isr = pm.replicas;
      if (auto s = _store.get(state_path(name, pm.partition))) {
        pm.partition_epoch = s->version;
        auto sj = json::parse(s->data, nullptr, false);
        if (!sj.is_discarded()) {
          pm.leader = sj.value("leader", pm.leader);
          pm.leader_epoch = sj.value("leader_epoch", 0);
          if (sj.contains("isr")) pm.isr = sj["isr"].get<std::vector<int32_t>>();
        }
      }
      t.partitions.push_back(std::move(pm));
    }
    std::sort(t.partitions.begin(), t.partitions.end(), [](auto& a, auto& b) { return a.partition < b.partition; });
    if (auto c = _store.get(config_path(name))) {
      auto cj = json::parse(c->data, nullptr, false);
      if (!cj.is_discarded() && cj.contains("config")) t.configs = cj["config"].get<std::map<std::string, std::string>>();
    }
    img.topics[name] = std::move(t);
  }
  return ok();
}

result<void> controller::start_cluster(metadata_watcher& watcher, std::string* error) {
  auto id = json{{"version", "1"}, {"id", base64url(random_uuid())}}.dump();
  auto r = _store.create("/cluster/id", id, false, true);
  if (!r && r.error() != make_error_code(store_errc::node_exists)) {
    if (error) *error = "metadata store: cannot write /cluster/id: " + r.error().message();
    return controller_errc::store_failure;
  }
  std::lock_guard g(_mu);
  _watcher = &watcher;
  return ok();
}

image_ptr controller::current() const { return _watcher ? _watcher->image() : _image; }

bool controller::wait_visible(const std::function<bool(const metadata_image&)>& pred) const {
  return _watcher->wait_for(pred, admin_visibility_timeout_ms);
}

image_ptr controller::image() const {
  std::lock_guard g(_mu);
  return current();
}

void controller::subscribe(std::function<void(image_ptr)> fn) {
  std::lock_guard g(_mu);
  if (_watcher) {
    _watcher->subscribe(std::move(fn));
    return;
  }
  _subscribers.push_back(std::move(fn));
  if (_image) _subscribers.back()(_image);
}

void controller::publish(std::shared_ptr<metadata_image> next) {
  next->version = _image ? _image->version + 1 : 1;
  _image = next;
  for (auto& s : _subscribers) s(_image);
}

std::vector<int32_t> controller::live_broker_ids() const {
  std::vector<int32_t> ids;
  for (const auto& b : current()->brokers) ids.push_back(b.id);
  return ids;
}

result<void> controller::validate_assignment(const std::vector<std::vector<int32_t>>& a, std::string* message) const {
  for (size_t p = 0; p < a.size(); ++p) {
    if (a[p].empty()) {
      if (message) *message = fmt::format("partition {} has no replicas", p);
      return controller_errc::invalid_replica_assignment;
    }
    std::vector<int32_t> sorted = a[p];
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
      if (message) *message = fmt::format("partition {} lists a broker twice", p);
      return controller_errc::invalid_replica_assignment;
    }
    for (int32_t b : a[p]) {
      if (_watcher ? !current()->is_live(b) : b != _broker_id) {
        if (message) *message = fmt::format("partition {}: unknown broker {}", p, b);
        return controller_errc::invalid_replica_assignment;
      }
    }
  }
  return ok();
}

result<topic_metadata> controller::create_topic(const create_topic_request& req, bool validate_only,
                                                std::string* message) {
  if (!model::is_valid_topic_name(req.name)) {
    if (message) *message = fmt::format("'{}' is not a valid topic name (1-249 of [a-zA-Z0-9._-], not '.' or '..')", req.name);
    return controller_errc::invalid_topic_name;
  }
  std::lock_guard g(_mu);
  if (current()->find(req.name)) {
    if (message) *message = fmt::format("Topic '{}' already exists.", req.name);
    return controller_errc::topic_already_exists;
  }
  std::vector<std::vector<int32_t>> assignment = req.assignments;
  if (!assignment.empty()) {
    if (req.partitions != -1 || req.replication_factor != -1) {
      if (message) *message = "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.";
      return controller_errc::invalid_replica_assignment;
    }
    if (auto r = validate_assignment(assignment, message); !r) return r.error();
  } else {
    auto placed = place_replicas({.brokers = live_broker_ids(),
                                  .partitions = req.partitions == -1 ? _defaults.num_partitions : req.partitions,
                                  .replication_factor = req.replication_factor == -1
                                                            ? _defaults.default_replication_factor
                                                            : req.replication_factor});
    if (placed.error != placement_error::none) {
      if (message) *message = placed.message;
      return placed.error == placement_error::invalid_partitions ? controller_errc::invalid_partitions
                                                                 : controller_errc::invalid_replication_factor;
    }
    assignment = std::move(placed.replicas);
  }
  if (_validate_configs) {
    if (auto why = _validate_configs(req.configs)) {
      if (message) *message = *why;
      return controller_errc::invalid_config;
    }
  }
  topic_metadata t;
  t.name = req.name;
  t.id = random_uuid();
  t.internal = req.internal;
  t.configs = req.configs;
  for (size_t p = 0; p < assignment.size(); ++p) {
    partition_metadata pm;
    pm.partition = static_cast<int32_t>(p);
    pm.replicas = assignment[p];
    pm.isr = assignment[p];
    pm.leader = assignment[p].front();
    t.partitions.push_back(pm);
  }
  if (validate_only) return t;
  if (_watcher) {
    // AdminZkClient order: config, then the topic node; the controller adds partition states.
    if (!_store.create(config_path(t.name), config_node_json(t.configs)) &&
        !_store.set(config_path(t.name), config_node_json(t.configs), -1))
      return controller_errc::store_failure;
    if (auto r = _store.create(topic_path(t.name), topic_node_json(t)); !r) {
      if (r.error() != make_error_code(store_errc::node_exists)) return controller_errc::store_failure;
      if (message) *message = fmt::format("Topic '{}' already exists.", req.name);
      return controller_errc::topic_already_exists;
    }
    log::get("cluster")->info("created topic {} with {} partitions", t.name, t.partitions.size());
    // Answer once this broker's image shows the topic with leaders, so the client's next
    // Metadata request sees it (a partition still without a live replica stays leaderless).
    const std::string name = t.name;
    wait_visible([&](const metadata_image& img) {
      const auto* seen = img.find(name);
      if (!seen) return false;
      for (const auto& pm : seen->partitions)
        if (pm.partition_epoch < 0) return false;
      return true;
    });
    if (const auto* seen = current()->find(name)) return *seen;
    return t;
  }
  // Configs first, then partition states, then the topic node: a topic is visible after restart
  // only once everything it needs is in the store.
  json cfg = {{"version", 1}, {"config", t.configs}};
  if (!_store.create(config_path(t.name), cfg.dump()) &&
      !_store.set(config_path(t.name), cfg.dump(), -1)) return controller_errc::store_failure;
  json topic = {{"version", 3}, {"topic_id", base64url(t.id)}, {"partitions", partitions_json(t.partitions)}};
  if (t.internal) topic["internal"] = true;
  if (!_store.create(topic_path(t.name), topic.dump())) return controller_errc::store_failure;
  for (const auto& pm : t.partitions) {
    json st = {{"controller_epoch", 1}, {"leader", pm.leader}, {"leader_epoch", pm.leader_epoch}, {"isr", pm.isr}, {"version", 1}};
    if (!_store.create(state_path(t.name, pm.partition), st.dump())) return controller_errc::store_failure;
  }
  auto next = std::make_shared<metadata_image>(*_image);
  next->topics[t.name] = t;
  publish(next);
  log::get("cluster")->info("created topic {} with {} partitions", t.name, t.partitions.size());
  return t;
}

result<void> controller::delete_topic(const std::string& name, std::string* message) {
  std::lock_guard g(_mu);
  if (!_defaults.delete_topic_enable) {
    if (message) *message = "Topic deletion is disabled.";
    return controller_errc::topic_deletion_disabled;
  }
  if (!current()->find(name)) {
    if (message) *message = fmt::format("This server does not host this topic '{}'.", name);
    return controller_errc::unknown_topic;
  }
  if (!_store.remove(topic_path(name), -1, true)) return controller_errc::store_failure;
  (void)_store.remove(config_path(name), -1, true);
  if (_watcher) {
    log::get("cluster")->info("deleted topic {}", name);
    wait_visible([&](const metadata_image& img) { return img.find(name) == nullptr; });
    return ok();
  }
  auto next = std::make_shared<metadata_image>(*_image);
  next->topics.erase(name);
  publish(next);
  log::get("cluster")->info("deleted topic {}", name);
  return ok();
}

result<void> controller::create_partitions(const std::string& name, int32_t new_total,
                                           const std::vector<std::vector<int32_t>>& assignments, bool validate_only,
                                           std::string* message) {
  std::lock_guard g(_mu);
  auto img = current();
  const auto* t = img->find(name);
  if (!t) {
    if (message) *message = fmt::format("The topic '{}' does not exist.", name);
    return controller_errc::unknown_topic;
  }
  auto current = static_cast<int32_t>(t->partitions.size());
  if (new_total <= current) {
    if (message)
      *message = new_total == current ? fmt::format("Topic already has {} partitions.", current)
                                      : fmt::format("Topic currently has {} partitions, which is higher than the requested {}.", current, new_total);
    return controller_errc::invalid_partitions;
  }
  std::vector<std::vector<int32_t>> added = assignments;
  if (!added.empty()) {
    if (static_cast<int32_t>(added.size()) != new_total - current) {
      if (message) *message = fmt::format("Increasing the number of partitions by {} but {} assignments provided.", new_total - current, added.size());
      return controller_errc::invalid_replica_assignment;
    }
    if (auto r = validate_assignment(added, message); !r) return r.error();
  } else {
    const auto brokers = live_broker_ids();
    const auto& first = t->partitions.front().replicas;
    int32_t start = start_index_for_added_partitions(brokers, first.front());
    auto placed = place_replicas({.brokers = brokers,
                                  .partitions = new_total - current,
                                  .replication_factor = static_cast<int32_t>(first.size()),
                                  .first_partition_id = current,
                                  .start_index = start,
                                  .replica_shift = start});
    if (placed.error != placement_error::none) {
      if (message) *message = placed.message;
      return controller_errc::invalid_replication_factor;
    }
    added = std::move(placed.replicas);
  }
  if (validate_only) return ok();
  topic_metadata nt = *t;
  if (_watcher) {
    for (size_t i = 0; i < added.size(); ++i) {
      partition_metadata pm;
      pm.partition = current + static_cast<int32_t>(i);
      pm.replicas = added[i];
      nt.partitions.push_back(pm);
    }
    if (!_store.set(topic_path(name), topic_node_json(nt), -1)) return controller_errc::store_failure;
    wait_visible([&](const metadata_image& seen) {
      const auto* st = seen.find(name);
      if (!st || st->partitions.size() != static_cast<size_t>(new_total)) return false;
      for (const auto& pm : st->partitions)
        if (pm.partition_epoch < 0) return false;
      return true;
    });
    return ok();
  }
  for (size_t i = 0; i < added.size(); ++i) {
    partition_metadata pm;
    pm.partition = current + static_cast<int32_t>(i);
    pm.replicas = added[i];
    pm.isr = added[i];
    pm.leader = added[i].front();
    json st = {{"controller_epoch", 1}, {"leader", pm.leader}, {"leader_epoch", 0}, {"isr", pm.isr}, {"version", 1}};
    if (!_store.create(state_path(name, pm.partition), st.dump())) return controller_errc::store_failure;
    nt.partitions.push_back(pm);
  }
  json topic = {{"version", 3}, {"topic_id", base64url(nt.id)}, {"partitions", partitions_json(nt.partitions)}};
  if (nt.internal) topic["internal"] = true;
  if (!_store.set(topic_path(name), topic.dump(), -1)) return controller_errc::store_failure;
  auto next = std::make_shared<metadata_image>(*_image);
  next->topics[name] = std::move(nt);
  publish(next);
  return ok();
}

result<void> controller::set_topic_configs(const std::string& name, const std::map<std::string, std::string>& configs,
                                           bool validate_only, std::string* message) {
  std::lock_guard g(_mu);
  auto img = current();
  const auto* t = img->find(name);
  if (!t) {
    if (message) *message = fmt::format("Topic {} does not exist", name);
    return controller_errc::unknown_topic;
  }
  if (_validate_configs) {
    if (auto why = _validate_configs(configs)) {
      if (message) *message = *why;
      return controller_errc::invalid_config;
    }
  }
  if (validate_only) return ok();
  json cfg = {{"version", 1}, {"config", configs}};
  if (!_store.set(config_path(name), cfg.dump(), -1) && !_store.create(config_path(name), cfg.dump()))
    return controller_errc::store_failure;
  if (_watcher) {
    wait_visible([&](const metadata_image& seen) {
      const auto* st = seen.find(name);
      return !st || st->configs == configs;
    });
    return ok();
  }
  auto next = std::make_shared<metadata_image>(*_image);
  next->topics[name].configs = configs;
  publish(next);
  return ok();
}

result<void> controller::set_broker_dynamic_configs(const std::map<std::string, std::string>& configs) {
  std::lock_guard g(_mu);
  json cfg = {{"version", 1}, {"config", configs}};
  std::string path = "/config/brokers/" + std::to_string(_broker_id);
  if (!_store.set(path, cfg.dump(), -1) && !_store.create(path, cfg.dump())) return controller_errc::store_failure;
  if (_watcher) {
    wait_visible([&](const metadata_image& seen) { return seen.broker_dynamic_configs == configs; });
    return ok();
  }
  auto next = std::make_shared<metadata_image>(*_image);
  next->broker_dynamic_configs = configs;
  publish(next);
  return ok();
}

}  // namespace sluice::cluster
