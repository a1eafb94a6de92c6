#pragma once
// A partition's log: the directory <log.dir>/<topic>-<partition>/ holding segments
// (segment.h), the leader-epoch-checkpoint, and the offsets that bound what is readable.
// Formats: docs/format/log.md and the pages it links.
//
// Offsets, all absolute:  log_start_offset <= last_stable_offset <= high_watermark
//                                                   <= log_end_offset (LEO)
//                         log_start_offset <= recovery_point <= LEO
// LEO is the next offset to assign. The HW is set from above (replication) and only clamped
// here. The LSO is derived here: min(first offset of every open transaction, HW) (Kafka's
// first unstable offset capped by the HW), recomputed on every append, HW move and truncation. The recovery point is the offset below which every byte is fsynced.
//
// Thread contract: a log is used by exactly one thread (its shard). Exceptions, safe from any
// thread: the atomic getters log_start_offset(), log_end_offset(), high_watermark(),
// last_stable_offset(), recovery_point(), size_bytes(); and file_ranges returned by read(),
// which stay valid (keepalive holds the descriptor) after the segment rolls or is deleted.
//
// Recovery (open): after an unclean shutdown the segment holding the recovery point and every
// later one are read in full (framing, CRC-32C, offset order); the file is cut at the first
// invalid byte, later segments are dropped, indexes are rebuilt. Earlier segments are not
// read, so recovery costs O(unflushed bytes + one segment). After a clean shutdown nothing is
// scanned. A segment whose index is missing or fails its checks is rebuilt wherever it is.
//
// Flush policy: flush.messages / flush.ms force fsync (off by default: the OS writes back).
// A roll schedules an fsync of the rolled segment, done by the next run_periodic().
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/file_range.h"
#include "base/result.h"
#include "model/record_batch.h"
#include "model/topic_partition.h"
#include "storage/file_system.h"
#include "storage/leader_epoch_cache.h"
#include "storage/log_config.h"
#include "storage/producer_state.h"
#include "storage/segment.h"

namespace sluice::storage {

// Producer-state hook (and anything else that derives state from the log). Called on the log's
// thread; `batch` bytes are valid only during the call and carry their final offsets.
class batch_observer {
 public:
  virtual ~batch_observer() = default;
  virtual void on_append(const model::batch_view& batch) = 0;
  // Everything at or above new_log_end_offset was removed.
  virtual void on_truncate(int64_t new_log_end_offset) = 0;
  // Everything below new_log_start_offset is gone (retention, DeleteRecords).
  virtual void on_log_start_offset(int64_t new_log_start_offset) = 0;
};

// Finds, inside a compressed batch, the first record with timestamp >= target (or, for
// target == list_offsets_max_timestamp, the record with the largest timestamp): returns
// {offset, timestamp}. Storage does not decompress; without a resolver a compressed batch
// answers with its base offset (or last offset for max timestamp) and its max timestamp.
using compressed_timestamp_resolver =
    std::function<std::optional<std::pair<int64_t, int64_t>>(const model::batch_view& batch, int64_t target)>;

// ListOffsets special timestamps.
inline constexpr int64_t list_offsets_latest = -1;
inline constexpr int64_t list_offsets_earliest = -2;
inline constexpr int64_t list_offsets_max_timestamp = -3;

struct log_options {
  file_system* fs = nullptr;
  sluice::clock* clock = nullptr;
  std::string dir;                      // the partition directory
  model::topic_partition tp;
  log_config config;
  int64_t recovery_point = 0;           // from recovery-point-offset-checkpoint
  int64_t log_start_offset = -1;        // from log-start-offset-checkpoint (-1: none)
  int64_t high_watermark = -1;          // from replication-offset-checkpoint (-1: none)
  bool clean_shutdown = false;          // the log dir had .kafka_cleanshutdown: skip recovery
  int64_t retention_check_interval_ms = 300'000;   // log.retention.check.interval.ms
  int64_t flush_scheduler_interval_ms = long_max;  // log.flush.scheduler.interval.ms
  int64_t producer_id_expiration_ms = 86'400'000;  // producer.id.expiration.ms
  int64_t producer_id_expiration_check_interval_ms = 600'000;  // producer.id.expiration.check.interval.ms
};

struct append_options {
  // LogAppendTime to stamp when message.timestamp.type=LogAppendTime (default: clock's wall time).
  std::optional<int64_t> now_ms;
  // Apply the idempotent-producer rules (producer_state.h) to batches with a producer id: a
  // client append. Off for writers that are the source of truth themselves.
  bool check_producer_state = true;
};

struct append_result {
  int64_t base_offset = -1;
  int64_t last_offset = -1;
  int64_t log_append_time_ms = -1;  // -1 unless LogAppendTime
  int64_t log_start_offset = 0;
  int64_t max_timestamp = -1;
  int32_t batches = 0;
  uint64_t bytes = 0;
  bool rolled = false;
  bool flushed = false;
  // The batch repeats one already in the log (same producer, epoch and sequences): nothing was
  // appended; base/last offset and max_timestamp are the original batch's.
  bool duplicate = false;
};

struct read_result {
  std::vector<file_range> ranges;    // whole batches, in order; possibly spanning segments
  int64_t first_batch_offset = -1;   // base offset of the first batch returned (-1: none)
  int64_t next_offset = -1;          // offset after the last batch returned
  uint64_t size_bytes = 0;
  int64_t high_watermark = 0;        // snapshots taken during the read
  int64_t last_stable_offset = 0;
  int64_t log_start_offset = 0;
  int64_t log_end_offset = 0;
};

struct timestamp_lookup {
  int64_t offset = -1;
  int64_t timestamp = -1;
  int32_t leader_epoch = -1;  // epoch of the batch holding `offset` per the epoch cache
};

struct recovery_stats {
  bool clean_shutdown = false;
  size_t segments_loaded = 0;
  std::vector<int64_t> recovered_segments;  // base offsets read in full by recovery
  uint64_t bytes_scanned = 0;               // bytes those scans read
  uint64_t bytes_truncated = 0;             // invalid tail bytes cut
  std::vector<int64_t> deleted_segments;    // dropped because an earlier segment was cut
  std::vector<int64_t> indexes_rebuilt;     // missing or failing indexes rebuilt
};

class log {
 public:
  static result<std::unique_ptr<log>> open(const log_options& opts);
  ~log();
  log(const log&) = delete;
  log& operator=(const log&) = delete;

  // Leader append. `bytes` holds one or more whole batches the caller validated (framing, CRC,
  // max.message.bytes). Assigns offsets from LEO and the partition leader epoch by rewriting
  // the headers in place, stamps LogAppendTime when configured (rewriting the CRC), rolls first
  // if needed, writes with one pwrite(2), indexes, and applies flush.messages.
  // Producer state is checked and updated in the same call (nothing can interleave on the log's
  // thread): a duplicate returns the original offsets with `duplicate` set.
  // Errors: message_too_large (a batch above max.message.bytes or the set above segment.bytes),
  // corrupt_batch (framing), out_of_order_sequence / invalid_producer_epoch /
  // unknown_producer_id (producer rules, nothing appended), OS errors such as ENOSPC (nothing appended, log still usable),
  // log_failed (the log could not restore its state; reopen it).
  result<append_result> append(std::span<uint8_t> bytes, int32_t leader_epoch, const append_options& opts = {});
  // Follower append: batches keep their offsets and epochs; the first base offset must be >= LEO
  // (gaps allowed) and offsets must increase (invalid_offset otherwise); every batch CRC is checked
  // (corrupt_batch).
  result<append_result> append_as_follower(std::span<const uint8_t> bytes);

  // Whole batches from the one containing fetch_offset, stopping before any batch whose last
  // offset >= max_offset_exclusive (HW or LSO) and when max_bytes would be exceeded (the first
  // batch goes out regardless if min_one_batch). offset_out_of_range when fetch_offset <
  // log_start_offset or > LEO; empty when fetch_offset >= min(LEO, max_offset_exclusive).
  result<read_result> read(int64_t fetch_offset, int32_t max_bytes, int64_t max_offset_exclusive,
                           bool min_one_batch);

  // ListOffsets: -2 earliest {log start}, -1 latest {LEO}, -3 the record with the largest
  // timestamp, else the first record with timestamp >= ts. nullopt when there is none. Callers
  // cap results at HW/LSO for consumers.
  result<std::optional<timestamp_lookup>> offset_for_timestamp(int64_t ts);
  void set_compressed_timestamp_resolver(compressed_timestamp_resolver r) { _resolver = std::move(r); }

  int64_t log_start_offset() const { return _log_start.load(std::memory_order_relaxed); }
  int64_t log_end_offset() const { return _leo.load(std::memory_order_relaxed); }
  int64_t high_watermark() const { return _hw.load(std::memory_order_relaxed); }
  int64_t last_stable_offset() const { return _lso.load(std::memory_order_relaxed); }
  int64_t recovery_point() const { return _recovery_point.load(std::memory_order_relaxed); }
  uint64_t size_bytes() const { return _size_bytes.load(std::memory_order_relaxed); }
  // Clamped to [log start, LEO]; returns the stored value. Moves the LSO with it.
  int64_t set_high_watermark(int64_t hw);
  // Aborted transactions overlapping [fetch_offset, upper_bound_offset) (Kafka's
  // collectAbortedTransactions): entries with last_offset >= fetch_offset and first_offset <
  // upper_bound_offset, from the segment holding fetch_offset on, in marker order.
  std::vector<aborted_txn> collect_aborted_txns(int64_t fetch_offset, int64_t upper_bound_offset) const;

  // Removes everything at or above `offset` (the batch containing it too). If offset is below
  // the first segment, the log is emptied and restarts at `offset`.
  result<void> truncate_to(int64_t offset);
  // Deletes every segment and restarts the log at `offset` (follower far behind the leader).
  result<void> truncate_fully_and_start_at(int64_t offset);
  // DeleteRecords: advances the log start offset (never past HW: offset_out_of_range) and
  // deletes segments wholly below it. Returns the new log start offset.
  result<int64_t> delete_records_before(int64_t offset);

  // Starts a new segment at LEO now (admin, tests); no-op if the active segment is empty.
  result<void> force_roll();
  // fsyncs everything up to LEO and moves the recovery point there.
  result<void> flush();
  // Retention, flush.ms, the flush scheduled by a roll, deferred file deletion. Cheap when
  // nothing is due. Call on the log's thread, from a timer (e.g. every second).
  result<void> run_periodic();
  // Forces a retention pass now (tests, admin).
  result<void> enforce_retention();
  // Clean shutdown: flushes, trims the active segment's indexes to their entries (as Kafka
  // leaves them) and makes them durable. Afterwards reads still work but every mutation fails
  // with log_failed; reopen to continue.
  result<void> close();

  leader_epoch_cache& leader_epochs() { return _epochs; }
  const leader_epoch_cache& leader_epochs() const { return _epochs; }
  void set_batch_observer(batch_observer* o) { _observer = o; }
  // Idempotent-producer state of this partition (kept in step with appends, truncation and
  // recovery; snapshots at roll and close).
  producer_state_manager& producer_state() { return _producers; }
  const producer_state_manager& producer_state() const { return _producers; }
  // Calls o.on_append for every batch whose last offset >= from_offset, in order.
  result<void> replay(int64_t from_offset, batch_observer& o);

  const log_config& config() const { return _cfg; }
  // Takes effect for the next append / roll / retention pass. Index sizes
  // (segment.index.bytes) and preallocate apply to segments created afterwards.
  void set_config(const log_config& c);
  const std::string& dir() const { return _dir; }
  const model::topic_partition& tp() const { return _tp; }
  const recovery_stats& recovery() const { return _recovery; }
  std::vector<int64_t> segment_base_offsets() const;
  size_t segment_count() const { return _segments.size(); }
  bool failed() const { return _failed; }
  // Renames the directory (log_manager::remove); files stay open for outstanding reads.
  void set_dir(std::string dir);

 private:
  explicit log(const log_options& o);
  result<void> load();
  // Rebuilds producer state for [.., LEO]: newest snapshot <= LEO, then the log after it.
  // Markers at or above rebuild_txn_from re-add their aborted-transaction index entries.
  result<void> load_producer_state(int64_t rebuild_txn_from = INT64_MAX);
  void update_lso();
  segment& active() { return *_segments.rbegin()->second; }
  int64_t next_base_after(int64_t base) const;
  result<void> roll(int64_t new_base);
  result<void> maybe_roll(uint64_t bytes, int64_t base_offset, int64_t last_offset, int64_t max_timestamp, bool& rolled);
  result<append_result> append_framed(std::span<const uint8_t> bytes, int32_t epoch_for_cache);
  result<void> flush_up_to(int64_t offset);
  // Deletes the oldest segments while pred(segment, upper_bound_offset) holds (never the
  // last one unless the whole log is below HW, then it rolls first).
  result<size_t> delete_oldest(const std::function<bool(segment&, int64_t)>& pred, const char* reason);
  result<void> remove_segment(int64_t base, bool async);
  void update_log_start(int64_t offset);
  void recompute_size();
  int64_t now_ms() const { return _clock.wall_ms(); }
  segment_config seg_cfg() const;
  void draw_roll_jitter();

  file_system& _fs;
  sluice::clock& _clock;
  std::string _dir;
  model::topic_partition _tp;
  log_config _cfg;
  log_options _opts;
  std::map<int64_t, std::unique_ptr<segment>> _segments;
  leader_epoch_cache _epochs;
  producer_state_manager _producers;
  std::vector<producer_batch_info> _producer_batches;  // scratch for append, reused
  batch_observer* _observer = nullptr;
  compressed_timestamp_resolver _resolver;
  recovery_stats _recovery;
  std::vector<batch_meta> _metas;  // scratch for append, reused

  std::atomic<int64_t> _log_start{0};
  std::atomic<int64_t> _leo{0};
  std::atomic<int64_t> _hw{0};
  std::atomic<int64_t> _lso{0};
  std::atomic<int64_t> _recovery_point{0};
  std::atomic<uint64_t> _size_bytes{0};

  bool _failed = false;
  bool _dir_dirty = false;           // files created/renamed since the last directory fsync
  int64_t _roll_flush_upto = -1;     // flush up to here at the next run_periodic
  std::vector<int64_t> _indexes_to_sync;  // rolled segments whose trimmed indexes await fsync
  int64_t _last_flush_mono_ms;
  int64_t _next_flush_check_mono_ms;
  int64_t _next_retention_check_mono_ms;
  int64_t _next_producer_expiry_check_mono_ms;
  int64_t _roll_jitter_ms = 0;
  struct pending_delete {
    int64_t due_mono_ms;
    std::vector<std::string> paths;
  };
  std::vector<pending_delete> _pending_deletes;
};

// "<topic>-<partition>" directory names.
std::string partition_dir_name(const model::topic_partition& tp);
std::optional<model::topic_partition> parse_partition_dir_name(std::string_view name);

}  // namespace sluice::storage
