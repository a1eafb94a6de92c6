// DeleteRecords (key 21): advances partitions' log start offsets (deleting whole segments below
// them) on each partition's owner shard. Offset -1 means the high watermark; an offset above the
// high watermark (or below -1) is OFFSET_OUT_OF_RANGE; one below the log start changes nothing.
// Answers the new low watermark (log start offset) per partition.
#include "server/handlers/handlers.h"
#include "storage/errc.h"

namespace sluice::server {

asio::awaitable<void> handle(request_context& ctx, protocol::delete_records_request& req,
                             protocol::delete_records_response& resp) {
  using E = protocol::error_code;
  using presp = protocol::delete_records_response::delete_records_partition_result;
  auto& broker = ctx.broker;
  auto img = broker.partitions.image();
  for (const auto& t : req.topics) {
    protocol::delete_records_response::delete_records_topic_result tr;
    tr.name = t.name;
    const auto* tm = img->find(t.name);
    for (const auto& p : t.partitions) {
      presp pr;
      pr.partition_index = p.partition_index;
      pr.low_watermark = -1;
      if (!tm || !tm->find_partition(p.partition_index)) {
        pr.error_code = code(E::unknown_topic_or_partition);
        tr.partitions.push_back(pr);
        continue;
      }
      model::topic_partition tp{t.name, p.partition_index};
      const int64_t requested = p.offset;
      pr = co_await broker.shards.invoke_on(broker.partitions.shard_of(tp), [&]() -> asio::awaitable<presp> {
        presp r;
        r.partition_index = tp.partition;
        r.low_watermark = -1;
        E err = E::none;
        partition* part = broker.partitions.get_leader(tp, -1, err);  // only the leader deletes; followers follow its log start
        if (!part) {
          r.error_code = code(err);
          co_return r;
        }
        if (!part->config().cleanup_policy_delete) {
          // Kafka: records of a compacted (not delete) topic cannot be deleted.
          r.error_code = code(E::policy_violation);
          co_return r;
        }
        auto& log = part->log();
        const int64_t hw = log.high_watermark();
        const int64_t target = requested == -1 ? hw : requested;
        if (target < 0 || target > hw) {
          r.error_code = code(E::offset_out_of_range);
          co_return r;
        }
        if (target <= log.log_start_offset()) {
          r.low_watermark = log.log_start_offset();
          co_return r;
        }
        auto moved = log.delete_records_before(target);
        if (!moved) {
          r.error_code = code(moved.error() == make_error_code(storage::errc::offset_out_of_range)
                                  ? E::offset_out_of_range
                                  : E::kafka_storage_error);
          co_return r;
        }
        r.low_watermark = *moved;
        // Fetchers parked below the new start must learn they are out of range.
        part->notify_waiters();
        co_return r;
      });
      tr.partitions.push_back(pr);
    }
    resp.topics.push_back(std::move(tr));
  }
  co_return;
}

}  // namespace sluice::server
