#pragma once
// coordinator::internal_partition over a partition this broker hosts: the log of a
// __consumer_offsets (or, later, __transaction_state) partition and its leader_state.
//
// Writes follow Kafka's coordinator append with acks=-1 (the same path as Produce acks=all in
// handlers/produce.cc): append() checks min.insync.replicas, appends, and lets the leader state
// move the high watermark (at once when the ISR is only this broker); wait_replicated() parks an
// acks=all waiter until the HW reaches the write, bounded by `timeout_ms`
// (offsets.commit.timeout.ms). The HW is never set by hand.
//
// Threading: created, used and destroyed only on the partition's owning shard. Waits still
// pending when this object is destroyed are dropped (their callbacks never run, per the
// internal_partition contract); the leader_state waiter they leave behind holds only a weak
// reference and completes into nothing.
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <system_error>
#include <vector>

#include <asio.hpp>

#include "coordinator/internal_partition.h"
#include "model/topic_partition.h"
#include "protocol/error_code.h"
#include "server/partition_manager.h"

namespace sluice::server {

// How an acks=all waiter's outcome (replication::leader_state::ack_done) reads as a write error.
std::error_code replication_wait_error(protocol::error_code e);

class log_internal_partition final : public coordinator::internal_partition {
 public:
  log_internal_partition(partition_manager& pm, model::topic_partition tp, int64_t timeout_ms);
  ~log_internal_partition() override;
  log_internal_partition(const log_internal_partition&) = delete;
  log_internal_partition& operator=(const log_internal_partition&) = delete;

  result<int64_t> append(const std::vector<model::record_data>& records) override;
  result<int64_t> append_transactional(const std::vector<model::record_data>& records, int64_t producer_id,
                                       int16_t producer_epoch) override;
  void wait_replicated(int64_t end_offset, std::function<void(std::error_code)> done) override;
  result<void> read_all(const read_fn& fn) override;

  // Waits not completed yet (tests).
  size_t pending_waits() const { return _waits.size(); }

 private:
  struct wait;
  // Appends one batch built with `opts` (producer fields, attributes).
  result<int64_t> append_batch(const std::vector<model::record_data>& records, const model::batch_options& opts);
  void finish(const std::shared_ptr<wait>& w, std::error_code e);

  partition_manager& _pm;
  model::topic_partition _tp;
  int64_t _timeout_ms;
  std::set<std::shared_ptr<wait>> _waits;  // the only strong references
};

}  // namespace sluice::server
