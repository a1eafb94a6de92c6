#include "server/group_coordinator.h"

#include "base/logging.h"
#include "coordinator/placement.h"
#include "server/broker_config.h"
#include "server/log_internal_partition.h"

namespace sluice::server {

namespace {
using coordinator::group::group_manager;

constexpr int64_t tick_interval_ms = 50;

std::vector<std::unique_ptr<group_manager>> make_managers(size_t shards, const coordinator::group::group_config& cfg,
                                                          sluice::clock& clock) {
  std::vector<std::unique_ptr<group_manager>> managers;
  for (size_t s = 0; s < shards; ++s) managers.push_back(std::make_unique<group_manager>(cfg, clock));
  return managers;
}

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
  g.offsets_commit_timeout_ms = c.get_int("offsets.commit.timeout.ms");
  return g;
}

group_coordinator::group_coordinator(net::shard_group& shards, partition_manager& partitions, int32_t broker_id,
                                     coordinator::group::group_config cfg, sluice::clock& clock)
    : _shards(shards),
      _partitions(partitions),
      _commit_timeout_ms(cfg.offsets_commit_timeout_ms),
      _managers(shards, partitions, broker_id,
                {.topic = coordinator::consumer_offsets_topic, .what = "groups", .tick_interval_ms = tick_interval_ms},
                make_managers(shards.size(), cfg, clock),
                [this](group_manager& gm, const model::topic_partition& tp, int32_t /*leader_epoch*/) {
                  return gm.load(tp.partition,
                                 std::make_unique<log_internal_partition>(_partitions, tp, _commit_timeout_ms));
                }) {}

group_coordinator::~group_coordinator() = default;

void group_coordinator::on_txn_marker(const model::topic_partition& tp, int64_t producer_id, bool commit) {
  if (tp.topic != coordinator::consumer_offsets_topic) return;
  SLUICE_ASSERT(_shards.current() == _partitions.shard_of(tp), "txn marker of {} reported off its shard", tp);
  // Not loaded here (loading, not led, unloaded): nothing to do, a later load replays the
  // marker from the log.
  manager().complete_txn(tp.partition, producer_id, commit);
}

}  // namespace sluice::server
