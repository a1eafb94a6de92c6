// ListOffsets (key 2): earliest (-2), latest (-1), max timestamp (-3), or the first offset whose
// timestamp is at or after T. "Latest" is the high watermark (read_uncommitted) or the last
// stable offset (read_committed), never the raw log end.
#include "server/handlers/handlers.h"

namespace sluice::server {

namespace {
using E = protocol::error_code;
using presp = protocol::list_offsets_response::list_offsets_partition_response;
constexpr int64_t latest = -1, earliest = -2, max_timestamp = -3;
}  // namespace

asio::awaitable<void> handle(request_context& ctx, protocol::list_offsets_request& req,
                             protocol::list_offsets_response& resp) {
  auto& broker = ctx.broker;
  auto img = broker.partitions.image();
  const bool read_committed = req.isolation_level == 1;
  const int16_t version = ctx.version();
  for (const auto& t : req.topics) {
    protocol::list_offsets_response::list_offsets_topic_response tr;
    tr.name = t.name;
    const auto* tm = img->find(t.name);
    for (const auto& p : t.partitions) {
      presp pr;
      pr.partition_index = p.partition_index;
      if (!tm || !tm->find_partition(p.partition_index)) {
        pr.error_code = code(E::unknown_topic_or_partition);
        tr.partitions.push_back(pr);
        continue;
      }
      model::topic_partition tp{t.name, p.partition_index};
      pr = co_await broker.shards.invoke_on(broker.partitions.shard_of(tp), [&]() -> asio::awaitable<presp> {
        presp r;
        r.partition_index = p.partition_index;
        E err = E::none;
        partition* part = broker.partitions.get_leader(tp, p.current_leader_epoch, err);
        if (!part) {
          r.error_code = code(err);
          co_return r;
        }
        auto& log = part->log();
        const int64_t visible_end = read_committed ? log.last_stable_offset() : log.high_watermark();
        r.leader_epoch = part->leader_epoch();
        if (p.timestamp == latest) {
          r.offset = visible_end;
        } else if (p.timestamp == earliest) {
          r.offset = log.log_start_offset();
        } else if (p.timestamp < 0 && p.timestamp != max_timestamp) {
          r.error_code = code(E::invalid_request);
          co_return r;
        } else {
          auto found = log.offset_for_timestamp(p.timestamp);
          if (!found) {
            r.error_code = code(E::kafka_storage_error);
            co_return r;
          }
          if (found->has_value() && (*found)->offset < visible_end) {
            r.offset = (*found)->offset;
            r.timestamp = (*found)->timestamp;
          } else {
            r.offset = -1;  // no such record (Kafka answers offset -1, timestamp -1)
            r.timestamp = -1;
          }
        }
        if (r.offset >= 0 && (p.timestamp == latest || p.timestamp == earliest)) r.timestamp = -1;
        co_return r;
      });
      if (version == 0) {
        // v0 answers a list of offsets (at most max_num_offsets); we return the one offset.
        if (pr.error_code == 0 && pr.offset >= 0 && p.max_num_offsets > 0) pr.old_style_offsets = {pr.offset};
      }
      tr.partitions.push_back(pr);
    }
    resp.topics.push_back(std::move(tr));
  }
  co_return;
}

}  // namespace sluice::server
