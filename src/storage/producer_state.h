#pragma once
// Idempotent-producer state of one partition (Kafka's ProducerStateManager + ProducerAppendInfo,
// 2.5+ semantics): per producer id the current epoch and the last 5 batches written, rebuilt
// from the log and persisted in snapshot files <20-digit offset>.snapshot
// (docs/format/producer-snapshot.md).
//
// Rules for a batch written by a client (check_client_batches):
//  - epoch older than the producer's current epoch: invalid_producer_epoch.
//  - same epoch and (first seq, last seq) equal to one of the last 5 batches: a duplicate; the
//    caller answers with that batch's original offsets and appends nothing.
//  - new (higher) epoch: its first sequence must be 0; otherwise out_of_order_sequence if the
//    producer is known, unknown_producer_id if not.
//  - same epoch: the first sequence must follow the last one (last + 1, or 0 after INT32_MAX);
//    otherwise out_of_order_sequence. A producer with no epoch on record accepts any sequence.
//  - a non-transactional batch of a producer with an ongoing transaction: invalid_txn_state.
// Batches appended by replication, recovery and replay are applied without checks (apply()).
//
// Transactions: a producer's first transactional data batch on this partition opens its
// transaction (current_txn_first_offset = that batch's first offset, Kafka's
// currentTxnFirstOffset); its COMMIT/ABORT marker closes it. A marker whose epoch is older than
// the producer's is fenced (invalid_producer_epoch), one with a coordinator epoch older than the
// last one seen is too (transaction_coordinator_fenced); a marker of a producer with no open
// transaction is a no-op for the transaction (markers are retried). The first offsets of the
// open transactions are kept ordered: the smallest is the first unstable offset (LSO bound).
//
// Snapshots: the state *before* offset N is written to N.snapshot at a segment roll (N = the new
// segment's base offset) and at clean shutdown (N = log end offset). Loading takes the newest
// readable snapshot at or below the log end offset and the log after it is replayed. State is
// kept when the log start offset moves (retention, DeleteRecords); a producer is forgotten only
// when its last batch timestamp is older than producer.id.expiration.ms.
//
// Thread contract: owned by its log, used only on the log's thread.
#include <cstdint>
#include <deque>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "model/control_record.h"
#include "model/record_batch.h"
#include "storage/file_system.h"

namespace sluice::storage {

inline constexpr int64_t no_producer_id = -1;
inline constexpr int16_t no_producer_epoch = -1;
inline constexpr int32_t no_sequence = -1;
// Kafka's ProducerStateEntry.NumBatchesToRetain: as many as a producer may have in flight.
inline constexpr size_t producer_batches_to_retain = 5;
inline constexpr std::string_view producer_snapshot_suffix = ".snapshot";
inline constexpr int16_t producer_snapshot_version = 1;

// Sequence arithmetic with wrap-around at INT32_MAX (Kafka's DefaultRecordBatch).
int32_t increment_sequence(int32_t seq, int32_t increment);
int32_t decrement_sequence(int32_t seq, int32_t decrement);

struct producer_batch {
  int32_t first_seq = no_sequence;
  int32_t last_seq = no_sequence;
  int64_t first_offset = -1;
  int64_t last_offset = -1;
  int64_t max_timestamp = -1;
  bool operator==(const producer_batch&) const = default;
};

struct producer_entry {
  int64_t producer_id = no_producer_id;
  int16_t epoch = no_producer_epoch;
  std::deque<producer_batch> batches;  // oldest first, at most producer_batches_to_retain
  int64_t last_timestamp = -1;         // max timestamp of the last batch (expiry clock)
  int32_t coordinator_epoch = -1;      // of the last marker; kept through snapshots
  int64_t current_txn_first_offset = -1;  // first offset of the open transaction, -1: none

  int32_t last_seq() const { return batches.empty() ? no_sequence : batches.back().last_seq; }
  int64_t last_offset() const { return batches.empty() ? -1 : batches.back().last_offset; }
  // The retained batch with exactly this sequence range, if any.
  std::optional<producer_batch> find_batch(int32_t first_seq, int32_t last_seq) const;
  // Records a batch; a new epoch drops the batches of the old one.
  void add_batch(int16_t epoch, const producer_batch& b);
};

// The fields of a data batch that producer state looks at.
struct producer_batch_info {
  int64_t producer_id;
  int16_t epoch;
  int32_t first_seq;
  int32_t last_seq;
  int64_t first_offset;
  int64_t last_offset;
  int64_t max_timestamp;
  bool transactional = false;
  static producer_batch_info of(const model::batch_view& v);
};

// A transaction closed by a marker on this partition (Kafka's CompletedTxn).
struct completed_txn {
  int64_t producer_id = no_producer_id;
  int64_t first_offset = -1;  // first offset of the transaction's data on this partition
  int64_t last_offset = -1;   // the marker's offset
  bool aborted = false;
  bool operator==(const completed_txn&) const = default;
};

class producer_state_manager {
 public:
  producer_state_manager(file_system& fs, std::string dir, int64_t expiration_ms);

  // Validates, in order, the client batches of one append against the state plus the batches
  // before them in the same append (no mutation). Returns the original batch if a batch is an
  // exact duplicate, nullopt if all are new; errc::invalid_producer_epoch,
  // out_of_order_sequence or unknown_producer_id otherwise. Batches without a producer id pass.
  result<std::optional<producer_batch>> check_client_batches(std::span<const producer_batch_info> batches) const;

  // Whether a marker of (producer_id, epoch, coordinator_epoch) may be written:
  // invalid_producer_epoch or transaction_coordinator_fenced otherwise (Kafka's
  // ProducerAppendInfo.appendEndTxnMarker checks).
  result<void> check_marker(int64_t producer_id, int16_t epoch, int32_t coordinator_epoch) const;

  // Records a batch now in the log (final offsets). No checks: leader appends were checked,
  // replicated and recovered batches are the truth. A marker batch that closes an open
  // transaction returns it.
  std::optional<completed_txn> apply(const model::batch_view& v);
  void apply(const producer_batch_info& b);
  std::optional<completed_txn> apply_marker(int64_t producer_id, int16_t epoch, const model::txn_marker& m,
                                            int64_t offset, int64_t timestamp);

  // Smallest first offset of the open transactions, nullopt if none (Kafka's firstUnstableOffset).
  std::optional<int64_t> first_unstable_offset() const {
    return _ongoing.empty() ? std::nullopt : std::optional<int64_t>(_ongoing.begin()->first);
  }
  // Kafka's lastStableOffset(completedTxn), for the aborted-transaction index: the first offset
  // of another open transaction, else the offset after the marker. Call after apply().
  int64_t last_stable_offset_after(const completed_txn& t) const {
    return _ongoing.empty() ? t.last_offset + 1 : _ongoing.begin()->first;
  }
  size_t ongoing_count() const { return _ongoing.size(); }

  const producer_entry* find(int64_t producer_id) const;
  const std::unordered_map<int64_t, producer_entry>& producers() const { return _producers; }
  size_t size() const { return _producers.size(); }
  void clear() {
    _producers.clear();
    _ongoing.clear();
  }

  // Forgets producers whose last timestamp is older than expiration_ms before now_ms, except
  // those with an open transaction (as Kafka).
  size_t remove_expired(int64_t now_ms);
  void set_expiration_ms(int64_t ms) { _expiration_ms = ms; }

  // ---- snapshots ----
  // Writes <dir>/<offset>.snapshot (atomically, durably) with the current state.
  result<void> take_snapshot(int64_t offset);
  // Replaces the state with the newest snapshot at or below max_offset that reads back intact
  // (corrupt ones are deleted); returns its offset, or nullopt (state empty) if none.
  // Producers already expired at now_ms are skipped.
  result<std::optional<int64_t>> load_latest_snapshot(int64_t max_offset, int64_t now_ms);
  // Snapshot offsets present in the directory, ascending.
  std::vector<int64_t> snapshot_offsets() const;
  void delete_snapshot(int64_t offset);
  void delete_snapshots_above(int64_t offset);   // offset > `offset`
  void delete_snapshots_below(int64_t offset);   // offset < `offset`
  std::string snapshot_path(int64_t offset) const;
  void set_dir(std::string dir) { _dir = std::move(dir); }

  // Encoding/decoding of the snapshot file (exposed for tests and `sluice log dump`).
  static std::vector<uint8_t> encode_snapshot(const std::unordered_map<int64_t, producer_entry>& producers);
  static result<std::unordered_map<int64_t, producer_entry>> decode_snapshot(std::span<const uint8_t> bytes);

 private:
  file_system& _fs;
  std::string _dir;
  int64_t _expiration_ms;
  void rebuild_ongoing();

  std::unordered_map<int64_t, producer_entry> _producers;
  std::set<std::pair<int64_t, int64_t>> _ongoing;  // (current_txn_first_offset, producer id)
};

}  // namespace sluice::storage
