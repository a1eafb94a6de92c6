#include "replication/follower_log.h"

#include <algorithm>

#include "base/logging.h"
#include "model/record_batch.h"

namespace sluice::replication {

using E = protocol::error_code;

fetch_position next_fetch_position(const storage::log& log) {
  return {log.log_end_offset(), log.leader_epochs().latest_epoch()};
}

namespace {
void follow_high_watermark(storage::log& log, int64_t leader_hw) {
  if (leader_hw < 0) return;
  log.set_high_watermark(std::min(leader_hw, log.log_end_offset()));
}
}  // namespace

result<follower_action> apply_fetch_answer(storage::log& log, const fetch_answer& a) {
  auto logger = log::get("replication");
  if (a.diverging) {
    // KIP-279: truncate to where our log and the leader's agree, then fetch again.
    auto d = decide_truncation(log.leader_epochs(), log.log_end_offset(), log.high_watermark(), *a.diverging);
    logger->info("{}: leader reports divergence at epoch {} end {}; truncating {} -> {}", log.tp(),
                 a.diverging->epoch, a.diverging->end_offset, log.log_end_offset(), d.offset);
    // Also when nothing is cut: truncate_to drops epoch entries starting at the end.
    if (auto r = log.truncate_to(d.offset); !r) return r.error();
    return follower_action::truncated;
  }
  if (a.error == E::offset_out_of_range) {
    if (log.log_end_offset() < a.log_start_offset) {
      // Behind the leader's log start (retention, DeleteRecords): start over there.
      if (auto r = log.truncate_fully_and_start_at(a.log_start_offset); !r) return r.error();
      return follower_action::reset;
    }
    // Ahead of the leader's end (a leader without epochs for us): keep only what the leader
    // says is committed.
    if (a.high_watermark >= 0 && a.high_watermark < log.log_end_offset()) {
      if (auto r = log.truncate_to(std::max(a.high_watermark, log.log_start_offset())); !r) return r.error();
      return follower_action::truncated;
    }
    return follower_action::retry;
  }
  if (a.error != E::none) return follower_action::retry;

  // Whole batches at or after our LEO (the leader sends whole batches from the one holding the
  // fetch offset; a batch we already hold or a cut-off tail is skipped).
  const int64_t leo = log.log_end_offset();
  size_t begin = 0, end = 0, pos = 0;
  bool started = false;
  while (pos < a.records.size()) {
    auto size = model::peek_batch_size(a.records.subspan(pos), a.records.size() - pos);
    if (!size || *size > a.records.size() - pos) break;
    model::batch_view v(a.records.subspan(pos, *size));
    if (!started && v.last_offset() < leo) {
      pos += *size;
      begin = end = pos;
      continue;
    }
    started = true;
    pos += *size;
    end = pos;
  }
  follower_action action = follower_action::none;
  if (end > begin) {
    auto r = log.append_as_follower(a.records.subspan(begin, end - begin));
    if (!r) return r.error();
    action = follower_action::appended;
  }
  follow_high_watermark(log, a.high_watermark);
  // The leader's log start moved (retention, DeleteRecords): follow it, as far as our HW allows.
  if (a.log_start_offset > log.log_start_offset() && a.log_start_offset <= log.high_watermark())
    if (auto r = log.delete_records_before(a.log_start_offset); !r) return r.error();
  return action;
}

}  // namespace sluice::replication
