// InitProducerId (key 22), v0-4, for idempotent producers (no transactional id): a fresh producer
// id from the broker's block (coordinator/txn/producer_id_manager.h) with epoch 0.
//
// Kafka's rules without a transactional id (TransactionCoordinator.handleInitProducerId):
//  - v3+ producer_id/producer_epoch must be both -1 or both set (INVALID_REQUEST otherwise);
//  - the broker keeps no per-producer record for idempotent producers, so a request carrying
//    the current id/epoch (KIP-360 recovery after UNKNOWN_PRODUCER_ID or a sequence gap) gets a
//    new producer id at epoch 0, exactly as a first request does. Partitions accept it with
//    sequence 0 (new producer / new epoch rule). The epoch bump that keeps the id belongs to
//    transactional ids.
// A non-null transactional id needs the transaction coordinator, which this broker does not have
// yet: it is refused with TRANSACTIONAL_ID_AUTHORIZATION_FAILED, the error every client treats as
// fatal for InitProducerId instead of retrying forever (docs/protocol.md). An empty one is
// INVALID_REQUEST, as in Kafka.
#include "base/logging.h"
#include "coordinator/txn/producer_id_manager.h"
#include "server/handlers/handlers.h"

namespace sluice::server {

asio::awaitable<void> handle(request_context& ctx, protocol::init_producer_id_request& req,
                             protocol::init_producer_id_response& resp) {
  using E = protocol::error_code;
  resp.producer_id = -1;
  resp.producer_epoch = -1;
  const bool no_id = req.producer_id == -1, no_epoch = req.producer_epoch == -1;
  if (no_id != no_epoch) {
    resp.error_code = code(E::invalid_request);
    co_return;
  }
  if (req.transactional_id) {
    resp.error_code = code(req.transactional_id->empty() ? E::invalid_request : E::transactional_id_authorization_failed);
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
