#include "cluster/metadata_watcher.h"

#include <algorithm>
#include <chrono>

#include <nlohmann/json.hpp>

#include "base/logging.h"
#include "cluster/broker_registration.h"
#include "cluster/controller_duties.h"
#include "cluster/partition_state.h"
#include "cluster/topic_codec.h"

namespace sluice::cluster {

metadata_watcher::metadata_watcher(metadata_store& store, int32_t self_id) : _store(store), _self_id(self_id) {}

metadata_watcher::~metadata_watcher() { stop(); }

result<void> metadata_watcher::start(std::string* error) {
  auto first = read_image();
  if (!first) {
    if (error) *error = "cannot read cluster metadata: " + first.error().message();
    return first.error();
  }
  // A watch that fired during this first read leaves wake_state::dirty set: the thread re-reads at once.
  publish(*first);
  _thread = std::thread([this] { run(); });
  return ok();
}

void metadata_watcher::stop() {
  {
    std::lock_guard g(_mu);
    _stopping = true;
    _cv.notify_all();
  }
  if (_thread.joinable()) _thread.join();
}

image_ptr metadata_watcher::image() const {
  std::lock_guard g(_mu);
  return _image;
}

metadata_watcher::subscription metadata_watcher::subscribe(std::function<void(image_ptr)> fn) {
  std::lock_guard g(_mu);
  subscription id = _next_subscription++;
  _subscribers.emplace_back(id, std::move(fn));
  if (_image) _subscribers.back().second(_image);
  return id;
}

void metadata_watcher::unsubscribe(subscription id) {
  std::unique_lock lock(_mu);
  std::erase_if(_subscribers, [id](const auto& s) { return s.first == id; });
  // A publish running now may hold a copy of it: wait until that publish is over.
  _cv.wait(lock, [&] { return !_publishing; });
}

bool metadata_watcher::wait_for(const std::function<bool(const metadata_image&)>& pred, int64_t timeout_ms) const {
  std::unique_lock lock(_mu);
  return _cv.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return _image && pred(*_image); });
}

void metadata_watcher::refresh() {
  std::lock_guard g(_mu);
  _state->data_watched.clear();  // a replaced session lost every watch
  _state->child_watched.clear();
  _state->dirty = true;
  _cv.notify_all();
}

watch_fn metadata_watcher::on_change(bool data, std::string path) {
  // Owns the wake_state, never `this`: the store may run this after the watcher is destroyed.
  return [state = _state, data, path = std::move(path)](watch_event, const std::string&) {
    std::lock_guard g(state->mu);
    (data ? state->data_watched : state->child_watched).erase(path);
    state->dirty = true;
    state->cv.notify_all();
  };
}

result<node> metadata_watcher::watched_get(const std::string& path) {
  bool watch = false;
  {
    std::lock_guard g(_mu);
    watch = _state->data_watched.insert(path).second;
  }
  if (!watch) return _store.get(path);
  auto r = _store.get_and_watch(path, on_change(true, path));
  // A missing node keeps its watch (it fires on creation); any other failure sets none.
  if (!r && r.error() != make_error_code(store_errc::no_node)) {
    std::lock_guard g(_mu);
    _state->data_watched.erase(path);
  }
  return r;
}

result<std::vector<std::string>> metadata_watcher::watched_children(const std::string& path) {
  bool watch = false;
  {
    std::lock_guard g(_mu);
    watch = _state->child_watched.insert(path).second;
  }
  if (!watch) return _store.children(path);
  auto r = _store.children_and_watch(path, on_change(false, path));
  if (!r) {
    {
      std::lock_guard g(_mu);
      _state->child_watched.erase(path);
    }
    // A missing parent (no topics yet) is watched for its creation through its data watch.
    if (r.error() == make_error_code(store_errc::no_node)) {
      auto d = watched_get(path);
      if (d) return watched_children(path);  // created meanwhile
      if (d.error() == make_error_code(store_errc::no_node)) return std::vector<std::string>{};
      return d.error();
    }
  }
  return r;
}

result<std::shared_ptr<metadata_image>> metadata_watcher::read_image() {
  auto img = std::make_shared<metadata_image>();
  img->self_id = _self_id;
  if (auto id = watched_get("/cluster/id")) {
    auto j = nlohmann::json::parse(id->data, nullptr, false);
    if (!j.is_discarded() && j.is_object() && j.contains("id") && j["id"].is_string())
      img->cluster_id = j["id"].get<std::string>();
  } else if (id.error() != make_error_code(store_errc::no_node)) {
    return id.error();
  }
  if (auto c = watched_get("/controller")) {
    auto j = nlohmann::json::parse(c->data, nullptr, false);
    if (!j.is_discarded() && j.is_object() && j.contains("brokerid") && j["brokerid"].is_number_integer())
      img->controller_id = j["brokerid"].get<int32_t>();
  } else if (c.error() != make_error_code(store_errc::no_node)) {
    return c.error();
  }
  auto ids = watched_children("/brokers/ids");
  if (!ids) return ids.error();
  for (const auto& name : *ids) {
    int32_t id = 0;
    try {
      id = std::stoi(name);
    } catch (...) {
      continue;
    }
    auto n = watched_get(broker_registration_path(id));
    if (!n) {
      if (n.error() == make_error_code(store_errc::no_node)) continue;  // went away meanwhile
      return n.error();
    }
    if (auto e = parse_registration(id, n->data)) img->brokers.push_back(*e);
  }
  std::sort(img->brokers.begin(), img->brokers.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  auto stopping = watched_children(controlled_shutdown_root);
  if (!stopping) return stopping.error();
  for (const auto& name : *stopping) {
    try {
      img->shutting_down.push_back(std::stoi(name));
    } catch (...) {
    }
  }
  if (auto b = watched_get("/config/brokers/" + std::to_string(_self_id))) {
    img->broker_dynamic_configs = parse_config_node(b->data);
  } else if (b.error() != make_error_code(store_errc::no_node)) {
    return b.error();
  }
  auto names = watched_children("/brokers/topics");
  if (!names) return names.error();
  for (const auto& name : *names) {
    auto n = watched_get(topic_node_path(name));
    if (!n) {
      if (n.error() == make_error_code(store_errc::no_node)) continue;  // deleted meanwhile
      return n.error();
    }
    auto t = parse_topic_node(name, n->data);
    if (!t) {
      log::get("cluster")->warn("ignoring malformed topic node {}", topic_node_path(name));
      continue;
    }
    for (auto& pm : t->partitions) {
      auto s = watched_get(partition_state_path(name, pm.partition));
      pm.leader = -1;
      pm.isr.clear();
      pm.partition_epoch = -1;
      if (!s) {
        if (s.error() == make_error_code(store_errc::no_node)) continue;  // the controller creates it
        return s.error();
      }
      if (auto st = parse_partition_state(s->data)) {
        pm.leader = st->leader;
        pm.leader_epoch = st->leader_epoch;
        pm.isr = st->isr;
        pm.partition_epoch = s->version;
      }
    }
    if (auto c = watched_get(topic_config_path(name))) {
      t->configs = parse_config_node(c->data);
    } else if (c.error() != make_error_code(store_errc::no_node)) {
      return c.error();
    }
    img->topics[name] = std::move(*t);
  }
  return img;
}

void metadata_watcher::publish(std::shared_ptr<metadata_image> next) {
  // Only one thread publishes (start(), then the watcher thread), so images reach subscribers in
  // order; they are called without _mu so they may call image().
  // unsubscribe() waits for _publishing to clear, so a removed subscriber is not called later.
  std::vector<std::pair<subscription, std::function<void(image_ptr)>>> subscribers;
  {
    std::lock_guard g(_mu);
    next->version = _image ? _image->version + 1 : 1;
    _image = next;
    subscribers = _subscribers;
    _publishing = true;
  }
  for (auto& s : subscribers) s.second(next);
  std::lock_guard g(_mu);
  _publishing = false;
  _cv.notify_all();
}

void metadata_watcher::run() {
  std::unique_lock lock(_mu);
  while (true) {
    _cv.wait(lock, [&] { return _state->dirty || _stopping; });
    if (_stopping) return;
    _state->dirty = false;
    lock.unlock();
    auto next = read_image();
    lock.lock();
    if (!next) {
      // Connection loss: retry shortly (a session replacement also calls refresh()).
      log::get("cluster")->warn("broker {}: reading cluster metadata failed: {}; retrying", _self_id,
                                next.error().message());
      _state->dirty = true;
      _cv.wait_for(lock, std::chrono::milliseconds(200), [&] { return _stopping; });
      continue;
    }
    if (_state->dirty) continue;  // something changed while reading: read again before publishing
    lock.unlock();
    publish(*next);
    lock.lock();
  }
}

}  // namespace sluice::cluster
