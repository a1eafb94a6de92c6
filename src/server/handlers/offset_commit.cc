// OffsetCommit (key 8), v0-8: stores a group's consumed positions as records in
// __consumer_offsets; answered once they are replicated to the ISR (Produce acks=all), at most
// offsets.commit.timeout.ms later (then COORDINATOR_NOT_AVAILABLE).
// Partitions of unknown topics are rejected with UNKNOWN_TOPIC_OR_PARTITION.
// retention_time_ms (v2-4) and commit_timestamp (v1) are ignored, as Kafka >= 2.1 does for
// requests that do not set an explicit commit timestamp (docs/protocol.md).
#include "server/handlers/offset_commit_common.h"

namespace sluice::server {

asio::awaitable<void> handle(request_context& ctx, protocol::offset_commit_request& req,
                             protocol::offset_commit_response& resp) {
  coordinator::group::commit_request cr;
  cr.group_id = req.group_id;
  cr.generation_id = ctx.version() >= 1 ? req.generation_id_or_member_epoch : -1;
  cr.member_id = ctx.version() >= 1 ? req.member_id : "";
  cr.group_instance_id = ctx.version() >= 7 ? req.group_instance_id : std::nullopt;
  auto submit = [](coordinator::group::group_manager& gm, int32_t partition,
                   const coordinator::group::commit_request& r,
                   std::function<void(std::vector<protocol::error_code>)> done) {
    gm.commit(partition, r, std::move(done));
  };
  co_await commit_offsets(ctx, req, resp, cr, ctx.version() >= 6, submit);
}

}  // namespace sluice::server
