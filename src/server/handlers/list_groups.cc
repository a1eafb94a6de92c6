// ListGroups (key 16), v0-4: every group this broker coordinates; v4 filters by state.
// COORDINATOR_LOAD_IN_PROGRESS (with the groups known so far) while a partition still loads.
#include "server/handlers/group_common.h"
#include "server/handlers/handlers.h"

namespace sluice::server {

namespace {
namespace cg = coordinator::group;
using E = protocol::error_code;
struct shard_list {
  std::vector<cg::listed_group> groups;
  bool loading = false;
};
}  // namespace

asio::awaitable<void> handle(request_context& ctx, protocol::list_groups_request& req,
                             protocol::list_groups_response& resp) {
  auto& broker = ctx.broker;
  std::vector<std::string> states;
  if (ctx.version() >= 4) states = req.states_filter;
  bool loading = false;
  for (net::shard_id s = 0; s < broker.shards.size(); ++s) {
    shard_list part = co_await broker.shards.invoke_on(s, [&broker, &states]() -> asio::awaitable<shard_list> {
      shard_list out;
      out.groups = broker.groups->manager().list(states);
      out.loading = broker.groups->manager().loading();
      co_return out;
    });
    loading = loading || part.loading;
    for (auto& g : part.groups) {
      protocol::list_groups_response::listed_group lg;
      lg.group_id = std::move(g.group_id);
      lg.protocol_type = std::move(g.protocol_type);
      lg.group_state = std::move(g.state);
      resp.groups.push_back(std::move(lg));
    }
  }
  resp.error_code = code(loading ? E::coordinator_load_in_progress : E::none);
  co_return;
}

}  // namespace sluice::server
