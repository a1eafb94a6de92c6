// OffsetForLeaderEpoch (key 23, KIP-101/KIP-320): for each partition, the end offset of the
// requested leader epoch in the leader's log — the start offset of the next higher epoch, or the
// log end for the current one — with the largest epoch <= the requested one. Followers use it to
// find where to truncate; consumers (librdkafka) to validate their position after a leader
// change. Answered only by the leader, from the log's leader_epoch_cache.
#include "server/handlers/handlers.h"

namespace sluice::server {

namespace {
using E = protocol::error_code;
using presp = protocol::offset_for_leader_epoch_response::epoch_end_offset;
}  // namespace

asio::awaitable<void> handle(request_context& ctx, protocol::offset_for_leader_epoch_request& req,
                             protocol::offset_for_leader_epoch_response& resp) {
  auto& broker = ctx.broker;
  auto img = broker.partitions.image();
  for (const auto& t : req.topics) {
    protocol::offset_for_leader_epoch_response::offset_for_leader_topic_result tr;
    tr.topic = t.topic;
    const auto* tm = img->find(t.topic);
    for (const auto& p : t.partitions) {
      presp pr;
      pr.partition = p.partition;
      if (!tm || !tm->find_partition(p.partition)) {
        pr.error_code = code(E::unknown_topic_or_partition);
        tr.partitions.push_back(pr);
        continue;
      }
      const model::topic_partition tp{t.topic, p.partition};
      pr = co_await broker.shards.invoke_on(broker.partitions.shard_of(tp), [&]() -> asio::awaitable<presp> {
        presp r;
        r.partition = p.partition;
        E err = E::none;
        partition* part = broker.partitions.get_leader(tp, p.current_leader_epoch, err);
        if (!part) {
          r.error_code = code(err);
          co_return r;
        }
        auto& log = part->log();
        // {-1, -1} when the epoch is undefined or newer than any we know (Kafka's
        // UNDEFINED_EPOCH / UNDEFINED_EPOCH_OFFSET), error NONE.
        auto [epoch, end] = log.leader_epochs().end_offset_for(p.leader_epoch, log.log_end_offset());
        r.leader_epoch = epoch;
        r.end_offset = end;
        co_return r;
      });
      tr.partitions.push_back(pr);
    }
    resp.topics.push_back(std::move(tr));
  }
  co_return;
}

}  // namespace sluice::server
