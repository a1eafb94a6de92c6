#pragma once
// Record keys and values of __transaction_state, in Kafka's formats (TransactionLogKey /
// TransactionLogValue; docs/format/transaction-state.md) so tools reading the topic understand
// them. Big-endian; the record key and value each start with an int16 version.
//
// Written: key v0 + value v0 (what Kafka 3.x writes; Kafka writes v1 values only once the
// transaction.version feature is enabled, which we do not implement). Read: key v0, values v0 and v1 (v1 is
// flexible: compact strings/arrays, unsigned varints, tagged fields; tags 0 PreviousProducerId,
// 1 NextProducerId, 2 ClientTransactionVersion are read, unknown tags skipped). A null value is a
// tombstone (the transactional id expired).
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace sluice::coordinator::txn {

// Kafka's TransactionState byte codes, as stored in TransactionStatus.
enum class txn_state : int8_t {
  empty = 0,
  ongoing = 1,
  prepare_commit = 2,
  prepare_abort = 3,
  complete_commit = 4,
  complete_abort = 5,
  dead = 6,
  prepare_epoch_fence = 7,
};
// Kafka's names ("Empty", "Ongoing", "PrepareCommit", ...), as DescribeTransactions reports them.
const char* state_name(txn_state s);
// nullopt for a code outside 0..7.
std::optional<txn_state> state_from_code(int8_t code);

struct txn_log_value {
  int64_t producer_id = -1;
  int64_t previous_producer_id = -1;  // v1 tag 0 (read only)
  int64_t next_producer_id = -1;      // v1 tag 1 (read only)
  int16_t producer_epoch = -1;
  int32_t transaction_timeout_ms = 0;
  txn_state state = txn_state::empty;
  // topic -> partition ids, sorted (a set per topic, as Kafka keeps them).
  std::map<std::string, std::vector<int32_t>> partitions;
  int64_t last_update_timestamp_ms = -1;
  int64_t start_timestamp_ms = -1;
  int16_t client_transaction_version = 0;  // v1 tag 2 (read only)
};

// Upper bounds applied while decoding (a record larger than these is malformed, never allocated).
inline constexpr size_t max_txn_topics = 100000;
inline constexpr size_t max_txn_partitions_per_topic = 1000000;

// REQUIRES: strings (transactional id, topics) at most INT16_MAX bytes (the manager checks).
std::string encode_txn_log_key(const std::string& transactional_id);
// Always version 0; previous/next producer id and client transaction version are not written.
std::string encode_txn_log_value(const txn_log_value& v);

// nullopt on malformed input or an unknown version (such records are skipped on load, logged).
std::optional<std::string> decode_txn_log_key(std::span<const uint8_t> bytes);
std::optional<txn_log_value> decode_txn_log_value(std::span<const uint8_t> bytes);

}  // namespace sluice::coordinator::txn
