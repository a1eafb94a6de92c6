#pragma once
// The hook through which a partition leader changes its ISR (issue 7 contract,
// docs/replication.md). The broker wires it to a control-plane worker thread that performs the
// conditional write of the partition state node; the data plane never blocks a shard on it.
//
// Contract: `done(ok, new_partition_epoch)` is called exactly once, on any thread. ok=false
// when the write lost (stale partition epoch, leader or leader epoch changed) or failed; the
// leader then keeps its ISR until the next image.
#include <cstdint>
#include <functional>
#include <vector>

#include "model/topic_partition.h"

namespace sluice::replication {

using isr_write_fn = std::function<void(model::topic_partition tp, int32_t leader_epoch, std::vector<int32_t> new_isr,
                                        int32_t expected_partition_epoch,
                                        std::function<void(bool ok, int32_t new_partition_epoch)> done)>;

}  // namespace sluice::replication
