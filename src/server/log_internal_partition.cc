#include "server/log_internal_partition.h"

#include <unistd.h>

#include <chrono>

#include "base/endian.h"
#include "base/logging.h"
#include "model/compression.h"
#include "model/record_batch.h"
#include "model/record_batch_builder.h"
#include "server/produce_validation.h"
#include "storage/errc.h"

namespace sluice::server {

namespace {
using E = protocol::error_code;
using coordinator::write_errc;
}  // namespace

std::error_code replication_wait_error(E e) {
  switch (e) {
    case E::none: return {};
    case E::not_enough_replicas_after_append: return write_errc::not_enough_replicas_after_append;
    case E::request_timed_out: return write_errc::timed_out;
    case E::not_leader_or_follower: return write_errc::not_leader;
    default: return write_errc::storage_error;
  }
}

// One write waiting for the high watermark. Owned by _waits; the leader_state waiter and the
// timer handler reach it through weak references only.
struct log_internal_partition::wait {
  explicit wait(asio::any_io_executor ex) : timer(std::move(ex)) {}
  asio::steady_timer timer;
  uint64_t waiter_id = 0;
  std::function<void(std::error_code)> done;  // empty once completed
};

log_internal_partition::log_internal_partition(partition_manager& pm, model::topic_partition tp, int64_t timeout_ms)
    : _pm(pm), _tp(std::move(tp)), _timeout_ms(timeout_ms) {}

log_internal_partition::~log_internal_partition() {
  // Dropping the waits cancels their timers; their leader_state waiters complete into nothing.
  for (const auto& w : _waits) w->timer.cancel();
}

result<int64_t> log_internal_partition::append(const std::vector<model::record_data>& records) {
  return append_batch(records, {});
}

result<int64_t> log_internal_partition::append_transactional(const std::vector<model::record_data>& records,
                                                             int64_t producer_id, int16_t producer_epoch) {
  // Kafka's coordinator-origin append: the epoch is checked against the partition's producer
  // state (a fenced producer's offsets must not be written), the sequence is not.
  if (partition* p = _pm.get(_tp)) {
    const auto* known = p->log().producer_state().find(producer_id);
    if (known && known->epoch > producer_epoch) return write_errc::invalid_producer_epoch;
  }
  model::batch_options opts;
  opts.attributes = model::batch_attr::transactional;
  opts.producer_id = producer_id;
  opts.producer_epoch = producer_epoch;
  opts.base_sequence = 0;  // as Kafka's GroupMetadataManager.storeOffsets builds it
  return append_batch(records, opts);
}

result<int64_t> log_internal_partition::append_batch(const std::vector<model::record_data>& records,
                                                     const model::batch_options& opts) {
  partition* p = _pm.get(_tp);
  if (!p) return write_errc::unknown_partition;
  replication::leader_state* leader = p->leader();
  if (!leader) return write_errc::not_leader;
  if (leader->check_before_append() != E::none) return write_errc::not_enough_replicas;
  auto batch = model::build_batch(records, opts);
  // The coordinator is the source of truth for its writes: no client sequence rules (the
  // epoch of a transactional write was checked above). The batch still enters producer state.
  storage::append_options aopts;
  aopts.check_producer_state = false;
  auto appended = p->log().append(batch, p->leader_epoch(), aopts);
  if (!appended) {
    if (appended.error() == make_error_code(storage::errc::message_too_large)) return write_errc::too_large;
    log::get("coordinator")->error("append to {} failed: {}", _tp, appended.error().message());
    return write_errc::storage_error;
  }
  // The HW is min LEO over the ISR: with ISR = {this broker} it moves to the new LEO right here.
  // Followers long-polling for data are woken either way.
  if (!leader->on_leader_log_end(p->log().log_end_offset()) || !p->publish_high_watermark()) p->notify_waiters();
  return appended->last_offset + 1;
}

void log_internal_partition::wait_replicated(int64_t end_offset, std::function<void(std::error_code)> done) {
  partition* p = _pm.get(_tp);
  if (!p || !p->leader()) return done(make_error_code(write_errc::not_leader));
  auto w = std::make_shared<wait>(_pm.shards().context(_pm.shard_of(_tp)).get_executor());
  w->done = std::move(done);
  _waits.insert(w);
  const int64_t deadline_ms = _pm.clock().monotonic_ms() + _timeout_ms;
  std::weak_ptr<wait> weak = w;
  // May complete at once (HW already there): then no timer is needed.
  w->waiter_id = p->leader()->add_ack_waiter(end_offset, deadline_ms, [this, weak](E e) {
    if (auto locked = weak.lock()) finish(locked, replication_wait_error(e));
  });
  if (!w->done) return;
  w->timer.expires_after(std::chrono::milliseconds(_timeout_ms));
  w->timer.async_wait([this, weak](const asio::error_code& ec) {
    if (ec) return;  // cancelled: completed, or this object is going away
    auto locked = weak.lock();
    if (!locked || !locked->done) return;
    // Still registered with the current leader state: had it gone (role change, deletion),
    // fail_all would have completed the wait already.
    if (partition* q = _pm.get(_tp); q && q->leader()) q->leader()->cancel_ack_waiter(locked->waiter_id);
    finish(locked, make_error_code(write_errc::timed_out));
  });
}

void log_internal_partition::finish(const std::shared_ptr<wait>& w, std::error_code e) {
  if (!w->done) return;
  auto done = std::exchange(w->done, nullptr);
  w->timer.cancel();
  auto keep = w;  // `w` may refer to the set's element
  _waits.erase(keep);
  done(e);
}

namespace {
// Kafka's ControlRecordType from a control record's key (int16 version, int16 type); none for a
// type a coordinator does not act on.
coordinator::control_type control_type_of(const model::decoded_record& r) {
  if (!r.key || r.key->size() < 4) return coordinator::control_type::none;
  const auto type = load_be<int16_t>(reinterpret_cast<const uint8_t*>(r.key->data()) + 2);
  if (type == 0) return coordinator::control_type::abort;
  if (type == 1) return coordinator::control_type::commit;
  return coordinator::control_type::none;
}
}  // namespace

result<void> log_internal_partition::read_all(const read_fn& fn) {
  partition* p = _pm.get(_tp);
  if (!p) return storage::errc::not_found;
  auto& log = p->log();
  int64_t offset = log.log_start_offset();
  const int64_t end = log.log_end_offset();
  std::vector<uint8_t> buf;
  while (offset < end) {
    auto rr = log.read(offset, 4 << 20, end, true);
    if (!rr) return rr.error();
    if (rr->ranges.empty() || rr->next_offset <= offset) break;
    for (const auto& fr : rr->ranges) {
      buf.resize(fr.size);
      size_t done = 0;
      while (done < fr.size) {
        ssize_t n = ::pread(fr.fd, buf.data() + done, fr.size - done, static_cast<off_t>(fr.offset + done));
        if (n <= 0) return std::error_code(n < 0 ? errno : EIO, std::system_category());
        done += static_cast<size_t>(n);
      }
      size_t pos = 0;
      while (buf.size() - pos >= model::batch_layout::header_size) {
        auto len = load_be<int32_t>(buf.data() + pos + model::batch_layout::batch_length);
        size_t total = static_cast<size_t>(len) + model::batch_layout::log_overhead;
        if (len < 0 || total > buf.size() - pos) return storage::errc::corrupt_batch;
        model::batch_view b(std::span(buf.data() + pos, total));
        pos += total;
        coordinator::batch_info info;
        info.base_offset = b.base_offset();
        info.producer_id = b.producer_id();
        info.producer_epoch = b.producer_epoch();
        info.transactional = b.is_transactional();
        std::optional<std::vector<model::decoded_record>> recs;
        if (b.codec() == model::compression::none) {
          recs = model::decode_records(b.bytes().data(), b.bytes().size());
        } else {
          auto body = model::decompress(b.codec(), b.records(), max_decompressed_batch_bytes);
          if (!body) return storage::errc::corrupt_batch;
          std::vector<uint8_t> plain(b.bytes().begin(), b.bytes().begin() + model::batch_layout::header_size);
          auto attrs = static_cast<int16_t>(b.attributes() & ~model::batch_attr::compression_mask);
          store_be<int16_t>(plain.data() + model::batch_layout::attributes, attrs);
          plain.insert(plain.end(), body->begin(), body->end());
          recs = model::decode_records(plain);
        }
        if (!recs) return storage::errc::corrupt_batch;
        if (b.is_control()) {
          // A marker batch holds one control record; other control types are not ours to replay.
          if (recs->empty()) continue;
          info.control = control_type_of(recs->front());
          if (info.control != coordinator::control_type::none) fn(info, recs->front());
          continue;
        }
        for (const auto& r : *recs) fn(info, r);
      }
    }
    offset = rr->next_offset;
  }
  return ok();
}

}  // namespace sluice::server
