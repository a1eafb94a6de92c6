#pragma once
// The follower side of one partition's Fetch answer, applied to the local log (the per-partition
// core of the follower fetcher, AbstractFetcherThread.processFetchRequest): append the leader's
// batches as they are, truncate on divergence (KIP-279) or reset when out of range, and set the
// follower HW to min(leader HW, own LEO). Runs on the log's shard; no I/O besides the log's.
#include <cstdint>
#include <optional>
#include <span>

#include "base/result.h"
#include "protocol/error_code.h"
#include "replication/truncation.h"
#include "storage/log.h"

namespace sluice::replication {

// Where the next follower fetch for this partition starts (Fetch v12 fetch_offset and
// last_fetched_epoch): the log end and the epoch of its last batch.
struct fetch_position {
  int64_t fetch_offset = 0;
  int32_t last_fetched_epoch = -1;
  bool operator==(const fetch_position&) const = default;
};
fetch_position next_fetch_position(const storage::log& log);

// One partition of the leader's Fetch response.
struct fetch_answer {
  protocol::error_code error = protocol::error_code::none;
  int64_t high_watermark = -1;
  int64_t log_start_offset = -1;
  std::optional<epoch_end_offset> diverging;  // v12 diverging_epoch, when the leader sent one
  std::span<const uint8_t> records;           // whole batches (a trailing partial one is ignored)
};

enum class follower_action {
  none,        // nothing to append (the HW may still have moved)
  appended,    // records appended
  truncated,   // diverged: truncated; fetch again from next_fetch_position
  reset,       // out of range below the leader's log start: log restarted there
  retry,       // an error to retry after replica.fetch.backoff.ms (leader moving, epochs)
};

// Applies `a` to `log`. Errors only for storage failures (the log is then unusable).
result<follower_action> apply_fetch_answer(storage::log& log, const fetch_answer& a);

}  // namespace sluice::replication
