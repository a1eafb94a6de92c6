#pragma once
// Storage error codes (expected failures; DESIGN.md §4). I/O failures from the OS are returned
// as std::system_category codes (errno) unchanged, so ENOSPC stays recognisable.
#include <system_error>

namespace sluice::storage {

enum class errc {
  ok = 0,
  offset_out_of_range = 1,   // fetch/lookup offset < log start or > log end
  message_too_large = 2,     // batch larger than max.message.bytes
  invalid_offset = 3,        // follower batch below the log end offset, or offsets not increasing
  corrupt_batch = 4,         // batch bytes fail structural checks at append
  log_failed = 5,            // an earlier I/O error left the log in an unknown state; reopen it
  not_found = 6,             // unknown partition or file
  already_exists = 7,        // partition or segment already present
  invalid_config = 8,        // a config value is out of range or malformed
  unknown_config = 9,        // a config name that is not a topic config
  corrupt_checkpoint = 10,   // a checkpoint file does not parse
  invalid_argument = 11,     // caller error that is not an invariant (e.g. bad topic name)
  // Idempotent producer rules (producer_state.h); the server maps them to Kafka's codes.
  out_of_order_sequence = 12,   // sequence gap, or a new epoch not starting at sequence 0
  invalid_producer_epoch = 13,  // batch epoch older than the producer's current epoch
  unknown_producer_id = 14,     // no state for the producer and its sequence is not 0
  corrupt_snapshot = 15,        // a producer snapshot file fails its checks
  // Transactions (producer_state.h).
  invalid_txn_state = 16,               // non-transactional batch inside an open transaction
  transaction_coordinator_fenced = 17,  // marker from an older coordinator epoch
};

const std::error_category& storage_category();
inline std::error_code make_error_code(errc e) { return {static_cast<int>(e), storage_category()}; }

}  // namespace sluice::storage

template <>
struct std::is_error_code_enum<sluice::storage::errc> : std::true_type {};
