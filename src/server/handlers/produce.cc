// Produce (key 0): validate each partition's record batch on the connection's shard, then append
// it on the partition's owner shard. The batch is appended from the request buffer itself: the
// storage layer rewrites base offset and leader epoch in place, record bytes are never copied.
#include <chrono>
#include <limits>
#include <optional>

#include "base/logging.h"
#include "model/record_batch.h"
#include "model/legacy_records.h"
#include "model/recompress.h"
#include "server/handlers/handlers.h"
#include "server/produce_validation.h"
#include "storage/errc.h"

namespace sluice::server {

namespace {
using E = protocol::error_code;
using part_resp = protocol::produce_response::partition_produce_response;

// One partition's outcome on its shard; replicate_to >= 0 when acks=all still has to wait for
// the HW to reach it (exclusive end offset of the appended batch).
struct appended_part {
  part_resp resp;
  int64_t replicate_to = -1;
  int32_t leader_epoch = -1;  // the append's
};

// An acks=all wait still to do, and where its partition's answer is in the response.
struct replication_wait {
  model::topic_partition tp;
  int64_t end_offset;
  int32_t leader_epoch;
  size_t topic;
  size_t partition;
};

// Produce v0-v2 carry legacy message sets (magic 0/1); like Kafka >= 3.0 we store RecordBatch v2
// only, so they are up-converted here (a copy; no current client sends these versions).
protocol::error_code legacy_error_to_kafka(std::error_code ec) {
  using L = model::legacy_errc;
  if (ec.category() != model::legacy_category()) return E::corrupt_message;
  switch (static_cast<L>(ec.value())) {
    case L::too_large: return E::message_too_large;
    case L::bad_magic:
    case L::nested_compression:
    case L::multiple_wrappers:
    case L::bad_offset:
    case L::bad_codec:
    case L::empty: return E::invalid_record;
    case L::bad_timestamp: return E::invalid_timestamp;
    default: return E::corrupt_message;
  }
}
}  // namespace

asio::awaitable<void> handle(request_context& ctx, protocol::produce_request& req, protocol::produce_response& resp) {
  auto& broker = ctx.broker;
  const int16_t acks = req.acks;
  if (acks == 0) ctx.no_response = true;
  auto img = broker.partitions.image();
  const int64_t now_ms = broker.clock.wall_ms();
  // acks=all waits for replication at most timeout_ms, for the whole request.
  const int64_t ack_deadline_ms = broker.clock.monotonic_ms() + std::max<int64_t>(req.timeout_ms, 0);
  std::vector<replication_wait> waits;
  for (auto& topic : req.topic_data) {
    protocol::produce_response::topic_produce_response tr;
    tr.name = topic.name;
    const auto* t = img->find(topic.name);
    for (auto& pd : topic.partition_data) {
      part_resp pr;
      pr.index = pd.index;
      pr.base_offset = -1;
      auto fail = [&](E e) {
        pr.error_code = code(e);
        tr.partition_responses.push_back(pr);
      };
      if (acks != 0 && acks != 1 && acks != -1) {
        fail(E::invalid_required_acks);
        continue;
      }
      const auto* pm_ptr = t ? t->find_partition(pd.index) : nullptr;
      if (!pm_ptr) {
        fail(E::unknown_topic_or_partition);
        continue;
      }
      if (t->internal) {
        // Only the broker writes its internal topics.
        fail(E::invalid_topic_exception);
        continue;
      }
      const auto& pm = *pm_ptr;
      if (pm.leader != broker.settings.broker_id) {
        fail(E::not_leader_or_follower);
        continue;
      }
      if (pd.records.is_null() || !pd.records.is_mutable()) {
        fail(E::invalid_record);
        continue;
      }
      model::topic_partition tp{topic.name, pd.index};
      std::span<uint8_t> batch = pd.records.mutable_data();
      std::vector<uint8_t> upconverted;
      if (ctx.version() < 3) {
        auto converted = model::upconvert_message_set(batch, ctx.version(), now_ms,
                                                      std::numeric_limits<int32_t>::max(), max_decompressed_batch_bytes);
        if (!converted) {
          fail(legacy_error_to_kafka(converted.error()));
          continue;
        }
        upconverted = std::move(*converted);
        batch = upconverted;
      }
      // Kafka's KafkaApis: transactional records need a transactional id (authorized for it).
      if (batch.size() >= model::batch_layout::header_size && model::batch_view(batch).is_transactional() &&
          !req.transactional_id) {
        fail(E::transactional_id_authorization_failed);
        continue;
      }
      auto shard = broker.partitions.shard_of(tp);
      const std::optional<std::string>* txn_id = &req.transactional_id;
      auto outcome = co_await broker.shards.invoke_on(
          shard, [&broker, &tp, batch, acks, now_ms, txn_id, version = ctx.version()]() -> asio::awaitable<appended_part> {
            appended_part out;
            part_resp& r = out.resp;
            r.base_offset = -1;
            partition* p = broker.partitions.get(tp);
            if (!p) {
              r.error_code = code(broker.partitions.not_hosted_error(tp));
              co_return out;
            }
            if (auto e = validate_produce_batch(batch, p->config(), version, now_ms); e != E::none) {
              r.error_code = code(e);
              co_return out;
            }
            if (model::batch_view bv(batch); bv.is_transactional() && broker.partitions.verifier() && p->leader()) {
              // KIP-890 part 1: the first batch of a transaction on this partition is written
              // only if the coordinator confirms the partition is in the producer's ongoing
              // transaction (closes the hole of a late produce after EndTxn).
              const auto* entry = p->log().producer_state().find(bv.producer_id());
              const bool open = entry && entry->epoch == bv.producer_epoch() && entry->current_txn_first_offset >= 0;
              if (!open) {
                std::string tid = **txn_id;
                const int64_t producer_id = bv.producer_id();
                const int16_t producer_epoch = bv.producer_epoch();
                model::topic_partition vtp = tp;
                const E verified = co_await broker.partitions.verifier()(tid, producer_id, producer_epoch, vtp);
                if (verified != E::none) {
                  r.error_code = code(verified);
                  co_return out;
                }
                // The partition may have moved while the coordinator answered.
                p = broker.partitions.get(tp);
                if (!p) {
                  r.error_code = code(broker.partitions.not_hosted_error(tp));
                  co_return out;
                }
              }
            }
            replication::leader_state* leader = p->leader();
            if (!leader) {
              r.error_code = code(E::not_leader_or_follower);
              co_return out;
            }
            if (acks == -1) {
              if (auto e = leader->check_before_append(); e != E::none) {
                r.error_code = code(e);
                co_return out;
              }
            }
            // Bound after the verifier's suspension: the partition may have been replaced then.
            const auto& cfg = p->config();
            // compression.type other than "producer": the broker re-encodes the batch (a copy,
            // off the default path).
            std::span<uint8_t> to_append = batch;
            std::vector<uint8_t> recompressed;
            if (auto target = target_compression(cfg); target && *target != model::batch_view(batch).codec()) {
              auto re = model::recompress_batch(batch, *target, compression_level(cfg, *target),
                                                max_decompressed_batch_bytes);
              if (!re) {
                r.error_code = code(E::corrupt_message);
                co_return out;
              }
              recompressed = std::move(*re);
              if (recompressed.size() > static_cast<size_t>(cfg.max_message_bytes)) {
                r.error_code = code(E::message_too_large);
                co_return out;
              }
              to_append = recompressed;
            }
            storage::append_options opts;
            // Producer checks, append and producer-state update happen in this one call, with no
            // suspension around it: nothing else touches this partition in between.
            auto appended = p->log().append(to_append, p->leader_epoch(), opts);
            if (!appended) {
              auto kafka_error = storage_error_to_kafka(appended.error());
              if (kafka_error == E::kafka_storage_error || kafka_error == E::unknown_server_error)
                log::get("server")->error("append to {} failed: {}", tp, appended.error().message());
              r.error_code = code(kafka_error);
              co_return out;
            }
            if (appended->duplicate) {
              // A retry of a batch already in the log: its original offset, nothing appended.
              r.base_offset = appended->base_offset;
              r.log_append_time_ms = -1;
            } else {
              // The HW is min LEO over the ISR: with ISR = {this broker} it moves to the new LEO
              // right here. Followers long-polling for data are woken either way.
              if (!leader->on_leader_log_end(p->log().log_end_offset()) || !p->publish_high_watermark())
                p->notify_waiters();
              r.base_offset = appended->base_offset;
              r.log_append_time_ms = appended->log_append_time_ms;
            }
            r.log_start_offset = p->log().log_start_offset();
            // acks=all: answered when the HW passes the batch, awaited once every partition of the
            // request is appended.
            if (acks == -1) {
              out.replicate_to = appended->last_offset + 1;
              out.leader_epoch = p->leader_epoch();
            }
            co_return out;
          });
      outcome.resp.index = pd.index;
      if (outcome.replicate_to >= 0)
        waits.push_back({tp, outcome.replicate_to, outcome.leader_epoch, resp.responses.size(),
                         tr.partition_responses.size()});
      tr.partition_responses.push_back(outcome.resp);
    }
    resp.responses.push_back(std::move(tr));
  }
  // acks=all: every partition was appended above, so followers fetch them all at once and these
  // waits overlap: the request waits about as long as its slowest partition, not the sum.
  for (const auto& w : waits) {
    const model::topic_partition tp = w.tp;
    const int64_t end_offset = w.end_offset;
    const int32_t leader_epoch = w.leader_epoch;
    const E replicated = co_await broker.shards.invoke_on(
        broker.partitions.shard_of(tp), [&broker, &tp, end_offset, leader_epoch, ack_deadline_ms]() -> asio::awaitable<E> {
          co_return co_await broker.partitions.await_replication(tp, end_offset, leader_epoch, ack_deadline_ms);
        });
    if (replicated != E::none) {
      auto& r = resp.responses[w.topic].partition_responses[w.partition];
      r.error_code = code(replicated);
      r.base_offset = -1;
    }
  }
  co_return;
}

}  // namespace sluice::server
