#pragma once
// Kafka's transaction coordinator state machine, without I/O: one transaction_manager per shard
// holds every transactional id whose __transaction_state partition that shard owns. Everything
// here runs on that one shard: no locks.
//
// States: Empty -> Ongoing -> PrepareCommit | PrepareAbort -> CompleteCommit | CompleteAbort,
// then Ongoing again on the next AddPartitions/AddOffsets. Every transition is appended to the
// partition's txn_log_store (txn_log_format.h) and applied to the in-memory state only once the
// store reports it replicated (internal_partition::wait_replicated); the answer comes then,
// through the request's completion callback (possibly before the call returns). While a
// transition is in flight for a transactional id (Kafka's pendingState), every other request for
// that id answers CONCURRENT_TRANSACTIONS. A failed write leaves the state unchanged and answers
// as Kafka's TransactionStateManager (write_error below).
//
// Markers: entering Prepare* emits a marker_work through the injected marker_sink; the server
// writes the COMMIT/ABORT control records to every listed partition and then calls
// markers_written(), which moves the transaction to Complete*. Until then tick() re-emits the
// work every marker_retry_interval_ms, so the server must tolerate a marker written twice (a
// second marker for a producer with no open transaction is a no-op on the partition side).
//
// Time: transaction start/update timestamps and the timeout abort use the clock's wall time (as
// Kafka, so they survive a reload); marker retries use monotonic time.
//
// Errors follow Kafka 3.x's TransactionCoordinator (transaction version 1). A stale epoch answers
// PRODUCER_FENCED; the handlers map it to INVALID_PRODUCER_EPOCH for request versions older than
// KIP-588 (InitProducerId < 4, AddPartitionsToTxn/AddOffsetsToTxn/EndTxn < 2).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "coordinator/txn/txn_log_format.h"
#include "coordinator/internal_partition.h"
#include "model/record_batch_builder.h"
#include "protocol/error_code.h"

namespace sluice::coordinator::txn {

using errc = protocol::error_code;

inline constexpr const char* consumer_offsets_topic = "__consumer_offsets";

// A __transaction_state partition (internal_partition.h).
using txn_log_store = internal_partition;

struct txn_config {
  int32_t max_timeout_ms = 900000;            // transaction.max.timeout.ms
  int64_t marker_retry_interval_ms = 1000;    // re-emit marker work not confirmed within this
  int64_t id_expiration_ms = 604800000;       // transactional.id.expiration.ms
  int64_t remove_expired_interval_ms = 3600000;  // transaction.remove.expired.transaction.cleanup.interval.ms
};

struct topic_partition {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const topic_partition&) const = default;
};

// "Write these markers": one per transaction reaching Prepare*. coordinator_epoch is the epoch
// the __transaction_state partition was loaded in (WriteTxnMarkers' CoordinatorEpoch).
struct marker_work {
  int32_t txn_partition = 0;  // the __transaction_state partition
  std::string transactional_id;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  bool commit = false;
  int32_t coordinator_epoch = -1;
  std::vector<topic_partition> partitions;  // sorted, never empty
};

// Returns a fresh producer id (producer_id_manager::next_id in the broker).
using producer_id_source = std::function<result<int64_t>()>;
// Receives marker work, on this shard; must not call back into the manager synchronously
// except markers_written.
using marker_sink = std::function<void(const marker_work&)>;

struct init_pid_request {
  std::string transactional_id;
  int32_t transaction_timeout_ms = 0;
  int64_t producer_id = -1;     // InitProducerId v3+ (KIP-360): the producer's current id, or -1
  int16_t producer_epoch = -1;  // and epoch, or -1
};

struct init_pid_response {
  errc error = errc::none;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
};

struct described_txn {
  errc error = errc::none;
  std::string transactional_id;
  std::string state;  // Kafka's state name
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t transaction_timeout_ms = 0;
  int64_t start_timestamp_ms = -1;
  std::vector<topic_partition> partitions;
};

struct listed_txn {
  std::string transactional_id;
  int64_t producer_id = -1;
  std::string state;
};

// How a failed write to __transaction_state answers (Kafka's TransactionStateManager):
// unknown partition / not enough replicas (before or after the append) / timed out ->
// COORDINATOR_NOT_AVAILABLE; not leader / storage error -> NOT_COORDINATOR; too large or anything
// else -> UNKNOWN_SERVER_ERROR.
errc write_error(std::error_code e);

class transaction_manager {
 public:
  transaction_manager(txn_config cfg, sluice::clock& clock, producer_id_source ids, marker_sink markers);
  ~transaction_manager();
  transaction_manager(const transaction_manager&) = delete;
  transaction_manager& operator=(const transaction_manager&) = delete;

  // Partition ownership, as group_manager: begin_loading -> COORDINATOR_LOAD_IN_PROGRESS; load
  // rebuilds the partition's transactional ids from the store (re-emitting marker work for every
  // Prepare* state found); unload drops them (NOT_COORDINATOR afterwards).
  void begin_loading(int32_t partition);
  result<void> load(int32_t partition, int32_t coordinator_epoch, std::unique_ptr<txn_log_store> store);
  void unload(int32_t partition);
  enum class partition_status { not_owned, loading, loaded };
  partition_status status(int32_t partition) const;

  // `partition` is the transactional id's __transaction_state partition (placement.h).
  // Every request answers exactly once through `done`, on this shard, possibly before returning:
  // at once for a refusal, otherwise when its write is replicated or failed. Unloading the
  // partition answers pending requests NOT_COORDINATOR.
  void init_producer_id(int32_t partition, const init_pid_request& req, std::function<void(init_pid_response)> done);
  // One error for all the partitions (Kafka answers every partition with it).
  void add_partitions(int32_t partition, const std::string& transactional_id, int64_t producer_id,
                      int16_t producer_epoch, const std::vector<topic_partition>& partitions,
                      std::function<void(errc)> done);
  // Adds __consumer_offsets-`offsets_partition` (the group's partition) to the transaction.
  void add_offsets(int32_t partition, const std::string& transactional_id, int64_t producer_id,
                   int16_t producer_epoch, int32_t offsets_partition, std::function<void(errc)> done);
  // Answers once Prepare* is replicated (the markers phase continues in the background).
  void end_txn(int32_t partition, const std::string& transactional_id, int64_t producer_id, int16_t producer_epoch,
               bool commit, std::function<void(errc)> done);
  // The server wrote every marker of `work`. Answers true when the transition to Complete* was
  // started; stale confirmations (another epoch, the partition no longer owned, the transaction
  // already completed or with a write in flight) are ignored and answer false. A failed
  // Complete* write leaves Prepare*: tick() re-emits the work.
  bool markers_written(const marker_work& work);
  // Whether `work` is still what the coordinator waits for (the marker sender stops otherwise):
  // the partition is loaded in the work's coordinator epoch and the transaction is in the
  // work's Prepare* state with its producer id and epoch, no write in flight.
  bool awaits_markers(const marker_work& work) const;

  // KIP-890 produce verification: does the Ongoing transaction of (transactional_id,
  // producer_id, producer_epoch) include `tp`? NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS
  // when the partition is not loaded here; INVALID_PRODUCER_ID_MAPPING for an unknown id or
  // another producer id; PRODUCER_FENCED for another epoch; CONCURRENT_TRANSACTIONS while a
  // transition is in flight; INVALID_TXN_STATE when the transaction is not Ongoing or does not
  // include `tp` (Kafka answers a verification of a missing partition with INVALID_TXN_STATE).
  errc verify(int32_t partition, const std::string& transactional_id, int64_t producer_id, int16_t producer_epoch,
              const topic_partition& tp) const;

  // Aborts Ongoing transactions past their timeout (epoch bumped, as Kafka's coordinator-initiated
  // abort fences the producer), re-emits unconfirmed marker work, and every
  // remove_expired_interval_ms writes tombstones for (and forgets) transactional ids with no open
  // transaction (Empty, Complete*) not updated for id_expiration_ms.
  void tick();

  described_txn describe(int32_t partition, const std::string& transactional_id) const;
  // Transactional ids of every loaded partition; `states` empty = all (Kafka's names, exact),
  // `producer_ids` empty = all; min_duration_ms >= 0 (ListTransactions v1 DurationFilter): only
  // transactions started more than that long ago.
  std::vector<listed_txn> list(const std::vector<std::string>& states, const std::vector<int64_t>& producer_ids,
                               int64_t min_duration_ms = -1) const;
  bool loading() const;
  size_t txn_count() const;

 private:
  struct txn_metadata;
  struct partition_data;

  partition_data* owned(int32_t partition, errc& err);
  const partition_data* owned(int32_t partition, errc& err) const;
  // Checks the id's producer id/epoch and that no transition is in flight.
  txn_metadata* usable(partition_data& pd, const std::string& transactional_id, int64_t producer_id,
                       int16_t producer_epoch, errc& err);
  // Writes `next` for `current` (which must have no transition in flight) and marks it pending;
  // once replicated, the id's metadata becomes `next` and `then` gets errc::none; a failed
  // write leaves the metadata and answers write_error(). `then` runs possibly before persist
  // returns; when the partition was unloaded meanwhile it gets NOT_COORDINATOR.
  void persist(partition_data& pd, txn_metadata& current, const txn_metadata& next, std::function<void(errc)> then);
  void prepare_end(partition_data& pd, txn_metadata& t, bool commit, bool bump_epoch, std::function<void(errc)> then);
  void complete(partition_data& pd, txn_metadata& t);
  void add(int32_t partition, const std::string& transactional_id, int64_t producer_id, int16_t producer_epoch,
           const std::vector<topic_partition>& partitions, std::function<void(errc)> done);
  // The transaction `id` in partition `partition` of load generation `generation`, if still there.
  txn_metadata* lookup(int32_t partition, uint64_t generation, const std::string& id);
  void emit(partition_data& pd, txn_metadata& t);
  void resume_markers(partition_data& pd, txn_metadata& t);
  void apply_record(partition_data& pd, const model::decoded_record& r);
  void expire_ids(partition_data& pd, int64_t wall);

  txn_config _cfg;
  sluice::clock& _clock;
  producer_id_source _ids;
  marker_sink _markers;
  std::map<int32_t, std::unique_ptr<partition_data>> _partitions;
  int64_t _next_expiry_check_ms = 0;  // monotonic
  uint64_t _generation = 0;  // load generations, unique across partitions and reloads
};

}  // namespace sluice::coordinator::txn
