#pragma once
// The bookkeeping both coordinators (group_coordinator over __consumer_offsets, txn_coordinator
// over __transaction_state) share: one Manager per shard, which partitions of the internal topic
// each shard's manager holds and in which leader epoch they were taken, loading them when this
// broker leads them and unloading them when it no longer does, and a per-shard tick.
//
// Manager is group_manager or transaction_manager: begin_loading(p), unload(p), status(p) with
// partition_status::{not_owned, loading}, and tick(). Loading itself (building the store over the
// partition's log and reading it) is the owner's load_fn.
//
// Threading: shard s's manager, timer and epoch map are touched only on shard s.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <asio.hpp>

#include "base/logging.h"
#include "base/result.h"
#include "coordinator/placement.h"
#include "net/shard_group.h"
#include "server/partition_manager.h"

namespace sluice::server {

template <class Manager>
class coordinator_shards {
 public:
  struct placement {
    int32_t partition;
    net::shard_id shard;
  };

  // Reads `tp` into the calling shard's manager, `leader_epoch` being the epoch it was taken in.
  using load_fn = std::function<result<void>(Manager&, const model::topic_partition& tp, int32_t leader_epoch)>;

  struct options {
    std::string topic;         // the internal topic
    std::string what;          // what a partition holds, for log lines ("groups")
    int64_t tick_interval_ms;  // how often each shard's manager ticks
    // Load a partition as soon as this broker leads it (on_image), not on its first request.
    bool load_when_led = false;
  };

  coordinator_shards(net::shard_group& shards, partition_manager& partitions, int32_t broker_id, options opts,
                     std::vector<std::unique_ptr<Manager>> managers, load_fn load)
      : _shards(shards),
        _partitions(partitions),
        _broker_id(broker_id),
        _opts(std::move(opts)),
        _managers(std::move(managers)),
        _load(std::move(load)),
        _taken_in_epoch(shards.size()) {
    SLUICE_ASSERT(_managers.size() == shards.size(), "one manager per shard");
    for (net::shard_id s = 0; s < shards.size(); ++s)
      _timers.push_back(std::make_unique<asio::steady_timer>(shards.context(s)));
  }

  // Where `key` is coordinated under the calling shard's image; nullopt when the topic does not
  // exist yet.
  std::optional<placement> place(const std::string& key) const {
    auto img = _partitions.image();
    const auto* t = img->find(_opts.topic);
    if (!t || t->partitions.empty()) return std::nullopt;
    int32_t p = coordinator::coordinator_partition(key, static_cast<int32_t>(t->partitions.size()));
    return placement{p, _partitions.shard_of({_opts.topic, p})};
  }

  // The calling shard's manager. REQUIRES: on a shard.
  Manager& manager() {
    auto s = _shards.current();
    SLUICE_ASSERT(s < _managers.size(), "{} coordinator used off the shards", _opts.topic);
    return *_managers[s];
  }
  // Shard s's manager, for code that already runs on s. REQUIRES: on shard s.
  Manager& manager_of(net::shard_id s) { return *_managers[s]; }

  // The calling shard's manager, after making sure `partition` (if this broker leads it) is
  // loaded or loading. REQUIRES: on the partition's owner shard.
  Manager& manager_for(int32_t partition) {
    auto& m = manager();
    if (m.status(partition) == Manager::partition_status::not_owned) {
      model::topic_partition tp{_opts.topic, partition};
      auto img = _partitions.image();
      const auto* pm = img->find_partition(tp.topic, partition);
      if (pm && pm->leader == _broker_id && _partitions.get(tp)) start_loading(partition, pm->leader_epoch);
    }
    return m;
  }

  // Leadership moved (a new image, applied on the calling shard): partitions of this shard's
  // manager that this broker no longer leads, or now leads in a different leader epoch (their
  // state may be stale), are unloaded, answering NOT_COORDINATOR to parked calls. With
  // load_when_led, partitions newly led here start loading; otherwise the next request for a
  // led partition loads it. REQUIRES: on a shard.
  void on_image(const cluster::metadata_image& img) {
    auto s = _shards.current();
    auto& taken = _taken_in_epoch[s];
    for (auto it = taken.begin(); it != taken.end();) {
      const auto* pm = img.find_partition(_opts.topic, it->first);
      if (pm && pm->leader == _broker_id && pm->leader_epoch == it->second) {
        ++it;
        continue;
      }
      log::get("coordinator")->info("{}-{}: no longer led here in epoch {}; unloading its {}", _opts.topic, it->first,
                                    it->second, _opts.what);
      manager().unload(it->first);
      it = taken.erase(it);
    }
    if (!_opts.load_when_led) return;
    const auto* t = img.find(_opts.topic);
    if (!t) return;
    for (const auto& p : t->partitions) {
      if (p.leader != _broker_id || _partitions.shard_of({_opts.topic, p.partition}) != s ||
          manager().status(p.partition) != Manager::partition_status::not_owned)
        continue;
      start_loading(p.partition, p.leader_epoch);
    }
  }

  // Marks every partition this broker leads as loading, then loads them one by one (other
  // requests run in between and get COORDINATOR_LOAD_IN_PROGRESS). Completes when all loaded.
  asio::awaitable<void> load_all() {
    auto img = _partitions.image();
    const auto* t = img->find(_opts.topic);
    if (!t) co_return;
    std::vector<std::pair<int32_t, int32_t>> mine;  // partition, leader epoch
    for (const auto& p : t->partitions)
      if (p.leader == _broker_id) mine.emplace_back(p.partition, p.leader_epoch);
    // First mark everything loading, so no request sees a half-loaded coordinator as absent.
    for (net::shard_id s = 0; s < _shards.size(); ++s) {
      co_await _shards.invoke_on(s, [this, s, &mine]() -> asio::awaitable<void> {
        for (auto [p, epoch] : mine)
          if (_partitions.shard_of({_opts.topic, p}) == s &&
              manager().status(p) == Manager::partition_status::not_owned)
            begin_loading(p, epoch);
        co_return;
      });
    }
    for (auto [p, epoch] : mine) {
      auto s = _partitions.shard_of({_opts.topic, p});
      co_await _shards.invoke_on(s, [this, p]() -> asio::awaitable<void> {
        load_partition(p);
        co_return;
      });
    }
  }

  // Starts the per-shard timers that tick the managers. Call after the shards run.
  void start() {
    for (net::shard_id s = 0; s < _shards.size(); ++s) _shards.post(s, [this, s] { schedule_tick(s); });
  }

 private:
  // Marks `partition` loading now and loads it in a later turn of the loop; meanwhile requests
  // are answered COORDINATOR_LOAD_IN_PROGRESS.
  void start_loading(int32_t partition, int32_t leader_epoch) {
    begin_loading(partition, leader_epoch);
    asio::post(_shards.context(_shards.current()), [this, partition] { load_partition(partition); });
  }

  void begin_loading(int32_t partition, int32_t leader_epoch) {
    manager().begin_loading(partition);
    _taken_in_epoch[_shards.current()][partition] = leader_epoch;
  }

  void load_partition(int32_t partition) {
    auto& m = manager();
    if (m.status(partition) != Manager::partition_status::loading) return;
    auto& taken = _taken_in_epoch[_shards.current()];
    model::topic_partition tp{_opts.topic, partition};
    auto epoch_it = taken.find(partition);
    if (!_partitions.get(tp) || epoch_it == taken.end()) {
      m.unload(partition);
      taken.erase(partition);
      return;
    }
    if (auto r = _load(m, tp, epoch_it->second); !r) {
      log::get("coordinator")->error("loading {} failed: {}; {} there stay unavailable", tp, r.error().message(),
                                     _opts.what);
      m.unload(partition);
      taken.erase(partition);
    }
  }

  void schedule_tick(net::shard_id s) {
    auto& timer = *_timers[s];
    timer.expires_after(std::chrono::milliseconds(_opts.tick_interval_ms));
    timer.async_wait([this, s](const asio::error_code& ec) {
      if (ec) return;
      _managers[s]->tick();
      schedule_tick(s);
    });
  }

  net::shard_group& _shards;
  partition_manager& _partitions;
  int32_t _broker_id;
  options _opts;
  std::vector<std::unique_ptr<Manager>> _managers;          // by shard
  load_fn _load;
  std::vector<std::unique_ptr<asio::steady_timer>> _timers;  // by shard
  // By shard: the leader epoch each loading/loaded partition was taken in.
  std::vector<std::map<int32_t, int32_t>> _taken_in_epoch;
};

}  // namespace sluice::server
