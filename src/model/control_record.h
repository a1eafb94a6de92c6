#pragma once
// Transaction markers: control batches (attributes isControl|isTransactional) holding one
// control record (Kafka's ControlRecordType / EndTransactionMarker;
// ../shared/reference/kafka-protocol.md §4.3):
//   key   = version int16 (0) + type int16 (0 ABORT, 1 COMMIT; 2-6 are KRaft-internal)
//   value = version int16 (0) + coordinator_epoch int32
#include <cstdint>
#include <optional>
#include <vector>

#include "model/record_batch.h"

namespace sluice::model {

enum class control_type : int16_t { abort = 0, commit = 1 };

struct txn_marker {
  control_type type = control_type::abort;
  int32_t coordinator_epoch = -1;
  bool commit() const { return type == control_type::commit; }
};

// The marker in a control batch; nullopt when the batch is not a control batch, is compressed,
// or its first record is not a well-formed ABORT/COMMIT record (other control types included).
// Reads only the first record; no allocation.
std::optional<txn_marker> parse_txn_marker(const batch_view& batch);

// An uncompressed marker batch at base offset 0 (the log assigns the offset), with the
// producer's id and epoch, base sequence -1, timestamp `timestamp_ms`.
std::vector<uint8_t> build_txn_marker_batch(int64_t producer_id, int16_t producer_epoch, const txn_marker& marker,
                                            int64_t timestamp_ms);

}  // namespace sluice::model
