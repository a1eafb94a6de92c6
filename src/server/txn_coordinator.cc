#include "server/txn_coordinator.h"

#include <algorithm>

#include "base/logging.h"
#include "coordinator/placement.h"
#include "server/log_internal_partition.h"

namespace sluice::server {

namespace {
using coordinator::txn::transaction_manager;
constexpr const char* txn_topic = coordinator::transaction_state_topic;
}  // namespace

coordinator::txn::txn_config txn_config_from(const broker_config& c) {
  coordinator::txn::txn_config t;
  t.max_timeout_ms = static_cast<int32_t>(c.get_int("transaction.max.timeout.ms"));
  t.id_expiration_ms = c.get_int("transactional.id.expiration.ms");
  t.remove_expired_interval_ms = c.get_int("transaction.remove.expired.transaction.cleanup.interval.ms");
  return t;
}

txn_coordinator_settings txn_coordinator_settings_from(const broker_config& c) {
  txn_coordinator_settings s;
  s.manager = txn_config_from(c);
  // Kafka bounds __transaction_state appends by the request timeout of the calling request; the
  // group side's offsets.commit.timeout.ms is the same kind of bound and is what we have.
  s.write_timeout_ms = c.get_int("offsets.commit.timeout.ms");
  s.abort_interval_ms = c.get_int("transaction.abort.timed.out.transaction.cleanup.interval.ms");
  // Kafka's marker channel uses request.timeout.ms (30 s) and retry.backoff.ms per attempt.
  s.markers.request_timeout_ms = 30000;
  return s;
}

namespace {

// Marker retries need a tick at least every marker_retry_interval_ms; the timeout aborts run in
// the same tick, so they happen at most that long (not the abort interval) after a deadline.
int64_t tick_interval_ms(const txn_coordinator_settings& cfg) {
  return std::max<int64_t>(1, std::min<int64_t>(cfg.abort_interval_ms, cfg.manager.marker_retry_interval_ms));
}

}  // namespace

txn_coordinator::txn_coordinator(net::shard_group& shards, partition_manager& partitions, int32_t broker_id,
                                 coordinator::producer_id_manager& ids, txn_coordinator_settings cfg,
                                 sluice::clock& clock)
    : _shards(shards),
      _partitions(partitions),
      _cfg(cfg),
      _managers(shards, partitions, broker_id,
                {.topic = txn_topic,
                 .what = "transactional ids",
                 .tick_interval_ms = tick_interval_ms(cfg),
                 // An open transaction of a producer that died with the old coordinator must
                 // still time out and be aborted, and Prepare* states must get their markers
                 // written, with no client asking.
                 .load_when_led = true},
                make_managers(shards.size(), cfg, clock, ids),
                [this](transaction_manager& tm, const model::topic_partition& tp, int32_t leader_epoch) {
                  // The coordinator epoch is the leader epoch the partition was taken in.
                  return tm.load(tp.partition, leader_epoch,
                                 std::make_unique<log_internal_partition>(_partitions, tp, _cfg.write_timeout_ms));
                }) {
  for (net::shard_id s = 0; s < shards.size(); ++s) {
    _connections.push_back(std::make_unique<broker_connections>(shards.context(s).get_executor()));
    txn_marker_sender_deps deps;
    // The calling shard's image: leaders as this broker currently knows them.
    deps.leader_of = [this](const std::string& topic, int32_t partition) -> std::optional<cluster::broker_endpoint> {
      auto img = _partitions.image();
      const auto* pm = img->find_partition(topic, partition);
      const auto* b = pm ? img->find_broker(pm->leader) : nullptr;
      if (!b) return std::nullopt;
      return *b;
    };
    deps.topic_exists = [this](const std::string& topic) { return _partitions.image()->find(topic) != nullptr; };
    deps.still_wanted = [this, s](const coordinator::txn::marker_work& w) {
      return _managers.manager_of(s).awaits_markers(w);
    };
    deps.done = [this, s](const coordinator::txn::marker_work& w) { (void)_managers.manager_of(s).markers_written(w); };
    _senders.push_back(std::make_unique<txn_marker_sender>(shards.context(s).get_executor(), *_connections[s], deps,
                                                           cfg.markers));
  }
}

std::vector<std::unique_ptr<transaction_manager>> txn_coordinator::make_managers(size_t shards,
                                                                                 const txn_coordinator_settings& cfg,
                                                                                 sluice::clock& clock,
                                                                                 coordinator::producer_id_manager& ids) {
  std::vector<std::unique_ptr<transaction_manager>> managers;
  for (size_t s = 0; s < shards; ++s) {
    // producer_id_manager is thread-safe (its own mutex).
    auto id_source = [&ids]() -> result<int64_t> { return ids.next_id(); };
    // Called by manager s on shard s, once the shards run and _senders is filled; the sender
    // starts a coroutine and never calls back at once.
    auto sink = [this, s](const coordinator::txn::marker_work& w) { _senders[s]->send(w); };
    managers.push_back(std::make_unique<transaction_manager>(cfg.manager, clock, id_source, sink));
  }
  return managers;
}

txn_coordinator::~txn_coordinator() = default;

}  // namespace sluice::server
