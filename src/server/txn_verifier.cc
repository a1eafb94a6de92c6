#include "server/txn_verifier.h"

#include "coordinator/placement.h"
#include "server/partition_manager.h"
#include "server/txn_coordinator.h"

namespace sluice::server {

namespace {

// Produce answers only carry errors a producer knows how to handle (as Kafka's
// AddPartitionsToTxnManager does): the coordinator being unavailable, moving, loading or busy
// becomes the retriable NOT_ENOUGH_REPLICAS, and fencing the INVALID_PRODUCER_EPOCH every
// Produce version has.
protocol::error_code for_produce(protocol::error_code e) {
  using E = protocol::error_code;
  switch (e) {
    case E::coordinator_not_available:
    case E::not_coordinator:
    case E::coordinator_load_in_progress:
    case E::concurrent_transactions:
      return E::not_enough_replicas;
    case E::producer_fenced:
      return E::invalid_producer_epoch;
    default:
      return e;
  }
}

}  // namespace

asio::awaitable<protocol::error_code> verify_txn_partition(txn_coordinator& txns, partition_manager& partitions,
                                                           int32_t broker_id, std::string transactional_id,
                                                           int64_t producer_id, int16_t producer_epoch,
                                                           model::topic_partition tp) {
  using E = protocol::error_code;
  if (transactional_id.empty()) co_return E::invalid_request;
  auto pl = txns.place(transactional_id);
  if (!pl) co_return for_produce(E::not_coordinator);
  auto img = partitions.image();
  const auto* pm = img->find_partition(coordinator::transaction_state_topic, pl->partition);
  // Remote coordinator: not verified (AddPartitionsToTxn v4 is not implemented; see the header).
  if (pm && pm->leader >= 0 && pm->leader != broker_id) co_return E::none;
  const int32_t partition = pl->partition;
  const coordinator::txn::topic_partition ctp{tp.topic, tp.partition};
  E answer = co_await partitions.shards().invoke_on(
      pl->shard, [&txns, partition, &transactional_id, producer_id, producer_epoch, &ctp]() -> asio::awaitable<E> {
        co_return txns.manager_for(partition).verify(partition, transactional_id, producer_id, producer_epoch, ctp);
      });
  co_return for_produce(answer);
}

partition_manager::txn_verifier make_txn_verifier(txn_coordinator& txns, partition_manager& partitions, int32_t broker_id) {
  // Not a coroutine itself: it forwards named copies (GCC 12 mishandles temporaries passed to
  // coroutine parameters).
  return [&txns, &partitions, broker_id](std::string transactional_id, int64_t producer_id, int16_t producer_epoch,
                                         model::topic_partition tp) {
    return verify_txn_partition(txns, partitions, broker_id, transactional_id, producer_id, producer_epoch, tp);
  };
}

}  // namespace sluice::server
