// SyncGroup (key 14), v0-4: the leader sends the assignment of a new generation; every member
// receives its own. Followers' answers wait for the leader's assignment to be written.
#include "server/handlers/group_common.h"
#include "server/handlers/handlers.h"

namespace sluice::server {

namespace {
namespace cg = coordinator::group;
using E = protocol::error_code;
// The manager always answers (at the latest when the sync phase times out after the rebalance
// timeout, at most group.max.session.timeout.ms-sized in practice); this bound is a safety net.
constexpr int64_t max_sync_wait_ms = 35 * 60 * 1000;
}  // namespace

asio::awaitable<void> handle(request_context& ctx, protocol::sync_group_request& req,
                             protocol::sync_group_response& resp) {
  auto& broker = ctx.broker;
  if (req.group_id.empty()) {
    resp.error_code = code(E::invalid_group_id);
    co_return;
  }
  cg::sync_request sr;
  sr.group_id = req.group_id;
  sr.generation_id = req.generation_id;
  sr.member_id = req.member_id;
  sr.group_instance_id = ctx.version() >= 3 ? req.group_instance_id : std::nullopt;
  for (auto& a : req.assignments) sr.assignments.emplace_back(a.member_id, std::move(a.assignment));
  auto pl = broker.groups->place(req.group_id);
  if (!pl) {
    resp.error_code = code(E::not_coordinator);
    co_return;
  }
  const int32_t partition = pl->partition;
  cg::sync_response out = co_await broker.shards.invoke_on(pl->shard, [&broker, &sr, partition]() -> asio::awaitable<cg::sync_response> {
    auto& gm = broker.groups->manager_for(partition);
    auto ex = co_await asio::this_coro::executor;
    auto pending = std::make_shared<pending_answer<cg::sync_response>>(ex);
    gm.sync(partition, sr, [pending](cg::sync_response r) { pending->complete(std::move(r)); });
    auto got = co_await wait_answer(pending, max_sync_wait_ms);
    if (got) co_return std::move(*got);
    cg::sync_response r;
    r.error = E::rebalance_in_progress;
    co_return r;
  });
  resp.error_code = code(out.error);
  resp.assignment = std::move(out.assignment);
  co_return;
}

}  // namespace sluice::server
