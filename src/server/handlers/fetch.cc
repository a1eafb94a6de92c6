// Fetch (key 1). Consumers (replica_id < 0) read whole batches below the high watermark (or the
// last stable offset for read_committed, with the aborted transactions in range); followers (replica_id >= 0, docs/replication.md) read
// up to the log end, report their position (which moves the HW) and, from v12, get a
// diverging_epoch instead of records when their log diverged (KIP-320). Batches go out as file
// ranges that the connection sends with sendfile(2); the request long-polls until min_bytes are
// available or max_wait_ms passes, woken by appends and HW moves.
#include <chrono>
#include <limits>

#include "base/logging.h"
#include "replication/truncation.h"
#include "server/handlers/handlers.h"
#include "storage/errc.h"

namespace sluice::server {

namespace {
using E = protocol::error_code;
using partition_data = protocol::fetch_response::partition_data;

struct read_outcome {
  partition_data data;
  uint64_t bytes = 0;
  bool diverged = false;  // answered with diverging_epoch: return at once
};

// Reads one partition on its owner shard. `budget` is what is left of the response's max_bytes;
// `first` says whether nothing has been returned yet (KIP-74: the first non-empty partition may
// exceed the limits by one batch so a consumer can always make progress).
// `replica_id` >= 0: a follower fetch (read to LEO, update the leader's replica state).
asio::awaitable<read_outcome> read_partition(broker_services& broker, const model::topic_partition& tp,
                                             const protocol::fetch_request::fetch_partition& fp, bool read_committed,
                                             int32_t replica_id, int64_t budget, bool first,
                                             const std::shared_ptr<fetch_waiter>& waiter) {
  co_return co_await broker.shards.invoke_on(
      broker.partitions.shard_of(tp), [&]() -> asio::awaitable<read_outcome> {
        read_outcome out;
        out.data.partition_index = fp.partition;
        partition* p = broker.partitions.get(tp);
        if (!p) {
          out.data.error_code = code(broker.partitions.not_hosted_error(tp));
          co_return out;
        }
        auto& log = p->log();
        out.data.high_watermark = log.high_watermark();
        out.data.last_stable_offset = log.last_stable_offset();
        out.data.log_start_offset = log.log_start_offset();
        // Only the leader serves fetches (followers serving consumers, KIP-392, is not done).
        if (auto e = p->check_leader(fp.current_leader_epoch); e != E::none) {
          out.data.error_code = code(e);
          co_return out;
        }
        const bool follower = replica_id >= 0;
        if (follower && !p->leader()->progress(replica_id)) {
          // Kafka's followerReplicaOrThrow: only assigned replicas may fetch as followers.
          out.data.error_code = code(E::not_leader_or_follower);
          co_return out;
        }
        if (follower) {
          // KIP-320: a follower whose last fetched (epoch, offset) is not in our log truncates
          // first; no records until it does.
          if (auto d = replication::find_divergence(log.leader_epochs(), log.log_end_offset(), fp.last_fetched_epoch,
                                                    fp.fetch_offset)) {
            out.data.diverging_epoch.epoch = d->epoch;
            out.data.diverging_epoch.end_offset = d->end_offset;
            out.data.records = protocol::records::empty();
            out.data.aborted_transactions = std::nullopt;
            out.diverged = true;
            co_return out;
          }
          if (fp.fetch_offset >= log.log_start_offset() && fp.fetch_offset <= log.log_end_offset()) {
            // The follower's fetch offset is its LEO: it may move the HW and the ISR.
            if (p->leader()->on_follower_fetch(replica_id, fp.fetch_offset, log.log_end_offset(),
                                               broker.clock.monotonic_ms()))
              p->publish_high_watermark();
            broker.partitions.run_replication_tasks(*p);
            out.data.high_watermark = log.high_watermark();
            out.data.last_stable_offset = log.last_stable_offset();
          }
        }
        int64_t max_offset = follower ? log.log_end_offset()
                             : read_committed ? log.last_stable_offset()
                                              : log.high_watermark();
        int64_t limit = std::min<int64_t>(fp.partition_max_bytes, budget);
        if (limit <= 0 && !first) {
          out.data.records = protocol::records::empty();
          co_return out;
        }
        auto r = log.read(fp.fetch_offset, static_cast<int32_t>(std::max<int64_t>(limit, 0)), max_offset, first);
        if (!r) {
          out.data.error_code = code(r.error() == make_error_code(storage::errc::offset_out_of_range)
                                         ? E::offset_out_of_range
                                         : E::kafka_storage_error);
          co_return out;
        }
        uint64_t n = 0;
        for (const auto& range : r->ranges) n += range.size;
        out.bytes = n;
        if (read_committed) {
          // The aborted transactions overlapping what is returned (Kafka's
          // collectAbortedTransactions up to the offset after the last batch): the consumer drops
          // their records. Read from the in-memory .txnindex entries: no log bytes copied.
          std::vector<protocol::fetch_response::aborted_transaction> aborted;
          if (n > 0)
            for (const auto& a : log.collect_aborted_txns(fp.fetch_offset, r->next_offset))
              aborted.push_back({a.producer_id, a.first_offset, {}});
          out.data.aborted_transactions = std::move(aborted);
        } else {
          out.data.aborted_transactions = std::nullopt;
        }
        out.data.records = n ? protocol::records::files(std::move(r->ranges)) : protocol::records::empty();
        if (waiter && n == 0) p->add_waiter(waiter);
        co_return out;
      });
}

}  // namespace

asio::awaitable<void> handle(request_context& ctx, protocol::fetch_request& req, protocol::fetch_response& resp) {
  auto& broker = ctx.broker;
  // Followers read uncommitted data; only replicas assigned to the partition may fetch as one
  // (anything else gets NOT_LEADER_OR_FOLLOWER, so a client cannot read past the HW).
  const int32_t replica_id = req.replica_id >= 0 ? req.replica_id : -1;
  const bool read_committed = req.isolation_level == 1 && replica_id < 0;
  // Sessions (KIP-227) are not kept: session id 0 tells the client to send full requests.
  resp.session_id = 0;
  auto executor = co_await asio::this_coro::executor;
  auto timer = std::make_shared<asio::steady_timer>(executor);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max(0, req.max_wait_ms));
  const int64_t max_bytes = req.max_bytes <= 0 ? std::numeric_limits<int32_t>::max() : req.max_bytes;

  for (;;) {
    auto img = broker.partitions.image();
    auto waiter = std::make_shared<fetch_waiter>();
    waiter->executor = executor;
    waiter->timer = timer;
    resp.responses.clear();
    int64_t total = 0;
    bool any_error = false;
    for (const auto& t : req.topics) {
      protocol::fetch_response::fetchable_topic_response tr;
      tr.topic = t.topic;
      const auto* tm = img->find(t.topic);
      for (const auto& fp : t.partitions) {
        if (!tm || !tm->find_partition(fp.partition)) {
          partition_data d;
          d.partition_index = fp.partition;
          d.error_code = code(E::unknown_topic_or_partition);
          d.high_watermark = -1;
          tr.partitions.push_back(d);
          any_error = true;
          continue;
        }
        // A named variable, not a braced temporary: GCC 12 destroys temporaries bound to a
        // coroutine's reference parameters twice.
        const model::topic_partition tp{t.topic, fp.partition};
        auto out = co_await read_partition(broker, tp, fp, read_committed, replica_id, max_bytes - total,
                                           total == 0, waiter);
        if (out.data.error_code != 0 || out.diverged) any_error = true;
        total += static_cast<int64_t>(out.bytes);
        tr.partitions.push_back(std::move(out.data));
      }
      resp.responses.push_back(std::move(tr));
    }
    bool enough = total >= req.min_bytes || any_error;
    if (enough || waiter->woken || std::chrono::steady_clock::now() >= deadline) co_return;
    // Wait for an append to one of the partitions (the waiter cancels the timer) or the deadline.
    timer->expires_at(deadline);
    co_await timer->async_wait(asio::experimental::as_tuple(asio::use_awaitable));
    if (!waiter->woken) {
      // Timed out with less than min_bytes: answer with what there is now.
      if (total > 0) co_return;
      deadline = std::chrono::steady_clock::now();  // one final read, then return
    }
  }
}

}  // namespace sluice::server
