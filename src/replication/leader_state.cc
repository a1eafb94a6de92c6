#include "replication/leader_state.h"

#include <algorithm>

#include "base/assert.h"

namespace sluice::replication {

using E = protocol::error_code;

leader_state::leader_state(int32_t self_id, int32_t leader_epoch, int64_t epoch_start_offset,
                           std::vector<int32_t> replicas, std::vector<int32_t> isr, int32_t partition_epoch,
                           int64_t high_watermark, int64_t leader_leo, leader_config cfg, int64_t now_ms)
    : _self(self_id),
      _leader_epoch(leader_epoch),
      _epoch_start_offset(epoch_start_offset),
      _replicas(std::move(replicas)),
      _isr(std::move(isr)),
      _partition_epoch(partition_epoch),
      _hw(high_watermark),
      _leader_leo(leader_leo),
      _cfg(cfg) {
  if (std::find(_isr.begin(), _isr.end(), _self) == _isr.end()) _isr.push_back(_self);
  for (int32_t r : _replicas) {
    if (r == _self) continue;
    replica_progress p;
    p.id = r;
    // ISR members get the full lag time to show up; others have never been caught up.
    p.last_caught_up_ms = in_isr(r) ? now_ms : 0;
    _followers.push_back(p);
  }
  recompute_hw();
}

leader_state::~leader_state() {
  // A destroyed leader state must not strand producers: the owner calls fail_all first.
  SLUICE_ASSERT(_waiters.empty(), "leader_state destroyed with {} acks=all waiters", _waiters.size());
}

bool leader_state::in_isr(int32_t id) const { return std::find(_isr.begin(), _isr.end(), id) != _isr.end(); }

replica_progress* leader_state::find(int32_t id) {
  for (auto& f : _followers)
    if (f.id == id) return &f;
  return nullptr;
}

const replica_progress* leader_state::progress(int32_t replica) const {
  for (const auto& f : _followers)
    if (f.id == replica) return &f;
  return nullptr;
}

bool leader_state::recompute_hw() {
  // The HW is the smallest LEO over the "maximal" ISR: the current ISR plus the members of an
  // in-flight expansion (Kafka's maximalIsr), so a write that lands never uncommits anything.
  int64_t low = _leader_leo;
  auto consider = [&](int32_t id) {
    if (id == _self) return;
    const auto* p = progress(id);
    // An ISR member outside the replica set cannot hold the HW (image lag); skip it.
    if (!p) return;
    low = std::min(low, p->log_end_offset);
  };
  for (int32_t id : _isr) consider(id);
  if (_in_flight)
    for (int32_t id : _in_flight->new_isr)
      if (!in_isr(id)) consider(id);
  if (low > _hw) {
    _hw = low;
    complete_waiters();
    return true;
  }
  return false;
}

bool leader_state::on_leader_log_end(int64_t leader_leo) {
  _leader_leo = leader_leo;
  return recompute_hw();
}

bool leader_state::on_follower_fetch(int32_t replica, int64_t fetch_offset, int64_t leader_leo, int64_t now_ms) {
  auto* p = find(replica);
  if (!p) return false;
  _leader_leo = leader_leo;
  // Kafka's Replica.updateFetchState: caught up if the fetch reaches the leader's LEO now, or
  // the leader's LEO at the previous fetch (then caught up as of that fetch).
  if (fetch_offset >= leader_leo) p->last_caught_up_ms = std::max(p->last_caught_up_ms, now_ms);
  else if (p->last_fetch_leader_leo >= 0 && fetch_offset >= p->last_fetch_leader_leo)
    p->last_caught_up_ms = std::max(p->last_caught_up_ms, p->last_fetch_ms);
  p->last_fetch_leader_leo = leader_leo;
  p->last_fetch_ms = now_ms;
  p->log_end_offset = fetch_offset;
  return recompute_hw();
}

std::vector<int32_t> leader_state::shrink_candidates(int64_t now_ms) const {
  std::vector<int32_t> out;
  for (int32_t id : _isr) {
    if (id == _self) continue;
    const auto* p = progress(id);
    if (!p || now_ms - p->last_caught_up_ms > _cfg.replica_lag_time_max_ms) out.push_back(id);
  }
  return out;
}

std::vector<int32_t> leader_state::expand_candidates() const {
  std::vector<int32_t> out;
  for (const auto& f : _followers) {
    if (in_isr(f.id)) continue;
    if (f.log_end_offset >= 0 && f.log_end_offset >= _hw && f.log_end_offset >= _epoch_start_offset)
      out.push_back(f.id);
  }
  return out;
}

std::optional<isr_change> leader_state::begin_isr_change(int64_t now_ms) {
  if (_in_flight) return std::nullopt;
  auto out = shrink_candidates(now_ms);
  std::vector<int32_t> next;
  if (!out.empty()) {
    for (int32_t id : _isr)
      if (std::find(out.begin(), out.end(), id) == out.end()) next.push_back(id);
  } else {
    auto in = expand_candidates();
    if (in.empty()) return std::nullopt;
    next = _isr;
    next.insert(next.end(), in.begin(), in.end());
  }
  _in_flight = isr_change{std::move(next), _partition_epoch};
  return _in_flight;
}

void leader_state::end_isr_change(bool ok, int32_t new_partition_epoch) {
  if (!_in_flight) return;
  auto change = std::move(*_in_flight);
  _in_flight.reset();
  if (ok) {
    _isr = std::move(change.new_isr);
    _partition_epoch = new_partition_epoch;
  }
  // A shrink can let the HW advance; a failed expansion drops the members it was counting.
  recompute_hw();
  complete_waiters();
}

void leader_state::apply_image(const std::vector<int32_t>& replicas, const std::vector<int32_t>& isr,
                               int32_t partition_epoch, int64_t now_ms) {
  if (replicas != _replicas) {
    std::vector<replica_progress> next;
    for (int32_t r : replicas) {
      if (r == _self) continue;
      if (auto* p = find(r)) {
        next.push_back(*p);
      } else {
        replica_progress p2;
        p2.id = r;
        p2.last_caught_up_ms = now_ms;
        next.push_back(p2);
      }
    }
    _followers = std::move(next);
    _replicas = replicas;
  }
  if (partition_epoch > _partition_epoch || (partition_epoch == _partition_epoch && isr != _isr)) {
    _isr = isr;
    if (!in_isr(_self)) _isr.push_back(_self);
    _partition_epoch = partition_epoch;
    // A write expecting an older version can no longer succeed; its answer is ignored.
    _in_flight.reset();
  }
  recompute_hw();
  complete_waiters();
}

protocol::error_code leader_state::check_before_append() const {
  return static_cast<int32_t>(_isr.size()) < _cfg.min_insync_replicas ? E::not_enough_replicas : E::none;
}

uint64_t leader_state::add_ack_waiter(int64_t required_offset, int64_t deadline_ms, ack_done done) {
  uint64_t id = _next_waiter_id++;
  _waiters.emplace(id, waiter{required_offset, deadline_ms, std::move(done)});
  complete_waiters();
  return id;
}

void leader_state::cancel_ack_waiter(uint64_t id) { _waiters.erase(id); }

void leader_state::complete_waiters() {
  // Callbacks may add or cancel waiters: collect first, then call.
  std::vector<std::pair<ack_done, E>> ready;
  for (auto it = _waiters.begin(); it != _waiters.end();) {
    if (_hw >= it->second.required_offset) {
      // Kafka's checkEnoughReplicasReachOffset: committed, but with too small an ISR.
      E e = static_cast<int32_t>(_isr.size()) < _cfg.min_insync_replicas ? E::not_enough_replicas_after_append
                                                                           : E::none;
      ready.emplace_back(std::move(it->second.done), e);
      it = _waiters.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [fn, e] : ready) fn(e);
}

void leader_state::expire(int64_t now_ms) {
  std::vector<ack_done> ready;
  for (auto it = _waiters.begin(); it != _waiters.end();) {
    if (now_ms >= it->second.deadline_ms) {
      ready.push_back(std::move(it->second.done));
      it = _waiters.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& fn : ready) fn(E::request_timed_out);
}

void leader_state::fail_all(protocol::error_code e) {
  auto all = std::move(_waiters);
  _waiters.clear();
  for (auto& [id, w] : all) w.done(e);
}

}  // namespace sluice::replication
