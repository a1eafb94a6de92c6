#pragma once
// One partition of an internal topic (__consumer_offsets, __transaction_state), as a coordinator
// needs it: append its records, wait until an append is replicated, read them back on load.
// Implemented by the server on top of the partition's log and leader state
// (server/log_internal_partition.h); used only on the partition's shard.
//
// A write is Kafka's coordinator append with acks=-1: append() writes the batch at once and
// returns the offset it ends at; the coordinator acknowledges the write (and applies it to its
// in-memory state) only when wait_replicated() reports success for that offset, i.e. the high
// watermark passed it with enough in-sync replicas.
#include <cstdint>
#include <functional>
#include <system_error>
#include <vector>

#include "base/result.h"
#include "model/record_batch_builder.h"

namespace sluice::coordinator {

// Why a write to an internal partition failed. The Kafka errors of the append path (Produce with
// acks=-1) they stand for are named; each coordinator maps them to its own answer, as Kafka's
// GroupMetadataManager / TransactionStateManager do.
enum class write_errc {
  ok = 0,
  unknown_partition = 1,                 // UNKNOWN_TOPIC_OR_PARTITION: the partition is not hosted here
  not_leader = 2,                        // NOT_LEADER_OR_FOLLOWER: leadership moved (before or while waiting)
  not_enough_replicas = 3,               // NOT_ENOUGH_REPLICAS: ISR below min.insync.replicas, nothing written
  not_enough_replicas_after_append = 4,  // NOT_ENOUGH_REPLICAS_AFTER_APPEND
  timed_out = 5,                         // REQUEST_TIMED_OUT: not replicated within offsets.commit.timeout.ms
  too_large = 6,                         // MESSAGE_TOO_LARGE: the batch exceeds max.message.bytes
  storage_error = 7,                     // KAFKA_STORAGE_ERROR / any other failure of the log
  invalid_producer_epoch = 8,            // INVALID_PRODUCER_EPOCH: a transactional write of a fenced epoch
};

// Kafka's ControlRecordType: the key of a control batch's record says which marker it is.
enum class control_type { none = -1, abort = 0, commit = 1 };

// Batch-level facts about a record read back by read_all (the batch header fields a coordinator
// needs to replay transactional writes, Kafka's GroupMetadataManager.doLoadGroupsAndOffsets).
struct batch_info {
  int64_t base_offset = -1;
  int64_t producer_id = -1;  // -1: no producer
  int16_t producer_epoch = -1;
  bool transactional = false;
  // Not none for a control batch (a COMMIT or ABORT transaction marker of producer_id): the
  // record passed with it is the marker's control record, not a coordinator record.
  control_type control = control_type::none;
};

const std::error_category& write_category();
inline std::error_code make_error_code(write_errc e) { return {static_cast<int>(e), write_category()}; }

class internal_partition {
 public:
  virtual ~internal_partition() = default;
  // Appends the records as one batch, synchronously (after checking min.insync.replicas, as an
  // acks=-1 Produce does). Returns the offset the caller waits for: the batch's last offset + 1.
  // Errors are write_errc codes.
  virtual result<int64_t> append(const std::vector<model::record_data>& records) = 0;
  // append() for a transactional producer's records (TxnOffsetCommit): one batch with the
  // producer's id and epoch and the isTransactional attribute, which a later COMMIT/ABORT marker
  // of that producer in this partition decides. Fails with invalid_producer_epoch (nothing
  // written) when the partition already saw a newer epoch of that producer; sequences are not
  // checked (Kafka's coordinator-origin append).
  virtual result<int64_t> append_transactional(const std::vector<model::record_data>& records, int64_t producer_id,
                                               int16_t producer_epoch) = 0;
  // Calls `done` exactly once, on this partition's shard, when the high watermark reaches
  // `end_offset` (success: a zero error_code) or the write fails (a write_errc code: timed_out,
  // not_leader, not_enough_replicas_after_append). May call it before returning. If this object
  // is destroyed first, `done` is never called (the owner answers its pending writes itself).
  virtual void wait_replicated(int64_t end_offset, std::function<void(std::error_code)> done) = 0;
  // Calls fn for every record from the log start to the end, in offset order, with the facts of
  // its batch. A control batch with a COMMIT or ABORT marker is passed as its one control record
  // (info.control set); other control batches are skipped.
  using read_fn = std::function<void(const batch_info& info, const model::decoded_record& record)>;
  virtual result<void> read_all(const read_fn& fn) = 0;
};

}  // namespace sluice::coordinator

template <>
struct std::is_error_code_enum<sluice::coordinator::write_errc> : std::true_type {};
