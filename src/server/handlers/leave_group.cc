// LeaveGroup (key 13), v0-4: members leave (v3+: several at once, by member id or
// group.instance.id); the group rebalances without them.
#include "server/handlers/group_common.h"
#include "server/handlers/handlers.h"

namespace sluice::server {

namespace {
namespace cg = coordinator::group;
using E = protocol::error_code;
}  // namespace

asio::awaitable<void> handle(request_context& ctx, protocol::leave_group_request& req,
                             protocol::leave_group_response& resp) {
  std::vector<cg::leave_member> members;
  if (ctx.version() >= 3) {
    for (const auto& m : req.members) members.push_back({m.member_id, m.group_instance_id});
  } else {
    members.push_back({req.member_id, std::nullopt});
  }
  if (req.group_id.empty()) {
    resp.error_code = code(E::invalid_group_id);
    co_return;
  }
  auto fn = [&](cg::group_manager& gm, int32_t partition) { return gm.leave(partition, req.group_id, members); };
  auto out = co_await on_group_shard(ctx.broker, req.group_id, fn);
  if (!out) {
    resp.error_code = code(E::not_coordinator);
    co_return;
  }
  if (ctx.version() < 3) {
    // One member: its error is the answer.
    resp.error_code = code(out->error != E::none ? out->error : out->member_errors.at(0));
    co_return;
  }
  resp.error_code = code(out->error);
  for (size_t i = 0; i < members.size(); ++i) {
    protocol::leave_group_response::member_response mr;
    mr.member_id = members[i].member_id;
    mr.group_instance_id = members[i].group_instance_id;
    mr.error_code = code(out->member_errors.at(i));
    resp.members.push_back(std::move(mr));
  }
  co_return;
}

}  // namespace sluice::server
