// WriteTxnMarkers (key 27, v0-1): inter-broker; the transaction coordinator asks a partition
// leader to close a producer's transaction with a COMMIT or ABORT marker. Each partition gets
// partition_manager::write_txn_marker (acks=all on its owner shard); the answer carries one
// error code per partition, grouped like the request (Kafka's WriteTxnMarkersResponse).
// Partitions are written one after the other: a marker request names few partitions and a
// single broker replicates at once.
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
        const int64_t timeout_ms = marker_timeout_ms;
        const E e = co_await broker.partitions.write_txn_marker(tp, producer_id, producer_epoch, commit,
                                                               coordinator_epoch, timeout_ms);
        pr.error_code = code(e);  // UNKNOWN_TOPIC_OR_PARTITION for a partition that does not exist
        tr.partitions.push_back(pr);
      }
      mr.topics.push_back(std::move(tr));
    }
    resp.markers.push_back(std::move(mr));
  }
  co_return;
}

}  // namespace sluice::server
