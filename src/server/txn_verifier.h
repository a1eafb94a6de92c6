#pragma once
// KIP-890 part 1, coordinator side: the check a partition leader runs before accepting the first
// transactional batch of a producer (the partition side calls it; partition_manager's
// set_txn_verifier). Answers whether `tp` is in the Ongoing transaction of (transactional_id,
// producer_id, producer_epoch), as the transaction coordinator sees it
// (transaction_manager::verify), in errors a producer understands: NONE, INVALID_TXN_STATE,
// INVALID_PRODUCER_ID_MAPPING, INVALID_PRODUCER_EPOCH (fenced), or NOT_ENOUGH_REPLICAS (retriable)
// while the coordinator is unavailable, moving, loading or busy.
// Registered unless transaction.partition.verification.enable=false.
//
// A coordinator on this broker is asked on its shard. Another broker's coordinator is asked with
// DescribeTransactions (on the calling shard's reused connection to it, broker_connections; Kafka
// uses the broker-only AddPartitionsToTxn v4 VerifyOnly, which we do not implement), and the same
// rules are applied to its answer. A coordinator that cannot be reached answers NOT_ENOUGH_REPLICAS
// (retriable).
#include <cstdint>
#include <functional>
#include <string>

#include <asio.hpp>

#include "model/topic_partition.h"
#include "server/partition_manager.h"
#include "protocol/error_code.h"

namespace sluice::server {

class txn_coordinator;

asio::awaitable<protocol::error_code> verify_txn_partition(txn_coordinator& txns, partition_manager& partitions,
                                                           int32_t broker_id, std::string transactional_id,
                                                           int64_t producer_id, int16_t producer_epoch,
                                                           model::topic_partition tp);

// The verifier to register with partition_manager::set_txn_verifier. The objects must outlive it.
partition_manager::txn_verifier make_txn_verifier(txn_coordinator& txns, partition_manager& partitions, int32_t broker_id);

}  // namespace sluice::server
