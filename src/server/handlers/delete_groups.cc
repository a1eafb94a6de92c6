// DeleteGroups (key 42), v0-2: deletes empty groups and their committed offsets (tombstones in
// __consumer_offsets). NON_EMPTY_GROUP while members remain, GROUP_ID_NOT_FOUND if unknown.
#include "server/handlers/group_common.h"
#include "server/handlers/handlers.h"

namespace sluice::server {

namespace {
namespace cg = coordinator::group;
using E = protocol::error_code;
}  // namespace

asio::awaitable<void> handle(request_context& ctx, protocol::delete_groups_request& req,
                             protocol::delete_groups_response& resp) {
  for (const auto& id : req.groups_names) {
    protocol::delete_groups_response::deletable_group_result r;
    r.group_id = id;
    if (id.empty()) {
      r.error_code = code(E::invalid_group_id);
      resp.results.push_back(std::move(r));
      continue;
    }
    auto fn = [&id](cg::group_manager& gm, int32_t partition) { return gm.delete_group(partition, id); };
    auto out = co_await on_group_shard(ctx.broker, id, fn);
    r.error_code = code(out ? *out : E::not_coordinator);
    resp.results.push_back(std::move(r));
  }
  co_return;
}

}  // namespace sluice::server
