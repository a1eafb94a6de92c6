// EndTxn (key 26), v0-3: commits or aborts the producer's ongoing transaction. Answered once
// PrepareCommit/PrepareAbort is replicated; the COMMIT/ABORT markers are then written to every
// partition of the transaction in the background (the coordinator's marker sender) and the
// transaction completes. Until then the same request answers CONCURRENT_TRANSACTIONS (clients
// retry), the opposite one INVALID_TXN_STATE. PRODUCER_FENCED is INVALID_PRODUCER_EPOCH before
// v2 (KIP-588).
#include "server/handlers/handlers.h"
#include "server/handlers/txn_common.h"

namespace sluice::server {

namespace {
using E = protocol::error_code;
namespace ct = coordinator::txn;
}  // namespace

asio::awaitable<void> handle(request_context& ctx, protocol::end_txn_request& req, protocol::end_txn_response& resp) {
  if (req.transactional_id.empty()) {
    resp.error_code = code(E::invalid_request);
    co_return;
  }
  auto start = [&](ct::transaction_manager& tm, int32_t partition, std::function<void(E)> done) {
    tm.end_txn(partition, req.transactional_id, req.producer_id, req.producer_epoch, req.committed, std::move(done));
  };
  auto got = co_await ask_txn_coordinator<E>(ctx.broker, req.transactional_id, start);
  resp.error_code = code(answer_error(got, ctx.version() < 2));
  co_return;
}

}  // namespace sluice::server
