#pragma once
// One log segment: <base offset, 20 digits>.log with its .index, .timeindex and (only once it
// has an aborted transaction) .txnindex (docs/format/log.md, offset-index.md, time-index.md,
// txnindex.md). The .log file holds RecordBatch v2 bytes
// exactly as on the wire, written with pwrite(2) at the position the segment tracks.
//
// Indexing rule (Kafka's, also used when rebuilding): before writing a batch, if more than
// index.interval.bytes have been written since the start of the last indexed batch, the batch
// gets an offset index entry (its last offset -> its position) and the time index gets
// (max timestamp so far -> last offset of the batch that carried it) if that timestamp grew.
// The first batch of a segment is never indexed (nothing written before it).
//
// Thread contract: owned by one log, used on its shard. The log file's descriptor outlives the
// segment while a file_range holds it (file_range::keepalive).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "base/result.h"
#include "model/record_batch.h"
#include "storage/file_system.h"
#include "storage/index_file.h"
#include "storage/txn_index.h"

namespace sluice::storage {

class leader_epoch_cache;

struct segment_config {
  int32_t index_interval_bytes = 4096;
  int32_t segment_index_bytes = 10 * 1024 * 1024;
  bool preallocate = false;
  int32_t segment_bytes = 1 << 30;  // preallocation size
};

// What the log knows about each batch it hands to segment::append.
struct batch_meta {
  int64_t base_offset = 0;
  int64_t last_offset = 0;
  int64_t max_timestamp = -1;
  uint32_t size = 0;
};

// A batch header read from the file (the first header_size bytes of the batch).
struct batch_header {
  uint64_t position = 0;
  int64_t base_offset = 0;
  int64_t last_offset = 0;
  int64_t max_timestamp = -1;
  int32_t partition_leader_epoch = -1;
  uint32_t size = 0;  // whole batch, log overhead included
  int16_t attributes = 0;
};

struct recover_result {
  uint64_t valid_bytes = 0;
  uint64_t truncated_bytes = 0;
  uint64_t scanned_bytes = 0;
  std::string reason;  // why the tail was cut (empty when nothing was)
};

std::string segment_file_name(int64_t base_offset, std::string_view suffix);  // "000…042" + suffix
// Parses "<20 digits><suffix>"; nullopt if `name` is not such a file.
std::optional<int64_t> parse_segment_file_name(std::string_view name, std::string_view suffix);

class segment {
 public:
  static constexpr std::string_view log_suffix = ".log";
  static constexpr std::string_view index_suffix = ".index";
  static constexpr std::string_view time_index_suffix = ".timeindex";
  static constexpr std::string_view txn_index_suffix = ".txnindex";
  static constexpr std::string_view deleted_suffix = ".deleted";

  // Creates empty files (replacing leftovers with that base offset).
  static result<std::unique_ptr<segment>> create(file_system& fs, const std::string& dir, int64_t base_offset,
                                                 const segment_config& cfg, int64_t now_ms);
  // Opens existing files without scanning: reads the log size and the last time index entry.
  // Missing index files are reported by indexes_missing(); recover() rebuilds them.
  static result<std::unique_ptr<segment>> open(file_system& fs, const std::string& dir, int64_t base_offset,
                                               const segment_config& cfg, int64_t now_ms);

  int64_t base_offset() const { return _base; }
  uint64_t size() const { return _size; }
  bool empty() const { return _size == 0; }
  int64_t max_timestamp() const { return _max_ts; }
  int64_t offset_of_max_timestamp() const { return _offset_of_max_ts; }
  int64_t created_ms() const { return _created_ms; }
  bool indexes_missing() const { return _indexes_missing; }
  const std::shared_ptr<file>& log_file() const { return _log; }
  std::string log_path() const { return _dir + "/" + segment_file_name(_base, log_suffix); }
  const std::string& dir() const { return _dir; }
  offset_index& offsets() { return _oi; }
  time_index& times() { return _ti; }
  // Aborted transactions whose ABORT marker is in this segment. Written by the log.
  txn_index& aborted_txns() { return _txn; }
  const txn_index& aborted_txns() const { return _txn; }
  // The .txnindex failed its checks at open (entries dropped): the log rebuilds it.
  bool txn_index_invalid() const { return _txn_invalid; }

  // Loads both indexes if needed; an index that fails its checks is rebuilt from the log
  // (without truncating anything). `next_base_offset` bounds the offsets (next segment's base).
  result<void> ensure_indexes(int64_t next_base_offset);

  // Appends whole batches already carrying their final offsets, then indexes them. On a write
  // error the file is cut back to its previous size and the segment is unchanged.
  result<void> append(std::span<const uint8_t> bytes, std::span<const batch_meta> batches);

  // Whether appending `bytes` whose largest offset is `last_offset` and max timestamp
  // `max_timestamp` must go to a new segment (Kafka's LogSegment.shouldRoll).
  struct roll_check {
    int64_t segment_bytes, segment_ms, jitter_ms, now_ms;
  };
  result<bool> should_roll(uint64_t bytes, int64_t last_offset, int64_t max_timestamp, const roll_check& c);

  // Header of the batch at `position`; nullopt when fewer than a header's bytes remain.
  result<std::optional<batch_header>> read_header(uint64_t position) const;
  // First batch whose last offset >= offset (index lookup, then header scan); nullopt if none.
  result<std::optional<batch_header>> find(int64_t offset, int64_t next_base_offset);
  // Offset after the last batch (scans from the last index entry).
  result<int64_t> next_offset(int64_t next_base_offset);

  // Rebuilds both indexes by reading every batch, checking framing, CRC and offsets; cuts the
  // file at the first invalid byte. Epochs of valid batches go to `epochs` (not persisted).
  // Empties the .txnindex: the log re-adds its entries while replaying producer state.
  result<recover_result> recover(uint64_t max_batch_bytes, leader_epoch_cache* epochs);

  // Removes every batch whose last offset >= offset; returns bytes removed. fsyncs the file.
  result<uint64_t> truncate_to(int64_t offset);

  // fsyncs the log and, if include_indexes, writes and fsyncs the indexes. The active
  // segment's indexes need no fsync: recovery always rebuilds the segment holding the
  // recovery point (see log.h).
  result<void> flush(bool include_indexes);
  result<void> on_become_inactive();    // final time entry, trim indexes (and a preallocated log)
  result<void> make_active();           // preallocate indexes (and log): this is the log's last segment
  bool active() const { return _active; }
  result<void> write_pending_indexes();
  // Renames the files to *.deleted (the caller unlinks them later) and closes the indexes.
  result<void> rename_for_delete();
  std::vector<std::string> file_paths() const;

 private:
  segment(file_system& fs, std::string dir, int64_t base, const segment_config& cfg, int64_t now_ms);
  // Scans headers from `position` to the end: sets next offset, max timestamp, bytes since the
  // last index entry.
  result<void> scan_tail(uint64_t from_position);
  void index_batch(uint64_t position, const batch_meta& b);

  file_system& _fs;
  std::string _dir;
  int64_t _base;
  segment_config _cfg;
  std::shared_ptr<file> _log;
  offset_index _oi;
  time_index _ti;
  txn_index _txn;
  bool _txn_invalid = false;
  uint64_t _size = 0;
  int64_t _max_ts = -1;
  int64_t _offset_of_max_ts = -1;
  int64_t _created_ms;
  std::optional<int64_t> _first_batch_ts;  // max timestamp of the first batch (segment.ms roll)
  std::optional<int64_t> _next_offset;
  uint64_t _bytes_since_index = 0;
  bool _indexes_missing = false;
  bool _tail_scanned = false;
  bool _active = false;  // last segment of its log: indexes preallocated, not trimmed
};

}  // namespace sluice::storage
