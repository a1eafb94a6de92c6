#pragma once
// What OffsetCommit and TxnOffsetCommit share: per-partition checks in request order (empty group
// id: INVALID_GROUP_ID; unknown topic or partition: UNKNOWN_TOPIC_OR_PARTITION), one call to the
// group manager on the coordinator shard for the rest, and the response built in request order.
// The manager always answers: the store fails a write not replicated within
// offsets.commit.timeout.ms; the handler's own bound is a safety net commit_wait_margin_ms later.
#include <functional>
#include <memory>
#include <vector>

#include "server/handlers/group_common.h"
#include "server/handlers/handlers.h"

namespace sluice::server {

inline constexpr int64_t commit_wait_margin_ms = 10'000;

// `cr` is the manager's request with everything but its partitions filled in; `leader_epochs`
// says whether the request version carries committed_leader_epoch. submit(gm, partition, cr, done)
// starts the manager's write (group_manager::commit or txn_commit) and calls done with one
// error per partition of cr.
template <typename Request, typename Response, typename CommitRequest, typename Submit>
asio::awaitable<void> commit_offsets(request_context& ctx, const Request& req, Response& resp, CommitRequest& cr,
                                     bool leader_epochs, const Submit& submit) {
  using E = protocol::error_code;
  auto img = ctx.broker.partitions.image();
  struct slot {
    size_t topic;
    int32_t partition;
    E error;
    int64_t request_index = -1;  // >= 0: answered by the manager
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
                                 leader_epochs ? p.committed_leader_epoch : -1, p.committed_metadata});
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
      results = co_await broker.shards.invoke_on(
          pl->shard, [&broker, &cr, &submit, partition]() -> asio::awaitable<std::vector<E>> {
            auto& gm = broker.groups->manager_for(partition);
            auto ex = co_await asio::this_coro::executor;
            auto pending = std::make_shared<pending_answer<std::vector<E>>>(ex);
            submit(gm, partition, cr, [pending](std::vector<E> r) { pending->complete(std::move(r)); });
            auto got = co_await wait_answer(pending, broker.groups->commit_timeout_ms() + commit_wait_margin_ms);
            if (got) co_return std::move(*got);
            co_return std::vector<E>(cr.partitions.size(), E::coordinator_not_available);
          });
    }
  }
  for (size_t ti = 0; ti < req.topics.size(); ++ti) {
    typename decltype(resp.topics)::value_type rt;
    rt.name = req.topics[ti].name;
    for (const auto& s : slots) {
      if (s.topic != ti) continue;
      typename decltype(rt.partitions)::value_type rp;
      rp.partition_index = s.partition;
      rp.error_code = code(s.request_index >= 0 ? results.at(static_cast<size_t>(s.request_index)) : s.error);
      rt.partitions.push_back(rp);
    }
    resp.topics.push_back(std::move(rt));
  }
}

}  // namespace sluice::server
