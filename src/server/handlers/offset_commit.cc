// OffsetCommit (key 8), v0-8: stores a group's consumed positions as records in
// __consumer_offsets; answered once they are replicated to the ISR (Produce acks=all), at most
// offsets.commit.timeout.ms later (then COORDINATOR_NOT_AVAILABLE).
// Partitions of unknown topics are rejected with UNKNOWN_TOPIC_OR_PARTITION.
// retention_time_ms (v2-4) and commit_timestamp (v1) are ignored, as Kafka >= 2.1 does for
// requests that do not set an explicit commit timestamp (docs/protocol.md).
#include "server/handlers/group_common.h"
#include "server/handlers/handlers.h"

namespace sluice::server {

namespace {
namespace cg = coordinator::group;
using E = protocol::error_code;
// The manager always answers: the store fails a write that is not replicated within
// offsets.commit.timeout.ms. The handler's own bound is a safety net this much later.
constexpr int64_t commit_wait_margin_ms = 10'000;
}  // namespace

asio::awaitable<void> handle(request_context& ctx, protocol::offset_commit_request& req,
                             protocol::offset_commit_response& resp) {
  auto img = ctx.broker.partitions.image();
  cg::commit_request cr;
  cr.group_id = req.group_id;
  cr.generation_id = ctx.version() >= 1 ? req.generation_id_or_member_epoch : -1;
  cr.member_id = ctx.version() >= 1 ? req.member_id : "";
  cr.group_instance_id = ctx.version() >= 7 ? req.group_instance_id : std::nullopt;
  // Response slots in request order; slots left at `none` with index >= 0 go to the manager.
  struct slot {
    size_t topic;
    int32_t partition;
    E error;
    int64_t request_index = -1;
  };
  std::vector<slot> slots;
  for (size_t ti = 0; ti < req.topics.size(); ++ti) {
    const auto& t = req.topics[ti];
    const auto* tm = img->find(t.name);
    for (const auto& p : t.partitions) {
      slot s{ti, p.partition_index, E::none};
      if (req.group_id.empty()) {
        s.error = E::invalid_group_id;
      } else if (!tm || !tm->find_partition(p.partition_index)) {
        s.error = E::unknown_topic_or_partition;
      } else {
        s.request_index = static_cast<int64_t>(cr.partitions.size());
        cr.partitions.push_back({t.name, p.partition_index, p.committed_offset,
                                 ctx.version() >= 6 ? p.committed_leader_epoch : -1, p.committed_metadata});
      }
      slots.push_back(s);
    }
  }
  std::vector<E> results;
  if (!cr.partitions.empty()) {
    auto& broker = ctx.broker;
    auto pl = broker.groups->place(req.group_id);
    if (!pl) {
      results.assign(cr.partitions.size(), E::not_coordinator);
    } else {
      const int32_t partition = pl->partition;
      results = co_await broker.shards.invoke_on(pl->shard, [&broker, &cr, partition]() -> asio::awaitable<std::vector<E>> {
        auto& gm = broker.groups->manager_for(partition);
        auto ex = co_await asio::this_coro::executor;
        auto pending = std::make_shared<pending_answer<std::vector<E>>>(ex);
        gm.commit(partition, cr, [pending](std::vector<E> r) { pending->complete(std::move(r)); });
        auto got = co_await wait_answer(pending, broker.groups->commit_timeout_ms() + commit_wait_margin_ms);
        if (got) co_return std::move(*got);
        co_return std::vector<E>(cr.partitions.size(), E::coordinator_not_available);
      });
    }
  }
  for (size_t ti = 0; ti < req.topics.size(); ++ti) {
    protocol::offset_commit_response::offset_commit_response_topic rt;
    rt.name = req.topics[ti].name;
    for (const auto& s : slots) {
      if (s.topic != ti) continue;
      protocol::offset_commit_response::offset_commit_response_partition rp;
      rp.partition_index = s.partition;
      rp.error_code = code(s.request_index >= 0 ? results.at(static_cast<size_t>(s.request_index)) : s.error);
      rt.partitions.push_back(rp);
    }
    resp.topics.push_back(std::move(rt));
  }
  co_return;
}

}  // namespace sluice::server
