// TxnOffsetCommit (key 28), v0-3: a transactional producer's consumed positions for a group
// (Kafka's GroupCoordinator.handleTxnCommitOffsets). Written to the group's __consumer_offsets
// partition as a transactional batch of the producer and answered once replicated (as
// OffsetCommit); the offsets stay pending, invisible to OffsetFetch, until the transaction
// coordinator's COMMIT or ABORT marker for the producer reaches that partition
// (group_coordinator::on_txn_marker). v3 adds member id / generation / group.instance.id, checked
// when given (KIP-447). Partitions of unknown topics get UNKNOWN_TOPIC_OR_PARTITION.
#include "server/handlers/offset_commit_common.h"

namespace sluice::server {

asio::awaitable<void> handle(request_context& ctx, protocol::txn_offset_commit_request& req,
                             protocol::txn_offset_commit_response& resp) {
  coordinator::group::txn_commit_request cr;
  cr.group_id = req.group_id;
  cr.producer_id = req.producer_id;
  cr.producer_epoch = req.producer_epoch;
  if (ctx.version() >= 3) {
    cr.generation_id = req.generation_id;
    cr.member_id = req.member_id;
    cr.group_instance_id = req.group_instance_id;
  }
  auto submit = [](coordinator::group::group_manager& gm, int32_t partition,
                   const coordinator::group::txn_commit_request& r,
                   std::function<void(std::vector<protocol::error_code>)> done) {
    gm.txn_commit(partition, r, std::move(done));
  };
  co_await commit_offsets(ctx, req, resp, cr, ctx.version() >= 2, submit);
}

}  // namespace sluice::server
