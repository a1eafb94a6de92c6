#include "cluster/controller_duties.h"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/logging.h"
#include "cluster/metadata_watcher.h"
#include "cluster/topic_codec.h"

namespace sluice::cluster {
namespace {

bool contains(const std::vector<int32_t>& v, int32_t b) { return std::find(v.begin(), v.end(), b) != v.end(); }

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::optional<partition_state> plan_partition(const metadata_image& img, const partition_metadata& pm,
                                              const controller_settings& s, bool preferred) {
  auto live = [&](int32_t b) { return img.is_live(b); };
  auto stopping = [&](int32_t b) { return contains(img.shutting_down, b); };
  auto eligible = [&](int32_t b) { return live(b) && !stopping(b); };

  if (pm.partition_epoch < 0) {  // no state node yet: the partition was just created
    partition_state st;
    for (int32_t r : pm.replicas)
      if (live(r)) st.isr.push_back(r);
    for (int32_t r : pm.replicas) {
      if (eligible(r)) {
        st.leader = r;
        break;
      }
    }
    if (st.leader == -1 && !st.isr.empty()) st.leader = st.isr.front();
    // No replica is live: offline (leader -1) until one registers; it then leads (below).
    if (st.isr.empty()) st.isr = pm.replicas;
    return st;
  }

  std::vector<int32_t> isr;
  for (int32_t b : pm.isr)
    if (live(b)) isr.push_back(b);
  // First replica in replica order that is live and in the (live) ISR.
  auto pick = [&](bool allow_stopping) {
    for (int32_t r : pm.replicas)
      if (live(r) && contains(isr, r) && (allow_stopping || !stopping(r))) return r;
    return int32_t{-1};
  };
  int32_t leader = pm.leader;
  if (leader == -1 || !live(leader)) {
    leader = pick(false);
    if (leader == -1) leader = pick(true);
    if (leader == -1 && s.unclean_leader_election) {
      for (int32_t r : pm.replicas) {
        if (eligible(r)) {
          leader = r;
          break;
        }
      }
      if (leader != -1) isr = {leader};
    }
  } else if (stopping(leader)) {
    if (int32_t other = pick(false); other != -1) leader = other;
  } else if (preferred && !pm.replicas.empty() && pm.replicas.front() != leader && eligible(pm.replicas.front()) &&
             contains(isr, pm.replicas.front())) {
    leader = pm.replicas.front();
  }
  if (leader != -1) {
    // Followers in controlled shutdown leave the ISR (Kafka's ZK controller does the same).
    std::erase_if(isr, [&](int32_t b) { return b != leader && stopping(b); });
  } else if (isr.empty()) {
    // No live ISR member: the ISR keeps its last member, the only safe next leader.
    isr = pm.leader != -1 ? std::vector<int32_t>{pm.leader} : pm.isr;
  }
  if (leader == pm.leader && isr == pm.isr) return std::nullopt;
  partition_state next;
  next.leader = leader;
  next.isr = isr;
  next.leader_epoch = pm.leader_epoch + 1;
  return next;
}

controller_duties::controller_duties(metadata_store& store, metadata_watcher& watcher, int32_t self_id,
                                     controller_settings settings)
    : _store(store), _watcher(watcher), _self_id(self_id), _settings(settings) {}

controller_duties::~controller_duties() { stop(); }

void controller_duties::start() {
  _subscription = _watcher.subscribe([this](image_ptr) {
    std::lock_guard g(_mu);
    _wake = true;
    _cv.notify_all();
  });
  _thread = std::thread([this] { run(); });
}

void controller_duties::stop() {
  {
    std::lock_guard g(_mu);
    if (_stopping) return;
    _stopping = true;
    _cv.notify_all();
  }
  // The subscriber points at this object, which may be destroyed right after stop() while the
  // watcher lives on and publishes (its thread may be publishing at this very moment).
  if (_subscription) _watcher.unsubscribe(*_subscription);
  if (_thread.joinable()) _thread.join();
  bool was_active = false;
  {
    std::lock_guard g(_mu);
    was_active = _active;
    _active = false;
  }
  if (was_active) {
    // Resign: only our own /controller node (a newer controller's must stay).
    if (auto n = _store.get("/controller")) {
      auto j = nlohmann::json::parse(n->data, nullptr, false);
      if (!j.is_discarded() && j.is_object() && j.value("brokerid", -1) == _self_id)
        (void)_store.remove("/controller", n->version, false);
    }
  }
}

bool controller_duties::is_active() const {
  std::lock_guard g(_mu);
  return _active;
}

int32_t controller_duties::epoch() const {
  std::lock_guard g(_mu);
  return _active ? _epoch : -1;
}

void controller_duties::session_replaced() {
  std::lock_guard g(_mu);
  _active = false;
  _wake = true;
  _cv.notify_all();
}

void controller_duties::run() {
  auto next_rebalance = std::chrono::steady_clock::now() + std::chrono::milliseconds(_settings.leader_imbalance_check_interval_ms);
  std::unique_lock lock(_mu);
  _wake = true;  // try the election at once
  while (!_stopping) {
    _cv.wait_until(lock, next_rebalance, [&] { return _wake || _stopping; });
    if (_stopping) break;
    _wake = false;
    bool active = _active;
    lock.unlock();
    auto img = _watcher.image();
    if (active && img && img->controller_id != _self_id && !holds_controller_node()) {
      // Another broker holds /controller (or nobody): our session was replaced and we were
      // deposed. The image may merely lag our own election, hence the check in the store.
      log::get("cluster")->warn("broker {} is no longer the controller", _self_id);
      active = false;
      std::lock_guard g(_mu);
      _active = false;
    }
    if (!active) active = try_elect();
    bool rebalance = false;
    if (active && img) {
      auto now = std::chrono::steady_clock::now();
      rebalance = _settings.auto_leader_rebalance && now >= next_rebalance;
      reconcile(*img, rebalance);
    }
    if (std::chrono::steady_clock::now() >= next_rebalance)
      next_rebalance = std::chrono::steady_clock::now() + std::chrono::milliseconds(_settings.leader_imbalance_check_interval_ms);
    lock.lock();
  }
}

bool controller_duties::holds_controller_node() {
  auto n = _store.get("/controller");
  if (!n) return n.error() == make_error_code(store_errc::connection_loss);  // unknown: keep going, fenced anyway
  auto j = nlohmann::json::parse(n->data, nullptr, false);
  return !j.is_discarded() && j.is_object() && j.value("brokerid", -1) == _self_id;
}

bool controller_duties::try_elect() {
  nlohmann::json me = {{"version", 1}, {"brokerid", _self_id}, {"timestamp", std::to_string(now_ms())}};
  if (!_store.create("/controller", me.dump(), true, true)) return false;
  // Bump /controller_epoch: every write of ours is fenced by this node's version from now on.
  for (int attempt = 0; attempt < 20; ++attempt) {
    auto n = _store.get("/controller_epoch");
    if (!n && n.error() == make_error_code(store_errc::no_node)) {
      if (_store.create("/controller_epoch", "1", false, true)) {
        std::lock_guard g(_mu);
        _epoch = 1;
        _epoch_version = 0;
        _active = true;
        break;
      }
      continue;
    }
    if (!n) break;
    int32_t e = 0;
    try {
      e = std::stoi(n->data);
    } catch (...) {
      e = 0;
    }
    auto v = _store.set("/controller_epoch", std::to_string(e + 1), n->version);
    if (v) {
      std::lock_guard g(_mu);
      _epoch = e + 1;
      _epoch_version = *v;
      _active = true;
      break;
    }
    if (v.error() != make_error_code(store_errc::bad_version)) break;
  }
  std::lock_guard g(_mu);
  if (!_active) {
    (void)_store.remove("/controller", -1, false);
    return false;
  }
  log::get("cluster")->info("broker {} is the controller (epoch {})", _self_id, _epoch);
  _wake = true;  // reconcile with a fresh image too
  return true;
}

void controller_duties::reconcile(const metadata_image& img, bool rebalance) {
  std::map<std::pair<std::string, int32_t>, bool> preferred;
  if (rebalance) {
    // Kafka's checkAndTriggerAutoLeaderRebalance: per preferred broker, the share of its
    // partitions it does not lead; above the threshold, move them back.
    std::map<int32_t, std::pair<int, int>> by_broker;  // preferred -> (total, not led by it)
    for (const auto& [name, t] : img.topics)
      for (const auto& pm : t.partitions)
        if (!pm.replicas.empty() && pm.partition_epoch >= 0) {
          auto& c = by_broker[pm.replicas.front()];
          ++c.first;
          if (pm.leader != pm.replicas.front()) ++c.second;
        }
    for (const auto& [name, t] : img.topics)
      for (const auto& pm : t.partitions) {
        if (pm.replicas.empty()) continue;
        auto [total, not_led] = by_broker[pm.replicas.front()];
        if (total > 0 && not_led * 100 > _settings.leader_imbalance_per_broker_percentage * total)
          preferred[{name, pm.partition}] = true;
      }
  }
  for (const auto& [name, t] : img.topics) {
    for (const auto& pm : t.partitions) {
      bool pref = preferred.contains({name, pm.partition});
      auto plan = plan_partition(img, pm, _settings, pref);
      if (!plan) continue;
      if (!write_state(name, pm, *plan)) {
        if (!is_active()) return;
      }
    }
  }
}

bool controller_duties::write_state(const std::string& topic, const partition_metadata& pm,
                                    const partition_state& planned) {
  partition_state st = planned;
  int32_t epoch_version = 0;
  {
    std::lock_guard g(_mu);
    st.controller_epoch = _epoch;
    epoch_version = _epoch_version;
  }
  std::vector<store_op> ops{store_op::check("/controller_epoch", epoch_version)};
  const std::string state = partition_state_path(topic, pm.partition);
  if (pm.partition_epoch < 0) {
    // The topic must still exist (a deleted topic must not be resurrected by its parents).
    ops.push_back(store_op::check(topic_node_path(topic), -1));
    const std::string parts = topic_node_path(topic) + "/partitions";
    const std::string part = fmt::format("{}/{}", parts, pm.partition);
    if (!_store.get(parts)) ops.push_back(store_op::create(parts, ""));
    if (!_store.get(part)) ops.push_back(store_op::create(part, ""));
    ops.push_back(store_op::create(state, to_json(st)));
  } else {
    ops.push_back(store_op::set(state, to_json(st), pm.partition_epoch));
  }
  auto r = _store.multi(ops);
  if (r) {
    log::get("cluster")->info("{}-{}: leader {} leader_epoch {} isr [{}]", topic, pm.partition, st.leader,
                              st.leader_epoch, fmt::join(st.isr, ","));
    return true;
  }
  check_still_controller();
  return false;
}

void controller_duties::check_still_controller() {
  auto n = _store.get("/controller_epoch");
  std::lock_guard g(_mu);
  if (n && n->version == _epoch_version) return;  // the write lost to a newer partition state
  if (!n && n.error() == make_error_code(store_errc::connection_loss)) return;  // retried on the next image
  log::get("cluster")->warn("broker {}: controller epoch {} was superseded; resigning", _self_id, _epoch);
  _active = false;
  _wake = true;
}

bool controlled_shutdown(metadata_store& store, metadata_watcher& watcher, int32_t self_id, int64_t timeout_ms) {
  auto r = store.create(fmt::format("{}/{}", controlled_shutdown_root, self_id), "", true, true);
  if (!r && r.error() != make_error_code(store_errc::node_exists)) return false;
  return watcher.wait_for(
      [self_id](const metadata_image& img) {
        for (const auto& [name, t] : img.topics)
          for (const auto& pm : t.partitions) {
            if (pm.leader != self_id) continue;
            for (int32_t b : pm.isr)
              if (b != self_id && img.is_live(b)) return false;  // another could lead it
          }
        return true;
      },
      timeout_ms);
}

}  // namespace sluice::cluster
