// InitProducerId (key 22), v0-4.
//
// Without a transactional id (idempotent producers): a fresh producer id from the broker's block
// (coordinator/txn/producer_id_manager.h) with epoch 0. Kafka's rules
// (TransactionCoordinator.handleInitProducerId):
//  - v3+ producer_id/producer_epoch must be both -1 or both set (INVALID_REQUEST otherwise);
//  - the broker keeps no per-producer record for idempotent producers, so a request carrying
//    the current id/epoch (KIP-360 recovery after UNKNOWN_PRODUCER_ID or a sequence gap) gets a
//    new producer id at epoch 0, exactly as a first request does. Partitions accept it with
//    sequence 0 (new producer / new epoch rule).
//
// With a transactional id: the transaction coordinator of the id (server/txn_coordinator.h)
// keeps its producer id and bumps the epoch on every call (fencing the previous instance),
// aborting an open transaction first (CONCURRENT_TRANSACTIONS until that is done); answered once
// the new state is replicated. An empty transactional id is INVALID_REQUEST, as in Kafka.
// PRODUCER_FENCED is INVALID_PRODUCER_EPOCH before v4 (KIP-588).
#include "base/logging.h"
#include "coordinator/txn/producer_id_manager.h"
#include "server/handlers/handlers.h"
#include "server/handlers/txn_common.h"

namespace sluice::server {

namespace {
using E = protocol::error_code;
namespace ct = coordinator::txn;

asio::awaitable<void> transactional(request_context& ctx, protocol::init_producer_id_request& req,
                                    protocol::init_producer_id_response& resp) {
  ct::init_pid_request r;
  r.transactional_id = *req.transactional_id;
  r.transaction_timeout_ms = req.transaction_timeout_ms;
  r.producer_id = ctx.version() >= 3 ? req.producer_id : -1;
  r.producer_epoch = ctx.version() >= 3 ? req.producer_epoch : -1;
  auto start = [&r](ct::transaction_manager& tm, int32_t partition, std::function<void(ct::init_pid_response)> done) {
    tm.init_producer_id(partition, r, std::move(done));
  };
  auto got = co_await ask_txn_coordinator<ct::init_pid_response>(ctx.broker, r.transactional_id, start);
  if (!got.value) {
    resp.error_code = code(got.no_answer);
    co_return;
  }
  resp.error_code = code(fenced_for_version(got.value->error, ctx.version() < 4));
  if (got.value->error == E::none) {
    resp.producer_id = got.value->producer_id;
    resp.producer_epoch = got.value->producer_epoch;
  }
  co_return;
}
}  // namespace

asio::awaitable<void> handle(request_context& ctx, protocol::init_producer_id_request& req,
                             protocol::init_producer_id_response& resp) {
  resp.producer_id = -1;
  resp.producer_epoch = -1;
  const bool no_id = req.producer_id == -1, no_epoch = req.producer_epoch == -1;
  if (no_id != no_epoch) {
    resp.error_code = code(E::invalid_request);
    co_return;
  }
  if (req.transactional_id) {
    if (req.transactional_id->empty()) {
      resp.error_code = code(E::invalid_request);
      co_return;
    }
    co_await transactional(ctx, req, resp);
    co_return;
  }
  auto id = ctx.broker.producer_ids.next_id();
  if (!id) {
    log::get("server")->error("InitProducerId: no producer id: {}", id.error().message());
    // A store hiccup is retriable (clients retry COORDINATOR_LOAD_IN_PROGRESS); exhaustion is not.
    resp.error_code = code(id.error() == make_error_code(coordinator::txn_errc::producer_ids_exhausted)
                               ? E::unknown_server_error
                               : E::coordinator_load_in_progress);
    co_return;
  }
  resp.producer_id = *id;
  resp.producer_epoch = 0;
  co_return;
}

}  // namespace sluice::server
