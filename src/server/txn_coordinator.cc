#include "server/txn_coordinator.h"

#include <algorithm>

#include "base/logging.h"
#include "coordinator/placement.h"
#include "server/log_internal_partition.h"

namespace sluice::server {

namespace {
using coordinator::txn::transaction_manager;
constexpr const char* txn_topic = coordinator::transaction_state_topic;
}  // namespace

coordinator::txn::txn_config txn_config_from(const broker_config& c) {
  coordinator::txn::txn_config t;
  t.max_timeout_ms = static_cast<int32_t>(c.get_int("transaction.max.timeout.ms"));
  t.id_expiration_ms = c.get_int("transactional.id.expiration.ms");
  t.remove_expired_interval_ms = c.get_int("transaction.remove.expired.transaction.cleanup.interval.ms");
  return t;
}

txn_coordinator_settings txn_coordinator_settings_from(const broker_config& c) {
  txn_coordinator_settings s;
  s.manager = txn_config_from(c);
  // Kafka bounds __transaction_state appends by the request timeout of the calling request; the
  // group side's offsets.commit.timeout.ms is the same kind of bound and is what we have.
  s.write_timeout_ms = c.get_int("offsets.commit.timeout.ms");
  s.abort_interval_ms = c.get_int("transaction.abort.timed.out.transaction.cleanup.interval.ms");
  // Kafka's marker channel uses request.timeout.ms (30 s) and retry.backoff.ms per attempt.
  s.markers.request_timeout_ms = 30000;
  return s;
}

txn_coordinator::txn_coordinator(net::shard_group& shards, partition_manager& partitions, int32_t broker_id,
                                 coordinator::producer_id_manager& ids, txn_coordinator_settings cfg,
                                 sluice::clock& clock)
    : _shards(shards), _partitions(partitions), _broker_id(broker_id), _clock(clock), _cfg(cfg),
      _taken_in_epoch(shards.size()) {
  for (net::shard_id s = 0; s < shards.size(); ++s) {
    // producer_id_manager is thread-safe (its own mutex).
    auto id_source = [&ids]() -> result<int64_t> { return ids.next_id(); };
    // Called by manager s on shard s; the sender starts a coroutine and never calls back at once.
    auto sink = [this, s](const coordinator::txn::marker_work& w) { _senders[s]->send(w); };
    _managers.push_back(std::make_unique<transaction_manager>(cfg.manager, clock, id_source, sink));
    _timers.push_back(std::make_unique<asio::steady_timer>(shards.context(s)));
    txn_marker_sender_deps deps;
    // The calling shard's image: leaders as this broker currently knows them.
    deps.leader_of = [this](const std::string& topic, int32_t partition) -> std::optional<marker_destination> {
      auto img = _partitions.image();
      const auto* pm = img->find_partition(topic, partition);
      if (!pm || pm->leader < 0) return std::nullopt;
      for (const auto& b : img->brokers)
        if (b.id == pm->leader) return marker_destination{b.id, b.host, b.port};
      return std::nullopt;
    };
    deps.topic_exists = [this](const std::string& topic) { return _partitions.image()->find(topic) != nullptr; };
    deps.still_wanted = [this, s](const coordinator::txn::marker_work& w) { return _managers[s]->awaits_markers(w); };
    deps.done = [this, s](const coordinator::txn::marker_work& w) { (void)_managers[s]->markers_written(w); };
    _senders.push_back(std::make_unique<txn_marker_sender>(shards.context(s).get_executor(), deps, cfg.markers));
  }
}

txn_coordinator::~txn_coordinator() = default;

std::optional<txn_coordinator::placement> txn_coordinator::place(const std::string& transactional_id) const {
  auto img = _partitions.image();
  const auto* t = img->find(txn_topic);
  if (!t || t->partitions.empty()) return std::nullopt;
  int32_t p = coordinator::coordinator_partition(transactional_id, static_cast<int32_t>(t->partitions.size()));
  return placement{p, _partitions.shard_of({txn_topic, p})};
}

transaction_manager& txn_coordinator::manager() {
  auto s = _shards.current();
  SLUICE_ASSERT(s < _managers.size(), "transaction manager used off the shards");
  return *_managers[s];
}

transaction_manager& txn_coordinator::manager_for(int32_t partition) {
  auto& tm = manager();
  if (tm.status(partition) == transaction_manager::partition_status::not_owned) {
    model::topic_partition tp{txn_topic, partition};
    auto img = _partitions.image();
    const auto* t = img->find(tp.topic);
    const auto* pm = t ? t->find_partition(partition) : nullptr;
    if (pm && pm->leader == _broker_id && _partitions.get(tp)) {
      // Became leader (or first use): load in a later turn of the loop; meanwhile requests are
      // answered COORDINATOR_LOAD_IN_PROGRESS.
      begin_loading(partition, pm->leader_epoch);
      auto s = _shards.current();
      asio::post(_shards.context(s), [this, partition] { load_partition(partition); });
    }
  }
  return tm;
}

void txn_coordinator::begin_loading(int32_t partition, int32_t leader_epoch) {
  manager().begin_loading(partition);
  _taken_in_epoch[_shards.current()][partition] = leader_epoch;
}

void txn_coordinator::on_image(const cluster::metadata_image& img) {
  auto& taken = _taken_in_epoch[_shards.current()];
  for (auto it = taken.begin(); it != taken.end();) {
    const auto* pm = img.find_partition(txn_topic, it->first);
    if (pm && pm->leader == _broker_id && pm->leader_epoch == it->second) {
      ++it;
      continue;
    }
    log::get("coordinator")->info("{}-{}: no longer led here in epoch {}; unloading its transactional ids", txn_topic,
                                  it->first, it->second);
    manager().unload(it->first);
    it = taken.erase(it);
  }
  // Partitions that became led here are loaded at once, not on their first request: an open
  // transaction of a producer that died with the old coordinator must still time out and be
  // aborted, and Prepare* states must get their markers written, with no client asking.
  const auto* t = img.find(txn_topic);
  if (!t) return;
  auto s = _shards.current();
  for (const auto& p : t->partitions) {
    model::topic_partition tp{txn_topic, p.partition};
    if (p.leader != _broker_id || _partitions.shard_of(tp) != s ||
        manager().status(p.partition) != transaction_manager::partition_status::not_owned)
      continue;
    begin_loading(p.partition, p.leader_epoch);
    int32_t partition = p.partition;
    asio::post(_shards.context(s), [this, partition] { load_partition(partition); });
  }
}

void txn_coordinator::load_partition(int32_t partition) {
  auto& tm = manager();
  if (tm.status(partition) != transaction_manager::partition_status::loading) return;
  auto& taken = _taken_in_epoch[_shards.current()];
  model::topic_partition tp{txn_topic, partition};
  auto epoch_it = taken.find(partition);
  if (!_partitions.get(tp) || epoch_it == taken.end()) {
    tm.unload(partition);
    taken.erase(partition);
    return;
  }
  auto store = std::make_unique<log_internal_partition>(_partitions, tp, _cfg.write_timeout_ms);
  if (auto r = tm.load(partition, epoch_it->second, std::move(store)); !r) {
    log::get("coordinator")->error("loading {} failed: {}; transactional ids there stay unavailable", tp,
                                   r.error().message());
    tm.unload(partition);
    taken.erase(partition);
  }
}

asio::awaitable<void> txn_coordinator::load_all() {
  auto img = _partitions.image();
  const auto* t = img->find(txn_topic);
  if (!t) co_return;
  std::vector<std::pair<int32_t, int32_t>> mine;  // partition, leader epoch
  for (const auto& p : t->partitions)
    if (p.leader == _broker_id) mine.emplace_back(p.partition, p.leader_epoch);
  for (net::shard_id s = 0; s < _shards.size(); ++s) {
    co_await _shards.invoke_on(s, [this, s, &mine]() -> asio::awaitable<void> {
      for (auto [p, epoch] : mine)
        if (_partitions.shard_of({txn_topic, p}) == s &&
            manager().status(p) == transaction_manager::partition_status::not_owned)
          begin_loading(p, epoch);
      co_return;
    });
  }
  for (auto [p, epoch] : mine) {
    auto s = _partitions.shard_of({txn_topic, p});
    co_await _shards.invoke_on(s, [this, p]() -> asio::awaitable<void> {
      load_partition(p);
      co_return;
    });
  }
}

void txn_coordinator::schedule_tick(net::shard_id s) {
  // Marker retries need a tick at least every marker_retry_interval_ms; the timeout aborts run
  // in the same tick, so they happen at most that long (not the abort interval) after a deadline.
  const int64_t interval_ms = std::max<int64_t>(
      1, std::min<int64_t>(_cfg.abort_interval_ms, _cfg.manager.marker_retry_interval_ms));
  auto& timer = *_timers[s];
  timer.expires_after(std::chrono::milliseconds(interval_ms));
  timer.async_wait([this, s](const asio::error_code& ec) {
    if (ec) return;
    _managers[s]->tick();
    schedule_tick(s);
  });
}

void txn_coordinator::start() {
  for (net::shard_id s = 0; s < _shards.size(); ++s) _shards.post(s, [this, s] { schedule_tick(s); });
}

}  // namespace sluice::server
