// Heartbeat (key 12), v0-4: keeps a member's session alive; tells it when the group rebalances.
#include "server/handlers/group_common.h"
#include "server/handlers/handlers.h"

namespace sluice::server {

namespace {
namespace cg = coordinator::group;
using E = protocol::error_code;
}  // namespace

asio::awaitable<void> handle(request_context& ctx, protocol::heartbeat_request& req, protocol::heartbeat_response& resp) {
  if (req.group_id.empty()) {
    resp.error_code = code(E::invalid_group_id);
    co_return;
  }
  cg::heartbeat_request hr{req.group_id, req.generation_id, req.member_id,
                           ctx.version() >= 3 ? req.group_instance_id : std::nullopt};
  auto fn = [&hr](cg::group_manager& gm, int32_t partition) { return gm.heartbeat(partition, hr); };
  auto out = co_await on_group_shard(ctx.broker, req.group_id, fn);
  resp.error_code = code(out ? *out : E::not_coordinator);
  co_return;
}

}  // namespace sluice::server
