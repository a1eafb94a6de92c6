// DescribeProducers (key 61, v0; KIP-664): the producer state of each requested partition, read
// on its owner shard from the leader's log (producer id, epoch, last sequence, last timestamp,
// coordinator epoch, first offset of the open transaction). Leader only:
// NOT_LEADER_OR_FOLLOWER elsewhere, UNKNOWN_TOPIC_OR_PARTITION for what does not exist.
#include <algorithm>

#include "server/handlers/handlers.h"

namespace sluice::server {

asio::awaitable<void> handle(request_context& ctx, protocol::describe_producers_request& req,
                             protocol::describe_producers_response& resp) {
  using E = protocol::error_code;
  using dresp = protocol::describe_producers_response;
  auto& broker = ctx.broker;
  for (const auto& t : req.topics) {
    dresp::topic_response tr;
    tr.name = t.name;
    for (int32_t index : t.partition_indexes) {
      model::topic_partition tp{t.name, index};
      // Captures by reference (this frame outlives the awaited call): see invoke_on.
      auto pr = co_await broker.shards.invoke_on(broker.partitions.shard_of(tp), [&]() -> asio::awaitable<dresp::partition_response> {
        dresp::partition_response r;
        r.partition_index = tp.partition;
        E err = E::none;  // UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER_OR_FOLLOWER
        partition* part = broker.partitions.get_leader(tp, -1, err);
        if (!part) {
          r.error_code = code(err);
          co_return r;
        }
        for (const auto& [id, e] : part->log().producer_state().producers()) {
          dresp::producer_state ps;
          ps.producer_id = id;
          ps.producer_epoch = e.epoch;
          ps.last_sequence = e.last_seq();
          ps.last_timestamp = e.last_timestamp;
          ps.coordinator_epoch = e.coordinator_epoch;
          ps.current_txn_start_offset = e.current_txn_first_offset;
          r.active_producers.push_back(std::move(ps));
        }
        // Deterministic order for operators and tests.
        std::sort(r.active_producers.begin(), r.active_producers.end(),
                  [](const auto& a, const auto& b) { return a.producer_id < b.producer_id; });
        co_return r;
      });
      tr.partitions.push_back(std::move(pr));
    }
    resp.topics.push_back(std::move(tr));
  }
  co_return;
}

}  // namespace sluice::server
