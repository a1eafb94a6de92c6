// TxnOffsetCommit (key 28), v0-3: a transactional producer's consumed positions for a group
// (Kafka's GroupCoordinator.handleTxnCommitOffsets). Written to the group's __consumer_offsets
// partition as a transactional batch of the producer and answered once replicated (as
// OffsetCommit); the offsets stay pending, invisible to OffsetFetch, until the transaction
// coordinator's COMMIT or ABORT marker for the producer reaches that partition
// (group_coordinator::on_txn_marker). v3 adds member id / generation / group.instance.id, checked
// when given (KIP-447). Partitions of unknown topics get UNKNOWN_TOPIC_OR_PARTITION.
#include "server/handlers/group_common.h"
#include "server/handlers/handlers.h"

namespace sluice::server {

namespace {
namespace cg = coordinator::group;
using E = protocol::error_code;
// As OffsetCommit: the store answers within offsets.commit.timeout.ms; this is a safety net.
constexpr int64_t commit_wait_margin_ms = 10'000;
}  // namespace

asio::awaitable<void> handle(request_context& ctx, protocol::txn_offset_commit_request& req,
                             protocol::txn_offset_commit_response& resp) {
  auto img = ctx.broker.partitions.image();
  cg::txn_commit_request cr;
  cr.group_id = req.group_id;
  cr.producer_id = req.producer_id;
  cr.producer_epoch = req.producer_epoch;
  if (ctx.version() >= 3) {
    cr.generation_id = req.generation_id;
    cr.member_id = req.member_id;
    cr.group_instance_id = req.group_instance_id;
  }
  // Response slots in request order; slots with request_index >= 0 are answered by the manager.
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
                                 ctx.version() >= 2 ? p.committed_leader_epoch : -1, p.committed_metadata});
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
        gm.txn_commit(partition, cr, [pending](std::vector<E> r) { pending->complete(std::move(r)); });
        auto got = co_await wait_answer(pending, broker.groups->commit_timeout_ms() + commit_wait_margin_ms);
        if (got) co_return std::move(*got);
        co_return std::vector<E>(cr.partitions.size(), E::coordinator_not_available);
      });
    }
  }
  for (size_t ti = 0; ti < req.topics.size(); ++ti) {
    protocol::txn_offset_commit_response::txn_offset_commit_response_topic rt;
    rt.name = req.topics[ti].name;
    for (const auto& s : slots) {
      if (s.topic != ti) continue;
      protocol::txn_offset_commit_response::txn_offset_commit_response_partition rp;
      rp.partition_index = s.partition;
      rp.error_code = code(s.request_index >= 0 ? results.at(static_cast<size_t>(s.request_index)) : s.error);
      rt.partitions.push_back(rp);
    }
    resp.topics.push_back(std::move(rt));
  }
  co_return;
}

}  // namespace sluice::server
