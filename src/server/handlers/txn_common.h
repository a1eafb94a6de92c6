#pragma once
// Shared by the transaction coordinator handlers (InitProducerId with a transactional id,
// AddPartitionsToTxn, AddOffsetsToTxn, EndTxn): finding a transactional id's coordinator
// partition and shard, running the transaction manager there and waiting for its answer, which
// comes once the transition is replicated (coordinator/txn/transaction_manager.h).
#include <memory>
#include <optional>
#include <string>

#include <asio.hpp>

#include "coordinator/txn/transaction_manager.h"
#include "server/handlers/group_common.h"
#include "server/request_context.h"
#include "server/txn_coordinator.h"

namespace sluice::server {

// The transaction coordinator's answer, or why there is none.
template <typename T>
struct txn_coordinator_answer {
  std::optional<T> value;
  // Without a value: NOT_COORDINATOR when __transaction_state does not exist yet or no
  // coordinator is configured, COORDINATOR_NOT_AVAILABLE when the answer did not come within the
  // coordinator's answer bound (the manager always answers; this is a safety net).
  protocol::error_code no_answer = protocol::error_code::none;
};

// Runs start(manager, partition, done) on the shard coordinating `transactional_id`, where the
// manager calls done(T) once; returns that answer.
template <typename T, typename F>
asio::awaitable<txn_coordinator_answer<T>> ask_txn_coordinator(broker_services& broker,
                                                               const std::string& transactional_id, F& start) {
  if (!broker.txns) co_return txn_coordinator_answer<T>{std::nullopt, protocol::error_code::not_coordinator};
  auto pl = broker.txns->place(transactional_id);
  if (!pl) co_return txn_coordinator_answer<T>{std::nullopt, protocol::error_code::not_coordinator};
  const int32_t partition = pl->partition;
  auto got = co_await broker.shards.invoke_on(pl->shard, [&broker, &start, partition]() -> asio::awaitable<std::optional<T>> {
    auto& tm = broker.txns->manager_for(partition);
    auto ex = co_await asio::this_coro::executor;
    auto pending = std::make_shared<pending_answer<T>>(ex);
    start(tm, partition, [pending](T v) { pending->complete(std::move(v)); });
    auto r = co_await wait_answer(pending, broker.txns->answer_timeout_ms());
    co_return r;
  });
  if (!got) co_return txn_coordinator_answer<T>{std::nullopt, protocol::error_code::coordinator_not_available};
  co_return txn_coordinator_answer<T>{std::move(got), protocol::error_code::none};
}

// KIP-588: requests older than these versions know PRODUCER_FENCED only as INVALID_PRODUCER_EPOCH.
inline protocol::error_code fenced_for_version(protocol::error_code e, bool old_version) {
  if (old_version && e == protocol::error_code::producer_fenced) return protocol::error_code::invalid_producer_epoch;
  return e;
}

// For managers that answer an error code: that code (fenced_for_version), or why there is none.
inline protocol::error_code answer_error(const txn_coordinator_answer<protocol::error_code>& a, bool old_version) {
  return a.value ? fenced_for_version(*a.value, old_version) : a.no_answer;
}

}  // namespace sluice::server
