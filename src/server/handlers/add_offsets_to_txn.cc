// AddOffsetsToTxn (key 25), v0-3: adds the group's __consumer_offsets partition to the
// producer's ongoing transaction, so the group's TxnOffsetCommit is committed or aborted with it
// (the COMMIT/ABORT marker goes to that partition). Answered once replicated.
// PRODUCER_FENCED is INVALID_PRODUCER_EPOCH before v2 (KIP-588).
#include "coordinator/placement.h"
#include "server/handlers/handlers.h"
#include "server/handlers/txn_common.h"

namespace sluice::server {

namespace {
using E = protocol::error_code;
namespace ct = coordinator::txn;
}  // namespace

asio::awaitable<void> handle(request_context& ctx, protocol::add_offsets_to_txn_request& req,
                             protocol::add_offsets_to_txn_response& resp) {
  if (req.transactional_id.empty()) {
    resp.error_code = code(E::invalid_request);
    co_return;
  }
  // The group's partition: under the current __consumer_offsets, or the configured count it will
  // be created with (Kafka's GroupCoordinator.partitionFor uses the configured count).
  auto img = ctx.broker.partitions.image();
  const auto* offsets = img->find(coordinator::consumer_offsets_topic);
  const int32_t count = offsets && !offsets->partitions.empty()
                            ? static_cast<int32_t>(offsets->partitions.size())
                            : static_cast<int32_t>(ctx.broker.static_config.get_int("offsets.topic.num.partitions"));
  const int32_t offsets_partition = coordinator::coordinator_partition(req.group_id, count);
  auto start = [&](ct::transaction_manager& tm, int32_t partition, std::function<void(E)> done) {
    tm.add_offsets(partition, req.transactional_id, req.producer_id, req.producer_epoch, offsets_partition,
                   std::move(done));
  };
  auto got = co_await ask_txn_coordinator<E>(ctx.broker, req.transactional_id, start);
  resp.error_code = code(answer_error(got, ctx.version() < 2));
  co_return;
}

}  // namespace sluice::server
