#include "server/txn_verifier.h"

#include "coordinator/placement.h"
#include "protocol/messages/describe_transactions.h"
#include "server/broker_connections.h"
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

// Each step of asking a remote coordinator is bounded by this.
constexpr int64_t remote_timeout_ms = 5000;

// The coordinator is broker `coordinator`: ask it with DescribeTransactions (Kafka asks with
// AddPartitionsToTxn v4 VerifyOnly, which answers the same question; that version is broker-only
// and we do not implement it) and apply transaction_manager::verify's rules to its answer.
asio::awaitable<protocol::error_code> verify_remotely(broker_connections& connections,
                                                      const cluster::metadata_image& img, int32_t coordinator,
                                                      const std::string& transactional_id, int64_t producer_id,
                                                      int16_t producer_epoch, const model::topic_partition& tp) {
  using E = protocol::error_code;
  const cluster::broker_endpoint* to = img.find_broker(coordinator);
  if (!to) co_return E::coordinator_not_available;
  protocol::describe_transactions_request req;
  req.transactional_ids = {transactional_id};
  auto resp = co_await connections.request<protocol::describe_transactions_api>(*to, req, 0, remote_timeout_ms);
  if (!resp || resp->transaction_states.size() != 1) co_return E::coordinator_not_available;
  const auto& t = resp->transaction_states[0];
  if (t.error_code == static_cast<int16_t>(E::transactional_id_not_found)) co_return E::invalid_producer_id_mapping;
  if (t.error_code != 0) co_return static_cast<E>(t.error_code);
  if (t.producer_id != producer_id) co_return E::invalid_producer_id_mapping;
  if (t.producer_epoch != producer_epoch) co_return E::producer_fenced;
  if (t.transaction_state == "PrepareCommit" || t.transaction_state == "PrepareAbort") co_return E::concurrent_transactions;
  if (t.transaction_state != "Ongoing") co_return E::invalid_txn_state;
  for (const auto& topic : t.topics)
    if (topic.topic == tp.topic)
      for (int32_t p : topic.partitions)
        if (p == tp.partition) co_return E::none;
  co_return E::invalid_txn_state;
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
  if (!pm || pm->leader < 0) co_return for_produce(E::coordinator_not_available);
  if (pm->leader != broker_id) {
    const int32_t coordinator = pm->leader;
    E remote = co_await verify_remotely(txns.connections(), *img, coordinator, transactional_id, producer_id,
                                        producer_epoch, tp);
    co_return for_produce(remote);
  }
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
