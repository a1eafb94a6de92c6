#include "server/group_coordinator.h"

#include "base/logging.h"
#include "coordinator/placement.h"
#include "server/broker_config.h"
#include "server/log_internal_partition.h"

namespace sluice::server {

namespace {
using coordinator::group::group_manager;

constexpr int64_t tick_interval_ms = 50;

}  // namespace

coordinator::group::group_config group_config_from(const broker_config& c) {
  coordinator::group::group_config g;
  g.initial_rebalance_delay_ms = c.get_int("group.initial.rebalance.delay.ms");
  g.min_session_timeout_ms = static_cast<int32_t>(c.get_int("group.min.session.timeout.ms"));
  g.max_session_timeout_ms = static_cast<int32_t>(c.get_int("group.max.session.timeout.ms"));
  g.max_size = static_cast<int32_t>(c.get_int("group.max.size"));
  g.offsets_retention_ms = c.get_int("offsets.retention.minutes") * 60'000;
  g.retention_check_interval_ms = c.get_int("offsets.retention.check.interval.ms");
  g.offset_metadata_max_bytes = static_cast<int32_t>(c.get_int("offset.metadata.max.bytes"));
  g.offsets_commit_timeout_ms = c.get_int("offsets.commit.timeout.ms");
  return g;
}

group_coordinator::group_coordinator(net::shard_group& shards, partition_manager& partitions, int32_t broker_id,
                                     coordinator::group::group_config cfg, sluice::clock& clock)
    : _shards(shards),
      _partitions(partitions),
      _broker_id(broker_id),
      _clock(clock),
      _commit_timeout_ms(cfg.offsets_commit_timeout_ms),
      _taken_in_epoch(shards.size()) {
  for (net::shard_id s = 0; s < shards.size(); ++s) {
    _managers.push_back(std::make_unique<group_manager>(cfg, clock));
    _timers.push_back(std::make_unique<asio::steady_timer>(shards.context(s)));
  }
}

group_coordinator::~group_coordinator() = default;

std::optional<group_coordinator::placement> group_coordinator::place(const std::string& group_id) const {
  auto img = _partitions.image();
  const auto* t = img->find(coordinator::consumer_offsets_topic);
  if (!t || t->partitions.empty()) return std::nullopt;
  int32_t p = coordinator::coordinator_partition(group_id, static_cast<int32_t>(t->partitions.size()));
  return placement{p, _partitions.shard_of({coordinator::consumer_offsets_topic, p})};
}

group_manager& group_coordinator::manager() {
  auto s = _shards.current();
  SLUICE_ASSERT(s < _managers.size(), "group manager used off the shards");
  return *_managers[s];
}

group_manager& group_coordinator::manager_for(int32_t partition) {
  auto& gm = manager();
  if (gm.status(partition) == group_manager::partition_status::not_owned) {
    model::topic_partition tp{coordinator::consumer_offsets_topic, partition};
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
  return gm;
}

void group_coordinator::begin_loading(int32_t partition, int32_t leader_epoch) {
  manager().begin_loading(partition);
  _taken_in_epoch[_shards.current()][partition] = leader_epoch;
}

void group_coordinator::on_image(const cluster::metadata_image& img) {
  auto& taken = _taken_in_epoch[_shards.current()];
  for (auto it = taken.begin(); it != taken.end();) {
    const auto* pm = img.find_partition(coordinator::consumer_offsets_topic, it->first);
    if (pm && pm->leader == _broker_id && pm->leader_epoch == it->second) {
      ++it;
      continue;
    }
    log::get("coordinator")->info("{}-{}: no longer led here in epoch {}; unloading its groups",
                                  coordinator::consumer_offsets_topic, it->first, it->second);
    manager().unload(it->first);
    it = taken.erase(it);
  }
}

void group_coordinator::on_txn_marker(const model::topic_partition& tp, int64_t producer_id, bool commit) {
  if (tp.topic != coordinator::consumer_offsets_topic) return;
  SLUICE_ASSERT(_shards.current() == _partitions.shard_of(tp), "txn marker of {} reported off its shard", tp);
  // Not loaded here (loading, not led, unloaded): nothing to do, a later load replays the
  // marker from the log.
  manager().complete_txn(tp.partition, producer_id, commit);
}

void group_coordinator::load_partition(int32_t partition) {
  auto& gm = manager();
  if (gm.status(partition) != group_manager::partition_status::loading) return;
  model::topic_partition tp{coordinator::consumer_offsets_topic, partition};
  if (!_partitions.get(tp)) {
    gm.unload(partition);
    _taken_in_epoch[_shards.current()].erase(partition);
    return;
  }
  auto store = std::make_unique<log_internal_partition>(_partitions, tp, _commit_timeout_ms);
  if (auto r = gm.load(partition, std::move(store)); !r) {
    log::get("coordinator")->error("loading {} failed: {}; groups there stay unavailable", tp, r.error().message());
    gm.unload(partition);
    _taken_in_epoch[_shards.current()].erase(partition);
  }
}

asio::awaitable<void> group_coordinator::load_all() {
  auto img = _partitions.image();
  const auto* t = img->find(coordinator::consumer_offsets_topic);
  if (!t) co_return;
  std::vector<std::pair<int32_t, int32_t>> mine;  // partition, leader epoch
  for (const auto& p : t->partitions)
    if (p.leader == _broker_id) mine.emplace_back(p.partition, p.leader_epoch);
  // First mark everything loading, so no request sees a half-loaded coordinator as absent.
  for (net::shard_id s = 0; s < _shards.size(); ++s) {
    co_await _shards.invoke_on(s, [this, s, &mine]() -> asio::awaitable<void> {
      for (auto [p, epoch] : mine)
        if (_partitions.shard_of({coordinator::consumer_offsets_topic, p}) == s &&
            manager().status(p) == group_manager::partition_status::not_owned)
          begin_loading(p, epoch);
      co_return;
    });
  }
  for (auto [p, epoch] : mine) {
    auto s = _partitions.shard_of({coordinator::consumer_offsets_topic, p});
    co_await _shards.invoke_on(s, [this, p]() -> asio::awaitable<void> {
      load_partition(p);
      co_return;
    });
  }
}

void group_coordinator::schedule_tick(net::shard_id s) {
  auto& timer = *_timers[s];
  timer.expires_after(std::chrono::milliseconds(tick_interval_ms));
  timer.async_wait([this, s](const asio::error_code& ec) {
    if (ec) return;
    _managers[s]->tick();
    schedule_tick(s);
  });
}

void group_coordinator::start() {
  for (net::shard_id s = 0; s < _shards.size(); ++s) _shards.post(s, [this, s] { schedule_tick(s); });
}

}  // namespace sluice::server
