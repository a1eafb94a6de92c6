#pragma once
// The leader's view of one partition's replicas (Kafka's Partition/Replica leader-side state):
// follower log end offsets and catch-up times, the high watermark, ISR shrink/expand decisions,
// acks=all waiters and min.insync.replicas checks. Pure logic: time comes in as arguments
// (monotonic ms), nothing here does I/O.
//
// Thread contract: one instance per partition this broker leads, used only on the partition's
// owning shard. Waiter callbacks run synchronously inside the call that completes them.
//
// Invariants: the high watermark never moves backwards while this instance lives; at most one
// ISR change is in flight (begin_isr_change .. end_isr_change); the ISR always holds the leader.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "protocol/error_code.h"

namespace sluice::replication {

struct replica_progress {
  int32_t id = -1;
  int64_t log_end_offset = -1;        // -1: not fetched since this broker became leader
  int64_t last_caught_up_ms = 0;      // last time the replica had everything the leader had
  int64_t last_fetch_leader_leo = -1; // leader LEO at the replica's previous fetch
  int64_t last_fetch_ms = 0;
};

struct isr_change {
  std::vector<int32_t> new_isr;
  int32_t expected_partition_epoch = 0;
};

struct leader_config {
  int64_t replica_lag_time_max_ms = 30'000;  // replica.lag.time.max.ms
  int32_t min_insync_replicas = 1;           // min.insync.replicas
};

class leader_state {
 public:
  // `epoch_start_offset`: the leader's LEO when it took over this leader epoch (KIP-101 entry).
  // ISR followers start as caught up at `now_ms` (Kafka resets them on becoming leader so they
  // get replica.lag.time.max.ms to fetch).
  leader_state(int32_t self_id, int32_t leader_epoch, int64_t epoch_start_offset, std::vector<int32_t> replicas,
               std::vector<int32_t> isr, int32_t partition_epoch, int64_t high_watermark, int64_t leader_leo,
               leader_config cfg, int64_t now_ms);
  ~leader_state();
  leader_state(const leader_state&) = delete;
  leader_state& operator=(const leader_state&) = delete;

  int32_t leader_epoch() const { return _leader_epoch; }
  int32_t partition_epoch() const { return _partition_epoch; }
  int64_t epoch_start_offset() const { return _epoch_start_offset; }
  int64_t high_watermark() const { return _hw; }
  const std::vector<int32_t>& isr() const { return _isr; }
  const std::vector<int32_t>& replicas() const { return _replicas; }
  void set_config(leader_config cfg) { _cfg = cfg; }
  const leader_config& config() const { return _cfg; }
  // The replica's state, nullptr when it is not (or no longer) in the replica set.
  const replica_progress* progress(int32_t replica) const;

  // The leader's own log grew (or was set): recomputes the HW. Returns true if the HW moved.
  bool on_leader_log_end(int64_t leader_leo);
  // A follower fetch at `fetch_offset` (its LEO) while the leader's LEO is `leader_leo`.
  // Updates its progress and the HW. Returns true if the HW moved. Unknown replica ids are
  // ignored (false) — only assigned replicas count.
  bool on_follower_fetch(int32_t replica, int64_t fetch_offset, int64_t leader_leo, int64_t now_ms);

  // ISR members (never the leader) not caught up for more than replica.lag.time.max.ms.
  std::vector<int32_t> shrink_candidates(int64_t now_ms) const;
  // Replicas outside the ISR whose LEO >= HW and >= the start offset of this leader epoch.
  std::vector<int32_t> expand_candidates() const;
  // The next ISR write to make (shrink first, then expand), or nullopt when nothing is needed
  // or a write is in flight. Marks the write in flight.
  std::optional<isr_change> begin_isr_change(int64_t now_ms);
  bool isr_change_in_flight() const { return _in_flight.has_value(); }
  // Result of the in-flight write. On success the new ISR and partition epoch apply at once;
  // on failure nothing changes until the next image (apply_image).
  void end_isr_change(bool ok, int32_t new_partition_epoch);
  // A new image for the same leader epoch: adopts its ISR and partition epoch if newer.
  void apply_image(const std::vector<int32_t>& replicas, const std::vector<int32_t>& isr, int32_t partition_epoch,
                   int64_t now_ms);

  // min.insync.replicas before an acks=all append: none or NOT_ENOUGH_REPLICAS.
  protocol::error_code check_before_append() const;
  // Registers an acks=all waiter for `required_offset` (the appended batch's last offset + 1).
  // `done` runs once: none when the HW reaches required_offset with enough ISR members,
  // NOT_ENOUGH_REPLICAS_AFTER_APPEND when it does with fewer, REQUEST_TIMED_OUT at
  // `deadline_ms` (expire), or the error passed to fail_all. Completes at once if already met.
  // Returns an id for cancel().
  using ack_done = std::function<void(protocol::error_code)>;
  uint64_t add_ack_waiter(int64_t required_offset, int64_t deadline_ms, ack_done done);
  void cancel_ack_waiter(uint64_t id);
  // Completes waiters whose deadline passed with REQUEST_TIMED_OUT.
  void expire(int64_t now_ms);
  // Fails every waiter (stopped leading: NOT_LEADER_OR_FOLLOWER).
  void fail_all(protocol::error_code e);
  size_t ack_waiters() const { return _waiters.size(); }

 private:
  bool in_isr(int32_t id) const;
  bool recompute_hw();
  void complete_waiters();
  replica_progress* find(int32_t id);

  int32_t _self;
  int32_t _leader_epoch;
  int64_t _epoch_start_offset;
  std::vector<int32_t> _replicas;
  std::vector<int32_t> _isr;
  int32_t _partition_epoch;
  int64_t _hw;
  int64_t _leader_leo;
  leader_config _cfg;
  std::vector<replica_progress> _followers;  // every replica but the leader
  std::optional<isr_change> _in_flight;
  struct waiter {
    int64_t required_offset;
    int64_t deadline_ms;
    ack_done done;
  };
  std::map<uint64_t, waiter> _waiters;
  uint64_t _next_waiter_id = 1;
};

}  // namespace sluice::replication
