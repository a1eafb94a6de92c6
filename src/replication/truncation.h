#pragma once
// Log divergence between a leader and a follower (KIP-101, KIP-279, Fetch v12 diverging_epoch):
// the leader-side check of a follower's (last fetched epoch, fetch offset), and the follower-side
// choice of the offset to truncate to. Pure functions over a leader_epoch_cache.
#include <cstdint>
#include <optional>

#include "storage/leader_epoch_cache.h"

namespace sluice::replication {

struct epoch_end_offset {
  int32_t epoch = storage::undefined_epoch;
  int64_t end_offset = storage::undefined_epoch_offset;
  bool operator==(const epoch_end_offset&) const = default;
};

// Leader side (Kafka's Partition.validateLastFetchedEpoch): the follower fetches at
// `fetch_offset` having last fetched a batch of `last_fetched_epoch`. If the leader's log
// diverges from that — the leader's largest epoch <= last_fetched_epoch is smaller, or that
// epoch ends before fetch_offset — returns the diverging {epoch, end_offset} to send back
// (possibly {-1, -1} when the leader knows no such epoch). nullopt: consistent, serve records.
// last_fetched_epoch < 0 (no epoch yet) is never diverging.
std::optional<epoch_end_offset> find_divergence(const storage::leader_epoch_cache& leader_epochs, int64_t leader_leo,
                                                int32_t last_fetched_epoch, int64_t fetch_offset);

struct truncation_decision {
  int64_t offset = 0;  // truncate the follower's log to here (no-op if >= its LEO)
  // false: the follower's epoch differed from the leader's; after truncating it fetches again
  // with its new last epoch and the leader may answer with another divergence.
  bool complete = true;
};

// Follower side (Kafka's AbstractFetcherThread.getOffsetTruncationState) for the leader's
// answer `leader` (diverging_epoch or OffsetForLeaderEpoch):
//  - leader end offset undefined: the leader knows nothing of our epochs; keep only what is
//    known committed: min(follower HW, follower LEO).
//  - leader epoch undefined (but an end offset): min(leader end offset, follower LEO).
//  - the follower's largest epoch <= leader.epoch is the same epoch: min(both end offsets).
//  - it is an older epoch: min(its end offset, leader end offset), not complete.
//  - the follower has no epoch <= leader.epoch: min(leader end offset, follower LEO).
truncation_decision decide_truncation(const storage::leader_epoch_cache& follower_epochs, int64_t follower_leo,
                                      int64_t follower_hw, const epoch_end_offset& leader);

}  // namespace sluice::replication
