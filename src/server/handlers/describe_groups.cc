// DescribeGroups (key 15), v0-5: state, protocol and members (with metadata and assignment when
// Stable) of each group. An unknown group is described as Dead with no error (Kafka).
#include "server/handlers/group_common.h"
#include "server/handlers/handlers.h"

namespace sluice::server {

namespace {
namespace cg = coordinator::group;
using E = protocol::error_code;
// No ACLs yet: everything is allowed. Kafka's group operations READ(3), DESCRIBE(8), DELETE(6).
constexpr int32_t group_operations_allowed = (1 << 3) | (1 << 6) | (1 << 8);
}  // namespace

asio::awaitable<void> handle(request_context& ctx, protocol::describe_groups_request& req,
                             protocol::describe_groups_response& resp) {
  for (const auto& id : req.groups) {
    protocol::describe_groups_response::described_group dg;
    dg.group_id = id;
    if (id.empty()) {
      dg.error_code = code(E::invalid_group_id);
      resp.groups.push_back(std::move(dg));
      continue;
    }
    auto fn = [&id](cg::group_manager& gm, int32_t partition) { return gm.describe(partition, id); };
    auto out = co_await on_group_shard(ctx.broker, id, fn);
    if (!out) {
      dg.error_code = code(E::not_coordinator);
      resp.groups.push_back(std::move(dg));
      continue;
    }
    dg.error_code = code(out->error);
    dg.group_state = out->state;
    dg.protocol_type = out->protocol_type;
    dg.protocol_data = out->protocol;
    for (auto& m : out->members) {
      protocol::describe_groups_response::described_group_member dm;
      dm.member_id = m.member_id;
      dm.group_instance_id = m.group_instance_id;
      dm.client_id = m.client_id;
      dm.client_host = m.client_host;
      dm.member_metadata = std::move(m.metadata);
      dm.member_assignment = std::move(m.assignment);
      dg.members.push_back(std::move(dm));
    }
    if (ctx.version() >= 3 && req.include_authorized_operations) dg.authorized_operations = group_operations_allowed;
    resp.groups.push_back(std::move(dg));
  }
  co_return;
}

}  // namespace sluice::server
