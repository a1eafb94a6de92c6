// WriteTxnMarkers (key 27, v0-1): inter-broker; the transaction coordinator asks a partition
// leader to close a producer's transaction with a COMMIT or ABORT marker. Every partition's
// marker is appended first (partition_manager::append_txn_marker, on its owner shard), then each
// is awaited to be replicated (acks=all; await_txn_marker), so the replication waits overlap.
// The answer carries one error code per partition, grouped like the request (Kafka's
// WriteTxnMarkersResponse).
#include "server/handlers/handlers.h"

namespace sluice::server {

namespace {
// Kafka appends markers with the broker's request.timeout.ms (default 30 s).
constexpr int64_t marker_timeout_ms = 30'000;
}  // namespace

asio::awaitable<void> handle(request_context& ctx, protocol::write_txn_markers_request& req,
                             protocol::write_txn_markers_response& resp) {
  using E = protocol::error_code;
  using wresp = protocol::write_txn_markers_response;
  auto& broker = ctx.broker;
  const int64_t deadline_ms = broker.clock.monotonic_ms() + marker_timeout_ms;
  struct replication_wait {
    model::topic_partition tp;
    int64_t producer_id;
    bool commit;
    int64_t end_offset;
    int32_t leader_epoch;  // the marker's append
    size_t marker, topic, partition;  // where the partition's answer is in the response
  };
  std::vector<replication_wait> waits;
  for (const auto& marker : req.markers) {
    wresp::writable_txn_marker_result mr;
    mr.producer_id = marker.producer_id;
    for (const auto& t : marker.topics) {
      wresp::writable_txn_marker_topic_result tr;
      tr.name = t.name;
      for (int32_t index : t.partition_indexes) {
        wresp::writable_txn_marker_partition_result pr;
        pr.partition_index = index;
        // Named variables: GCC 12 mishandles temporaries passed to coroutine parameters.
        model::topic_partition tp{t.name, index};
        const int64_t producer_id = marker.producer_id;
        const int16_t producer_epoch = marker.producer_epoch;
        const bool commit = marker.transaction_result;
        const int32_t coordinator_epoch = marker.coordinator_epoch;
        const auto appended =
            co_await broker.partitions.append_txn_marker(tp, producer_id, producer_epoch, commit, coordinator_epoch);
        pr.error_code = code(appended.error);  // UNKNOWN_TOPIC_OR_PARTITION for a partition that does not exist
        if (appended.error == E::none)
          waits.push_back({tp, producer_id, commit, appended.end_offset, appended.leader_epoch, resp.markers.size(),
                           mr.topics.size(), tr.partitions.size()});
        tr.partitions.push_back(pr);
      }
      mr.topics.push_back(std::move(tr));
    }
    resp.markers.push_back(std::move(mr));
  }
  for (const auto& w : waits) {
    const model::topic_partition tp = w.tp;
    const int64_t producer_id = w.producer_id;
    const bool commit = w.commit;
    const int64_t end_offset = w.end_offset;
    const int32_t leader_epoch = w.leader_epoch;
    const E e =
        co_await broker.partitions.await_txn_marker(tp, producer_id, commit, end_offset, leader_epoch, deadline_ms);
    resp.markers[w.marker].topics[w.topic].partitions[w.partition].error_code = code(e);
  }
  co_return;
}

}  // namespace sluice::server
