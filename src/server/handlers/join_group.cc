// JoinGroup (key 11), v0-6: a member joins (or rejoins) a consumer group; the answer waits until
// the rebalance completes (coordinator/group/group_manager.h). v4+: a new member first gets
// MEMBER_ID_REQUIRED with its id; v5+: static membership (group.instance.id).
#include "server/handlers/group_common.h"
#include "server/handlers/handlers.h"

namespace sluice::server {

namespace {
namespace cg = coordinator::group;
using E = protocol::error_code;
}  // namespace

asio::awaitable<void> handle(request_context& ctx, protocol::join_group_request& req,
                             protocol::join_group_response& resp) {
  auto& broker = ctx.broker;
  resp.generation_id = -1;
  resp.member_id = req.member_id;
  if (req.group_id.empty()) {
    resp.error_code = code(E::invalid_group_id);
    co_return;
  }
  cg::join_request jr;
  jr.group_id = req.group_id;
  jr.member_id = req.member_id;
  jr.group_instance_id = ctx.version() >= 5 ? req.group_instance_id : std::nullopt;
  jr.session_timeout_ms = req.session_timeout_ms;
  jr.rebalance_timeout_ms = ctx.version() >= 1 ? req.rebalance_timeout_ms : -1;
  jr.protocol_type = req.protocol_type;
  for (auto& p : req.protocols) jr.protocols.push_back({p.name, std::move(p.metadata)});
  jr.client_id = ctx.header.client_id.value_or("");
  jr.client_host = client_host_of(ctx.connection);
  jr.require_known_member_id = ctx.version() >= 4;
  // Bound for the wait: the rebalance can take the initial delay plus two rebalance timeouts
  // (one more when nobody rejoined); the manager answers long before in practice.
  const int64_t timeout = std::max(jr.rebalance_timeout_ms, jr.session_timeout_ms);
  const int64_t max_wait_ms = 3 * std::max<int64_t>(timeout, 0) + 60'000;

  auto fn = [&jr, max_wait_ms](cg::group_manager& gm, int32_t partition) -> asio::awaitable<cg::join_response> {
    auto ex = co_await asio::this_coro::executor;
    auto pending = std::make_shared<pending_answer<cg::join_response>>(ex);
    gm.join(partition, jr, [pending](cg::join_response r) { pending->complete(std::move(r)); });
    auto got = co_await wait_answer(pending, max_wait_ms);
    if (got) co_return std::move(*got);
    cg::join_response r;
    r.error = E::rebalance_in_progress;
    r.member_id = jr.member_id;
    co_return r;
  };
  auto pl = broker.groups->place(req.group_id);
  if (!pl) {
    resp.error_code = code(E::not_coordinator);
    co_return;
  }
  const int32_t partition = pl->partition;
  cg::join_response out = co_await broker.shards.invoke_on(pl->shard, [&broker, &fn, partition]() -> asio::awaitable<cg::join_response> {
    auto& gm = broker.groups->manager_for(partition);
    co_return co_await fn(gm, partition);
  });
  resp.error_code = code(out.error);
  resp.generation_id = out.generation_id;
  resp.protocol_name = out.protocol_name;
  resp.leader = out.leader;
  resp.member_id = out.member_id;
  for (auto& m : out.members) {
    protocol::join_group_response::join_group_response_member rm;
    rm.member_id = m.member_id;
    rm.group_instance_id = m.group_instance_id;
    rm.metadata = std::move(m.metadata);
    resp.members.push_back(std::move(rm));
  }
  co_return;
}

}  // namespace sluice::server
