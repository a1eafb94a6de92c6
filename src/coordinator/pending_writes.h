#pragma once
// The writes of one coordinator partition (a __consumer_offsets or __transaction_state partition
// loaded by a coordinator) that were appended and wait for replication, with their completions.
//
// Contract: write() appends through the store and calls `done` exactly once: with the append's
// error at once, with the store's outcome when replication completes (zero = replicated), or
// with the error given to fail_all(). The store drops its waits when it is destroyed
// (internal_partition contract), so the owner calls fail_all() when it unloads the partition;
// destroying a pending_writes without fail_all() drops the completions without calling them
// (for the owner's own destruction, when nobody is left to answer).
//
// Threading: the partition's shard only. A completion may run inside write() (the store may
// report replication before returning): it must look up whatever it changes again.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <system_error>
#include <vector>

#include "coordinator/internal_partition.h"

namespace sluice::coordinator {

class pending_writes {
 public:
  using done_fn = std::function<void(std::error_code)>;

  pending_writes() = default;
  pending_writes(const pending_writes&) = delete;
  pending_writes& operator=(const pending_writes&) = delete;

  void write(internal_partition& store, const std::vector<model::record_data>& records, done_fn done);
  // For a write the caller appended itself (e.g. a transactional batch): waits until `store`
  // reports `end_offset` replicated, under the same contract.
  void wait(internal_partition& store, int64_t end_offset, done_fn done);
  // Answers every pending write with `e` (write_errc::not_leader on unload); their later
  // replication outcomes are ignored.
  void fail_all(std::error_code e);
  size_t size() const { return _s->waits.size(); }

 private:
  struct state {
    std::map<uint64_t, done_fn> waits;
    uint64_t next_id = 0;
  };
  std::shared_ptr<state> _s = std::make_shared<state>();
};

}  // namespace sluice::coordinator
