#include "server/partition_manager.h"

#include <algorithm>
#include <chrono>

#include <asio/experimental/as_tuple.hpp>

#include "base/endian.h"
#include "base/logging.h"
#include "model/compression.h"
#include "model/control_record.h"
#include "model/record_batch_builder.h"
#include "server/produce_validation.h"

namespace sluice::server {

namespace {
// ListOffsets by timestamp inside a compressed batch: storage does not decompress, so the
// partition gives it this resolver (rare path: allocates).
std::optional<std::pair<int64_t, int64_t>> find_in_compressed_batch(const model::batch_view& b, int64_t target) {
  auto body = model::decompress(b.codec(), b.records(), max_decompressed_batch_bytes);
  if (!body) return std::nullopt;
  std::vector<uint8_t> plain(b.bytes().begin(), b.bytes().begin() + model::batch_layout::header_size);
  auto attrs = static_cast<int16_t>(b.attributes() & ~model::batch_attr::compression_mask);
  store_be<int16_t>(plain.data() + model::batch_layout::attributes, attrs);
  plain.insert(plain.end(), body->begin(), body->end());
  auto records = model::decode_records(plain);
  if (!records || records->empty()) return std::nullopt;
  if (target == storage::list_offsets_max_timestamp) {
    const model::decoded_record* best = &records->front();
    for (const auto& r : *records)
      if (r.timestamp_ms > best->timestamp_ms) best = &r;  // first record holding the max
    return std::pair{best->offset, best->timestamp_ms};
  }
  for (const auto& r : *records)
    if (r.timestamp_ms >= target) return std::pair{r.offset, r.timestamp_ms};
  return std::nullopt;
}
}  // namespace

partition::~partition() {
  if (_leader) _leader->fail_all(protocol::error_code::not_leader_or_follower);
}

bool partition::publish_high_watermark() {
  if (!_leader) return false;
  int64_t hw = _leader->high_watermark();
  if (hw <= _log->high_watermark()) return false;
  _log->set_high_watermark(hw);
  notify_waiters();
  return true;
}

void partition::add_waiter(const std::shared_ptr<fetch_waiter>& w) {
  // Drop waiters that already went away so a partition that never gets data does not collect
  // one entry per long poll.
  std::erase_if(_waiters, [](const std::weak_ptr<fetch_waiter>& x) { return x.expired(); });
  _waiters.push_back(w);
}

void partition::notify_waiters() {
  for (auto& weak : _waiters) {
    auto w = weak.lock();
    if (!w) continue;
    asio::post(w->executor, [w] {
      w->woken = true;
      if (w->timer) w->timer->cancel();
    });
  }
  _waiters.clear();
}

partition_manager::partition_manager(net::shard_group& shards, storage::log_manager& logs,
                                     std::map<std::string, std::string> static_broker_settings, int32_t broker_id,
                                     sluice::clock& clock)
    : _shards(shards),
      _logs(logs),
      _static_settings(std::move(static_broker_settings)),
      _broker_id(broker_id),
      _clock(clock),
      _state(shards.size()) {}

replication::leader_config partition_manager::leader_config_of(const partition& p) const {
  replication::leader_config c;
  c.min_insync_replicas = p.config().min_insync_replicas;
  // replica.lag.time.max.ms is a static broker setting (validated at startup); default 30000.
  if (auto it = _static_settings.find("replica.lag.time.max.ms"); it != _static_settings.end()) {
    char* end = nullptr;
    long long v = std::strtoll(it->second.c_str(), &end, 10);
    if (end && *end == 0 && v > 0) c.replica_lag_time_max_ms = v;
  }
  return c;
}

void partition_manager::apply_role(partition& p, const cluster::partition_metadata& pm) {
  auto log = log::get("server");
  const int64_t now = _clock.monotonic_ms();
  const int32_t pepoch = pm.partition_epoch;
  auto& l = p.log();
  if (pm.leader == _broker_id) {
    bool new_term = !p._leader || p._leader->leader_epoch() != pm.leader_epoch;
    if (!new_term) {
      p._leader->set_config(leader_config_of(p));
      p._leader->apply_image(pm.replicas, pm.isr, pepoch, now);
      p.publish_high_watermark();
      return;
    }
    if (p._leader) p._leader->fail_all(protocol::error_code::not_leader_or_follower);
    // KIP-101: the new epoch starts at our LEO; recorded before any append in this epoch.
    if (pm.leader_epoch > l.leader_epochs().latest_epoch()) {
      if (auto r = l.leader_epochs().assign(pm.leader_epoch, l.log_end_offset()); !r)
        log->error("cannot record leader epoch {} of {}: {}", pm.leader_epoch, p.tp(), r.error().message());
    }
    p._leader = std::make_unique<replication::leader_state>(_broker_id, pm.leader_epoch, l.log_end_offset(),
                                                            pm.replicas, pm.isr, pepoch, l.high_watermark(),
                                                            l.log_end_offset(), leader_config_of(p), now);
    p._leader_id = pm.leader;
    p.set_leader_epoch(pm.leader_epoch);
    p.publish_high_watermark();
    if (_follow) _follow(p.tp(), -1, pm.leader_epoch);
    return;
  }
  // Follower (or no leader): stop leading; producers waiting on acks=all learn it at once.
  if (p._leader) {
    p._leader->fail_all(protocol::error_code::not_leader_or_follower);
    p._leader.reset();
  }
  p._leader_id = pm.leader;
  p.set_leader_epoch(pm.leader_epoch);
  p.notify_waiters();
  if (_follow) _follow(p.tp(), pm.leader, pm.leader_epoch);
}

partition* partition_manager::get_leader(const model::topic_partition& tp, int32_t current_leader_epoch,
                                         protocol::error_code& err) {
  partition* p = get(tp);
  err = p ? p->check_leader(current_leader_epoch) : not_hosted_error(tp);
  return err == protocol::error_code::none ? p : nullptr;
}

protocol::error_code partition_manager::not_hosted_error(const model::topic_partition& tp) const {
  auto img = image();
  return img->find_partition(tp.topic, tp.partition) ? protocol::error_code::not_leader_or_follower
                                                     : protocol::error_code::unknown_topic_or_partition;
}

void partition_manager::run_replication_tasks(partition& p) {
  auto* ls = p.leader();
  if (!ls) return;
  const int64_t now = _clock.monotonic_ms();
  ls->expire(now);
  if (!_isr_write) return;
  auto change = ls->begin_isr_change(now);
  if (!change) return;
  auto shard = _shards.current();
  auto tp = p.tp();
  int32_t epoch = ls->leader_epoch();
  log::get("server")->info("{}: ISR {} -> {} (partition epoch {})", tp, fmt::join(ls->isr(), ","),
                           fmt::join(change->new_isr, ","), change->expected_partition_epoch);
  _isr_write(tp, epoch, change->new_isr, change->expected_partition_epoch,
             [this, shard, tp, epoch](bool ok, int32_t new_partition_epoch) {
               // Any thread: hop back to the owner and check we still lead in the same epoch.
               _shards.post(shard, [this, tp, epoch, ok, new_partition_epoch] {
                 partition* q = get(tp);
                 if (!q || !q->leader() || q->leader()->leader_epoch() != epoch) return;
                 q->leader()->end_isr_change(ok, new_partition_epoch);
                 q->publish_high_watermark();
               });
             });
}

net::shard_id partition_manager::shard_of(const model::topic_partition& tp) const {
  return static_cast<net::shard_id>(std::hash<model::topic_partition>{}(tp) % _shards.size());
}

partition* partition_manager::get(const model::topic_partition& tp) {
  auto s = _shards.current();
  SLUICE_ASSERT(s == shard_of(tp), "partition {} touched from shard {} (owner {})", tp, s, shard_of(tp));
  auto& m = _state[s].partitions;
  auto it = m.find(tp);
  return it == m.end() ? nullptr : it->second.get();
}

cluster::image_ptr partition_manager::image() const {
  auto s = _shards.current();
  if (s < _state.size() && _state[s].image) return _state[s].image;
  std::lock_guard g(_latest_mu);
  return _latest;
}

storage::log_config partition_manager::topic_defaults(const cluster::metadata_image& img) const {
  auto props = _static_settings;
  for (const auto& [k, v] : img.broker_dynamic_configs) props[k] = v;
  auto c = storage::log_config_from_broker_properties(props);
  if (c) return *c;
  // Dynamic values were validated when stored; if they no longer combine, the static ones win.
  auto s = storage::log_config_from_broker_properties(_static_settings);
  return s ? *s : storage::log_config{};
}

storage::log_config partition_manager::topic_defaults() const { return topic_defaults(*image()); }

storage::log_config partition_manager::effective_config(const cluster::topic_metadata& t,
                                                        const cluster::metadata_image& img) const {
  auto defaults = topic_defaults(img);
  auto c = storage::apply_topic_overrides(defaults, t.configs);
  // Overrides were validated when they were stored; a failure here means the broker defaults
  // changed underneath them, and the defaults are the safe answer.
  return c ? *c : defaults;
}

storage::log_config partition_manager::effective_config(const cluster::topic_metadata& t) const {
  return effective_config(t, *image());
}

void partition_manager::apply_on_shard(net::shard_id s, const cluster::image_ptr& img) {
  auto& st = _state[s];
  st.image = img;
  auto log = log::get("server");
  // Create or update partitions this shard owns.
  auto defaults = topic_defaults(*img);
  for (const auto& [name, t] : img->topics) {
    auto overridden = storage::apply_topic_overrides(defaults, t.configs);
    auto cfg = overridden ? *overridden : defaults;
    for (const auto& p : t.partitions) {
      model::topic_partition tp{name, p.partition};
      if (shard_of(tp) != s) continue;
      // Only replicas host a partition (a broker outside the replica set neither leads nor
      // follows it, and answers NOT_LEADER_OR_FOLLOWER for it).
      if (std::find(p.replicas.begin(), p.replicas.end(), _broker_id) == p.replicas.end()) continue;
      auto it = st.partitions.find(tp);
      if (it != st.partitions.end()) {
        if (!(it->second->config() == cfg)) {
          it->second->set_config(cfg);
          it->second->log().set_config(cfg);
        }
        apply_role(*it->second, p);
        continue;
      }
      storage::log* l = _logs.get(tp);
      if (!l) {
        auto created = _logs.create(tp, cfg);
        if (!created) {
          log->error("cannot create log for {}: {}", tp, created.error().message());
          continue;
        }
        l = *created;
      } else {
        l->set_config(cfg);
      }
      l->set_compressed_timestamp_resolver(find_in_compressed_batch);
      // Becoming leader computes the HW from the ISR (Kafka's maybeIncrementLeaderHW): a leader
      // whose ISR is itself alone has every record it holds committed, even when the
      // checkpointed high watermark is behind the recovered log end after an unclean shutdown.
      auto [pit, inserted] = st.partitions.emplace(tp, std::make_unique<partition>(tp, l, cfg, p.leader_epoch));
      apply_role(*pit->second, p);
    }
  }
  // Remove partitions whose topic is gone (or shrank, which Kafka never does), and stop hosting
  // those whose replica set no longer holds this broker (their log stays on disk: replica
  // reassignment is not supported, so this only happens when the store was edited by hand).
  for (auto it = st.partitions.begin(); it != st.partitions.end();) {
    const auto* pm = img->find_partition(it->first.topic, it->first.partition);
    const bool replica =
        pm && std::find(pm->replicas.begin(), pm->replicas.end(), _broker_id) != pm->replicas.end();
    if (replica) {
      ++it;
      continue;
    }
    auto tp = it->first;
    it->second->notify_waiters();
    it = st.partitions.erase(it);
    if (_follow) _follow(tp, -1, 0);
    if (pm) {
      log->warn("{}: this broker is no longer a replica; its log is kept on disk", tp);
      continue;
    }
    if (auto r = _logs.remove(tp); !r) log->error("cannot delete log of {}: {}", tp, r.error().message());
  }
}

asio::awaitable<void> partition_manager::apply(cluster::image_ptr img) {
  {
    std::lock_guard g(_latest_mu);
    if (!_latest || _latest->version < img->version) _latest = img;
  }
  for (net::shard_id s = 0; s < _shards.size(); ++s) {
    // Captures by reference (the caller's frame outlives the awaited call): see invoke_on.
    co_await _shards.invoke_on(s, [this, s, &img]() -> asio::awaitable<void> {
      // Images can arrive out of order from concurrent controller calls; never go back.
      if (!_state[s].image || _state[s].image->version < img->version) {
        apply_on_shard(s, img);
        if (_image_listener) _image_listener(*img);
      }
      co_return;
    });
  }
}

void partition_manager::apply_blocking(cluster::image_ptr img) {
  {
    std::lock_guard g(_latest_mu);
    _latest = img;
  }
  for (net::shard_id s = 0; s < _shards.size(); ++s) apply_on_shard(s, img);
}

namespace {
// An acks=all writer waiting on the partition's shard for the HW to pass its batch.
struct ack_wait {
  explicit ack_wait(asio::any_io_executor ex) : timer(std::move(ex)) {}
  asio::steady_timer timer;
  std::optional<protocol::error_code> result;
};
}  // namespace

asio::awaitable<protocol::error_code> partition_manager::await_replication(model::topic_partition tp,
                                                                           int64_t end_offset, int32_t leader_epoch,
                                                                           int64_t deadline_mono_ms) {
  using E = protocol::error_code;
  partition* p = get(tp);
  replication::leader_state* leader = p ? p->leader() : nullptr;
  if (!leader || p->leader_epoch() != leader_epoch) co_return E::not_leader_or_follower;
  // leader_state decides NOT_ENOUGH_REPLICAS_AFTER_APPEND; fail_all answers
  // NOT_LEADER_OR_FOLLOWER when leadership moves first. Single broker: done at once.
  auto wait = std::make_shared<ack_wait>(co_await asio::this_coro::executor);
  uint64_t waiter_id = leader->add_ack_waiter(end_offset, deadline_mono_ms,
                                              // Weak: the coroutine frame owns the wait; at
                                              // shutdown it can be gone first.
                                              [weak = std::weak_ptr<ack_wait>(wait)](E e) {
                                                auto w = weak.lock();
                                                if (!w) return;
                                                w->result = e;
                                                w->timer.cancel();
                                              });
  if (!wait->result) {
    int64_t remaining_ms = deadline_mono_ms - _clock.monotonic_ms();
    wait->timer.expires_after(std::chrono::milliseconds(std::max<int64_t>(remaining_ms, 0)));
    co_await wait->timer.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
  }
  if (!wait->result) {
    // Timed out. Had the leader state gone (role change, deletion), fail_all would have
    // completed the waiter, so it is still registered with the current one.
    if (partition* q = get(tp); q && q->leader()) q->leader()->cancel_ack_waiter(waiter_id);
    wait->result = E::request_timed_out;
  }
  co_return *wait->result;
}

asio::awaitable<partition_manager::marker_append> partition_manager::append_txn_marker(model::topic_partition tp,
                                                                                     int64_t producer_id,
                                                                                     int16_t producer_epoch,
                                                                                     bool commit,
                                                                                     int32_t coordinator_epoch) {
  using E = protocol::error_code;
  // Captures by reference (this frame outlives the awaited call): see invoke_on.
  co_return co_await _shards.invoke_on(shard_of(tp), [&]() -> asio::awaitable<marker_append> {
    partition* p = get(tp);
    if (!p) co_return marker_append{not_hosted_error(tp)};
    replication::leader_state* leader = p->leader();
    if (!leader) co_return marker_append{E::not_leader_or_follower};
    if (auto e = leader->check_before_append(); e != E::none) co_return marker_append{e};
    model::txn_marker m{commit ? model::control_type::commit : model::control_type::abort, coordinator_epoch};
    auto batch = model::build_txn_marker_batch(producer_id, producer_epoch, m, _clock.wall_ms());
    auto appended = p->log().append(batch, p->leader_epoch());
    if (!appended) {
      auto e = storage_error_to_kafka(appended.error());
      if (e == E::kafka_storage_error || e == E::unknown_server_error)
        log::get("server")->error("txn marker append to {} failed: {}", tp, appended.error().message());
      co_return marker_append{e};
    }
    if (!leader->on_leader_log_end(p->log().log_end_offset()) || !p->publish_high_watermark()) p->notify_waiters();
    co_return marker_append{E::none, appended->last_offset + 1, p->leader_epoch()};
  });
}

asio::awaitable<protocol::error_code> partition_manager::await_txn_marker(model::topic_partition tp,
                                                                          int64_t producer_id, bool commit,
                                                                          int64_t end_offset, int32_t leader_epoch,
                                                                          int64_t deadline_mono_ms) {
  using E = protocol::error_code;
  // Captures by reference (this frame outlives the awaited call): see invoke_on.
  co_return co_await _shards.invoke_on(shard_of(tp), [&]() -> asio::awaitable<E> {
    E e = co_await await_replication(tp, end_offset, leader_epoch, deadline_mono_ms);
    if (e == E::none && _txn_marker_observer && tp.topic == "__consumer_offsets")
      _txn_marker_observer(tp, producer_id, commit);
    co_return e;
  });
}

asio::awaitable<void> partition_manager::for_each_partition(const std::function<void(partition&)>& fn) {
  for (net::shard_id s = 0; s < _shards.size(); ++s) {
    co_await _shards.invoke_on(s, [this, s, &fn]() -> asio::awaitable<void> {  // by reference: see invoke_on
      for (auto& [tp, p] : _state[s].partitions) fn(*p);
      co_return;
    });
  }
}

}  // namespace sluice::server
