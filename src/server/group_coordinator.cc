#include "server/group_coordinator.h"

#include "base/logging.h"
#include "coordinator/placement.h"
#include "model/compression.h"
#include "model/record_batch.h"
#include "model/record_batch_builder.h"
#include "server/broker_config.h"
#include "server/produce_validation.h"
#include "storage/errc.h"

namespace sluice::server {

namespace {
using coordinator::group::group_manager;

constexpr int64_t tick_interval_ms = 50;

// A __consumer_offsets partition seen through its log. Used only on the partition's shard.
class log_offsets_store final : public coordinator::group::offsets_store {
 public:
  log_offsets_store(partition_manager& pm, model::topic_partition tp) : _pm(pm), _tp(std::move(tp)) {}

  result<void> append(const std::vector<model::record_data>& records) override {
    partition* p = _pm.get(_tp);
    if (!p) return storage::errc::not_found;
    auto batch = model::build_batch(records);
    auto appended = p->log().append(batch, p->leader_epoch());
    if (!appended) return appended.error();
    // Single replica: appended = committed, as for Produce with acks=all.
    p->log().set_high_watermark(p->log().log_end_offset());
    p->log().set_last_stable_offset(p->log().log_end_offset());
    p->notify_waiters();
    return ok();
  }

  result<void> read_all(const std::function<void(const model::decoded_record&)>& fn) override {
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
        if (auto r = decode_batches(buf, fn); !r) return r;
      }
      offset = rr->next_offset;
    }
    return ok();
  }

 private:
  result<void> decode_batches(const std::vector<uint8_t>& buf,
                              const std::function<void(const model::decoded_record&)>& fn) {
    size_t pos = 0;
    while (buf.size() - pos >= model::batch_layout::header_size) {
      auto len = load_be<int32_t>(buf.data() + pos + model::batch_layout::batch_length);
      size_t total = static_cast<size_t>(len) + model::batch_layout::log_overhead;
      if (len < 0 || total > buf.size() - pos) return storage::errc::corrupt_batch;
      model::batch_view b(std::span(buf.data() + pos, total));
      pos += total;
      if (b.is_control()) continue;
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
      for (const auto& r : *recs) fn(r);
    }
    return ok();
  }

  partition_manager& _pm;
  model::topic_partition _tp;
};
}  // namespace

coordinator::group::group_config group_config_from(const broker_config& c) {
  coordinator::group::group_config g;
  g.initial_rebalance_delay_ms = c.get_int("group.initial.rebalance.delay.ms");
  g.min_session_timeout_ms = static_cast<int32_t>(c.get_int("group.min.session.timeout.ms"));
  g.max_session_timeout_ms = static_cast<int32_t>(c.get_int("group.max.session.timeout.ms"));
  g.max_size = static_cast<int32_t>(c.get_int("group.max.size"));
  g.offsets_retention_ms = c.get_int("offsets.retention.minutes") * 60'000;
  g.retention_check_interval_ms = c.get_int("offsets.retention.check.interval.ms");
  g.offset_metadata_max_bytes = static_cast<int32_t>(c.get_int("offset.metadata.max.bytes"));
  return g;
}

group_coordinator::group_coordinator(net::shard_group& shards, partition_manager& partitions, int32_t broker_id,
                                     coordinator::group::group_config cfg, sluice::clock& clock)
    : _shards(shards), _partitions(partitions), _broker_id(broker_id), _clock(clock), _taken_in_epoch(shards.size()) {
  for (net::shard_id s = 0; s < shards.size(); ++s) {
    _managers.push_back(std::make_unique<group_manager>(cfg, clock));
    _timers.push_back(std::make_unique<asio::steady_timer>(shards.context(s)));
  }
}

group_coordinator::~group_coordinator() = default;

std::optional<group_coordinator::placement> group_coordinator::place(const std::string& group_id) const {
  auto img = _partitions.image();
  const auto* t = img->find(coordinator::consumer_offsets_topic);
  if (!t || t->partitions.empty()) return std::nullopt;
  int32_t p = coordinator::coordinator_partition(group_id, static_cast<int32_t>(t->partitions.size()));
  return placement{p, _partitions.shard_of({coordinator::consumer_offsets_topic, p})};
}

group_manager& group_coordinator::manager() {
  auto s = _shards.current();
  SLUICE_ASSERT(s < _managers.size(), "group manager used off the shards");
  return *_managers[s];
}

group_manager& group_coordinator::manager_for(int32_t partition) {
  auto& gm = manager();
  if (gm.status(partition) == group_manager::partition_status::not_owned) {
    model::topic_partition tp{coordinator::consumer_offsets_topic, partition};
    auto img = _partitions.image();
    const auto* t = img->find(tp.topic);
    const auto* pm = t ? t->find_partition(partition) : nullptr;
    if (pm && pm->leader == _broker_id && _partitions.get(tp)) {
      // Became leader (or first use): load in a later turn of the loop; meanwhile requests are
      // answered COORDINATOR_LOAD_IN_PROGRESS.
      begin_loading(partition, pm->leader_epoch);
      auto s = _shards.current();
      asio::post(_shards.context(s), [this, partition] { load_partition(partition); });
    }
  }
  return gm;
}

void group_coordinator::begin_loading(int32_t partition, int32_t leader_epoch) {
  manager().begin_loading(partition);
  _taken_in_epoch[_shards.current()][partition] = leader_epoch;
}

void group_coordinator::on_image(const cluster::metadata_image& img) {
  auto& taken = _taken_in_epoch[_shards.current()];
  for (auto it = taken.begin(); it != taken.end();) {
    const auto* pm = img.find_partition(coordinator::consumer_offsets_topic, it->first);
    if (pm && pm->leader == _broker_id && pm->leader_epoch == it->second) {
      ++it;
      continue;
    }
    log::get("coordinator")->info("{}-{}: no longer led here in epoch {}; unloading its groups",
                                  coordinator::consumer_offsets_topic, it->first, it->second);
    manager().unload(it->first);
    it = taken.erase(it);
  }
}

void group_coordinator::load_partition(int32_t partition) {
  auto& gm = manager();
  if (gm.status(partition) != group_manager::partition_status::loading) return;
  model::topic_partition tp{coordinator::consumer_offsets_topic, partition};
  if (!_partitions.get(tp)) {
    gm.unload(partition);
    _taken_in_epoch[_shards.current()].erase(partition);
    return;
  }
  auto store = std::make_unique<log_offsets_store>(_partitions, tp);
  if (auto r = gm.load(partition, std::move(store)); !r) {
    log::get("coordinator")->error("loading {} failed: {}; groups there stay unavailable", tp, r.error().message());
    gm.unload(partition);
    _taken_in_epoch[_shards.current()].erase(partition);
  }
}

asio::awaitable<void> group_coordinator::load_all() {
  auto img = _partitions.image();
  const auto* t = img->find(coordinator::consumer_offsets_topic);
  if (!t) co_return;
  std::vector<std::pair<int32_t, int32_t>> mine;  // partition, leader epoch
  for (const auto& p : t->partitions)
    if (p.leader == _broker_id) mine.emplace_back(p.partition, p.leader_epoch);
  // First mark everything loading, so no request sees a half-loaded coordinator as absent.
  for (net::shard_id s = 0; s < _shards.size(); ++s) {
    co_await _shards.invoke_on(s, [this, s, &mine]() -> asio::awaitable<void> {
      for (auto [p, epoch] : mine)
        if (_partitions.shard_of({coordinator::consumer_offsets_topic, p}) == s &&
            manager().status(p) == group_manager::partition_status::not_owned)
          begin_loading(p, epoch);
      co_return;
    });
  }
  for (auto [p, epoch] : mine) {
    auto s = _partitions.shard_of({coordinator::consumer_offsets_topic, p});
    co_await _shards.invoke_on(s, [this, p]() -> asio::awaitable<void> {
      load_partition(p);
      co_return;
    });
  }
}

void group_coordinator::schedule_tick(net::shard_id s) {
  auto& timer = *_timers[s];
  timer.expires_after(std::chrono::milliseconds(tick_interval_ms));
  timer.async_wait([this, s](const asio::error_code& ec) {
    if (ec) return;
    _managers[s]->tick();
    schedule_tick(s);
  });
}

void group_coordinator::start() {
  for (net::shard_id s = 0; s < _shards.size(); ++s) _shards.post(s, [this, s] { schedule_tick(s); });
}

}  // namespace sluice::server
