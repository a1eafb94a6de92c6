#include "replication/truncation.h"

#include <algorithm>

namespace sluice::replication {

std::optional<epoch_end_offset> find_divergence(const storage::leader_epoch_cache& leader_epochs, int64_t leader_leo,
                                                int32_t last_fetched_epoch, int64_t fetch_offset) {
  if (last_fetched_epoch < 0) return std::nullopt;
  auto [epoch, end] = leader_epochs.end_offset_for(last_fetched_epoch, leader_leo);
  if (epoch < last_fetched_epoch || end < fetch_offset) return epoch_end_offset{epoch, end};
  return std::nullopt;
}

namespace {
// The follower's largest epoch <= requested and where it ends in the follower's log
// (Kafka's LeaderEpochFileCache.endOffsetFor floor lookup), nullopt when it has none.
std::optional<epoch_end_offset> floor_end(const storage::leader_epoch_cache& epochs, int64_t leo, int32_t requested) {
  const auto& es = epochs.entries();
  for (size_t i = es.size(); i-- > 0;) {
    if (es[i].epoch > requested) continue;
    int64_t end = i + 1 < es.size() ? es[i + 1].start_offset : leo;
    return epoch_end_offset{es[i].epoch, end};
  }
  return std::nullopt;
}
}  // namespace

truncation_decision decide_truncation(const storage::leader_epoch_cache& follower_epochs, int64_t follower_leo,
                                      int64_t follower_hw, const epoch_end_offset& leader) {
  if (leader.end_offset == storage::undefined_epoch_offset)
    return {std::min(follower_hw, follower_leo), true};
  if (leader.epoch == storage::undefined_epoch) return {std::min(leader.end_offset, follower_leo), true};
  auto mine = floor_end(follower_epochs, follower_leo, leader.epoch);
  if (!mine) return {std::min(leader.end_offset, follower_leo), true};
  if (mine->epoch == leader.epoch) return {std::min(leader.end_offset, mine->end_offset), true};
  return {std::min(mine->end_offset, leader.end_offset), false};
}

}  // namespace sluice::replication
